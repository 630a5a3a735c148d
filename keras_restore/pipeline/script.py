"""Command-line plumbing shared by the ``reproduce/`` scripts (one place, not one copy per table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keras_restore.pipeline.cache import default_dir as cache_default_dir

REPO = Path(__file__).resolve().parents[2]


def add_scale_flags(p: argparse.ArgumentParser, *, quick: str, retrain: str, paper: str,
                    data_dir: str = "directory with {name}.npz or {name}/{split}/{class}/* (default: "
                                    "$KERAS_RESTORE_DATA, else tensorflow-datasets)"):
    """The scale flags every reproduce/ script shares (``--quick`` / default / ``--retrain`` /
    ``--paper``, into ``args.scale``) and ``--data-dir``, with each script's own help texts."""
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", dest="scale", action="store_const", const="quick", help=quick)
    scale.add_argument("--retrain", dest="scale", action="store_const", const="retrain", help=retrain)
    scale.add_argument("--paper", dest="scale", action="store_const", const="paper", help=paper)
    p.set_defaults(scale="default")
    p.add_argument("--data-dir", default=None, help=data_dir)


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_flags(p, quick="CI smoke run: small subsets, 1-2 epochs (numbers are not a reproduction)",
                    retrain="train every model on this machine instead of loading saved_models/",
                    paper="full scale (all 60,000 training pairs, 20 epochs): meant for a GPU")
    p.add_argument("--out-dir", default=None,
                   help="where CSVs/figures go (default: reproduce/results, or reproduce/results/<scale>)")
    p.add_argument("--cache-dir", default=str(cache_default_dir()),
                   help="adversarial sets, checkpoints and trained models (resumable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--attacks", nargs="+", default=None, metavar="COLUMN",
                   help="subset of the table's attack columns, e.g. FGSM PGD")
    p.add_argument("--ship", action="store_true",
                   help="copy the trained models into saved_models/ and update its manifest")
    p.add_argument("--restorer-file", default=None,
                   help="use this trained restorer (.keras) instead of training one (e.g. one trained "
                        "on a GPU by reproduce/train_restorer.py)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--precision", default="float32", choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"),
                   help="dtype policy models are trained in (auto: mixed_bfloat16 on a CPU with AMX/AVX512-BF16, "
                        "mixed_float16 on a GPU, else float32); attacks and evaluation always run in float32")
    return p


def add_dataset_flag(p: argparse.ArgumentParser, datasets, *, not_run=None):
    """``--dataset`` (into ``args.dataset``; default the first of ``datasets``) for a script whose table
    exists per dataset (papers/004's). An unknown name, or one of ``not_run`` (name -> reason, e.g. a
    paper's dataset not available offline), is a one-line argparse error naming the known datasets."""
    datasets, not_run = tuple(datasets), dict(not_run or {})
    known = ", ".join(datasets)

    def norm(name: str) -> str:   # "CIFAR-100", "cifar100", "cifar_100" are one name
        return name.lower().replace("-", "").replace("_", "")

    unavailable = {norm(name): (name, reason) for name, reason in not_run.items()}

    def dataset(value: str) -> str:
        if value in datasets:
            return value
        if norm(value) in unavailable:
            name, reason = unavailable[norm(value)]
            raise argparse.ArgumentTypeError(f"{name} is {reason}; expected one of: {known}.")
        raise argparse.ArgumentTypeError(f"unknown dataset {value!r}; expected one of: {known}.")

    p.add_argument("--dataset", type=dataset, default=datasets[0], metavar="{" + ",".join(datasets) + "}",
                   help=f"which dataset's table to run (default {datasets[0]})"
                        + "".join(f"; {name}: {reason}" for name, reason in not_run.items()))


def dataset_args(description: str, argv, datasets, *, not_run=None, rows: bool = False):
    """:func:`parser` plus :func:`add_dataset_flag` (and :func:`add_rows_flag` with ``rows``), parsed."""
    p = parser(description)
    add_dataset_flag(p, datasets, not_run=not_run)
    if rows:
        add_rows_flag(p)
    return p.parse_args(argv)


def add_rows_flag(p: argparse.ArgumentParser, labels=()) -> None:
    """``--rows`` (into ``args.rows``; default None, the whole table) for a table script: a partial run
    of some rows (:func:`keras_restore.pipeline.tables.select_rows`), e.g. one whose restorer has
    finished training while the other's has not."""
    known = f" ({', '.join(labels)})" if labels else ""
    p.add_argument("--rows", nargs="+", default=None, metavar="ROW",
                   help=f"run only these rows of the table{known}, e.g. one whose restorer is trained while the "
                        "other's is not; outputs go to <table>_rows-<rows>.csv beside the whole table's (no --ship)")


def models_for_rows(spec_name: str, argv) -> set[str]:
    """The model registry names a run of table ``spec_name`` with ``argv`` loads: those of the rows its
    ``--rows`` keeps (every row without it; :func:`keras_restore.pipeline.phases.row_models`). A script
    that checks its shipped models before parsing (Tables 8-9) checks these, so ``--rows`` can run the
    rows whose models are shipped while another's is missing. A bad ``--rows`` (an unknown row, no row)
    needs none: the script's parser then reports it."""
    from keras_restore.pipeline.phases import row_models
    from keras_restore.pipeline.tables import get_table, select_rows

    p = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    add_rows_flag(p)
    try:
        rows = p.parse_known_args(list(argv))[0].rows
    except argparse.ArgumentError:
        return set()
    spec = get_table(spec_name)
    if rows is not None:
        try:
            spec = select_rows(spec, rows)
        except ValueError:
            return set()
    return row_models(spec)


def _out_dir(args) -> str:
    return args.out_dir or str(REPO / "reproduce" / "results" / ("" if args.scale == "default" else args.scale))


def main_for(spec_name: str, argv=None, *, datasets=(), not_run=None) -> dict:
    """Parse arguments and run the table ``spec_name``; one-line error and exit 1 on bad input.

    With ``datasets`` the table exists once per dataset: ``spec_name`` holds ``{dataset}`` and
    ``--dataset`` (:func:`add_dataset_flag`; default the first) picks which one runs."""
    from keras_restore.pipeline import get_scale, run_table
    from keras_restore.pipeline.tables import PRETTY, get_table

    if datasets:
        title = get_table(spec_name.format(dataset=datasets[0])).title.replace(f" on {PRETTY[datasets[0]]}", "")
        args = dataset_args(f"{title} (--dataset: {', '.join(datasets)})", argv, datasets, not_run=not_run,
                            rows=True)
        spec = get_table(spec_name.format(dataset=args.dataset))
    else:
        spec = get_table(spec_name)
        p = parser(spec.title)
        add_rows_flag(p, spec.rows)
        args = p.parse_args(argv)
    out = _out_dir(args)
    try:
        return run_table(spec, get_scale(args.scale, spec), data_dir=args.data_dir, out_dir=out, cache_dir=args.cache_dir,
                         seed=args.seed, columns=args.attacks, ship=args.ship,
                         restorer_file=args.restorer_file, progress=not args.quiet, precision=args.precision,
                         rows=args.rows)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def main_similarity(argv=None) -> dict:
    """CRU-Net Tables 6-7 (SSIM / PSNR of restored vs original) from the white-box runs."""
    from keras_restore.pipeline.similarity import TITLE, similarity_table

    p = parser(TITLE)
    p.add_argument("--datasets", nargs="+", default=["mnist", "cifar10"], metavar="DATASET",
                   help="mnist (Table 6, from crunet_table2_mnist_whitebox) and/or cifar10 (Table 7, from "
                        "crunet_table3_cifar10_whitebox); default both")
    args = p.parse_args(argv)
    try:
        return similarity_table(args.scale, datasets=args.datasets, data_dir=args.data_dir, out_dir=_out_dir(args),
                                cache_dir=args.cache_dir, seed=args.seed, columns=args.attacks, ship=args.ship,
                                restorer_file=args.restorer_file, progress=not args.quiet)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None

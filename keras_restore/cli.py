"""``keras-restore``: the package's command line.

Subcommands: ``models``, ``train``, ``attack``, ``restore``, ``evaluate``, ``reproduce TABLE``,
``export``, ``cache`` (a table cache's progress), ``report`` (the results site, or ``--markdown``).
Each has ``--help``. Failures print one line (``keras-restore: error: …``) and exit with status 1;
``--debug`` shows the traceback instead.

Image files are ``.npz`` archives holding ``x`` (float images in [0, 1], NHWC) and optionally
``y`` (integer labels). A MODEL argument is a registry name (shipped in ``saved_models/``) or a
path to a ``.keras`` file.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np


class CLIError(Exception):
    """An error reported as one line."""


def _load_model(ref: str):
    from keras_restore import models

    if ref.endswith(".keras") or "/" in ref:
        return models.load_keras_file(ref)
    return models.load_model(ref)


def _read_images(path: str, need_labels: bool = False):
    from keras_restore.validation import check_images, check_labels

    p = Path(path)
    if not p.exists():
        raise CLIError(f"input file {p} does not exist")
    if not zipfile.is_zipfile(p):
        raise CLIError(f"input file {p} is not an .npz archive")
    with np.load(p, allow_pickle=False) as f:
        if "x" not in f.files:
            raise CLIError(f"input file {p} lacks the array `x` (has: {', '.join(f.files) or 'nothing'})")
        x = check_images(f["x"], f"x in {p.name}")
        y = f["y"] if "y" in f.files else None
    if need_labels and y is None:
        raise CLIError(f"input file {p} lacks the labels array `y`")
    if y is not None:
        y = check_labels(y, len(x), int(np.max(y)) + 1 if np.size(y) else 1, f"y in {p.name}")
    return x, y


def _parse_params(items):
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"--param {item!r} must look like NAME=VALUE")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def _save_images(path, **arrays):
    from keras_restore.pipeline import io

    io.save_npz(path, **arrays)
    print(f"wrote {path}")


def cmd_models(args):
    from keras_restore import models

    shipped = models.read_manifest()
    print(f"{'name':24} {'kind':10} {'dataset':8} {'table':28} shipped")
    for name, spec in models.MODELS.items():
        entry = shipped.get(name)
        status = f"{entry['bytes'] / 1e6:.1f} MB, sha256 {entry['sha256'][:12]}" if entry else "-"
        print(f"{name:24} {spec.kind:10} {spec.dataset:8} {spec.table:28} {status}")


def cmd_train(args):
    from keras_restore import data, models, runtime, training
    from keras_restore.io import save_model_atomic

    spec = models.get_spec(args.model)
    runtime.configure()
    model = models.build(args.model)
    if spec.kind == "restorer":
        if not args.pairs:
            raise CLIError(f"training the restorer {args.model!r} needs --pairs FILE.npz with x_adv and x_clean "
                           "(make one with reproduce/make_pairs.py)")
        p = Path(args.pairs)
        if not p.exists():
            raise CLIError(f"pairs file {p} does not exist")
        with np.load(p, allow_pickle=False) as f:
            if not {"x_adv", "x_clean"} <= set(f.files):
                raise CLIError(f"pairs file {p} must hold x_adv and x_clean")
            x_adv = f["x_adv"].astype(np.float32)
            x_clean = f["x_clean"]
        x_clean = x_clean.astype(np.float32) / 255.0 if x_clean.dtype == np.uint8 else x_clean.astype(np.float32)
        cfg = training.TrainConfig(epochs=args.epochs or 4, batch_size=32, learning_rate=args.lr, seed=args.seed)
        record = training.train_restorer(model, x_adv, x_clean, cfg, verbose=2)
    else:
        x, y = data.load_arrays(spec.dataset, "train", args.data_dir, limit=args.limit)
        cfg = training.TrainConfig(epochs=args.epochs or 5, learning_rate=args.lr, seed=args.seed)
        record = training.train_classifier(model, x, y, cfg, verbose=2)
    save_model_atomic(model, args.out)
    print(f"wrote {args.out} ({record['seconds']} s)")


def cmd_attack(args):
    from keras_restore import attacks, data

    model = _load_model(args.model)
    if args.input:
        x, y = _read_images(args.input)
    else:
        x, y = data.load_arrays(args.dataset, args.split, args.data_dir, limit=args.limit)
    x_adv = attacks.generate(args.attack, model, x, y, dataset=args.dataset, progress=not args.quiet,
                             seed=args.seed, **_parse_params(args.param))
    _save_images(args.out, x=x_adv, **({"y": y} if y is not None else {}))


def cmd_restore(args):
    from keras_restore.defense import predict
    from keras_restore.validation import check_images

    restorer = _load_model(args.restorer)
    x, y = _read_images(args.input)
    x = check_images(x, "x", shape=tuple(restorer.input_shape[1:]))
    restored = predict(restorer, x, args.batch_size)
    _save_images(args.out, x=restored, **({"y": y} if y is not None else {}))


def cmd_evaluate(args):
    from keras_restore.defense import RestorerDefense
    from keras_restore.pipeline import io

    classifier, restorer = _load_model(args.classifier), _load_model(args.restorer)
    x_clean, y = _read_images(args.clean, need_labels=True)
    x_adv, _ = _read_images(args.adversarial)
    metrics, _ = RestorerDefense(restorer, classifier).evaluate(x_clean, x_adv, y)
    for k, v in metrics.items():
        print(f"{k:24} {v:.4f}" if isinstance(v, float) else f"{k:24} {v}")
    if args.out:
        io.write_csv(args.out, [metrics])
        print(f"wrote {args.out}")


def cmd_reproduce(args):
    from keras_restore.pipeline import TABLES
    from keras_restore.pipeline.script import main_for

    if args.table not in TABLES:
        raise CLIError(f"unknown table {args.table!r}; expected one of: {', '.join(TABLES)}")
    main_for(args.table, args.rest)


def cmd_export(args):
    from keras_restore import export

    restorer = _load_model(args.restorer)
    if args.classifier:
        path = export.export_defended(restorer, _load_model(args.classifier), args.out, overwrite=args.overwrite)
    else:
        path = export.export_restorer(restorer, args.out, overwrite=args.overwrite)
    print(f"wrote SavedModel {path}")


def cmd_cache(args):
    from keras_restore.pipeline import cache

    root = Path(args.cache_dir) if args.cache_dir else cache.default_dir()
    st = cache.status(root)
    print(json.dumps(st, indent=1, allow_nan=False) if args.json else cache.format_status(st).rstrip("\n"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="keras-restore", description=__doc__.split("\n\n")[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("models", help="list the model zoo and the shipped files")
    s.set_defaults(fn=cmd_models)

    s = sub.add_parser("train", help="train a registry model (classifiers on a dataset, restorers on pairs)")
    s.add_argument("model")
    s.add_argument("--out", required=True, help="output .keras file")
    s.add_argument("--data-dir")
    s.add_argument("--pairs", help="restorers: .npz with x_adv and x_clean")
    s.add_argument("--epochs", type=int)
    s.add_argument("--lr", type=float, default=1e-3)
    s.add_argument("--limit", type=int, help="training images (default all)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("attack", help="make adversarial images")
    s.add_argument("attack")
    s.add_argument("--model", required=True, help="registry name or .keras file")
    s.add_argument("--input", help=".npz with x (and y); default: --dataset/--split")
    s.add_argument("--dataset", default="mnist")
    s.add_argument("--split", default="test")
    s.add_argument("--limit", type=int, default=1000)
    s.add_argument("--data-dir")
    s.add_argument("--param", action="append", metavar="NAME=VALUE", help="attack parameter (repeatable)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_attack)

    s = sub.add_parser("restore", help="restore images with a restorer")
    s.add_argument("--restorer", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--batch-size", type=int, default=128)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_restore)

    s = sub.add_parser("evaluate", help="Eq. 6-8 metrics, SSIM and PSNR of a defense")
    s.add_argument("--classifier", required=True)
    s.add_argument("--restorer", required=True)
    s.add_argument("--clean", required=True, help=".npz with x and y")
    s.add_argument("--adversarial", required=True, help=".npz with x")
    s.add_argument("--out", help="CSV file for the metrics")
    s.set_defaults(fn=cmd_evaluate)

    s = sub.add_parser("reproduce", help="run a paper table (arguments after TABLE go to its script)")
    s.add_argument("table")
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(fn=cmd_reproduce)

    s = sub.add_parser("export", help="export a SavedModel for TF Serving")
    s.add_argument("--restorer", required=True)
    s.add_argument("--classifier", help="export restorer -> classifier (default: the restorer alone)")
    s.add_argument("--out", required=True)
    s.add_argument("--overwrite", action="store_true")
    s.set_defaults(fn=cmd_export)

    s = sub.add_parser("cache", help="what a table cache holds and what is being made (models in training: epochs "
                                     "done, wall time, pace; attack sets made in chunks); read from its files alone")
    s.add_argument("--cache-dir", help="default: $KERAS_RESTORE_CACHE, else reproduce/cache")
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    s.set_defaults(fn=cmd_cache)

    from keras_restore import report  # the static results site; light (jinja2 is imported when it runs)
    s = report.add_arguments(sub.add_parser("report", help="render the static results site (reproduce/results/site)"))
    s.set_defaults(fn=report.cli_command)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except SystemExit:
        raise
    except (CLIError, ValueError, TypeError, FileNotFoundError, PermissionError, FileExistsError) as e:
        if args.debug:
            raise
        print(f"keras-restore: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

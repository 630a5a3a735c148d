"""Command-line plumbing shared by the ``reproduce/`` scripts (one place, not one copy per table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", dest="scale", action="store_const", const="quick",
                       help="CI smoke run: small subsets, 1-2 epochs (numbers are not a reproduction)")
    scale.add_argument("--retrain", dest="scale", action="store_const", const="retrain",
                       help="train every model on this machine instead of loading saved_models/")
    scale.add_argument("--paper", dest="scale", action="store_const", const="paper",
                       help="full scale (all 60,000 training pairs, 20 epochs): meant for a GPU")
    p.set_defaults(scale="default")
    p.add_argument("--data-dir", default=None,
                   help="directory with {name}.npz or {name}/{split}/{class}/* "
                        "(default: $KERAS_RESTORE_DATA, else tensorflow-datasets)")
    p.add_argument("--out-dir", default=None,
                   help="where CSVs/figures go (default: reproduce/results, or reproduce/results/<scale>)")
    p.add_argument("--cache-dir", default=str(REPO / "reproduce" / "cache"),
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
    return p


def main_for(spec_name: str, argv=None) -> dict:
    """Parse arguments and run the table ``spec_name``; one-line error and exit 1 on bad input."""
    from keras_restore.pipeline import TABLES, get_scale, run_table

    args = parser(TABLES[spec_name].title).parse_args(argv)
    spec = TABLES[spec_name]
    out = args.out_dir or str(REPO / "reproduce" / "results" / ("" if args.scale == "default" else args.scale))
    try:
        return run_table(spec, get_scale(args.scale, spec), data_dir=args.data_dir, out_dir=out, cache_dir=args.cache_dir,
                         seed=args.seed, columns=args.attacks, ship=args.ship,
                         restorer_file=args.restorer_file, progress=not args.quiet)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None

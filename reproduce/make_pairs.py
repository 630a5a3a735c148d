"""Export Phase IV's (adversarial, clean) training pairs of a table, for training the restorer
elsewhere (``reproduce/train_restorer.py``, e.g. on a GPU with the JAX backend).

Runs Phase I (targets: shipped, cached or trained at the chosen scale) and makes the pairs
exactly as :meth:`keras_restore.pipeline.phases.Run.pairs` does inside ``run_table`` (same cache,
same seeds), plus the Phase II evaluation sets so the remote run can report restored accuracy.
Writes one compressed ``.npz``: ``x_adv`` (float16), ``x_clean`` (uint8 for MNIST), and
``groups`` (each pair's attack column), ``eval__<target>__<attack>`` (+ ``__y``) arrays; the targets' ``.keras`` files go beside it.

Usage::

    python reproduce/make_pairs.py --data-dir ../shared/data --retrain --set n_pairs=60000 --out .gpu/
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from keras_restore import io, runtime
from keras_restore.io import save_model_atomic
from keras_restore.pipeline import TABLES, get_scale
from keras_restore.pipeline.phases import Run, correctly_classified
from keras_restore.pipeline.tables import ATTACK_OF_COLUMN
from keras_restore.pipeline.script import parser


def main(argv=None):
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--table", default="table4_mnist", choices=sorted(TABLES))
    p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="override scale fields, e.g. n_pairs=60000")
    p.add_argument("--eval", type=int, default=1000, help="evaluation images per target for the remote report")
    args = p.parse_args(argv)
    spec = TABLES[args.table]
    scale = get_scale(args.scale, spec)
    for item in args.set:
        field, _, value = item.partition("=")
        if field not in {f.name for f in dataclasses.fields(scale)} or not value:
            raise SystemExit(f"make_pairs.py: error: bad --set {item!r}; expected FIELD=VALUE with a Scale field")
        scale = dataclasses.replace(scale, **{field: type(getattr(scale, field))(value)})
    out = Path(args.out_dir or "pairs")
    runtime.configure()
    runtime.seed_everything(args.seed)
    run = Run(spec, scale, data_dir=args.data_dir, cache_dir=args.cache_dir, seed=args.seed,
              columns=None, progress=not args.quiet, log=print)
    run.load_data()
    x_test, y_test = run.x_test, run.y_test
    targets, records = {}, {}
    for label, name in spec.targets.items():
        targets[label], records[label] = run.target(label, name)
        save_model_atomic(targets[label], out / f"{name}.keras")
    x_adv, x_clean, groups, info = run.pairs(targets)
    arrays = {"x_adv": x_adv.astype(np.float16), "x_clean": np.round(x_clean * 255).astype(np.uint8),
              "groups": groups.astype(str)}
    for label, model in targets.items():
        idx = correctly_classified(model, x_test, y_test, args.eval)
        for col in spec.columns:
            adv, _ = run.attack(model, ATTACK_OF_COLUMN[col], x_test[idx], y_test[idx], tag=f"{label}-test")
            name = spec.targets[label]
            arrays[f"eval__{name}__{col}"] = adv.astype(np.float16)
            arrays[f"eval__{name}__{col}__y"] = y_test[idx]
    io.save_npz(out / "pairs.npz", **arrays)
    io.write_json(out / "pairs.json", {"table": spec.name, "scale": scale.as_dict(), "seed": args.seed,
                                       "data_source": run.source, "pairs": info,
                                       "restorer_key": run.restorer_key(targets),
                                       "targets": {k: {kk: vv for kk, vv in v.items() if kk != "history"} for k, v in records.items()}})
    print(f"wrote {out / 'pairs.npz'} ({(out / 'pairs.npz').stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

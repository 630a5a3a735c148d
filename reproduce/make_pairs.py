"""Export Phase IV's (adversarial, clean) training pairs of one restorer of a table, for training it
elsewhere (``reproduce/train_restorer.py``, e.g. on a GPU with the JAX backend).

Runs Phase I for the targets the restorer of ``--row`` is trained for (shipped, cached or trained at the
chosen scale) and makes its pairs exactly as :meth:`keras_restore.pipeline.phases.Run.restorer` does
inside ``run_table`` (:meth:`~keras_restore.pipeline.phases.Run.restorer_plan` and
:meth:`~keras_restore.pipeline.phases.Run.training_pairs`: the same targets, cache, seeds and
preprocessing), plus evaluation sets so the remote run can report restored accuracy. ``--row`` matters
where a table has one restorer per row (the CRU-Net tables: each CRU-Net is trained on its own target's
pairs); its default is the table's first row with a restorer. Writes one compressed ``.npz``: ``x_adv``
(float16), ``x_clean`` (uint8), ``groups`` (each pair's attack column), ``eval__<target>__<attack>`` (+
``__y``) arrays; the targets' ``.keras`` files go beside it, and ``pairs.json`` names the row, the
restorer, its recipe and the cache key a table run would give it (train it by that recipe and give the
file back with ``--restorer-file``).

Usage::

    python reproduce/make_pairs.py --data-dir ../shared/data --retrain --set n_pairs=60000 --out-dir .gpu/
    python reproduce/make_pairs.py --table crunet_table3_cifar10_whitebox --row D-Net --retrain --out-dir .gpu/
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from keras_restore import io, runtime
from keras_restore.io import save_model_atomic
from keras_restore.pipeline import TABLES, get_scale
from keras_restore.pipeline.phases import Run, correctly_classified, replaces_classifier
from keras_restore.pipeline.tables import ATTACK_OF_COLUMN
from keras_restore.pipeline.script import parser


def main(argv=None):
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--table", default="table4_mnist", choices=sorted(TABLES))
    p.add_argument("--row", default=None, help="the row whose restorer's pairs to export (default: the table's first "
                                               "row with a restorer)")
    p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="override scale fields, e.g. n_pairs=60000")
    p.add_argument("--eval", type=int, default=1000, help="evaluation images per target for the remote report")
    args = p.parse_args(argv)
    spec = TABLES[args.table]
    scale = get_scale(args.scale, spec)
    for item in args.set:
        field, _, value = item.partition("=")
        if field not in {f.name for f in dataclasses.fields(scale)} or not value:
            p.error(f"bad --set {item!r}; expected FIELD=VALUE with a Scale field")
        scale = dataclasses.replace(scale, **{field: type(getattr(scale, field))(value)})
    with_restorer = [label for label in spec.rows if spec.restorer_of(label) and not replaces_classifier(spec, label)]
    if not with_restorer:
        p.error(f"table {spec.name!r} has no row with a restorer: nothing to export")
    label = args.row or with_restorer[0]
    by_lower = {row.lower(): row for row in with_restorer}
    if label.lower() not in by_lower:
        p.error(f"--row {label!r} is not a row of {spec.name!r} with a restorer; expected one of: "
                f"{', '.join(with_restorer)}")
    label = by_lower[label.lower()]
    out = Path(args.out_dir or "pairs")
    runtime.configure()
    runtime.seed_everything(args.seed)
    run = Run(spec, scale, data_dir=args.data_dir, cache_dir=args.cache_dir, seed=args.seed, columns=None,
              progress=not args.quiet, log=print, precision=runtime.training_precision(args.precision))
    run.load_data()
    try:
        plan = run.restorer_plan(label)
        x_adv, x_clean, groups, info, labels = run.training_pairs(plan)
    except ValueError as e:
        p.error(str(e))
    arrays = {"x_adv": x_adv.astype(np.float16), "x_clean": np.round(x_clean * 255).astype(np.uint8),
              "groups": groups.astype(str), **({"labels": labels} if labels is not None else {})}
    records = {}
    for target_label, model in plan.targets.items():
        name = spec.trained_for(label)[target_label]
        records[target_label] = run.models[name][1]
        save_model_atomic(model, out / f"{name}.keras")
        idx = correctly_classified(model, run.x_test, run.y_test, args.eval)
        for col in spec.columns:
            adv, _ = run.attack(model, ATTACK_OF_COLUMN[col], run.x_test[idx], run.y_test[idx], tag=f"{target_label}-test")
            arrays[f"eval__{name}__{col}"] = adv.astype(np.float16)
            arrays[f"eval__{name}__{col}__y"] = run.y_test[idx]
    io.save_npz(out / "pairs.npz", **arrays)
    io.write_json(out / "pairs.json", {
        "table": spec.name, "row": label, "restorer": plan.name, "recipe": plan.recipe.describe(),
        "trained_for": spec.trained_for(label), "trained_behind": [layer.name for layer in plan.steps],
        "classifier_loss_target": plan.classifier, "scale": scale.as_dict(), "seed": args.seed,
        "precision": run.precision, "data_source": run.source, "pairs": info, "restorer_key": plan.key,
        "targets": {k: {kk: vv for kk, vv in v.items() if kk != "history"} for k, v in records.items()}})
    print(f"wrote {out / 'pairs.npz'} ({(out / 'pairs.npz').stat().st_size / 1e6:.1f} MB): row {label!r}, restorer "
          f"{plan.name} ({len(x_adv)} pairs of {', '.join(plan.targets)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

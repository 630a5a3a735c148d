"""Issue 21's eps ablation for the CIFAR-10 CRU-Nets (papers/001; not in the paper): how much of an
L-inf perturbation each CRU-Net removes, against the perturbation's size.

At the papers' scale (50,000 pairs x 20 epochs; README, *CRU-Net at the papers' scale*) M-net's CRU-Net
brings the spatial attack within 5 points of papers/001 Tables 3 and 5, but leaves FGSM, R-FGSM and PGD
at eps 8/255 at the no-defense level (paper: 79-83%), and its held-out error on those pairs is 0.88-0.92
of the identity's. This sweeps eps of FGSM and BIM (PGD without the random start: 10 steps of eps/4,
the tables' PGD budget) from 0 to 16/255 on CRU-Net Table 3's images (the first ``n_eval`` test images,
200 at default / ``--retrain``), each set made on the bare target (papers/001's protocol), and reports
per target and eps:

* accuracy without a defense and through each CRU-Net variant: the paper's pooled pixel MSE (CRU-Net
  Table 3's restorer, ``crunet_table3_cifar10_whitebox``), the attack-balanced one (issue 21's variant,
  ``crunet_table3_cifar10_balanced``), the one guided by the target's features (Liao et al. 2018's HGD
  loss, ``crunet_table3_cifar10_guided``), that one with a pixel anchor (``crunet_table3_cifar10_anchored``) and
  with the pixel MSE at equal weight (``crunet_table3_cifar10_feature_pixel``);
* each CRU-Net's output error against the clean images on attacked and on clean inputs, and the share of
  the perturbation's energy it passes on to the classifier (``perturbation_passed``: 1 is the identity,
  0 a perfect restorer; :func:`keras_restore.pipeline.sweeps.defense_curves`);
* the eps at which the same attack without a defense leaves the accuracy the target has through the CRU-Net
  (``eps_equivalent_255``), beside the attack shrunk to the energy the CRU-Net passes on (``eps_shrunk_255``):
  equal when the CRU-Net acts as if it only shrank the perturbation, and how far from the clean accuracy its
  residual still is (the error amplification of Liao et al. 2018, HGD).

So the ablation says whether the CRU-Net removes small perturbations and fails at 8/255, or passes on
the same share at every size (what an identity-like residual network does), and whether the balanced
loss changes that. The adversarial sets are cached (keyed by the target's weights, the attack, its
parameters and the images; a rerun resumes).

Models: CRU-Net Table 3's at the scale asked for, through its run (the same cache keys), so this script
trains nothing outside ``--quick``: default = the shipped targets and CRU-Nets (a variant not shipped is
listed as not run, with the command that trains it); ``--retrain`` = the models the table's ``--retrain``
run trained (papers' scale, cached under ``--cache-dir``; give ``--precision`` as that run did, e.g.
``auto`` as ``reproduce/cifar10_paper_scale.sh``); ``--paper`` = the ``--paper`` models and the whole test
set (for a GPU); ``--quick`` (CI smoke run) trains the quick-scale models, 2 points per curve.

Outputs in ``reproduce/results/`` (``<scale>/`` for the other scales): ``crunet_cifar10_eps_curves.csv``
(one row per target x attack x eps x variant; :data:`keras_restore.pipeline.sweeps.DEFENSE_CURVE_COLUMNS`),
``.png`` (accuracy and perturbation passed against eps) and ``.meta.json`` (scale, seed, models and their
records, variants not run, timings, versions). ``--rows`` / ``--variants`` runs some of them
(``_rows-<rows>`` / ``_variants-<variants>`` stems, so a partial run never replaces the whole one).

Run: ``python reproduce/crunet_cifar10_eps_curves.py --retrain --precision auto --data-dir ../shared/data``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

TITLE = "CRU-Net on CIFAR-10 (papers/001, issue 21 ablation): accuracy and perturbation passed against L-inf eps"
STEM = "crunet_cifar10_eps_curves"
# variant -> (table whose restorer it is, label in the CSV)
VARIANTS = {"pooled": ("crunet_table3_cifar10_whitebox", "CRU-Net (pooled MSE, the paper's)"),
            "balanced": ("crunet_table3_cifar10_balanced", "CRU-Net (attack-balanced MSE)"),
            "guided": ("crunet_table3_cifar10_guided", "CRU-Net (feature-guided, HGD's loss)"),
            "anchored": ("crunet_table3_cifar10_anchored", "CRU-Net (feature-guided + 0.1 x pixel MSE)"),
            "feature_pixel": ("crunet_table3_cifar10_feature_pixel", "CRU-Net (feature + pixel MSE, 1:1)")}
EPS_255 = (0, 1, 2, 4, 8, 16)
SCALES = {
    "quick": {"eps_255": (0, 8), "overrides": {"bim": {"nb_iter": 3}},
              "note": "CI smoke run: CRU-Net Table 3's quick models (trained here if not cached) and images, eps 0 "
                      "and 8/255, BIM 3 steps; numbers are not results."},
    "default": {"eps_255": EPS_255, "overrides": {},
                "note": "CRU-Net Table 3's default models (shipped; a variant not shipped is not run) and images "
                        "(the first 200 test images)."},
    "retrain": {"eps_255": EPS_255, "overrides": {},
                "note": "CRU-Net Table 3's --retrain models (the papers' 50,000 pairs x 20 epochs, cached by the "
                        "table runs; a variant not trained yet is not run) and images (the first 200 test images)."},
    "paper": {"eps_255": EPS_255, "overrides": {},
              "note": "CRU-Net Table 3's --paper models (trained by the table runs) and the whole test set: meant "
                      "for a GPU."},
}


def parse_args(argv):
    import argparse

    from keras_restore.pipeline.cache import default_dir
    from keras_restore.pipeline.script import add_rows_flag, add_scale_flags

    p = argparse.ArgumentParser(description=TITLE, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Trains nothing outside --quick: the CRU-Nets are CRU-Net Table 3's (see the "
                                       "module docstring).")
    add_scale_flags(p, quick="CI smoke run: the quick models (trained here), eps 0 and 8/255 (not results)",
                    retrain="the CRU-Nets CRU-Net Table 3's --retrain runs trained (papers' scale, from the cache)",
                    paper="the --paper models and the whole test set: meant for a GPU")
    p.add_argument("--out-dir", default=None,
                   help="where the CSV/PNG/meta go (default: reproduce/results, or reproduce/results/<scale>)")
    p.add_argument("--cache-dir", default=str(default_dir()),
                   help="the table runs' trained models, and the adversarial sets (an interrupted run resumes)")
    p.add_argument("--seed", type=int, default=0, help="seed of the attacks (and the tables' seed, to find their models)")
    p.add_argument("--precision", default="float32", choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"),
                   help="the dtype policy the table run trained the CRU-Nets in (part of their cache key; "
                        "cifar10_paper_scale.sh: auto); attacks and evaluation run in float32")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_rows_flag(p, ("D-Net", "M-Net"))
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="VARIANT",
                   help=f"some of {', '.join(VARIANTS)} (default: all)")
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    args.variants = [v for v in VARIANTS if v in args.variants]   # the table's order: one stem per set of variants
    return args


def _stem(labels, variants, all_labels) -> str:
    from keras_restore.pipeline.tables import rows_slug

    stem = STEM
    if list(labels) != list(all_labels):
        stem += "_rows-" + rows_slug(labels)
    if list(variants) != list(VARIANTS):
        stem += "_variants-" + "-".join(variants)
    return stem


def not_run_command(variant: str, scale: str, label: str, precision: str = "float32") -> str:
    """The command that trains (and caches) ``variant``'s CRU-Net of row ``label`` at ``scale``, under the
    cache key this script then finds (the same precision)."""
    flags = ("" if scale == "default" else f" --{scale}") + ("" if precision == "float32" else f" --precision {precision}")
    return f"python reproduce/{VARIANTS[variant][0]}.py{flags} --rows {label} --data-dir ../shared/data"


def run(specs: dict, scale_name: str, *, labels=None, settings: dict, data_dir, cache_dir, seed: int,
        precision: str, progress: bool, log, scale_of=None) -> dict:
    """The sweep for ``labels`` (rows of the first spec; default all) and each variant of ``specs``
    (variant -> TableSpec whose rows hold its restorers, all on the same targets). ``scale_of(spec)``
    gives each spec's :class:`Scale` (default :func:`get_scale` of ``scale_name``). Restorers are loaded,
    never trained, except at ``--quick``. Returns ``{"rows", "not_run", "models", "timings"}``."""
    from keras_restore import runtime
    from keras_restore.pipeline import get_scale, sweeps
    from keras_restore.pipeline.phases import NotTrained, Run, eval_indices

    scale_of = scale_of or (lambda spec: get_scale(scale_name, spec))
    first = next(iter(specs.values()))
    labels = list(labels or first.rows)
    precision = runtime.training_precision(precision)   # "auto" resolved as the table runs resolve it
    runs = {v: Run(spec, scale_of(spec), data_dir=data_dir, cache_dir=cache_dir, seed=seed, columns=None,
                   progress=progress, log=log, precision=precision) for v, spec in specs.items()}
    base = runs[next(iter(runs))]
    base.load_data()
    for r in runs.values():   # one copy of the data
        r.x_train, r.y_train, r.x_test, r.y_test = base.x_train, base.y_train, base.x_test, base.y_test
    eps_grid = tuple(e / 255 for e in settings["eps_255"])
    train = scale_name == "quick"   # outside --quick every model is the table runs'
    rows, not_run, models, timings = [], {}, {}, {}
    for label in labels:
        t0 = time.perf_counter()
        name = first.rows[label].target
        try:
            classifier, record = base.target(label, name, train=train)
        except NotTrained as e:
            for variant in runs:
                not_run[f"{label} / {variant}"] = {"reason": str(e),
                                                   "command": not_run_command(variant, scale_name, label, precision)}
            log(f"[{label}] not run: {e}")
            continue
        for r in runs.values():   # the target, loaded once (not the restorers: two variants may share a name)
            r.models[name] = (classifier, record)
        defenses = {}
        models[label] = {"target": {"name": name, "record": record}, "restorers": {}}
        for variant, r in runs.items():
            try:
                restorer, r_record = r.restorer(label, train=train)
            except NotTrained as e:
                not_run[f"{label} / {variant}"] = {"reason": str(e),
                                                   "command": not_run_command(variant, scale_name, label, precision)}
                log(f"[{label}] {variant}: not run: {e}")
                continue
            defenses[VARIANTS[variant][1]] = r.defense(label, classifier, restorer, fast=False)
            models[label]["restorers"][variant] = {"name": r.spec.restorer_of(label), "table": r.spec.name,
                                                   "record": r_record}
        if not defenses:
            continue
        idx = eval_indices(first, classifier, base.x_test, base.y_test, base.scale.n_eval)
        rows += sweeps.defense_curves(classifier, defenses, base.x_test[idx], base.y_test[idx], dataset=first.dataset,
                                      eps_grid=eps_grid, overrides=settings["overrides"], target=name, seed=seed,
                                      cache_dir=cache_dir, progress=progress, log=log)
        timings[label] = round(time.perf_counter() - t0, 1)
    return {"rows": rows, "not_run": not_run, "models": models, "timings": timings, "source": base.source,
            "precision": precision,
            "n_images": int(min(base.scale.n_eval, len(base.x_test))), "scales": {v: r.scale.as_dict()
                                                                             for v, r in runs.items()}}


def summary(rows: list[dict]) -> list[str]:
    """One line per target x attack x variant: accuracy and perturbation passed at each eps."""
    lines = []
    for key in dict.fromkeys((r["target"], r["attack"], r["defense"]) for r in rows):
        pts = [r for r in rows if (r["target"], r["attack"], r["defense"]) == key]
        cells = [f"{r['eps_255']:g}: {r['accuracy_undefended']:.0f}->{r['accuracy_defended']:.0f}%"
                 + (f" ({r['perturbation_passed']:.2f})" if r["perturbation_passed"] != "" else "") for r in pts]
        lines.append(f"{key[0]} {key[1].upper()} {key[2]}: " + ", ".join(cells))
    return lines


def main(argv=None) -> dict:
    args = parse_args(argv)
    from keras_restore import attacks, io, runtime
    from keras_restore.pipeline import report, sweeps
    from keras_restore.pipeline.script import REPO
    from keras_restore.pipeline.tables import get_table, select_rows

    log = sweeps.logger()
    prog = Path(sys.argv[0]).name
    try:
        specs = {v: get_table(VARIANTS[v][0]) for v in args.variants}
        whole = list(next(iter(specs.values())).rows)
        labels = list(select_rows(next(iter(specs.values())), args.rows).rows) if args.rows else whole
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    runtime.configure()
    runtime.seed_everything(args.seed)
    settings = SCALES[args.scale]
    out = Path(args.out_dir or REPO / "reproduce" / "results" / ("" if args.scale == "default" else args.scale))
    stem = _stem(labels, args.variants, whole)
    log(f"{TITLE}\nscale {args.scale}: {settings['note']}\nseed {args.seed}; rows {', '.join(labels)}; variants "
        f"{', '.join(args.variants)}; out {out / stem}.*; cache {args.cache_dir}")
    t0 = time.perf_counter()
    try:
        res = run(specs, args.scale, labels=labels, settings=settings, data_dir=args.data_dir,
                  cache_dir=args.cache_dir, seed=args.seed, precision=args.precision, progress=not args.quiet,
                  log=log)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if not res["rows"]:
        print(f"{prog}: error: no CRU-Net of the rows and variants asked for is trained at scale {args.scale!r}; "
              "train them with: " + "; ".join(v["command"] for v in res["not_run"].values()), file=sys.stderr)
        raise SystemExit(1)
    bim = sweeps.attack_overrides("bim", "cifar10", 1.0, settings["overrides"].get("bim"))
    bim_steps, bim_step = bim.get("nb_iter", attacks.default_params("bim", "cifar10")["nb_iter"]), bim["eps_iter"]
    meta = {
        "table": stem, "title": TITLE, "paper": "Ali et al. 2022, CRU-Net (papers/001): an ablation of its Tables 3 "
                                                "and 5 (issue 21), not in the paper",
        "scale": {"name": args.scale, "note": settings["note"], "eps_255": list(settings["eps_255"]),
                  "attack_overrides": settings["overrides"], "n_images": res["n_images"],
                  "models_scale": res["scales"]},
        "seed": args.seed, "precision": {"asked": args.precision, "training": res["precision"],
                                         "note": "the policy the table runs trained in (part of the models' cache "
                                                 "keys); attacks and evaluation in float32"},
        "data_source": res["source"],
        "images": f"CRU-Net Table 3's: the first {res['n_images']} images of the test split",
        "rows": labels, "variants": {v: VARIANTS[v] for v in args.variants}, "models": res["models"],
        "not_run": res["not_run"],
        "protocol": "every attack made on the bare target (true labels; papers/001's protocol), then classified by "
                    "the target alone and through each CRU-Net; eps 0 = the clean images",
        "attacks": {a: {"defaults": attacks.default_params(a, "cifar10"), "source": attacks.default_source(a, "cifar10"),
                        "overrides": settings["overrides"].get(a, {}),
                        "strength": "eps" if a == "fgsm" else
                                    f"eps; {bim_steps} steps of eps x {bim_step:g} (the CIFAR-10 default's total step "
                                    "length, at most eps per step: sweeps.attack_overrides)"}
                    for a in sweeps.DEFENSE_CURVE_ATTACKS},
        "timings": {"per_row_seconds": res["timings"]}, "wall_seconds": round(time.perf_counter() - t0, 1),
        "machine": report.machine(), "versions": io.versions(),
    }
    paths = sweeps.write_outputs(out, stem, res["rows"], kind="defenses", title=TITLE, meta=meta)
    for line in summary(res["rows"]):
        log("  " + line)
    for key, v in res["not_run"].items():
        log(f"  not run: {key}: {v['command']}")
    log(f"wrote {paths['csv']} (+ .png, .meta.json) in {meta['wall_seconds']:.0f} s")
    return {**res, "meta": meta, "paths": paths}


if __name__ == "__main__":
    main()

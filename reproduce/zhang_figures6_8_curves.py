"""papers/002 (Zhang et al., Adversarial example defense based on image reconstruction), Figs. 6-8:
ResNet-50's accuracy without and with the defense (pixel-depth reduction to k levels, then the
EDSR reconstruction network) against attack strength -- Fig. 6 MNIST, Fig. 7 Fashion-MNIST,
Fig. 8 CIFAR-10; panels (a)-(d) FGSM, BIM (eps), DeepFool, C&W (maximum iterations).

Per dataset, on the first N test images (:func:`keras_restore.pipeline.sweeps.strength_curves`):
every adversarial set is made on the bare classifier (the paper's protocol: the defense is not
attacked), then classified by the classifier alone and through the defense
(``build_defense("image_reconstruction", classifier, dataset=..., restorer=...)``: MNIST k = 2,
F-MNIST k = 4, the paper's Sec. 4.2 values; CIFAR-10 k = 4, our choice, see Table 3). The paper's numbers "under high attack intensity"
(Sec. 4.4) stand beside the largest strength of each curve, in the CSV (``*_paper`` columns) and
the meta (``paper_comparison``):

=============  ==========  ==========  ==========  ==========
without->with  FGSM        BIM         DeepFool    C&W
=============  ==========  ==========  ==========  ==========
MNIST          20 -> 97    5 -> 98     0 -> 98     0 -> 98
F-MNIST        13 -> 81    1 -> 82     0 -> 88     0 -> 88
CIFAR-10       23 -> 71    2 -> 70     18 -> 87    0 -> 87
=============  ==========  ==========  ==========  ==========

What the paper leaves open, our choices (``keras_restore.pipeline.sweeps``; all in the meta):
eps grids over its ranges (MNIST 0-0.3 step 0.05, F-MNIST 0-0.1 step 0.02, CIFAR-10 0-0.01 step
0.002; eps 0 = the clean images); BIM with the dataset's default iterations, MNIST / F-MNIST 40 of
eps / 30, CIFAR-10 10 of eps / 4 (the papers/002 tables' ratios);
DeepFool ``max_iter`` 0 (clean), 1, 2, 5, 10, 50 and CW-L2 ``max_iterations`` 0 (clean), 5, 10,
20, 50 per binary-search step, 3 steps as the tables' CW-L2 3 x 50 (Sec. 4.2: "we adjust the
degree of perturbation by controlling the maximum number of iterations"), every other parameter
the package default; true labels.

Models: the ResNet-50 and the EDSR of the papers/002 tables (``reproduce/zhang_table1_mnist.py``,
``zhang_table2_fashion_mnist.py``, ``zhang_table3_cifar10.py``): ``resnet50_mnist`` /
``resnet50_fashion_mnist`` / ``resnet50_zhang_cifar10`` (over 30 MB, not shipped: cached under
``--cache-dir`` by the table run) and ``edsr_mnist`` / ``edsr_fashion_mnist`` / ``edsr_cifar10``
(shipped once trained, else cached), loaded through the table's run, or trained here with the
table's recipe and cache keys if missing (CIFAR-10: the data is the JPEG copy in ``../shared/data``,
labelled "CIFAR-10 (JPEG copy)" in the meta's ``data_source``).

Scales (the models at the papers/002 tables' scale of the same name):

* ``--quick``: CI smoke run: the first 30 test images, 2 points per curve (eps 0 and the
  largest, BIM with 10 iterations of a larger step; DeepFool 0 and 3, CW-L2 0 and 5 iterations);
  the tables' quick models (ResNet-50 1 epoch on 2,000 images, EDSR 1 epoch on 300 pairs). Not
  a result (about 5 minutes on 2 busy cores after the Fig. 3 quick run has trained the ResNet-50).
* default: the first 200 test images, the whole grids, the tables' default models.
* ``--retrain``: as default, the tables' models at their --retrain scale.
* ``--paper``: the whole test set and the tables' --paper models: for a GPU.

Outputs in ``reproduce/results/`` (``reproduce/results/<scale>/`` for the other scales):
``zhang_figure6_mnist`` / ``zhang_figure7_fashion_mnist`` / ``zhang_figure8_cifar10`` ``.csv`` (long: one row per (attack,
strength): accuracy without / with the defense, the paper's at the largest strength, n_images,
the attack's merged parameters), ``.png`` (panels (a)-(d)) and ``.meta.json`` (scale, seed,
models, parameters, paper comparison, versions, timings). Adversarial sets are cached under
``--cache-dir``/attacks keyed by the target's weight fingerprint (a rerun resumes).

Run: ``python reproduce/zhang_figures6_8_curves.py --data-dir ../shared/data`` (``--quick`` in CI).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

TITLE = "papers/002 Figs. 6-8: accuracy without and with the defense against attack strength"
# Datasets whose figure is not reproduced (name -> reason, logged). Empty since Table 3 (CIFAR-10) exists:
# Fig. 8 uses its resnet50_zhang_cifar10 and edsr_cifar10 as Figs. 6-7 use Tables 1-2's models.
SKIP: dict = {}


def scales():
    from keras_restore.pipeline.sweeps import EPS_GRIDS, ITERATION_GRIDS

    full = {"eps_grid": dict(EPS_GRIDS), "iteration_grids": dict(ITERATION_GRIDS), "overrides": {}}
    return {
        "quick": {"n_images": 30, "eps_grid": {ds: (g[0], g[-1]) for ds, g in EPS_GRIDS.items()},
                  "iteration_grids": {"deepfool": (0, 3), "cw": (0, 5)}, "overrides": {"bim": {"nb_iter": 10}},
                  "note": "CI smoke run: the first 30 test images, 2 points per curve (strength 0 and the largest; "
                          "BIM 10 iterations, DeepFool 3, CW-L2 5), the papers/002 tables' quick models; numbers are "
                          "not results."},
        "default": {"n_images": 200, **full,
                    "note": "The first 200 test images, the whole grids; the papers/002 tables' default ResNet-50 "
                            "(cached by their runs) and EDSR (shipped, else cached or trained at the table's "
                            "default scale)."},
        "retrain": {"n_images": 200, **full,
                    "note": "As default, with the papers/002 tables' models at their --retrain scale."},
        "paper": {"n_images": 10000, **full,
                  "note": "The whole test set and the tables' --paper models: meant for a GPU."},
    }


def parse_args(argv):
    from keras_restore.pipeline.sweeps import parse_sweep_args, sweep_parser

    return parse_sweep_args(sweep_parser(TITLE, __doc__.split("\n\n")[0]), argv)


def stem(dataset: str) -> str:
    from keras_restore.pipeline.sweeps import CURVE_FIGURES

    return f"zhang_figure{CURVE_FIGURES[dataset].split()[-1]}_{dataset}"


def run_dataset(dataset, args, settings, log) -> dict:
    from keras_restore import attacks, io
    from keras_restore.pipeline import report, sweeps

    t0 = time.perf_counter()
    run, label = sweeps.zhang_run(dataset, args.scale, data_dir=args.data_dir, cache_dir=args.cache_dir,
                                  seed=args.seed, progress=not args.quiet, log=log, precision=args.precision)
    name = run.spec.targets[label]
    classifier, record = run.target(label, name)
    restorer, r_record = run.restorer(label)
    t_models = time.perf_counter() - t0
    n = min(settings["n_images"], len(run.x_test))
    rows = sweeps.strength_curves(classifier, restorer, run.x_test[:n], run.y_test[:n], dataset=dataset,
                                  eps_grid=settings["eps_grid"][dataset], iteration_grids=settings["iteration_grids"],
                                  overrides=settings["overrides"], target=name, seed=args.seed,
                                  cache_dir=args.cache_dir, progress=not args.quiet, log=log)
    t_sweep = time.perf_counter() - t0 - t_models
    figure = sweeps.CURVE_FIGURES[dataset]
    defense = run.defense(label, classifier, restorer, fast=False)   # for its description only
    meta = {
        "table": stem(dataset), "title": f"{TITLE} ({sweeps.PRETTY[dataset]}, {figure})",
        "paper": f"{sweeps.PAPER}, {figure}", "figure": figure,
        "scale": {"name": args.scale, "note": settings["note"], "n_images": n,
                  "eps_grid": list(settings["eps_grid"][dataset]),
                  "iteration_grids": {k: list(v) for k, v in settings["iteration_grids"].items()},
                  "attack_overrides": settings["overrides"],
                  "models_scale": run.scale.as_dict()},
        "seed": args.seed, "data_source": run.source,
        "images": f"the first {n} images of the test split",
        "target": {"name": name, "table": run.spec.name, "row": label, "record": record},
        "restorer": {"name": run.spec.restorer_of(label), "record": r_record},
        "defense": defense.describe(),
        "protocol": "every attack made on the bare classifier (true labels), then classified by the classifier "
                    "alone (without) and through the defense (with); strength 0 = the clean images",
        "attacks": {a: {"strength_param": sweeps.STRENGTH_PARAM[a], "defaults": attacks.default_params(a, dataset),
                        "source": attacks.default_source(a, dataset)} for a in sweeps.CURVE_ATTACKS},
        "choices": sweeps.CHOICES,
        "paper_values": {"at_highest_strength": {a: {"without_defense": v[0], "with_defense": v[1]}
                                                 for a, v in sweeps.PAPER_AT_HIGHEST[dataset].items()},
                         "source": sweeps.PAPER_AT_HIGHEST_SOURCE},
        "paper_comparison": sweeps.paper_comparison(rows),
        "timings": {"models_seconds": round(t_models, 1), "sweep_seconds": round(t_sweep, 1),
                    "attack_seconds_as_computed": round(sum(r["seconds"] for r in rows), 1)},
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "machine": report.machine(), "versions": io.versions(),
    }
    paths = sweeps.write_outputs(sweeps.out_dir(args), stem(dataset), rows, kind="curves", title=meta["title"],
                                 meta=meta)
    log(f"[{dataset}] wrote {paths['csv']}, {stem(dataset)}.png, {stem(dataset)}.meta.json")
    return {"rows": rows, "meta": meta, "paths": paths}


def main(argv=None) -> dict:
    args = parse_args(argv)
    from keras_restore import runtime
    from keras_restore.pipeline import sweeps

    log = sweeps.logger()
    skipped = {ds: SKIP[ds] for ds in args.datasets if ds in SKIP}
    datasets = [ds for ds in args.datasets if ds not in SKIP]
    if not datasets:
        print(f"{Path(sys.argv[0]).name}: error: nothing to run: {'; '.join(f'{k}: {v}' for k, v in skipped.items())}",
              file=sys.stderr)
        raise SystemExit(1)
    runtime.configure()
    runtime.seed_everything(args.seed)
    settings = scales()[args.scale]
    log(f"{TITLE}\nscale {args.scale}: {settings['note']}\nseed {args.seed}; out {sweeps.out_dir(args)}; "
        f"cache {args.cache_dir}; datasets {', '.join(datasets)}")
    for ds, why in skipped.items():
        log(f"[{ds}] skipped: {why}")
    results = {}
    try:
        for dataset in datasets:
            results[dataset] = run_dataset(dataset, args, settings, log)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    for dataset, res in results.items():
        for a, c in res["meta"]["paper_comparison"].items():
            log(f"  {dataset:>13s} {a:>8s} {c['strength_param']}={c['strength']:g}: "
                f"ours {c['ours']['without_defense']:5.1f} "
                f"-> {c['ours']['with_defense']:5.1f}, paper {c['paper']['without_defense']:g} -> "
                f"{c['paper']['with_defense']:g}")
    return {"datasets": results, "skipped": skipped}


if __name__ == "__main__":
    main()

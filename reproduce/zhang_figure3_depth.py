"""papers/002 (Zhang et al., Adversarial example defense based on image reconstruction), Fig. 3:
how much does pixel-depth reduction alone -- no reconstruction network -- defend against FGSM?

Per dataset, on the first N test images: FGSM made on the bare classifier (the paper's protocol)
at every eps of the grid, then the classifier's accuracy on the adversarial images as they are
("no reduction") and after reducing every pixel to k levels per channel
(``keras_restore.defenses.BitDepthReduction(levels=k)``, ``round(x (k - 1)) / (k - 1)``), k = 2,
4, 8, 16 (:func:`keras_restore.pipeline.sweeps.depth_sweep`). The paper's panels: (a) MNIST,
(b) Fashion-MNIST, (c) CIFAR-10 (Sec. 3.2); its text prints no number for this figure, only that
reduction defends well at small eps, less as eps grows, and that a higher compression loses clean
accuracy (why it adds the reconstruction network).

What the paper leaves open, our choices (``keras_restore.pipeline.sweeps``; all in the meta):

* eps grids over the paper's ranges (Sec. 4.3): MNIST 0-0.3 step 0.05, F-MNIST 0-0.1 step 0.02,
  CIFAR-10 0-0.01 step 0.002; eps 0 is the clean images. FGSM with the package defaults
  otherwise (L-inf, true labels).
* k values: the text names none; 2, 4, 8 and 16 levels (1-4 bits), which contain the paper's
  choices (k = 2 on MNIST, 4 on F-MNIST), plus the unreduced curve.
* targets: the paper's ResNet-50. MNIST / F-MNIST: the ResNet-50 of the papers/002 tables
  (``resnet50_mnist`` / ``resnet50_fashion_mnist``: keras.applications ResNet50 on 2-px padded
  images, trained by ``reproduce/zhang_table1_mnist.py`` / ``zhang_table2_fashion_mnist.py`` and
  cached under ``--cache-dir``, over 30 MB so not shipped; loaded from that cache through the
  table's run, or trained here with the table's recipe and cache key if missing). CIFAR-10: the
  shipped ResNet-20 ``resnet_cifar10`` (papers/000 Table 7, 85.8% test) stands in: the committed
  Fig. 3(c) was made with it, before Table 3's ``resnet50_zhang_cifar10`` existed (1 epoch at the
  default scale, far weaker); depth reduction alone needs no restorer, and the sweep is what chose
  Table 3's k = 4.

Scales (``--quick`` / default / ``--retrain`` / ``--paper``; the targets at the papers/002 tables'
scale of the same name):

* ``--quick``: CI smoke run: the first 30 test images, eps 0 / middle / largest of each grid,
  every k; MNIST's ResNet-50 at the table's quick scale (1 epoch on 2,000 images). Not a result.
* default: the first 500 test images, the whole grid, the tables' default models.
* ``--retrain``: as default, with the tables' models trained at their --retrain scale.
* ``--paper``: the whole test set (10,000 images) and the tables' --paper models: for a GPU.

Outputs in ``reproduce/results/`` (``reproduce/results/<scale>/`` for the other scales), per
dataset: ``zhang_figure3_<dataset>.csv`` (long: one row per (eps, k): accuracy of the bare
classifier and after the reduction, n_images, the attack's parameters), ``.png`` (the figure) and
``.meta.json`` (scale, seed, target, parameters, versions, timings). Adversarial sets are cached
under ``--cache-dir``/attacks keyed by the target's weight fingerprint (a rerun resumes).

Run: ``python reproduce/zhang_figure3_depth.py --data-dir ../shared/data`` (``--quick`` in CI).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

NAME = "zhang_figure3"
TITLE = "papers/002 Fig. 3: accuracy of pixel-depth reduction alone against FGSM eps, per k"
CIFAR_TARGET = "resnet_cifar10"
CIFAR_NOTE = ("papers/002 uses ResNet-50; on CIFAR-10 the shipped ResNet-20 resnet_cifar10 (papers/000 Table 7, "
              "85.8% test) stands in: Table 3's resnet50_zhang_cifar10 is trained 1 epoch at the default scale and "
              "not shipped (over 30 MB)")


def scales():
    from keras_restore.pipeline.sweeps import DEPTH_LEVELS, EPS_GRIDS, quick_grid

    full = {ds: grid for ds, grid in EPS_GRIDS.items()}
    return {
        "quick": {"n_images": 30, "eps_grid": {ds: quick_grid(g) for ds, g in EPS_GRIDS.items()},
                  "levels": DEPTH_LEVELS,
                  "note": "CI smoke run: the first 30 test images, eps 0 / middle / largest, the targets of the "
                          "papers/002 tables at their quick scale; numbers are not results."},
        "default": {"n_images": 500, "eps_grid": full, "levels": DEPTH_LEVELS,
                    "note": "The first 500 test images, the whole eps grid; the papers/002 tables' default "
                            "ResNet-50s (cached by their runs, else trained here at the table's default scale)."},
        "retrain": {"n_images": 500, "eps_grid": full, "levels": DEPTH_LEVELS,
                    "note": "As default, with the papers/002 tables' ResNet-50s at their --retrain scale."},
        "paper": {"n_images": 10000, "eps_grid": full, "levels": DEPTH_LEVELS,
                  "note": "The whole test set and the tables' --paper ResNet-50s: meant for a GPU."},
    }


def parse_args(argv):
    from keras_restore.pipeline.sweeps import parse_sweep_args, sweep_parser

    return parse_sweep_args(sweep_parser(TITLE, __doc__.split("\n\n")[0]), argv)


def load_target(dataset, args, log):
    """(classifier, registry name, record, x_test, y_test, data source) of ``dataset``."""
    from keras_restore import data, models
    from keras_restore.metrics import accuracy
    from keras_restore.pipeline import sweeps

    if dataset == "cifar10":
        x, y = data.load_arrays("cifar10", "test", args.data_dir)
        model = models.load_model(CIFAR_TARGET)
        record = {"source": f"saved_models/{CIFAR_TARGET}.keras", **models.shipped().get(CIFAR_TARGET, {}),
                  "test_accuracy": accuracy(model, x, y, 256), "note": CIFAR_NOTE}
        log(f"[{dataset}] target {CIFAR_TARGET} (shipped; {CIFAR_NOTE}); test accuracy {record['test_accuracy']:.2f}%")
        return model, CIFAR_TARGET, record, x, y, data.source_label("cifar10", args.data_dir)
    run, label = sweeps.zhang_run(dataset, args.scale, data_dir=args.data_dir, cache_dir=args.cache_dir,
                                  seed=args.seed, progress=not args.quiet, log=log, precision=args.precision)
    name = run.spec.targets[label]
    model, record = run.target(label, name)
    return model, name, {**record, "table": run.spec.name, "row": label}, run.x_test, run.y_test, run.source


def run_dataset(dataset, args, settings, log) -> dict:
    from keras_restore import attacks, io
    from keras_restore.pipeline import report, sweeps

    t0 = time.perf_counter()
    model, name, record, x, y, source = load_target(dataset, args, log)
    t_target = time.perf_counter() - t0
    n = min(settings["n_images"], len(x))
    rows = sweeps.depth_sweep(model, x[:n], y[:n], dataset=dataset, eps_grid=settings["eps_grid"][dataset],
                              levels=settings["levels"], target=name, seed=args.seed, cache_dir=args.cache_dir,
                              progress=not args.quiet, log=log)
    t_sweep = time.perf_counter() - t0 - t_target
    stem = f"{NAME}_{dataset}"
    meta = {
        "table": stem, "title": f"{TITLE} ({sweeps.PRETTY[dataset]})",
        "paper": f"{sweeps.PAPER}, {sweeps.FIGURE3_PANELS[dataset]}", "figure": sweeps.FIGURE3_PANELS[dataset],
        "scale": {"name": args.scale, "note": settings["note"], "n_images": n,
                  "eps_grid": list(settings["eps_grid"][dataset]),
                  "levels": ["none" if k is None else k for k in settings["levels"]]},
        "seed": args.seed, "data_source": source,
        "images": f"the first {n} images of the test split",
        "target": {"name": name, "paper_target": "ResNet-50", "record": record,
                   **({"note": CIFAR_NOTE} if dataset == "cifar10" else {})},
        "protocol": "FGSM (L-inf, true labels) made on the bare classifier at each eps; accuracy of the classifier "
                    "on the adversarial images as they are (k none) and after depth reduction to k levels "
                    "(BitDepthReduction(levels=k)) alone, no restorer; eps 0 = the clean images",
        "attack": {"name": "fgsm", "defaults": attacks.default_params("fgsm", dataset),
                   "source": attacks.default_source("fgsm", dataset)},
        "choices": {k: v for k, v in sweeps.CHOICES.items() if k in ("eps_grid", "strength_zero", "labels", "levels")},
        "paper_values": {"printed": None,
                         "note": "Fig. 3 is a plot; the text prints no number for it. Its claims (Sec. 3.2): "
                                 "reduction defends well at small eps, less as eps grows, worse on CIFAR-10; a "
                                 "higher compression loses clean accuracy."},
        "timings": {"target_seconds": round(t_target, 1), "sweep_seconds": round(t_sweep, 1),
                    "attack_seconds_as_computed": round(sum(r["seconds"] for r in rows[::len(settings["levels"])]), 1)},
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "machine": report.machine(), "versions": io.versions(),
    }
    paths = sweeps.write_outputs(sweeps.out_dir(args), stem, rows, kind="depth", title=meta["title"], meta=meta)
    log(f"[{dataset}] wrote {paths['csv']}, {stem}.png, {stem}.meta.json")
    return {"rows": rows, "meta": meta, "paths": paths}


def main(argv=None) -> dict:
    args = parse_args(argv)
    from keras_restore import runtime
    from keras_restore.pipeline import sweeps

    runtime.configure()
    runtime.seed_everything(args.seed)
    settings = scales()[args.scale]
    log = sweeps.logger()
    log(f"{TITLE}\nscale {args.scale}: {settings['note']}\nseed {args.seed}; out {sweeps.out_dir(args)}; "
        f"cache {args.cache_dir}; datasets {', '.join(args.datasets)}")
    results = {}
    try:
        for dataset in args.datasets:
            results[dataset] = run_dataset(dataset, args, settings, log)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    for dataset, res in results.items():
        for eps in dict.fromkeys(r["strength"] for r in res["rows"]):
            log(f"  {dataset:>13s} eps {eps:<6g} " + "  ".join(
                f"k={r['k']}: {r['accuracy_defended']:5.1f}" for r in res["rows"] if r["strength"] == eps))
    return {"datasets": results}


if __name__ == "__main__":
    main()

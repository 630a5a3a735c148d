"""How robust are the defenses of this package? One leaderboard over every registered defense x
dataset with a shipped model, like RobustBench's tables: the papers' number beside an oblivious
attack, and beside an adaptive (end-to-end, AutoAttack-style) attack through the whole defense.

Per row (a defense in front of a classifier on a dataset; "none" = the bare classifier, for
reference), on the last N test images:

1. **clean**: accuracy of the classifier alone and through the defense;
2. **oblivious** (the papers' protocol): PGD with the dataset's defaults
   (``attacks.default_params("pgd", dataset)``: MNIST eps 0.3, 40 steps of 0.01; CIFAR-10 eps
   8/255, 10 steps of 2/255; random start) made on the classifier alone, then passed through the
   defense;
3. **PGD through the defense**: the same PGD taken through ``defense.model`` (preprocessing ->
   restorer -> classifier; BPDA where a step declares it);
4. **adaptive**: :func:`keras_restore.evaluation.adaptive` -- APGD-CE, then APGD-T (9 target
   classes) on the survivors (Croce & Hein 2020), L-inf at the papers' eps (MNIST 0.3, CIFAR-10
   8/255), per-image worst case;
5. **masking checks** (Carlini et al. 2019; :func:`keras_restore.evaluation.masking_checks`):
   iterative beats single step (FGSM), accuracy falls to <= 10% as eps grows (MNIST up to 0.5,
   CIFAR-10 up to 32/255; the curve is the PNG), white-box at least as strong as the oblivious
   attack, and 2x iterations / 2 restarts of APGD-CE lower accuracy by at most 2 points.

Rows (models from ``saved_models/``): deep_image_restoration (papers/000: ``restorer_mnist`` ->
M1; ``restorer_cifar10`` -> DenseNet121), crunet (papers/001: ``crunet_mnist_anet`` -> A-Net;
``crunet_cifar10_dnet`` -> DenseNet121), feature_squeezing (Xu et al. 2018: -> M1; ->
DenseNet121), adversarial_training (Madry et al. 2018: ``m1_pgd_at``, M1 adversarially trained with
PGD, replaces M1; reproduce/baseline_adversarial_training.py), and none (M1, A-Net, DenseNet121).
image_reconstruction (papers/002: ``edsr_mnist`` -> M1), bana_recovery (papers/003:
``bana_image_e128_cifar10`` -> ``inception_v3_cifar10``), magnet (its reformer ``magnet_mnist_reformer`` ->
M1), gan_denoiser (papers/004: ``gan_denoiser_mnist`` -> M1), ape_gan (Jin et al. 2019: ``ape_gan_mnist``
-> M1) and defense_gan (Samangouei et al. 2018: the generator ``defense_gan_mnist``, its projection at
L 50 x R 2, BPDA identity gradient, -> M1); on CIFAR-10 the same four baselines of papers/000 Table 9
(``magnet_cifar10_reformer``, ``gan_denoiser_cifar10``, ``ape_gan_cifar10``, ``defense_gan_cifar10``) ->
DenseNet121, and its FGSM-trained copy ``densenet121_cifar10_fgsm_at`` (not shipped, so skipped). A row whose model is not shipped is skipped (every skipped row is logged and recorded in
the meta's ``skipped``). ``paper_claim`` is the registry's
``DEFENSES[name].reported[dataset]["value"]``, with its metric in ``paper_claim_metric`` (for
papers/000 a *success rate*, restored / original accuracy, not an accuracy).

Scales (recorded in ``adaptive_robustness.meta.json``). The cost is set by the restorers: one
input gradient through ``restorer_mnist`` -> M1 takes ~80 ms on this 2-core CPU (M1 alone ~1 ms), so
AutoAttack's standard settings on 500 images would take over two hours for that row alone.

* ``--quick``: CI smoke run: 50 MNIST / 20 CIFAR-10 images (restorer rows 20 / 10), 10 iterations,
  3 target classes, PGD cut to 10 / 5 steps, a 3-point eps curve, checks on 20 / 10 images. Every
  stage of every row runs; the numbers are not results.
* default (``SCALES["default"]``): AutoAttack's standard settings (100 iterations, 1 restart, 9
  target classes) on the last 500 MNIST / 200 CIFAR-10 test images for the bare classifiers and
  feature squeezing; the restorer rows (on CIFAR-10 every defended row but feature squeezing: DenseNet121
  dominates their cost) use 100 images and 50 iterations, their masking checks the first 50 of them. Every cut is in the meta and in each row's ``n_images`` / ``n_iter``.

Outputs in ``reproduce/results/`` (``reproduce/results/quick/`` for ``--quick``):
``adaptive_robustness.csv`` (the leaderboard), ``adaptive_robustness.meta.json`` (scale, seed,
versions, timings, every attack's parameters, every check's values, the defenses' declared
gradients), ``adaptive_robustness_eps.png`` (adaptive accuracy against eps, one panel per dataset).
Adversarial sets and check results are cached per row and stage under ``--cache-dir`` (keyed by
the models' weight fingerprints, the attack parameters, the image indices and the seed), so an
interrupted run resumes where it stopped.

Run: ``python reproduce/adaptive_robustness.py --data-dir ../shared/data`` (``--quick`` in CI).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from keras_restore.pipeline.cache import default_dir as cache_default_dir

REPO = Path(__file__).resolve().parents[1]
NAME = "adaptive_robustness"
TITLE = "Adaptive robustness of every defense: paper claim, oblivious and adaptive accuracy"
PAPER = "Adaptive evaluation of every defense (APGD-CE + APGD-T, Croce & Hein 2020; checks of Carlini et al. 2019)"
CACHE_VERSION = 1


@dataclass(frozen=True)
class Row:
    defense: str          # registry name, or "none"
    dataset: str
    classifier: str       # model-registry name
    restorer: str | None  # model-registry name of the defense's trained model: its restorer, or the
                          # adversarially trained copy of the classifier (DefenseSpec.model_arg)

    @property
    def label(self) -> str:
        return f"{self.defense}/{self.dataset}/{self.classifier}"


ROWS = (
    Row("none", "mnist", "m1", None),
    Row("deep_image_restoration", "mnist", "m1", "restorer_mnist"),
    Row("feature_squeezing", "mnist", "m1", None),
    Row("adversarial_training", "mnist", "m1", "m1_pgd_at"),
    Row("fgsm_adversarial_training", "mnist", "m1", "m1_fgsm_at"),   # Goodfellow et al. 2015 (papers/000 Table 8's "Adv. Tr")
    Row("image_reconstruction", "mnist", "m1", "edsr_mnist"),   # papers/002: skipped until edsr_mnist ships
    Row("magnet", "mnist", "m1", "magnet_mnist_reformer"),       # baseline: its reformer (the detector is not differentiated)
    Row("gan_denoiser", "mnist", "m1", "gan_denoiser_mnist"),    # papers/004 (skipped until its generator ships)
    Row("ape_gan", "mnist", "m1", "ape_gan_mnist"),              # baseline of papers/004 Table 2
    Row("defense_gan", "mnist", "m1", "defense_gan_mnist"),      # baseline of papers/004 Table 2 (BPDA through its projection)
    Row("none", "mnist", "anet", None),
    Row("crunet", "mnist", "anet", "crunet_mnist_anet"),
    Row("none", "cifar10", "densenet121_cifar10", None),
    Row("deep_image_restoration", "cifar10", "densenet121_cifar10", "restorer_cifar10"),
    Row("crunet", "cifar10", "densenet121_cifar10", "crunet_cifar10_dnet"),
    Row("feature_squeezing", "cifar10", "densenet121_cifar10", None),
    # The CIFAR-10 baselines of papers/000 Table 9 (reproduce/table9_cifar10_baselines.py), in front of the same
    # DenseNet121: MagNet's reformer, papers/004's denoiser, APE-GAN, Defense-GAN (BPDA through its projection)
    # and the FGSM-trained copy (not shipped: 29.7 MB and the folder cap; skipped, Table 9 refits it).
    Row("magnet", "cifar10", "densenet121_cifar10", "magnet_cifar10_reformer"),
    Row("gan_denoiser", "cifar10", "densenet121_cifar10", "gan_denoiser_cifar10"),
    Row("ape_gan", "cifar10", "densenet121_cifar10", "ape_gan_cifar10"),
    Row("defense_gan", "cifar10", "densenet121_cifar10", "defense_gan_cifar10"),
    Row("fgsm_adversarial_training", "cifar10", "densenet121_cifar10", "densenet121_cifar10_fgsm_at"),
    # papers/003: the E_max 128 image-reconstruction generator -> Inception-v3 (skipped until both ship).
    Row("none", "cifar10", "inception_v3_cifar10", None),
    Row("bana_recovery", "cifar10", "inception_v3_cifar10", "bana_image_e128_cifar10"),
)

EPS = {"mnist": 0.3, "cifar10": 8 / 255}  # the papers' PGD eps (papers/000 Tables 4-5, papers/001 Tables 2-3)
EPS_SOURCE = ("eps of the papers' PGD: MNIST 0.3 (papers/000 Table 4, papers/001 Table 2), CIFAR-10 8/255 "
              "(papers/000 Table 5, papers/001 Table 3); = attacks.default_params('pgd', dataset)['eps']")

# Per scale: settings per dataset, then overrides per (defense, dataset). Throughput measured on the
# project's 2-core CPU with another job on one core (input gradients per second, batch 50):
# M1 1150, feature squeezing -> M1 790, DenseNet121 70, crunet_mnist_anet -> A-Net 30,
# restorer_cifar10 -> DenseNet121 19, crunet_cifar10_dnet -> DenseNet121 17, restorer_mnist -> M1 12.
# On CIFAR-10 every defense sits in front of DenseNet121 (70 input gradients per second alone), so the light
# generators (MagNet's reformer, papers/004's denoiser, APE-GAN) cost about what a restorer row does: the same cut.
_RESTORER_ROWS = (("deep_image_restoration", "mnist"), ("crunet", "mnist"), ("deep_image_restoration", "cifar10"),
                  ("crunet", "cifar10"), ("image_reconstruction", "mnist"), ("bana_recovery", "cifar10"),
                  ("magnet", "cifar10"), ("gan_denoiser", "cifar10"), ("ape_gan", "cifar10"),
                  ("fgsm_adversarial_training", "cifar10"))
# Defense-GAN (Samangouei et al. 2018): every forward pass through the defense is a projection of L
# momentum steps from R starts (their MNIST setting 200 x 10: ~2.4 s per image here, 2,000 generator
# passes), and every attack iteration needs one. ``defense_options`` go to its builder (and, through
# ``Defense.describe``, into every stage's cache key and the meta): L 50 x R 2 at default (~0.3 s per
# image; papers/004 Table 2's setting here), L 5 x R 1 in the smoke run. The BPDA identity gradient is
# declared by the projection layer (keras_restore.defenses.defense_gan).
_DEFENSE_GAN = ("defense_gan", "mnist")
_DEFENSE_GAN_CIFAR = ("defense_gan", "cifar10")   # the same cut, in front of DenseNet121
# MagNet on CIFAR-10 is its reformer alone, as in papers/000 Table 9 (no detectors are trained for CIFAR-10).
_MAGNET_CIFAR = ("magnet", "cifar10")
_MAGNET_CIFAR_OPTIONS = {"defense_options": {"detector": False}}
# papers/004's denoiser and APE-GAN (0.15 M parameters, ~25 s for 100 images x 50 iterations with the
# masking checks) run at AutoAttack's standard settings like the bare classifiers (no entry above).
SCALES = {
    "quick": {
        "note": "CI smoke run: every stage of every row runs, on a handful of images with 10 iterations and a "
                "3-point eps curve; not a result.",
        "datasets": {
            "mnist": dict(n_images=50, n_iter=10, n_target_classes=3, pgd={"nb_iter": 10, "eps_iter": 0.075},
                          curve_n_iter=5, check_images=20, eps_grid=(0.0, 0.3, 0.5)),
            "cifar10": dict(n_images=20, n_iter=10, n_target_classes=3, pgd={"nb_iter": 5, "eps_iter": 2 / 255},
                            curve_n_iter=5, check_images=10, eps_grid=(0.0, 8 / 255, 32 / 255)),
        },
        "rows": {**{k: dict(n_images=20 if k[1] == "mnist" else 10, **(_MAGNET_CIFAR_OPTIONS if k == _MAGNET_CIFAR else {}))
                    for k in _RESTORER_ROWS},
                 **{k: dict(n_images=10, check_images=5, defense_options={"L": 5, "R": 1})
                    for k in (_DEFENSE_GAN, _DEFENSE_GAN_CIFAR)}},
    },
    "default": {
        "note": "AutoAttack's standard settings (100 iterations, 1 restart, 9 target classes) on the last 500 MNIST "
                "/ 200 CIFAR-10 test images for the bare classifiers and feature squeezing. The rows with a "
                "restorer network, and on CIFAR-10 every defended row (12-30 input gradients per second here, against "
                "70-1,150 without) use 100 images and 50 iterations (the fallback planned for slow CIFAR-10 rows, "
                "applied to every restorer row): at the "
                "standard settings restorer_mnist -> M1 alone would take over two hours on this CPU. Their masking "
                "checks use the first 50 of those images. Eps curves: 25 APGD-CE iterations per point. Defense-GAN "
                "(a projection of L x R generator steps in every forward pass): L 50 x R 2, 50 images, 20 "
                "iterations, 1 APGD-T class, checks on 20 images.",
        "datasets": {
            "mnist": dict(n_images=500, n_iter=100, n_target_classes=9, pgd={}, curve_n_iter=25, check_images=None,
                          eps_grid=None),
            "cifar10": dict(n_images=200, n_iter=100, n_target_classes=9, pgd={}, curve_n_iter=25, check_images=None,
                            eps_grid=None),
        },
        "rows": {**{k: dict(n_images=100, n_iter=50, check_images=50,
                            **(_MAGNET_CIFAR_OPTIONS if k == _MAGNET_CIFAR else {})) for k in _RESTORER_ROWS},
                 # papers/002's EDSR costs 1.9 GFLOP per 28x28 image forward (~26 input gradients per second
                 # through it and M1 here): half the images, 30 iterations and 3 APGD-T classes.
                 ("image_reconstruction", "mnist"): dict(n_images=50, n_iter=30, n_target_classes=3, check_images=20),
                 # Defense-GAN at L 50 x R 2 (~0.3 s per image and attack iteration): 50 images, 20 iterations,
                 # 1 APGD-T class, checks on the first 20 (~30 min here).
                 **{k: dict(n_images=50, n_iter=20, n_target_classes=1, check_images=20, curve_n_iter=10,
                            defense_options={"L": 50, "R": 2}) for k in (_DEFENSE_GAN, _DEFENSE_GAN_CIFAR)}},
    },
}

COLUMNS = {
    "defense": "registry name of the defense; none = the bare classifier",
    "paper": "the defense's paper",
    "dataset": "dataset name",
    "data_source": "where the images came from (CIFAR-10: the JPEG copy in ../shared/data)",
    "classifier": "the target classifier (model-registry name)",
    "restorer": "the defense's trained model (model-registry name): its restorer, or for adversarial_training the "
                "adversarially trained copy of the classifier; empty for training-free defenses",
    "n_images": "the last n_images test images",
    "eps": "L-inf radius of every attack (the papers' PGD eps)",
    "norm": "threat model norm",
    "clean_accuracy_undefended": "% of the images the classifier alone classifies correctly",
    "clean_accuracy_defended": "% classified correctly through the defense, no attack",
    "paper_claim": "the paper's headline number for this defense and dataset (registry 'reported'), if any",
    "paper_claim_metric": "what paper_claim measures (papers/000: success rate = restored / original accuracy)",
    "paper_claim_source": "table of the paper",
    "oblivious_accuracy": "% correct through the defense on PGD made on the classifier alone (the papers' protocol)",
    "pgd_steps": "iterations of that PGD (dataset defaults: MNIST 40, CIFAR-10 10)",
    "pgd_through_defense_accuracy": "% correct when the same PGD is taken through the whole defense (defense.model)",
    "apgd_ce_accuracy": "% correct after APGD-CE through the defense",
    "adaptive_accuracy": "% correct after APGD-CE then APGD-T through the defense (per-image worst case)",
    "adaptive_minus_oblivious": "adaptive_accuracy - oblivious_accuracy (percentage points)",
    "n_iter": "APGD iterations per run",
    "n_target_classes": "APGD-T target classes",
    "eot_iter": "gradient draws per APGD step (EOT; 1 for deterministic defenses)",
    "check_iterative_beats_single_step": "masking check 1: adaptive accuracy <= FGSM accuracy",
    "check_accuracy_falls_with_eps": "masking check 2: adaptive accuracy <= 10% at the largest eps of the curve",
    "check_adaptive_beats_oblivious": "masking check 3: adaptive accuracy <= oblivious accuracy",
    "check_more_iterations_do_not_help": "masking check 4: 2x iterations, 2 restarts lower accuracy by <= 2 points",
    "masking_checks_passed": "all four checks passed",
    "fgsm_accuracy": "% correct after FGSM through the defense (check 1)",
    "largest_eps": "largest eps of the curve (check 2)",
    "accuracy_at_largest_eps": "adaptive accuracy at the largest eps (check 2)",
    "convergence_drop": "accuracy drop (points) from the stronger APGD run (check 4)",
    "seconds": "wall time of the row on this machine (as first computed, cached stages included)",
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=TITLE, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n")[0])
    p.add_argument("--quick", dest="scale", action="store_const", const="quick", default="default",
                   help="CI smoke run (a few minutes; numbers are not results)")
    p.add_argument("--data-dir", default=None,
                   help="directory with mnist.npz and cifar10/ (default: $KERAS_RESTORE_DATA, else tensorflow-datasets)")
    p.add_argument("--out-dir", default=None,
                   help="where the CSV/PNG/meta go (default: reproduce/results, --quick: reproduce/results/quick)")
    p.add_argument("--cache-dir", default=str(cache_default_dir()),
                   help="adversarial sets and check results per row (an interrupted run resumes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--datasets", nargs="+", default=None, choices=sorted(EPS), help="only these datasets")
    p.add_argument("--defenses", nargs="+", default=None, help="only these defenses (registry names, or none)")
    p.add_argument("--classifiers", nargs="+", default=None,
                   help="only the rows of these classifiers (model-registry names, e.g. inception_v3_cifar10)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--update", action="store_true",
                   help="merge the rows run now into the existing adaptive_robustness.csv / .meta.json of --out-dir "
                        "(rows with the same defense, dataset and classifier are replaced, the others kept) "
                        "instead of writing only the rows run now")
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    return args


def eps_text(eps: float, dataset: str) -> str:
    """``0.3`` on MNIST, ``8/255`` on CIFAR-10 (the CSV writer would print 8/255 as 0.03)."""
    if dataset == "cifar10" and abs(eps * 255 - round(eps * 255)) < 1e-6:
        return f"{round(eps * 255)}/255"
    return f"{eps:g}"


def merge_previous(out: Path, csv_rows: list, details: list) -> int:
    """``--update``: put the rows of the previous ``out/adaptive_robustness.csv`` (and their meta
    details) that were not run now before ``csv_rows`` / ``details``, in ROWS order; returns how
    many were kept. A missing or unreadable previous file is an error naming it: nothing is lost."""
    import csv as _csv
    import json as _json

    path, meta_path = out / f"{NAME}.csv", out / f"{NAME}.meta.json"
    try:
        with open(path) as f:
            previous = list(_csv.DictReader(f))   # kept as written (strings): rewritten unchanged
        previous_details = {d["row"]: d for d in _json.loads(meta_path.read_text())["rows"]}
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"--update needs a readable previous {path} and {meta_path}: {e}") from None

    def label(r):
        return f"{r['defense']}/{r['dataset']}/{r['classifier']}"

    new = {label(r): (r, d) for r, d in zip(csv_rows, details)}
    kept = {label(r): (r, previous_details.get(label(r))) for r in previous if label(r) not in new}
    missing = [lab for lab, (_, d) in kept.items() if d is None]
    if missing:
        raise ValueError(f"--update: {meta_path} has no details for row(s) {', '.join(missing)}")
    merged = {**kept, **new}
    order = [r.label for r in ROWS if r.label in merged] + [lab for lab in merged if lab not in {r.label for r in ROWS}]
    csv_rows[:] = [merged[lab][0] for lab in order]
    details[:] = [merged[lab][1] for lab in order]
    return len(kept)


def settings(scale: str, row: Row) -> dict:
    s = dict(SCALES[scale]["datasets"][row.dataset])
    s.update(SCALES[scale]["rows"].get((row.defense, row.dataset), {}))
    return s


# ------------------------------------------------------------------------------------------ caching
class Stages:
    """One npz per (row, stage) under ``<cache>/adaptive_robustness/``; a corrupt file is recomputed."""

    def __init__(self, cache_dir):
        self.dir = Path(cache_dir) / NAME

    def get(self, stage: str, key: str, make):
        from keras_restore import io

        path = self.dir / f"{stage}_{key}.npz"
        got = io.load_npz(path) if path.exists() else None
        if got is not None:
            got["_cached"] = True
            return got
        t0 = time.perf_counter()
        arrays = make()
        arrays["seconds"] = time.perf_counter() - t0
        io.save_npz(path, **arrays)
        arrays["_cached"] = False
        return arrays


def _json_array(obj):
    import numpy as np

    return np.array(json.dumps(obj, default=float))


def _from_json(arr):
    return json.loads(str(arr))


# ------------------------------------------------------------------------------------------ one row
def run_row(row: Row, scale: str, *, images, models_cache, stages: Stages, seed: int, progress: bool, log) -> dict:
    import numpy as np

    from keras_restore import attacks, io, models
    from keras_restore.defenses import DEFENSES, Defense, build_defense
    from keras_restore.evaluation import AdaptiveResult, adaptive, checks_passed, masking_checks
    from keras_restore.metrics import predict

    t_row = time.perf_counter()
    s = settings(scale, row)
    x_all, y_all, source = images[row.dataset]
    n = min(s["n_images"], len(x_all))
    idx = np.arange(len(x_all) - n, len(x_all))
    x, y = x_all[idx], y_all[idx]
    eps = EPS[row.dataset]

    def load(name):
        if name not in models_cache:
            models_cache[name] = models.load_model(name)
        return models_cache[name]

    with models.record_loads() as loaded:   # and what the defense's builder loads itself (MagNet's detectors)
        classifier = load(row.classifier)
        if row.defense == "none":
            defense = Defense(classifier, name="none", fast=False)
        else:
            kwargs = {DEFENSES[row.defense].model_arg: load(row.restorer)} if row.restorer else {}
            defense = build_defense(row.defense, classifier, dataset=row.dataset, fast=False, **kwargs,
                                    **s.get("defense_options", {}))
    shipped = models.shipped()
    # the shipped files this row used, by sha256: the results site flags the row's table when one is replaced
    used_models = {n: {k: v for k, v in models.shipped_record(n, shipped).items() if k in ("source", "sha256")}
                   for n in dict.fromkeys([row.classifier, *([row.restorer] if row.restorer else []), *loaded])}
    prints = {"classifier": io.fingerprint(classifier)}
    if defense.restorer is not None:
        prints["restorer"] = io.fingerprint(defense.restorer)
    elif row.restorer:   # a trained network that is not a restorer (Defense-GAN's generator z -> image)
        prints["restorer"] = io.fingerprint(load(row.restorer))
    if defense.classifier is not classifier:   # adversarial_training: the defense replaces the classifier
        prints["defended_classifier"] = io.fingerprint(defense.classifier)
    ident = {"version": CACHE_VERSION, "dataset": row.dataset, "source": source,
             "images": [int(idx[0]), int(idx[-1]) + 1], "seed": seed, "defense": defense.describe(),
             "fingerprints": prints}
    bs = 250 if row.dataset == "mnist" else 100

    def acc_through_defense(xa):
        return float(np.mean(predict(defense.model, xa, min(bs, len(xa))).argmax(1) == y) * 100.0)

    clean_undefended = float(np.mean(predict(classifier, x, min(bs, n)).argmax(1) == y) * 100.0)
    clean_defended = acc_through_defense(x)
    log(f"[{row.label}] {n} images ({source}), eps {eps:.4g}; clean {clean_undefended:.1f}% undefended, "
        f"{clean_defended:.1f}% defended; declared gradients {defense.gradients()}")

    # oblivious: the papers' PGD made on the classifier alone (shared by every row of that classifier)
    pgd = attacks.default_params("pgd", row.dataset)
    pgd.update(s["pgd"])
    key_obl = io.key(ident["version"], row.dataset, source, ident["images"], seed, prints["classifier"], pgd)
    obl = stages.get("oblivious", key_obl, lambda: {"x_adv": attacks.generate(
        "pgd", classifier, x, y, dataset=row.dataset, seed=seed, progress=progress, batch_size=bs, **s["pgd"])})
    oblivious = acc_through_defense(obl["x_adv"])
    log(f"[{row.label}] oblivious PGD-{pgd['nb_iter']}: {oblivious:.1f}% ({obl['seconds']:.0f} s"
        f"{', cached' if obl['_cached'] else ''})")

    # the same PGD through the defense
    if row.defense == "none":
        pgd_def, pgd_def_acc = obl, oblivious
    else:
        key_pgd = io.key(ident, "pgd", pgd)
        pgd_def = stages.get("pgd_defended", key_pgd, lambda: {"x_adv": attacks.generate(
            "pgd", defense.model, x, y, dataset=row.dataset, seed=seed, progress=progress, batch_size=bs, **s["pgd"])})
        pgd_def_acc = acc_through_defense(pgd_def["x_adv"])
        log(f"[{row.label}] PGD-{pgd['nb_iter']} through the defense: {pgd_def_acc:.1f}% ({pgd_def['seconds']:.0f} s"
            f"{', cached' if pgd_def['_cached'] else ''})")

    # adaptive: APGD-CE -> APGD-T through the defense
    a_params = dict(eps=eps, norm="inf", n_iter=s["n_iter"], n_restarts=1, n_target_classes=s["n_target_classes"],
                    seed=seed, batch_size=bs, attacks=("apgd-ce", "apgd-t"), dataset=row.dataset)

    def make_adaptive():
        r = adaptive(defense, x, y, progress=progress, **a_params)
        return {"x_adv": r.x_adv, "robust": r.robust, "attack_of": np.array([a or "" for a in r.attack_of]),
                "record": _json_array(r.record)}

    ad = stages.get("adaptive", io.key(ident, "adaptive", a_params), make_adaptive)
    record = _from_json(ad["record"])
    result = AdaptiveResult(x_adv=ad["x_adv"], robust=ad["robust"].astype(bool),
                            attack_of=[a or None for a in ad["attack_of"].tolist()],
                            clean_accuracy=record["clean_accuracy"], accuracy=record["accuracy"],
                            per_attack=record["per_attack"], record=record)
    log(f"[{row.label}] adaptive: APGD-CE {result.per_attack['apgd-ce']:.1f}%, then APGD-T {result.accuracy:.1f}% "
        f"({ad['seconds']:.0f} s{', cached' if ad['_cached'] else ''})")

    # masking checks
    c_params = dict(norm="inf", n_iter=s["n_iter"], n_restarts=1, n_target_classes=s["n_target_classes"],
                    seed=seed, batch_size=bs, dataset=row.dataset, curve_n_iter=s["curve_n_iter"],
                    curve_max_images=s["check_images"], convergence_max_images=s["check_images"],
                    eps_grid=s["eps_grid"])

    def make_checks():
        c = masking_checks(defense, x, y, eps=eps, adaptive_result=result, oblivious_accuracy=oblivious,
                           progress=progress, **c_params)
        return {"checks": _json_array(c)}

    ch = stages.get("checks", io.key(ident, "checks", a_params, c_params, oblivious), make_checks)
    checks = _from_json(ch["checks"])
    verdict = ", ".join(f"{k} {'passed' if v['passed'] else 'FAILED'}" for k, v in checks.items())
    log(f"[{row.label}] masking checks ({ch['seconds']:.0f} s{', cached' if ch['_cached'] else ''}): {verdict}")

    spec = DEFENSES.get(row.defense)
    reported = (spec.reported.get(row.dataset) if spec else None) or {}
    seconds = {"oblivious": float(obl["seconds"]), "pgd_defended": 0.0 if row.defense == "none" else
               float(pgd_def["seconds"]), "adaptive": float(ad["seconds"]), "checks": float(ch["seconds"])}
    total = sum(seconds.values())  # a cached stage counts with the time it took when it was computed
    wall = time.perf_counter() - t_row
    curve = checks["accuracy_falls_with_eps"]["values"]
    csv_row = {
        "defense": row.defense, "paper": spec.paper if spec else "", "dataset": row.dataset,
        "data_source": source.split(" from ")[0], "classifier": row.classifier, "restorer": row.restorer or "",
        "n_images": n, "eps": eps_text(eps, row.dataset), "norm": "inf",
        "clean_accuracy_undefended": clean_undefended, "clean_accuracy_defended": clean_defended,
        "paper_claim": "" if reported.get("value") is None else float(reported["value"]),
        "paper_claim_metric": reported.get("metric", ""), "paper_claim_source": reported.get("source", ""),
        "oblivious_accuracy": oblivious, "pgd_steps": int(pgd["nb_iter"]),
        "pgd_through_defense_accuracy": pgd_def_acc, "apgd_ce_accuracy": float(result.per_attack["apgd-ce"]),
        "adaptive_accuracy": float(result.accuracy), "adaptive_minus_oblivious": float(result.accuracy) - oblivious,
        "n_iter": s["n_iter"], "n_target_classes": s["n_target_classes"], "eot_iter": record["eot_iter"],
        "check_iterative_beats_single_step": checks["iterative_beats_single_step"]["passed"],
        "check_accuracy_falls_with_eps": checks["accuracy_falls_with_eps"]["passed"],
        "check_adaptive_beats_oblivious": checks["adaptive_beats_oblivious"]["passed"],
        "check_more_iterations_do_not_help": checks["more_iterations_do_not_help"]["passed"],
        "masking_checks_passed": checks_passed(checks),
        "fgsm_accuracy": float(checks["iterative_beats_single_step"]["values"]["fgsm_accuracy"]),
        "largest_eps": eps_text(float(curve["largest_eps"]), row.dataset),
        "accuracy_at_largest_eps": float(curve["accuracy_at_largest_eps"]),
        "convergence_drop": float(checks["more_iterations_do_not_help"]["values"]["drop_pp"]),
        "seconds": round(total, 1),
    }
    detail = {"row": row.label, "settings": s, "images": {"split": "test", "indices": ident["images"], "source": source},
              "fingerprints": prints, "models": used_models, "pgd": pgd, "adaptive": record, "checks": checks, "seconds": seconds,
              "wall_seconds_this_run": round(wall, 1),
              "cached": {"oblivious": bool(obl["_cached"]), "adaptive": bool(ad["_cached"]),
                         "checks": bool(ch["_cached"])},
              "attack_counts": {k: int(sum(1 for a in result.attack_of if a == k))
                                for k in ("clean", "apgd-ce", "apgd-t")}}
    log(f"[{row.label}] done: {total:.0f} s of compute ({wall:.0f} s in this run)")
    return {"csv": csv_row, "detail": detail}


# ------------------------------------------------------------------------------------------ figure
def eps_figure(details: list[dict], csv_rows: list[dict], path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_restore import io

    datasets = list(dict.fromkeys(r["dataset"] for r in csv_rows))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.8 * len(datasets), 5.4), squeeze=False,
                             constrained_layout=True)
    styles = {"none": ("black", "--"), "deep_image_restoration": ("tab:blue", "-"), "crunet": ("tab:orange", "-"),
              "feature_squeezing": ("tab:green", "-")}
    for ax, ds in zip(axes[0], datasets):
        scale = 255.0 if ds == "cifar10" else 1.0
        for r, d in zip(csv_rows, details):
            if r["dataset"] != ds:
                continue
            v = d["checks"]["accuracy_falls_with_eps"]["values"]
            color, ls = styles.get(r["defense"], ("gray", ":"))
            marker = "o" if r["classifier"] in ("m1", "densenet121_cifar10") else "s"
            ax.plot([e * scale for e in v["eps"]], v["accuracy"], ls, color=color, marker=marker, ms=4,
                    label=f"{r['defense']} -> {r['classifier']} ({v['n_images']} images)")
        ax.axvline(EPS[ds] * scale, color="gray", lw=0.8, ls=":")
        ax.axhline(10, color="red", lw=0.6, ls=":")
        ax.set_xlabel("eps (L-inf" + (", x/255)" if scale > 1 else ")"))
        ax.set_ylabel("adaptive accuracy (%)")
        ax.set_ylim(-2, 102)
        ax.set_title(f"{'CIFAR-10 (JPEG copy)' if ds == 'cifar10' else 'MNIST'}: APGD through the defense", fontsize=9)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, frameon=False)
        ax.grid(alpha=0.3)
    fig.suptitle("Adaptive accuracy against eps (dotted: the papers' eps, where the leaderboard is measured; red: the 10% "
                 "bar of the masking check).\nOther eps: APGD-CE (curve_n_iter iterations) walking out from the papers' eps, "
                 "on the images in the legend", fontsize=8)
    io.save_figure(fig, path)
    plt.close(fig)


# ------------------------------------------------------------------------------------------ main
def main(argv=None) -> dict:
    args = parse_args(argv)
    from keras_restore import data, io, runtime
    from keras_restore.evaluation import CHECKS
    from keras_restore.pipeline import report

    runtime.configure()
    runtime.seed_everything(args.seed)
    out = Path(args.out_dir or (REPO / "reproduce" / "results" / ("quick" if args.scale == "quick" else "")))
    rows = [r for r in ROWS if (args.datasets is None or r.dataset in args.datasets)
            and (args.defenses is None or r.defense in args.defenses)
            and (args.classifiers is None or r.classifier in args.classifiers)]
    if not rows:
        print(f"{Path(sys.argv[0]).name}: error: no row matches --datasets/--defenses/--classifiers", file=sys.stderr)
        raise SystemExit(1)
    # A row whose trained model is not shipped yet (a new baseline before its first --retrain --ship)
    # is left out, said here and recorded in the meta's "skipped".
    from keras_restore import models as _models

    shipped = _models.shipped()
    skipped = {r.label: f"{name} is not in saved_models/" for r in rows
               for name in (r.classifier, r.restorer) if name and name not in shipped}
    rows = [r for r in rows if r.label not in skipped]
    if not rows:
        print(f"{Path(sys.argv[0]).name}: error: no shipped models for the selected rows: {skipped}", file=sys.stderr)
        raise SystemExit(1)
    progress = not args.quiet

    def log(msg):
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    log(f"{TITLE}\nscale {args.scale}: {SCALES[args.scale]['note']}\nseed {args.seed}; out {out}; cache {args.cache_dir}")
    for label, why in skipped.items():
        log(f"[{label}] skipped: {why}")
    t0 = time.perf_counter()
    try:
        images = {}
        for ds in dict.fromkeys(r.dataset for r in rows):
            x, y = data.load_arrays(ds, "test", args.data_dir)
            images[ds] = (x, y, data.source_label(ds, args.data_dir))
        stages, models_cache, results = Stages(args.cache_dir), {}, []
        for row in rows:
            results.append(run_row(row, args.scale, images=images, models_cache=models_cache, stages=stages,
                                   seed=args.seed, progress=progress, log=log))
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    csv_rows = [r["csv"] for r in results]
    details = [r["detail"] for r in results]
    kept = merge_previous(out, csv_rows, details) if args.update else 0
    if args.update:
        log(f"--update: kept {kept} row(s) of the previous {NAME}.csv, replaced or added {len(csv_rows) - kept}")
    out.mkdir(parents=True, exist_ok=True)
    io.write_csv(out / f"{NAME}.csv", csv_rows, list(COLUMNS))
    eps_figure(details, csv_rows, out / f"{NAME}_eps.png")
    meta = {
        "table": NAME, "title": TITLE, "paper": PAPER,
        "scale": {"name": args.scale, **{k: v for k, v in SCALES[args.scale].items() if k != "rows"},
                  "rows": {f"{d}/{ds}": v for (d, ds), v in SCALES[args.scale]["rows"].items()},
        "settings_per_row": {r.label: settings(args.scale, r) for r in rows}},
        "seed": args.seed, "eps": {k: v for k, v in EPS.items()}, "eps_source": EPS_SOURCE,
        "data_sources": {ds: v[2] for ds, v in images.items()},
        "images": "the last n_images images of the test split (per row: meta rows[i].images)",
        "protocol": {
            "oblivious": "PGD with attacks.default_params('pgd', dataset) made on the classifier alone, then "
                         "classified through defense.model (the papers' protocol)",
            "pgd_through_defense": "the same PGD with gradients through defense.model",
            "adaptive": "keras_restore.evaluation.adaptive: APGD-CE on every image classified correctly, then "
                        "APGD-T on the survivors; L-inf at the papers' eps; BPDA from the declared gradients",
            "masking_checks": {k: v for k, v in CHECKS.items()},
        },
        "columns": COLUMNS,
        "timings": {d["row"]: d["seconds"] for d in details},
        "total_compute_seconds": round(sum(float(r["seconds"]) for r in csv_rows), 1),
        "wall_seconds_last_invocation": round(time.perf_counter() - t0, 1),
        "stages_loaded_from_cache_in_last_invocation": sum(sum(d["cached"].values()) for d in details),
        "machine": {**report.machine(),
                    "note": "this invocation's; rows kept by --update (their seconds too) may come from another machine"},
        "versions": io.versions(),
        "rows": details,
        "skipped": skipped,
    }
    if all(isinstance(d.get("models"), dict) for d in details):
        # every shipped model any row used (rows kept by --update from a run before rows recorded theirs leave this
        # out: the site then calls the table's freshness unknown rather than current)
        meta["models"] = {n: r for d in details for n, r in d["models"].items()}
    io.write_json(out / f"{NAME}.meta.json", meta)
    log(f"wrote {out / (NAME + '.csv')}, {NAME}.meta.json, {NAME}_eps.png in {time.perf_counter() - t0:.0f} s")
    for r in csv_rows:
        log(f"  {r['defense']:>24s} {r['dataset']:>7s} {r['classifier']:>20s}: clean {float(r['clean_accuracy_defended']):5.1f} "
            f"paper {r['paper_claim'] if r['paper_claim'] != '' else '-':>6} oblivious {float(r['oblivious_accuracy']):5.1f} "
            f"PGD-through {float(r['pgd_through_defense_accuracy']):5.1f} adaptive {float(r['adaptive_accuracy']):5.1f} "
            f"checks {'ok' if r['masking_checks_passed'] in (True, 'True') else 'FAILED'}")
    return {"rows": csv_rows, "meta": meta}


if __name__ == "__main__":
    main()

"""Table 1 and Figure 2 of papers/003 (``../shared/papers/003_…``, Bana et al. 2021, "Robust Recovery
of Adversarial Examples"): noise reconstruction vs image reconstruction vs image reconstruction-2,
accuracy (%) of Inception-v3 and VGG-13 on FGSM examples at eps 0, 4, 8, 16, 32 (of 255), recovered
by each method's generator.

The three generators (``bana_noise_e16_cifar10``, ``bana_image_e16_cifar10``,
``bana_image2_e16_cifar10``): the Attention U-Net of :mod:`keras_restore.models.attention_unet` at base
width 32 (the paper's 64 at ``--paper``), noise or image mode, trained with **E_max 16** (the paper does
not print Table 1's E_max; its discussion -- "perturbation added is only between [-16, 16]", eps 32
"way out of the eps range used for training" -- implies 16, our choice) by the recipes ``bana_noise``,
``bana_image``, ``bana_image2`` (:class:`keras_restore.training.recipes.OnlineRecovery`): every step a
batch of 96 clean images = 3 attacked models (Inception-v3, ResNet-18, VGG-13) x 2 attacks (FGSM,
R-FGSM with alpha = eps/2) x 16 images, each with its own eps uniform on the integers 1..16
(:mod:`keras_restore.training.online`); stage 1 L1 x 100 + LSGAN x 1 + Inception-v3 cross-entropy x 1,
stage 2 feature matching on Inception-v3's top features alone (noise, image) or with the discriminator
(image-2: feature x 100 + LSGAN x 1, stage 1's ratio; the paper gives no weights, and 1 : 1 drove the
generator off the images here). The targets are CIFAR-sized and narrower than the paper's
(:mod:`keras_restore.models.bana_targets`: VGG-13 width 0.5, ResNet-18 and Inception-v3 width 0.25),
trained here from scratch (ImageNet weights cannot be downloaded).

Test protocol (the paper's Sec. 4): FGSM only, made on the evaluated classifier alone (white box on
the classifier, the generator unknown to the attack), on the first N CIFAR-10 test images (paper:
10,000; default here 1,000, recorded). Every cell: ours, the paper's value and the difference. The
adaptive column (``bana_table1_adaptive.csv``): each defense end to end (generator -> Inception-v3)
under the package's adaptive attack (APGD-CE then APGD-T, 1 target class,
:func:`keras_restore.evaluation.adaptive`) at eps 16/255, beside the oblivious FGSM accuracy.

Scales (``.meta.json``): ``--quick`` (CI smoke run, tiny models), default (shipped targets and
generators; fails with the --retrain command when they are not shipped), ``--retrain`` (the three
generators trained on this CPU, 12,000 images, 4 + 2 epochs, ~1.2 h each; the targets from
``reproduce/cifar10_targets.py --retrain``), ``--paper`` (50,000 images, base width 64, 30 + 10 epochs,
10,000 test images: for a GPU).

Outputs in ``reproduce/results/``: ``bana_table1.csv`` (rows eps; per method and classifier the
columns ours / paper / difference), ``bana_table1_adaptive.csv``, ``bana_table1.meta.json``,
``bana_figure2.png`` (accuracy against eps, the three methods), ``bana_table1_loss.png`` (stage-1 and
stage-2 curves of the three generators).

Run: ``python reproduce/bana_table1.py --data-dir ../shared/data`` (``--retrain --ship`` to train).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bana_common as common  # noqa: E402

NAME = "bana_table1"
EPS = (0, 4, 8, 16, 32)
E_MAX = 16
ADAPTIVE_EPS = 16
CLASSIFIERS = {"Inception-v3": "inception_v3_cifar10", "VGG-13": "vgg13_cifar10"}
# papers/003 Table 1, as printed: method -> classifier -> eps -> accuracy %.
PAPER = {
    "noise": {"Inception-v3": {0: 92.71, 4: 91.27, 8: 93.47, 16: 93.91, 32: 8.02},
              "VGG-13": {0: 92.26, 4: 88.88, 8: 88.5, 16: 88.3, 32: 26.98}},
    "image": {"Inception-v3": {0: 92.21, 4: 88.87, 8: 92.29, 16: 93.86, 32: 57.92},
              "VGG-13": {0: 92.25, 4: 88.72, 8: 89.04, 16: 89.02, 32: 72.57}},
    "image2": {"Inception-v3": {0: 92.52, 4: 90.19, 8: 92.45, 16: 93.58, 32: 56.43},
               "VGG-13": {0: 92.92, 4: 89.69, 8: 89.66, 16: 89.69, 32: 74.18}},
}
METHODS = ("noise", "image", "image2")
PAPER_SOURCE = "papers/003 Table 1, Inception-v3, eps {eps} (10,000 test images; ours: the adaptive run's images)"


def figure2(rows, path):
    from keras_restore import io
    from keras_restore.pipeline.figures import _plt

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, clf in zip(axes, CLASSIFIERS):
        for method in METHODS:
            label = common.METHOD_LABEL[method]
            ax.plot(EPS, [r[f"{label} {clf}"] for r in rows], marker="o", label=f"{label} (ours)")
            ax.plot(EPS, [PAPER[method][clf][e] for e in EPS], "--", marker="x", alpha=0.6, label=f"{label} (paper)")
        ax.set_title(clf, fontsize=9)
        ax.set_xlabel("FGSM eps (of 255)")
        ax.set_xticks(EPS)
    axes[0].set_ylabel("accuracy after recovery %")
    axes[1].legend(fontsize=6)
    io.save_figure(fig, path)
    plt.close(fig)


def main(argv=None) -> list[dict]:
    args = common.parser(__doc__).parse_args(argv)
    try:
        ctx = common.Context(args, NAME)
        classifiers = {label: ctx.target(name) for label, name in CLASSIFIERS.items()}
        generators = {m: ctx.generator(m) for m in METHODS}
    except (ValueError, FileNotFoundError) as e:
        print(f"{NAME}.py: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if ctx.train_only():
        return []
    rows = []
    for eps in EPS:
        row = {"epsilon": eps}
        for clf_label, clf in classifiers.items():
            x_adv = ctx.fgsm(clf, eps)
            row[f"No defense {clf_label}"] = ctx.accuracy(clf, x_adv)
            for method in METHODS:
                label = f"{common.METHOD_LABEL[method]} {clf_label}"
                common.put(row, label, ctx.accuracy(clf, x_adv, generators[method]), PAPER[method][clf_label][eps])
        rows.append(row)
        ctx.log_row(row)
    adaptive_rows = []
    clf = classifiers["Inception-v3"]
    for method in METHODS:
        paper = PAPER[method]["Inception-v3"]
        adaptive_rows.append(ctx.adaptive_row(
            {"method": common.METHOD_LABEL[method], "classifier": "Inception-v3"}, clf, generators[method],
            ADAPTIVE_EPS, paper[ADAPTIVE_EPS], PAPER_SOURCE.format(eps=ADAPTIVE_EPS), paper_clean=paper[0]))
        ctx.log(f"[adaptive] {common.METHOD_LABEL[method]}: {adaptive_rows[-1]}")
    ctx.write(NAME, rows, {"e_max": E_MAX, "eps": list(EPS), "adaptive_eps": ADAPTIVE_EPS,
                           "paper_values": PAPER, "methods": {m: common.METHODS[m] for m in METHODS},
                           "choices": {"e_max": "16: implied by the paper's Sec. 6 discussion (Table 1 prints none)",
                                       "test": "FGSM made on the evaluated classifier alone (oblivious of the "
                                               "generator), as the paper's protocol"}},
              adaptive_rows)
    figure2(rows, ctx.out / "bana_figure2.png")
    common.loss_curves_figure(ctx.records["generators"], ctx.out / f"{NAME}_loss.png")
    return rows


if __name__ == "__main__":
    main()

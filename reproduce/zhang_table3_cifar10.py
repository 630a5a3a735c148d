"""Table 3 of Zhang et al., *Adversarial example defense based on image reconstruction*
(``../shared/papers/002_…``, Sec. 4.4): accuracy (%) of ResNet50, GoogLeNet and ResNet101 on CIFAR-10, without and with
the defense, clean and under FGSM and BIM (L-inf, eps 0.005, "the median value" of the paper's CIFAR-10 range), DeepFool
and CW-L2. Data: the CIFAR-10 folder in ``../shared/data`` is a lossy JPEG copy; every result says "CIFAR-10 (JPEG copy)".

The defense (registry ``image_reconstruction``): pixel-depth reduction to k = 4 levels per channel, then the EDSR-style
reconstruction network (``edsr_cifar10``, 16 residual blocks x 64 filters, no BatchNorm, 32x32x3;
:mod:`keras_restore.models.edsr`). The network is trained with MSE (Eq. 4) on (depth-reduced FGSM example, clean image)
pairs made on ResNet50 at eps 0.01, the largest of the paper's CIFAR-10 training range (Sec. 4.3: "from 0 to 0.01");
the other targets never see it (the paper's "transferability"). Targets: :mod:`keras_restore.models.zhang_targets` at
32x32x3 (no padding), registry ``resnet50_zhang_cifar10``, ``googlenet_cifar10``, ``resnet101_zhang_cifar10``.

Our choices (the paper states none of them for CIFAR-10; all in the ``.meta.json``, reasons beside
``keras_restore.pipeline.tables.ZHANG_TABLE3``):

* k = 4: Sec. 4.2 gives k = 2 (MNIST) and k = 4 (F-MNIST) only; our Fig. 3(c) sweep
  (``reproduce/zhang_figure3_depth.py``) puts k = 4 best of 2 / 4 / 8 / 16 around eps 0.005.
* the EDSR's training pairs: FGSM at eps 0.01 (see above), 8,000 pairs, 2 epochs (as Tables 1-2).
* BIM / PGD: CIFAR-10's 10 steps with the step scaled to eps / 4 (the 2/255-of-8/255 ratio of the package's
  CIFAR-10 default, as Fig. 8's BIM curve); DeepFool the package default; CW-L2 3 binary-search steps x 50
  iterations beyond ``--quick``.
* epochs: ResNet50 and ResNet101 1 each (~8 / ~16 min per 50,000-image epoch on this 2-core CPU, float32:
  bfloat16 is no faster for them), GoogLeNet 2 (bfloat16 with ``--precision mixed_bfloat16``, as Table 2's);
  Adam 1e-3 with cosine decay, batch 128, BatchNorm statistics recomputed on 5,000 training images.

Protocol as the paper's: attacks made on the bare target, then passed through the defense. Beside it, the adaptive
attack: APGD-CE then APGD-T through depth reduction (straight-through / BPDA gradient), the EDSR and the target, at the
same eps (``PGD_oblivious_acc`` / ``PGD_adaptive_acc`` and ``zhang_table3_cifar10_adaptive.csv``).

Scales (every value in the ``.meta.json``): ``--quick`` (CI smoke test: targets 1 epoch on 2,000 images, 300 pairs,
EDSR 1 epoch, 30 test images; not a result), default (GoogLeNet and ``edsr_cifar10`` from saved_models/ once shipped,
else trained and cached here, logged "not shipped ...; training it here"; the ResNets are over the 30 MB limit of a
shipped file and are trained once, then cached), ``--retrain`` (everything on this CPU), ``--paper`` (20 epochs, all
50,000 training images as pairs, the whole test set: for a GPU).

Outputs in ``reproduce/results/`` (``reproduce/results/<scale>/`` for the other scales): ``zhang_table3_cifar10.csv``
(rows: each network without / with the defense; columns Clean, FGSM, BIM, DFA = DeepFool, CWA = CW-L2, each with
``_paper`` and ``_delta``), ``_long.csv``, ``_adaptive.csv``, ``.meta.json``, ``_examples.png``, ``_bars.png``,
``_loss.png``.

Run: ``python reproduce/zhang_table3_cifar10.py --data-dir ../shared/data --precision mixed_bfloat16``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("zhang_table3_cifar10", argv)


if __name__ == "__main__":
    main()

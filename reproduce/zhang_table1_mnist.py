"""Table 1 of Zhang et al., *Adversarial example defense based on image reconstruction*
(``../shared/papers/002_…``, Sec. 4.4): accuracy (%) of ResNet50, LeNet-5 (the zoo's `lenet5`, shipped) and GoogLeNet on MNIST, without and with
the defense, clean and under FGSM and BIM (L-inf, eps 0.15), DeepFool and CW-L2.

The defense (registry ``image_reconstruction``): pixel-depth reduction to k = 2 levels per pixel
(the paper's k for MNIST), then the EDSR-style reconstruction network (``edsr_mnist``, 16 residual
blocks x 64 filters, no BatchNorm; :mod:`keras_restore.models.edsr`). The network is trained with
MSE (Eq. 4) on (depth-reduced FGSM example, clean image) pairs made on ResNet50 at eps 0.3, the
largest of the paper's training range for MNIST; the other targets never see it (the paper's
"transferability"). Targets: :mod:`keras_restore.models.zhang_targets`.

Protocol as the paper's: attacks made on the bare target, then passed through the defense. Beside
it, the adaptive attack: APGD-CE then APGD-T through depth reduction (straight-through / BPDA
gradient), the EDSR and the target, at the same eps (``PGD_oblivious_acc`` / ``PGD_adaptive_acc``
and ``zhang_table1_mnist_adaptive.csv``).

Scales (every value in the ``.meta.json``): ``--quick`` (CI smoke test), default (shipped GoogLeNet
and EDSR; the ResNets are over the 30 MB limit of a shipped file and are trained once, then cached),
``--retrain`` (everything on this CPU), ``--paper`` (20 epochs, 60,000 pairs: for a GPU). Train
with ``--precision mixed_bfloat16`` on a CPU with AVX512-BF16: the ResNets stay float32 (bfloat16
measured no faster for them), GoogLeNet and the EDSR train 2.2x / 1.75x faster.

Outputs in ``reproduce/results/``: ``zhang_table1_mnist.csv`` (rows: each network without / with
the defense; columns Clean, FGSM, BIM, DFA = DeepFool, CWA = CW-L2, each with ``_paper`` and
``_delta``), ``_long.csv``, ``_adaptive.csv``, ``.meta.json``, ``_examples.png``, ``_bars.png``,
``_loss.png``.

Run: ``python reproduce/zhang_table1_mnist.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("zhang_table1_mnist", argv)


if __name__ == "__main__":
    main()

"""Table 1 of papers/004 (``../shared/papers/004_…``, "a novel defense network based on generative
adversarial network"): classification accuracy (%) of three CNN targets without the defense ("base")
and with the GAN denoiser ("ours"), clean and under the paper's six attacks: FGSM, PGD and MIM
(L-inf, eps 0.3 on grayscale images, 0.15 on RGB: the paper's multipliers), JSMA, CW-L2 (column
CWA) and DeepFool (DFA).

Datasets (``--dataset``, default ``mnist``; the paper names no classifier on any of them):

* ``mnist``: M1 (papers/000), LeNet-5 and A-net (papers/001), all shipped in ``saved_models/``.
* ``fashion_mnist``: the same three architectures (``m1_fashion_mnist``, ``lenet5_fashion_mnist``,
  ``anet_fashion_mnist``), trained here by the run (5 / 3 / 3 epochs) unless shipped (``--ship``).
* ``cifar10`` (the JPEG copy in ``../shared/data``): the shipped DenseNet121, MobileNet and
  ResNet-20 (papers/000 Tables 5 and 7), FGSM / PGD / MIM at eps 0.15, at a smaller budget for
  this CPU (the first 100 test images, 6,000 pairs, 5 GAN epochs, CW-L2 1 x 50, adaptive 50 images
  x 20 iterations x 1 target class; ~20 min from the shipped targets, measured in
  ``keras_restore/pipeline/tables.py``).
* CIFAR-100 and ImageNet, the paper's other datasets: not run: data not available offline (the
  ``.meta.json``'s ``not_run``; ``--dataset cifar100`` is an error saying so).

The defense (registry ``gan_denoiser``): a generator (``gan_denoiser_<dataset>``; APE-GAN's
conv-conv-deconv-deconv layout, since the paper's architecture figure is lost, see
:mod:`keras_restore.models.gan_denoiser`) in front of the target. It is trained by the
``gan_repair`` recipe against APE-GAN's discriminator on (FGSM example, clean image) pairs from
all three targets: MSE repair loss G(x_adv) vs x_clean, binary cross-entropy adversarial loss, the
cross-entropy of the frozen first target (M1; DenseNet121 on CIFAR-10) on G(x_adv), the recovery
loss G(x_clean) vs x_clean and the isomorphic loss G(x_adv) vs G(x_clean) (weights 0.7 / 0.3 /
0.1 / 0.7 / 0.7: the paper's Eq. 3 is lost, see ``keras_restore/training/recipes.py``); Adam 2e-4,
batch 32, as the paper.

Protocol as the paper's: attacks made on the bare target, then passed through the denoiser; the
first ``n_eval`` test images. The printed Table 1 is lost from the text (its one number is for
ImageNet: MIM 22.6% -> 78.7%), so the ``_paper`` columns stay empty. Beside it, the adaptive
attack: APGD-CE then APGD-T through the generator and the target at the PGD eps
(``PGD_oblivious_acc`` / ``PGD_adaptive_acc`` and ``gan_denoiser_table1_<dataset>_adaptive.csv``).

Scales (every value in the ``.meta.json``): ``--quick`` (smoke test), default (shipped targets;
the denoiser is trained here: 12,000 pairs, 10 epochs on MNIST / Fashion-MNIST), ``--retrain``
(targets too), ``--paper`` (all training images as pairs, 50 epochs: for a GPU).

Outputs in ``reproduce/results/``: ``gan_denoiser_table1_<dataset>.csv`` (rows: each network without
/ with the defense; columns Clean, FGSM, PGD, MIM, JSMA, CWA, DFA), ``_long.csv``,
``_adaptive.csv``, ``.meta.json``, ``_examples.png``, ``_bars.png``, ``_loss.png``.

Run: ``python reproduce/gan_denoiser_table1.py --data-dir ../shared/data`` (MNIST), with
``--dataset fashion_mnist`` or ``--dataset cifar10`` for the others.
"""

from keras_restore.pipeline.script import main_for
from keras_restore.pipeline.tables import GAN_DENOISER_DATASETS, GAN_DENOISER_NOT_RUN


def main(argv=None):
    return main_for("gan_denoiser_table1_{dataset}", argv, datasets=GAN_DENOISER_DATASETS, not_run=GAN_DENOISER_NOT_RUN)


if __name__ == "__main__":
    main()

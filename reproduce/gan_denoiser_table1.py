"""Table 1 of papers/004 (``../shared/papers/004_…``, "a novel defense network based on generative
adversarial network"), MNIST: classification accuracy (%) of three CNN targets -- M1 (papers/000),
LeNet-5 and A-net (papers/001), all shipped in ``saved_models/`` -- without the defense ("base")
and with the GAN denoiser ("ours"), clean and under the paper's six attacks: FGSM, PGD and MIM
(L-inf, eps 0.3: the paper's multiplier for grayscale images), JSMA, CW-L2 (column CWA) and
DeepFool (DFA).

The defense (registry ``gan_denoiser``): a generator (``gan_denoiser_mnist``; APE-GAN's
conv-conv-deconv-deconv layout, since the paper's architecture figure is lost, see
:mod:`keras_restore.models.gan_denoiser`) in front of the target. It is trained by the
``gan_repair`` recipe against APE-GAN's discriminator on (FGSM example, clean image) pairs from
all three targets: MSE repair loss G(x_adv) vs x_clean, binary cross-entropy adversarial loss, the
cross-entropy of the frozen M1 on G(x_adv), the recovery loss G(x_clean) vs x_clean and the
isomorphic loss G(x_adv) vs G(x_clean) (weights 0.7 / 0.3 / 0.1 / 0.7 / 0.7: the paper's Eq. 3 is
lost, see ``keras_restore/training/recipes.py``); Adam 2e-4, batch 32, as the paper.

Protocol as the paper's: attacks made on the bare target, then passed through the denoiser; the
first ``n_eval`` test images. The printed Table 1 is lost from the text (its one number is for
ImageNet: MIM 22.6% -> 78.7%), so the ``_paper`` columns stay empty. Beside it, the adaptive
attack: APGD-CE then APGD-T through the generator and the target at eps 0.3
(``PGD_oblivious_acc`` / ``PGD_adaptive_acc`` and ``gan_denoiser_table1_mnist_adaptive.csv``).

Scales (every value in the ``.meta.json``): ``--quick`` (smoke test), default (shipped targets;
the denoiser is trained here: 12,000 pairs, 10 epochs), ``--retrain`` (targets too), ``--paper``
(60,000 pairs, 50 epochs: for a GPU).

Outputs in ``reproduce/results/``: ``gan_denoiser_table1_mnist.csv`` (rows: each network without
/ with the defense; columns Clean, FGSM, PGD, MIM, JSMA, CWA, DFA), ``_long.csv``,
``_adaptive.csv``, ``.meta.json``, ``_examples.png``, ``_bars.png``, ``_loss.png``.

Run: ``python reproduce/gan_denoiser_table1.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("gan_denoiser_table1_mnist", argv)


if __name__ == "__main__":
    main()

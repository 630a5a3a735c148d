"""Table 4 of Ali et al. (2021), *Deep Image Restoration Model: A Defense Method Against
Adversarial Attacks* (``../shared/papers/000_…``): success rate (%) of the restorer defense on
MNIST for the target models M1 and M2 against FGSM, BIM, PGD, DeepFool (DFA), Carlini-Wagner L2
(CWA) and the spatial attack (SPA).

The paper's five phases (Section 3, Fig. 1):

1. train the targets M1 and M2 (Table 3) on MNIST train;
2. attack the first N test images each target classifies correctly with the six attacks;
3. measure each target on its adversarial sets ("no defense");
4. train the Table 1 restorer on (adversarial, clean) pairs made from the *training* split
   (six attacks x both targets, mixed; MSE loss);
5. restore the adversarial test sets and classify again: success rate = restored accuracy /
   original accuracy x 100 (Eq. 6-8), plus SSIM and PSNR of restored vs original images.

Scales (printed at start and recorded in ``results/table4_mnist.meta.json``):

* ``--quick``: CI smoke run, about two minutes: 6,000 training images, 600 pairs, 100 test
  images per attack. Its numbers are not a reproduction.
* default: the trained models shipped in ``saved_models/`` and 1,000 test images per attack.
* ``--retrain``: everything trained here (targets on all 60,000 images, 12,000 pairs, 4 epochs).
* ``--paper``: 60,000 pairs, 20 epochs, every correctly classified test image (for a GPU).

Outputs in ``reproduce/results/``: ``table4_mnist.csv`` (the paper's shape with ``_paper`` and
``_delta`` columns), ``table4_mnist_long.csv`` (every metric, parameter, seed and timing),
``table4_mnist.meta.json``, ``table4_mnist_examples.png`` (like Fig. 2) and
``table4_mnist_bars.png`` (like Fig. 4). Interrupted runs resume from ``reproduce/cache``.

Run: ``python reproduce/table4_mnist.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("table4_mnist", argv)


if __name__ == "__main__":
    main()

"""The loss ablation papers/004 (``../shared/papers/004_…``) argues for but does not show, MNIST:
the GAN denoiser trained with its full objective (repair + adversarial + classifier + recovery +
isomorphic, recipe ``gan_repair``), without the isomorphic loss (``gan_repair_no_isomorphic``)
and without the recovery loss (``gan_repair_no_recovery``) -- the same generator, pairs, epochs,
optimizer and seed -- in front of Table 1's three targets (M1, LeNet-5, A-net), clean and under
its six attacks, with the adaptive attack beside (APGD-CE + APGD-T through generator + target,
50 images, 30 iterations, 3 target classes at default scale).

What it tests: the paper's claim that the recovery and isomorphic losses keep clean images
intact (the "Clean" column with the defense) and make the denoising consistent across
adversarial and clean inputs.

Scales: as ``gan_denoiser_table1.py``. Outputs: ``gan_denoiser_ablation_mnist.csv`` (rows
``<network> / full | no isomorphic | no recovery``), ``_long.csv``, ``_adaptive.csv``, ``.meta.json``.

Run: ``python reproduce/gan_denoiser_ablation.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("gan_denoiser_ablation_mnist", argv)


if __name__ == "__main__":
    main()

"""The loss ablation papers/004 (``../shared/papers/004_…``) argues for but does not show:
the GAN denoiser trained with its full objective (repair + adversarial + classifier + recovery +
isomorphic, recipe ``gan_repair``), without the isomorphic loss (``gan_repair_no_isomorphic``)
and without the recovery loss (``gan_repair_no_recovery``) -- the same generator, pairs, epochs,
optimizer and seed -- in front of Table 1's three targets, clean and under its six attacks, with
the adaptive attack beside (APGD-CE + APGD-T through generator + target, 50 images, 30 iterations,
3 target classes at default scale; CIFAR-10: Table 1's 50 x 20 x 1).

Datasets (``--dataset``, default ``mnist``; targets as ``gan_denoiser_table1.py``): ``mnist`` (M1,
LeNet-5, A-net), ``fashion_mnist`` (the same architectures trained on Fashion-MNIST) and ``cifar10``
(JPEG copy; DenseNet121, MobileNet, ResNet-20). CIFAR-100 and ImageNet: not run: data not
available offline (the ``.meta.json``'s ``not_run``).

What it tests: the paper's claim that the recovery and isomorphic losses keep clean images
intact (the "Clean" column with the defense) and make the denoising consistent across
adversarial and clean inputs.

Scales: as ``gan_denoiser_table1.py``. Outputs: ``gan_denoiser_ablation_<dataset>.csv`` (rows
``<network> / full | no isomorphic | no recovery``), ``_long.csv``, ``_adaptive.csv``, ``.meta.json``.

Run: ``python reproduce/gan_denoiser_ablation.py --data-dir ../shared/data`` (MNIST), with
``--dataset fashion_mnist`` or ``--dataset cifar10`` for the others.
"""

from keras_restore.pipeline.script import main_for
from keras_restore.pipeline.tables import GAN_DENOISER_DATASETS, GAN_DENOISER_NOT_RUN


def main(argv=None):
    return main_for("gan_denoiser_ablation_{dataset}", argv, datasets=GAN_DENOISER_DATASETS,
                    not_run=GAN_DENOISER_NOT_RUN)


if __name__ == "__main__":
    main()

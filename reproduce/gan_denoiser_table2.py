"""Table 2 of papers/004 (``../shared/papers/004_…``): the GAN denoiser ("ours") beside the two
defenses the paper compares it with, APE-GAN (Jin et al. 2019) and Defense-GAN (Samangouei et al.
2018), in front of the same three targets as Table 1, clean and under FGSM, PGD, MIM (L-inf eps
0.3, 0.15 on CIFAR-10), JSMA, CW-L2 and DeepFool made on the bare target.

Datasets (``--dataset``, default ``mnist``; targets as ``gan_denoiser_table1.py``): ``mnist`` (M1,
LeNet-5, A-net), ``fashion_mnist`` (the same architectures trained on Fashion-MNIST by the run) and
``cifar10`` (JPEG copy; DenseNet121, MobileNet, ResNet-20, Table 1's smaller CIFAR-10 attack
budgets). CIFAR-100 and ImageNet, the paper's other datasets: not run: data not available offline
(the ``.meta.json``'s ``not_run``).

* ours: ``gan_denoiser_<dataset>`` (recipe ``gan_repair``; shared with Table 1 through the cache).
* APE-GAN: the same generator layout (papers/004 took it from APE-GAN) trained with APE-GAN's two
  losses only, 0.7 x MSE + 0.3 x adversarial BCE (recipe ``ape_gan``), on the same FGSM pairs.
* Defense-GAN: a WGAN-GP generator trained on the clean training images of those pairs; at test
  time each image is replaced by G(z*), z* from L gradient steps on ||G(z) - x||^2 from R random
  starts (their MNIST setup L = 200, R = 10 at ``--paper``; L = 50, R = 2 on this CPU).

The paper's Table 2 is lost from the text; it says only that on ImageNet Defense-GAN is 4.3 and
APE-GAN 7.4 points below its defense (quoted in the defenses' registry entries, not in a cell).
Beside the paper's protocol, the adaptive attack through each whole defense (APGD-CE + APGD-T;
BPDA through Defense-GAN's projection, as Athalye et al. 2018 broke it).

Scales: ``--quick`` (smoke test), default (shipped targets; the three defenses trained here, the
first 100 test images, 50 on CIFAR-10, where the adaptive attack also takes 10 instead of 20 APGD iterations:
``tables.GAN_DENOISER_T2_BUDGET``, so that each dataset's run stays under 10 minutes from the shipped models),
``--retrain`` (targets too), ``--paper`` (for a GPU).

Outputs in ``reproduce/results/``: ``gan_denoiser_table2_<dataset>.csv`` (rows ``<network> / <defense>``,
each without / with its defense), ``_long.csv``, ``_adaptive.csv``, ``.meta.json``, figures.

Run: ``python reproduce/gan_denoiser_table2.py --data-dir ../shared/data`` (MNIST), with
``--dataset fashion_mnist`` or ``--dataset cifar10`` for the others.
"""

from keras_restore.pipeline.script import main_for
from keras_restore.pipeline.tables import GAN_DENOISER_DATASETS, GAN_DENOISER_NOT_RUN


def main(argv=None):
    return main_for("gan_denoiser_table2_{dataset}", argv, datasets=GAN_DENOISER_DATASETS, not_run=GAN_DENOISER_NOT_RUN)


if __name__ == "__main__":
    main()

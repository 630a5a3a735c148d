"""Table 2 of papers/004 (``../shared/papers/004_…``), MNIST: the GAN denoiser ("ours") beside the
two defenses the paper compares it with, APE-GAN (Jin et al. 2019) and Defense-GAN (Samangouei et
al. 2018), in front of the same three targets as Table 1 (M1, LeNet-5, A-net), clean and under
FGSM, PGD, MIM (L-inf eps 0.3), JSMA, CW-L2 and DeepFool made on the bare target.

* ours: ``gan_denoiser_mnist`` (recipe ``gan_repair``; shared with Table 1 through the cache).
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
first 100 test images), ``--retrain`` (targets too), ``--paper`` (for a GPU).

Outputs in ``reproduce/results/``: ``gan_denoiser_table2_mnist.csv`` (rows ``<network> / <defense>``,
each without / with its defense), ``_long.csv``, ``_adaptive.csv``, ``.meta.json``, figures.

Run: ``python reproduce/gan_denoiser_table2.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("gan_denoiser_table2_mnist", argv)


if __name__ == "__main__":
    main()

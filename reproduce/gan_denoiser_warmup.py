"""The papers/004 CIFAR-10 denoiser, two ways (issue 20; not in the paper): the paper's objective
from the first step (``gan_denoiser_cifar10``, shipped by ``gan_denoiser_table1.py --dataset
cifar10``) and the same objective after a warm start (``gan_denoiser_cifar10_warm``, recipe
``gan_repair_warm``).

Why: at the CPU budget (6,000 FGSM pairs at eps 0.15, 5 epochs, Adam 2e-4, batch 32) the paper's
recipe collapsed on CIFAR-10. Its discriminator won within the first epochs (d_loss 0.04 -> 1e-4),
and its output became nearly the same image for every input (PSNR 13 dB to the clean image, where
the FGSM input is at 17 dB). The warm start is SRGAN's remedy (Ledig et al. 2017 start their GAN
from the MSE-trained SRResNet). The first round(0.4 x epochs) epochs (2 of 5) train the generator on
every loss of Eq. 3 but the adversarial one, with no discriminator. The remaining epochs use the
full objective, starting from those weights. Same pairs, epochs, optimizer and seed.

Rows ``<network> / full | warm start`` for DenseNet121, MobileNet and ResNet-20 (Table 1's targets),
clean and under its six attacks on the first 100 test images, with the adaptive attack beside
(50 images x 20 iterations x 1 target class). Scales as ``gan_denoiser_table1.py``.

Outputs: ``gan_denoiser_warmup_cifar10.csv``, ``_long.csv``, ``_adaptive.csv``, ``_loss.csv``,
``.meta.json``, figures.

Run: ``python reproduce/gan_denoiser_warmup.py --data-dir ../shared/data --precision mixed_bfloat16``
(``--ship`` ships the warm-started generator).
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("gan_denoiser_warmup_cifar10", argv)


if __name__ == "__main__":
    main()

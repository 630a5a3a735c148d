"""Tables 6 and 7 of Ali et al. (2022), *CRU-Net* (``../shared/papers/001_…``, Sec. 5.4): SSIM and
PSNR between the original test images and the CRU-Net's restorations of their adversarial
examples, per attack, for A-Net / B-Net (MNIST, Table 6) and D-Net / M-Net (CIFAR-10, Table 7).

The numbers come from the white-box runs (``crunet_table2_mnist_whitebox.py``,
``crunet_table3_cifar10_whitebox.py``): their ``.meta.json`` in the output directory when it was
written at the same scale / seed / data / attacks, otherwise the white-box table is run here
(resuming from ``--cache-dir``; it trains only what is missing).

Metrics (one CSV row each, per target; columns = attacks with ``_paper`` and ``_delta``):

* ``SSIM``: ``tf.image.ssim`` on [0, 1] images (Eq. 15);
* ``PSNR_paper255_dB``: Eq. 16 exactly, ``10 log10((L-1)^2 / MSE)`` with L = 256 on 8-bit 0-255
  images (``keras_restore.defense.psnr_paper_255``);
* ``PSNR_tf_unit_dB``: ``tf.image.psnr(max_val=1)`` on [0, 1] images (equal to the previous one
  up to the 8-bit rounding: the 255 cancels);
* ``PSNR_255sq_over_unit_mse_dB``: ``(L-1)^2`` over the MSE of [0, 1] images (= the tf value +
  48.13 dB), a hypothesis for how the paper got 80-105 dB, labelled as such.

Scales: ``--quick``, default, ``--retrain``, ``--paper`` as the white-box scripts; ``--datasets
mnist`` (or ``cifar10``) for one table. Cost: seconds when both white-box results exist at the
requested scale; otherwise that of the white-box runs (MNIST default ~15 min, CIFAR-10 default
unmeasured, <= ~90 min on a 2-core CPU).

Outputs: ``crunet_table6_7_similarity.csv`` (+ ``.meta.json`` with full-precision values).

Run: ``python reproduce/crunet_table6_7_similarity.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_similarity


def main(argv=None):
    return main_similarity(argv)


if __name__ == "__main__":
    main()

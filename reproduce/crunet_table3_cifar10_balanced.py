"""CRU-Net Table 3 of Ali et al. (2022) (papers/001, CIFAR-10, white-box) with an attack-balanced CRU-Net
loss: a variant for issue 21, not in the paper.

The paper trains each CRU-Net with one pooled pixel MSE over the (adversarial, clean) pairs of all six
attacks. A CRU-Net's output is its input plus a residual, so it starts at the identity, whose error per
attack on CIFAR-10 is 0.00015-0.001 for the L-inf, DeepFool and CW-L2 pairs and 0.056 for the spatial
ones (M-net's 50,000 pairs, 2026-12-07): the spatial pairs make almost all of the pooled loss. After the
first epoch of M-net's paper-scale CRU-Net (``crunet_table5_cifar10_blackbox.py --retrain``, 2026-12-07)
the pooled MSE had halved the spatial pairs' error (0.024) and left every other attack's at or above the
identity's. Here the same two CRU-Nets (``crunet_cifar10_dnet_balanced``, ``crunet_cifar10_mnet_balanced``)
are trained on the same pairs with the same budget and seed by recipe ``pixel_mse_balanced``: each pair
weighted by ``c / (n_g * e_g)`` (``n_g`` pairs of its attack, ``e_g`` their identity MSE), so that every
attack counts equally relative to its own size (:class:`keras_restore.training.PixelLoss`). Everything
else -- targets, attacks, test images, the pairs (shared through the cache) -- is Table 3's; the paper's
values stay beside ours.

Scales as ``crunet_table3_cifar10_whitebox.py``: ``--quick`` (CI), default (4,000 pairs x 4 epochs per
CRU-Net, trained here: the variant's CRU-Nets are not shipped yet), ``--retrain`` (the papers' 50,000
pairs x 20 epochs at Adam 3e-4; ~2.6 h per CRU-Net in float32 on this 2-core CPU: ~470 s per epoch) and ``--paper``.

Outputs in ``reproduce/results/``: ``crunet_table3_cifar10_balanced.csv`` (+ ``_long.csv``,
``.meta.json``, ``_loss.csv`` with the loss per attack each epoch, figures).

Run: ``python reproduce/crunet_table3_cifar10_balanced.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table3_cifar10_balanced", argv)


if __name__ == "__main__":
    main()

"""CRU-Net Table 3 of Ali et al. (2022) (papers/001, CIFAR-10, white-box) with each CRU-Net guided by its
target's features and anchored by a pixel MSE: a variant for issue 21, not in the paper.

The feature-guided variant (``crunet_table3_cifar10_guided.py``: Liao et al. 2018's HGD loss, the MSE of the
frozen target's penultimate features of restored vs clean, no pixel term) lifted M-net's PGD row from 3.5% to
58% in two epochs, but nothing held its output near the clean image: at its kept epoch the output's pixel MSE
was 30x the identity's, and the next epoch diverged (pixel MSE 0.016 -> 0.21) under each learning rate tried.
Here the same two CRU-Nets (``crunet_cifar10_dnet_anchored``, ``crunet_cifar10_mnet_anchored``) are trained by
recipe ``feature_guided_anchored`` (:data:`keras_restore.training.RECIPES`): that feature loss plus 0.1 x the
pixel MSE (an output drifting as far as the diverged epoch's would pay five times the feature loss, one as
close as the identity ~1% of it), Adam 1e-4 with gradients clipped to global norm 1, keep-best on the
held-out feature loss; Table 3's pairs, images and seed, from scratch. The question: does the anchor keep the
training stable, and what does it cost or gain against each attack? The adaptive column (PGD through the
whole defense) is reported as for every table.

Scales as ``crunet_table3_cifar10_guided.py``: ``--retrain`` trains 3 epochs (``tables.GUIDED_RETRAIN_EPOCHS``)
on the papers' 50,000 pairs (the cache is shared with Table 3); ``--paper`` 20. ``--rows M-Net`` runs one row.

Outputs in ``reproduce/results/<scale>/``: ``crunet_table3_cifar10_anchored.csv`` (+ ``_long.csv``,
``_adaptive.csv``, ``.meta.json``, ``_loss.csv`` with the pixel MSE per attack each epoch, figures).

Run: ``python reproduce/crunet_table3_cifar10_anchored.py --retrain --precision auto --rows M-Net --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table3_cifar10_anchored", argv)


if __name__ == "__main__":
    main()

"""CRU-Net Table 3 of Ali et al. (2022) (papers/001, CIFAR-10, white-box) with each CRU-Net trained by its
target's features and the pixel MSE, equally weighted: a variant for issue 21, not in the paper.

The paper's loss (a pooled pixel MSE) restored only the spatial attack on CIFAR-10; the feature-guided loss
(Liao et al. 2018's HGD, ``crunet_table3_cifar10_guided.py``) and that loss anchored by 0.1 x the pixel MSE
(``crunet_table3_cifar10_anchored.py``) restored the pixel attacks, the anchored one to within 10 points of the
paper on four of them, and gave up the spatial attack, which only the pixel error measures. Here the same two
CRU-Nets (``crunet_cifar10_dnet_feature_pixel``, ``crunet_cifar10_mnet_feature_pixel``) are trained by recipe
``feature_pixel`` (:data:`keras_restore.training.RECIPES`): the feature loss plus the pixel MSE at equal weight
(papers/003's feature matching; on M-net's pairs the pooled pixel MSE runs 0.008 -> 0.001 while the feature loss
runs 0.006 -> 0.003, so neither swamps the other), Adam 1e-4, gradients clipped to global norm 1, keep-best on
the held-out feature loss; Table 3's pairs, images and seed, from scratch. The question: does one loss restore
all six attacks? The adaptive column (attacks through the whole defense) is reported as for every table.

Scales as ``crunet_table3_cifar10_guided.py``: ``--retrain`` trains 3 epochs (``tables.GUIDED_RETRAIN_EPOCHS``)
on the papers' 50,000 pairs (the cache is shared with Table 3); ``--paper`` 20. ``--rows M-Net`` runs one row.

Outputs in ``reproduce/results/<scale>/``: ``crunet_table3_cifar10_feature_pixel.csv`` (+ ``_long.csv``,
``_adaptive.csv``, ``.meta.json``, ``_loss.csv`` with the pixel MSE per attack each epoch, figures).

Run: ``python reproduce/crunet_table3_cifar10_feature_pixel.py --retrain --precision auto --rows M-Net --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table3_cifar10_feature_pixel", argv)


if __name__ == "__main__":
    main()

"""CRU-Net Table 5 of Ali et al. (2022) (papers/001, CIFAR-10, black-box) with CRU-Nets trained by their target's
features and the pixel MSE at equal weight (recipe ``feature_pixel``): a variant for issue 21,
not in the paper.

Each target's examples are restored by the CRU-Net trained for the *other* target and classified by their own
target (row "D-net/M-net": DenseNet121's examples, M-net's CRU-Net), as in Table 5; the CRU-Nets are those of
``crunet_table3_cifar10_feature_pixel.py`` (``crunet_cifar10_{d,m}net_feature_pixel``: the same cache entry,
trained once). A loss on one classifier's features can fit that classifier alone, so this asks whether what the
CRU-Net learned from MobileNet's (or DenseNet121's) features restores examples made on, and read by, the other
network. The
adaptive column attacks through the whole defense (CRU-Net -> target), as for every table.

Scales as ``crunet_table3_cifar10_feature_pixel.py`` (``--retrain``: 3 epochs per CRU-Net,
``tables.GUIDED_RETRAIN_EPOCHS``; ``--paper``: 20). ``--rows D-net/M-net`` runs one row: it needs M-net's
CRU-Net only (trained by ``crunet_table3_cifar10_feature_pixel.py --rows M-Net``, or here if missing).

Outputs in ``reproduce/results/<scale>/``: ``crunet_table5_cifar10_feature_pixel.csv`` (+ ``_long.csv``,
``_adaptive.csv``, ``.meta.json``, figures).

Run: ``python reproduce/crunet_table5_cifar10_feature_pixel.py --retrain --precision auto --rows D-net/M-net --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table5_cifar10_feature_pixel", argv)


if __name__ == "__main__":
    main()

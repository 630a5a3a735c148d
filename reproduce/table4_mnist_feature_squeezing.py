"""Feature squeezing (Xu, Evans & Qi, NDSS 2018) under Table 4's protocol of Ali et al. (2021),
*Deep Image Restoration Model* (``../shared/papers/000_…``): the first training-free defense of the
package, run through the same pipeline as ``table4_mnist.py``.

Same targets (M1, M2), same attacks (FGSM, BIM, PGD, DeepFool, CW-L2, spatial) on the same 1,000
correctly classified MNIST test images per target (the adversarial sets are shared with Table 4
through the cache), but the defense is bit-depth reduction to 1 bit followed by a 2x2 median
filter (Xu et al.'s MNIST squeezers), with no training. papers/000 prints no value for feature
squeezing, so the paper columns are empty; compare with ``table4_mnist.csv``.

Scales: ``--quick`` (CI: 1-epoch targets, 100 images per attack), default (shipped M1/M2),
``--retrain`` / ``--paper`` (targets trained here; nothing else to train).

Outputs: ``reproduce/results/table4_mnist_feature_squeezing.csv`` (+ ``_long.csv``, ``.meta.json``
with the defense's steps and declared gradients, figures).

Run: ``python reproduce/table4_mnist_feature_squeezing.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("table4_mnist_feature_squeezing", argv)


if __name__ == "__main__":
    main()

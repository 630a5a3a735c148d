"""Table 6 of Ali et al. (2021), *Deep Image Restoration Model* (``../shared/papers/000_…``,
Sec. 4.5): transferability (%) of the defense on MNIST. The restorer trained for M1 and M2
(Table 4: ``saved_models/restorer_mnist.keras``) restores adversarial examples made on models it
never saw, LeNet-5 and AlexNet, against FGSM, BIM, PGD, DeepFool, CW-L2 and the spatial attack.

Targets: ``lenet5`` (LeCun et al. 1998, tanh, average pooling) and ``alexnet_mnist`` (AlexNet's
five convolutions adapted to 28x28; see :func:`keras_restore.models.classifiers.alexnet_mnist`).
The restorer is never trained on them: at every scale it is the Table 4 restorer (shipped, given
with ``--restorer-file``, or -- if neither -- trained on pairs from M1/M2 exactly as Table 4).

Scales: ``--quick`` (CI smoke: 6,000 training images, 1 epoch, 100 test images per attack),
default (shipped models, 1,000 test images per attack; CW-L2 3 binary-search steps x 50
iterations -- AlexNet-28 costs 20x M1 per pass), ``--retrain`` (LeNet 3 epochs, AlexNet 1
epoch on all training images, Adam 1e-3, batch 128), ``--paper`` (20 epochs each, every
correctly classified test image).

Outputs in ``reproduce/results/``: ``table6_transfer_mnist.csv`` (+ ``_long.csv``, ``.meta.json``,
``_examples.png``, ``_bars.png`` like Fig. 6).

Run: ``python reproduce/table6_transfer_mnist.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("table6_transfer_mnist", argv)


if __name__ == "__main__":
    main()

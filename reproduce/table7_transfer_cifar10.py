"""Table 7 of Ali et al. (2021), *Deep Image Restoration Model* (``../shared/papers/000_…``,
Sec. 4.5): transferability (%) of the defense on CIFAR-10. The Table 2 restorer trained for
DenseNet and MobileNet (Table 5: ``saved_models/restorer_cifar10.keras``) restores adversarial
examples made on VGG19 and ResNet, which it never saw.

Targets: ``vgg19_cifar10`` (``keras.applications.VGG19`` base at 32x32 + ``Dense(10)``) and
``resnet_cifar10`` (the pre-activation ResNet of the paper's ref. [28], He et al. 2016, in its
CIFAR form, depth 20). Both trained from scratch on this CPU (no ImageNet weights offline, no
GPU): VGG19 1 epoch with Adam 1e-4 (it has no BatchNorm; the smaller rate usual for it, not compared
with 1e-3 here), ResNet-20 3
epochs with Adam 1e-3. Data: "CIFAR-10 (JPEG copy)".

Scales as Table 5 (``reproduce/table5_cifar10.py``): ``--quick``, default (shipped models, 200
test images per attack, CW 3 x 50, 99-point spatial grid), ``--retrain``, ``--paper``.

Outputs in ``reproduce/results/``: ``table7_transfer_cifar10.csv`` (+ ``_long.csv``,
``.meta.json``, ``_examples.png``, ``_bars.png`` like Fig. 7).

Run: ``python reproduce/table7_transfer_cifar10.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("table7_transfer_cifar10", argv)


if __name__ == "__main__":
    main()

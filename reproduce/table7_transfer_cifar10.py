"""Table 7 of Ali et al. (2021), *Deep Image Restoration Model* (``../shared/papers/000_…``,
Sec. 4.5): transferability (%) of the defense on CIFAR-10. The Table 2 restorer trained for
DenseNet and MobileNet (Table 5: ``saved_models/restorer_cifar10.keras``) restores adversarial
examples made on VGG19 and ResNet, which it never saw.

Targets: ``vgg19_bn_cifar10`` (VGG19, configuration E, in the CIFAR form with BatchNorm after every
convolution, at half width: ``models/bana_targets.py``) and ``resnet_cifar10`` (the pre-activation ResNet
of the paper's ref. [28], He et al. 2016, in its CIFAR form, depth 20). Both trained from scratch on this
CPU (no ImageNet weights offline, no GPU) by the CIFAR-10 recipe of ``reproduce/cifar10_targets.py``
(``--retrain``: VGG19 25 epochs, ResNet-20 40 by He et al.'s weight decay). Until 2026-12-06 "VGG19" was ``keras.applications.VGG19``
(``vgg19_cifar10``, no BatchNorm, 80 MB, never shipped; 1 epoch of Adam 1e-4 here: 36.94%): by the
CIFAR-10 recipe it stayed at chance, so the table's VGG19 is now the BatchNorm form. Data: "CIFAR-10
(JPEG copy)".

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

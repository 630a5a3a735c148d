"""CIFAR-10 targets of papers/003 (Bana et al. 2021, "Robust Recovery of Adversarial Examples").

The paper attacks three models while training its generator -- "Pre-trained Inception-v3 (Szegedy
et al. 2015), Resnet-18 (He et al. 2015), VGG-13" (Sec. 4) -- evaluates on Inception-v3 and VGG-13
(Tables 1-2; Inception-v3 is also the frozen classifier of the classification loss, "pre-trained
CIFAR-10 Classifier", Sec. 5.1) and makes black-box examples on DenseNet-121 (the zoo's
``densenet121_cifar10``) and VGG-11 (Table 3). "Pre-trained" ImageNet weights cannot be downloaded
on the machines this package is built on, and the paper classifies 32x32 CIFAR-10 images, so every
network here is the usual CIFAR-10-sized form, trained from scratch by
``reproduce/cifar10_targets.py`` (recipe ``classifier_cifar``).

All builders take ``(batch, 32, 32, 3)`` images in [0, 1] (a fixed CIFAR-10 ``Normalization``
first, as :mod:`keras_restore.models.cifar`), return logits (``classifier_activation=None``) and
take a **width multiplier** ``width`` (1.0 = the paper's / the standard network; every filter and
unit count is ``max(MIN_FILTERS, round(width * n))``). Full width does not fit this project: VGG-13
has 9.4 M parameters (a 38 MB ``.keras`` file, over the 30 MB of a shipped file) and ResNet-18 /
Inception-v3 would take hours per epoch on the 2-core CPU. The registered CPU-scale targets
(``models/registry.py``) use :data:`CPU_WIDTH`:

========================  =====  ==========  =======  ==========  ===============  =================
registered name           width  parameters  file     full width  train img/s (*)  epoch (47,500)
========================  =====  ==========  =======  ==========  ===============  =================
``vgg13_cifar10``         0.5    2,359,402   9.6 MB   9,418,954   121              ~6.5 min
``vgg11_cifar10``         0.5    2,312,938   9.4 MB   9,233,866   192              ~4 min
``resnet18_cifar10``      0.25   703,866     3.1 MB   11,183,562  152              ~5 min
``inception_v3_cifar10``  0.25   1,381,954   6.7 MB   21,840,490  65               ~12 min
========================  =====  ==========  =======  ==========  ===============  =================

(*) float32 SGD steps of batch 128 on this project's 2-core CPU with another training on one core
(2026-12, measured by hand). Width 0.5 for ResNet-18 (2.8 M parameters) and Inception-v3 (5.5 M,
23 MB) trained at 54 and 23 img/s: too slow for this CPU's budget, hence 0.25 for those two; VGG-13
(the robustness-evaluation model of Tables 1-2) keeps half width.
(Counts are Keras ``count_params``, BatchNorm moving statistics included, and asserted in
``tests/models/test_bana_targets.py``.)

* **VGG** (Simonyan & Zisserman 2015) in its CIFAR form: 3x3 convolutions, each followed by
  BatchNorm and ReLU (``block<b>_conv<i>/_bn/_relu``), a 2x2 max-pool after every block (32 -> 1 after
  five), ``Flatten`` and one ``Dense(classes)`` (no 4096-unit ImageNet head, the standard CIFAR VGG).
  VGG-13: blocks 64x2, 128x2, 256x2, 512x2, 512x2; VGG-11: 64, 128, 256x2, 512x2, 512x2.
* **ResNet-18** (He et al. 2016, the paper's "He et al., 2015") in its CIFAR form: 3x3 stem of 64 filters
  (no 7x7 / max-pool: the image is 32x32), four stages of two basic (post-activation) blocks of
  64, 128, 256, 512 filters, strides 1, 2, 2, 2, a 1x1 projection shortcut where the shape changes,
  global average pooling, ``Dense(classes)``.
* **Inception-v3** (Szegedy et al. 2016, "Rethinking the Inception architecture"): its ImageNet
  stem (five convolutions, two of them strided, and two max-pools: 299 -> 35) would reduce 32x32 to
  nothing, and ``keras.applications.InceptionV3`` needs at least 75x75 inputs. Adapted here as
  CIFAR-10 re-implementations usually do: a **stem without downsampling** (``stem_conv1..3``: 3x3
  convolutions of 32, 32, 64 filters, then 1x1 80 and 3x3 192, at 32x32), then one max-pool to
  16x16 (the 35x35 grid of the paper), **3 x Inception-A** (``mixed0..2``: 1x1 / 1x1-5x5 /
  1x1-3x3-3x3 / pool-1x1 branches, pool projections 32, 64, 64 as Keras' ``mixed0..2``),
  **reduction-A** (``mixed3``: 16 -> 7, valid 3x3/2 as the paper's 35 -> 17), **4 x Inception-B** (``mixed4..7`` at 7x7: the factorised 7x7
  as 1x7 / 7x1 pairs, the 7x7 branch width 128, 160, 160, 192), **reduction-B** (``mixed8``: 7 ->
  4, 'same' padding so that the last grid is not 3x3), **2 x Inception-C** (``mixed9..10``: the expanded 1x3 / 3x1 branches), global average
  pooling, ``Dense(classes)``. Each convolution is ``conv (no bias) - BatchNorm - ReLU`` as
  Keras' ``conv2d_bn``. No auxiliary classifier and no dropout (a CIFAR-10 target trained by one
  recipe; the auxiliary head only adds a training loss).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.cifar import _normalized_input
from keras_restore.models.classifiers import _check_classifier_args, _head

MIN_FILTERS = 4
# The registered CPU-scale widths (module docstring): < 30 MB files, a few minutes per epoch here.
CPU_WIDTH = {"vgg13_cifar10": 0.5, "vgg11_cifar10": 0.5, "resnet18_cifar10": 0.25, "inception_v3_cifar10": 0.25}
# Base width of the shipped papers/003 generators (attention_unet_generator's base_filters; the paper's
# is 64: 2.90 M parameters). At 32 (727,938 parameters, ~3 MB) a training step of 96 images took 5.8 s
# here (16: 5.0 s): the three attacked targets' input gradients and the frozen Inception-v3's loss
# cost most of it, so the generator keeps half the paper's width, not less.
GENERATOR_CPU_FILTERS = 32
VGG_CONFIGS = {
    "vgg11": ((64,), (128,), (256, 256), (512, 512), (512, 512)),
    "vgg13": ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),
    # papers/000 Table 7's "VGG19" as trained here (vgg19_bn_cifar10 below).
    "vgg19": ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4),
}
# papers/000 Table 7's VGG19 at half width, as VGG-13 (a < 30 MB file, ~4x fewer FLOPs than full width).
VGG19_BN_WIDTH = 0.5


def check_width(width, model_name: str) -> float:
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= 4:
        raise ValueError(f"`width` of {model_name} must be a number in (0, 4] (1.0 = the paper's network), "
                         f"got {width!r}.")
    return float(width)


def scaled(n: int, width: float) -> int:
    """``n`` filters at ``width`` (at least :data:`MIN_FILTERS`)."""
    return max(MIN_FILTERS, int(round(n * width)))


def conv_bn_relu(x, filters: int, kernel, name: str, strides=1, padding="same"):
    """``conv (no bias) - BatchNorm - ReLU`` (``name_conv/_bn/_relu``), Keras' ``conv2d_bn``."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


# --------------------------------------------------------------------------------------------- VGG


def vgg_cifar10(config: str = "vgg13", input_shape=(32, 32, 3), classes=10, classifier_activation=None,
                width: float = 1.0, name=None):
    """CIFAR VGG ``config`` (``"vgg11"``, ``"vgg13"`` or ``"vgg19"``) at ``width`` (module docstring)."""
    if config not in VGG_CONFIGS:
        raise ValueError(f"`config` must be one of {', '.join(VGG_CONFIGS)}, got {config!r}.")
    model_name = name or f"{config}_cifar10"
    shape = _check_classifier_args(input_shape, (32, 32, 3), classes, classifier_activation, model_name)
    width = check_width(width, model_name)
    inputs, x = _normalized_input(shape)
    for b, block in enumerate(VGG_CONFIGS[config], start=1):
        for i, filters in enumerate(block, start=1):
            x = conv_bn_relu(x, scaled(filters, width), 3, f"block{b}_conv{i}")
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=model_name)


def vgg13_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None,
                  width: float = CPU_WIDTH["vgg13_cifar10"], name=None):
    """papers/003's VGG-13 (attacked in training, evaluated in Tables 1-2) at ``width`` (default
    0.5: 2.36 M parameters, 9.6 MB; 1.0: 9.42 M, 38 MB)."""
    return vgg_cifar10("vgg13", input_shape, classes, classifier_activation, width, name)


def vgg11_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None,
                  width: float = CPU_WIDTH["vgg11_cifar10"], name=None):
    """papers/003's VGG-11 (black-box source of Table 3) at ``width`` (default 0.5: 2.31 M
    parameters; 1.0: 9.23 M)."""
    return vgg_cifar10("vgg11", input_shape, classes, classifier_activation, width, name)


def vgg19_bn_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None, width: float = VGG19_BN_WIDTH,
                     name=None):
    """papers/000 Table 7's "VGG19" (Simonyan & Zisserman 2015, configuration E: blocks 64x2, 128x2, 256x4,
    512x4, 512x4) in the CIFAR form above -- BatchNorm after every convolution, ``Flatten``, one
    ``Dense(classes)`` -- at ``width`` (default 0.5: 5,018,730 parameters, ~20 MB; 1.0: 20,046,026).

    Reconstruction choices (issue 21). papers/000 used a "pre-trained" VGG19; ImageNet weights cannot be
    downloaded here, and ``keras.applications.VGG19`` (``vgg19_cifar10``: no BatchNorm, 20.0 M parameters, an
    80 MB file) does not train from scratch by the CIFAR-10 recipe: 160 SGD-Nesterov steps at learning rate 0.1
    or 0.01 (batch 128, mixed_bfloat16, 2026-12-06) left it at chance (loss 2.303, 10% accuracy), as plain
    19-layer VGGs are known to (Simonyan & Zisserman initialised their deep nets from a trained shallower one).
    With BatchNorm it is the VGG19 that CIFAR-10 code bases train; half width, as papers/003's VGG-13
    (:data:`CPU_WIDTH`), so that it trains on the 2-core CPU in ~2 h and ships (< 30 MB)."""
    return vgg_cifar10("vgg19", input_shape, classes, classifier_activation, width, name or "vgg19_bn_cifar10")


# ---------------------------------------------------------------------------------------- ResNet-18


def basic_block(x, filters: int, stride: int, name: str):
    """He et al.'s basic block: conv3x3-BN-ReLU-conv3x3-BN + shortcut (1x1 projection + BN when
    the shape changes), ReLU after the sum."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = conv_bn_relu(x, filters, 3, f"{name}_1", strides=stride)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(name=f"{name}_2_bn")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def resnet18_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None,
                     width: float = CPU_WIDTH["resnet18_cifar10"], name=None):
    """papers/003's ResNet-18 (attacked in training) in the CIFAR form at ``width`` (default 0.25:
    0.70 M parameters; 1.0: 11.2 M). Layers ``stage{s}_block{b}_*``."""
    shape = _check_classifier_args(input_shape, (32, 32, 3), classes, classifier_activation, "resnet18_cifar10")
    width = check_width(width, "resnet18_cifar10")
    inputs, x = _normalized_input(shape)
    x = conv_bn_relu(x, scaled(64, width), 3, "stem")
    for s, filters in enumerate((64, 128, 256, 512), start=1):
        for b in (1, 2):
            x = basic_block(x, scaled(filters, width), 2 if (s > 1 and b == 1) else 1, f"stage{s}_block{b}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name or "resnet18_cifar10")


# ------------------------------------------------------------------------------------- Inception-v3


def _concat(branches, name):
    return layers.Concatenate(name=f"{name}_concat")(branches)


def _avg_pool_branch(x, filters, name):
    p = layers.AveragePooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    return conv_bn_relu(p, filters, 1, f"{name}_poolproj")


def inception_a(x, pool_filters: int, width: float, name: str):
    """Inception-A (35x35 modules of the paper, Fig. 5): 1x1 64 | 1x1 48 - 5x5 64 |
    1x1 64 - 3x3 96 - 3x3 96 | avg-pool - 1x1 ``pool_filters``."""
    b1 = conv_bn_relu(x, scaled(64, width), 1, f"{name}_b1x1")
    b5 = conv_bn_relu(x, scaled(48, width), 1, f"{name}_b5x5_1")
    b5 = conv_bn_relu(b5, scaled(64, width), 5, f"{name}_b5x5_2")
    b3 = conv_bn_relu(x, scaled(64, width), 1, f"{name}_b3x3dbl_1")
    b3 = conv_bn_relu(b3, scaled(96, width), 3, f"{name}_b3x3dbl_2")
    b3 = conv_bn_relu(b3, scaled(96, width), 3, f"{name}_b3x3dbl_3")
    return _concat([b1, b5, b3, _avg_pool_branch(x, scaled(pool_filters, width), name)], name)


def reduction_a(x, width: float, name: str):
    """Grid reduction 35 -> 17 of the paper (here 16 -> 7): 3x3/2 384 | 1x1 64 - 3x3 96 - 3x3/2 96 | max-pool/2."""
    b3 = conv_bn_relu(x, scaled(384, width), 3, f"{name}_b3x3", strides=2, padding="valid")
    bd = conv_bn_relu(x, scaled(64, width), 1, f"{name}_b3x3dbl_1")
    bd = conv_bn_relu(bd, scaled(96, width), 3, f"{name}_b3x3dbl_2")
    bd = conv_bn_relu(bd, scaled(96, width), 3, f"{name}_b3x3dbl_3", strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, name=f"{name}_pool")(x)
    return _concat([b3, bd, bp], name)


def inception_b(x, c7: int, width: float, name: str):
    """Inception-B (17x17 modules, the paper's Fig. 6: n x n factorised into 1 x 7 and 7 x 1):
    1x1 192 | 1x1 c7 - 1x7 c7 - 7x1 192 | 1x1 c7 - 7x1 - 1x7 - 7x1 - 1x7 192 | avg-pool - 1x1 192."""
    c7 = scaled(c7, width)
    out = scaled(192, width)
    b1 = conv_bn_relu(x, out, 1, f"{name}_b1x1")
    b7 = conv_bn_relu(x, c7, 1, f"{name}_b7x7_1")
    b7 = conv_bn_relu(b7, c7, (1, 7), f"{name}_b7x7_2")
    b7 = conv_bn_relu(b7, out, (7, 1), f"{name}_b7x7_3")
    bd = conv_bn_relu(x, c7, 1, f"{name}_b7x7dbl_1")
    bd = conv_bn_relu(bd, c7, (7, 1), f"{name}_b7x7dbl_2")
    bd = conv_bn_relu(bd, c7, (1, 7), f"{name}_b7x7dbl_3")
    bd = conv_bn_relu(bd, c7, (7, 1), f"{name}_b7x7dbl_4")
    bd = conv_bn_relu(bd, out, (1, 7), f"{name}_b7x7dbl_5")
    return _concat([b1, b7, bd, _avg_pool_branch(x, out, name)], name)


def reduction_b(x, width: float, name: str):
    """Grid reduction 17 -> 8 of the paper (here 7 -> 4, 'same' padding):
    1x1 192 - 3x3/2 320 | 1x1 192 - 1x7 - 7x1 - 3x3/2 192 | max-pool/2."""
    b3 = conv_bn_relu(x, scaled(192, width), 1, f"{name}_b3x3_1")
    b3 = conv_bn_relu(b3, scaled(320, width), 3, f"{name}_b3x3_2", strides=2)
    b7 = conv_bn_relu(x, scaled(192, width), 1, f"{name}_b7x7x3_1")
    b7 = conv_bn_relu(b7, scaled(192, width), (1, 7), f"{name}_b7x7x3_2")
    b7 = conv_bn_relu(b7, scaled(192, width), (7, 1), f"{name}_b7x7x3_3")
    b7 = conv_bn_relu(b7, scaled(192, width), 3, f"{name}_b7x7x3_4", strides=2)
    bp = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return _concat([b3, b7, bp], name)


def inception_c(x, width: float, name: str):
    """Inception-C (8x8 modules with expanded filter banks, the paper's Fig. 7): 1x1 320 |
    1x1 384 - (1x3 384, 3x1 384) | 1x1 448 - 3x3 384 - (1x3 384, 3x1 384) | avg-pool - 1x1 192."""
    b1 = conv_bn_relu(x, scaled(320, width), 1, f"{name}_b1x1")
    b3 = conv_bn_relu(x, scaled(384, width), 1, f"{name}_b3x3_1")
    b3 = layers.Concatenate(name=f"{name}_b3x3_split")([conv_bn_relu(b3, scaled(384, width), (1, 3), f"{name}_b3x3_2a"),
                                                        conv_bn_relu(b3, scaled(384, width), (3, 1), f"{name}_b3x3_2b")])
    bd = conv_bn_relu(x, scaled(448, width), 1, f"{name}_b3x3dbl_1")
    bd = conv_bn_relu(bd, scaled(384, width), 3, f"{name}_b3x3dbl_2")
    bd = layers.Concatenate(name=f"{name}_b3x3dbl_split")([
        conv_bn_relu(bd, scaled(384, width), (1, 3), f"{name}_b3x3dbl_3a"),
        conv_bn_relu(bd, scaled(384, width), (3, 1), f"{name}_b3x3dbl_3b")])
    return _concat([b1, b3, bd, _avg_pool_branch(x, scaled(192, width), name)], name)


def inception_v3_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None,
                         width: float = CPU_WIDTH["inception_v3_cifar10"], name=None):
    """papers/003's Inception-v3 (attacked in training, the frozen classifier of the classification
    and feature losses, the evaluation model) adapted to 32x32 (module docstring) at ``width``
    (default 0.25: 1.38 M parameters; 1.0: 21.8 M). Grids: 32x32 stem, 16x16 Inception-A, 7x7
    Inception-B, 4x4 Inception-C."""
    shape = _check_classifier_args(input_shape, (32, 32, 3), classes, classifier_activation, "inception_v3_cifar10")
    width = check_width(width, "inception_v3_cifar10")
    inputs, x = _normalized_input(shape)
    x = conv_bn_relu(x, scaled(32, width), 3, "stem_conv1")
    x = conv_bn_relu(x, scaled(32, width), 3, "stem_conv2")
    x = conv_bn_relu(x, scaled(64, width), 3, "stem_conv3")
    x = conv_bn_relu(x, scaled(80, width), 1, "stem_conv4")
    x = conv_bn_relu(x, scaled(192, width), 3, "stem_conv5")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)                         # 32 -> 16
    for i, pool_filters in enumerate((32, 64, 64)):
        x = inception_a(x, pool_filters, width, f"mixed{i}")
    x = reduction_a(x, width, "mixed3")                                     # 16 -> 7 (valid 3x3/2)
    for i, c7 in enumerate((128, 160, 160, 192), start=4):
        x = inception_b(x, c7, width, f"mixed{i}")
    x = reduction_b(x, width, "mixed8")                                     # 7 -> 4
    for i in (9, 10):
        x = inception_c(x, width, f"mixed{i}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name or "inception_v3_cifar10")

"""CIFAR-10 target classifiers of Ali et al. (2021): Table 5 (DenseNet, MobileNet) and the
transfer targets of Table 7 (VGG19, ResNet).

All take ``(batch, 32, 32, 3)`` images in [0, 1] and return logits by default
(``classifier_activation=None``): a fixed ``Normalization`` layer (CIFAR-10 training-set channel
means and standard deviations) comes first, so callers never preprocess.

* ``densenet121_cifar10`` / ``mobilenet_cifar10`` / ``vgg19_cifar10``: the ``keras.applications``
  networks (``include_top=False``, global average pooling, ``Dense(classes)``) at 32x32.
  The paper used "pre-trained" models; ImageNet weights cannot be downloaded on the machines this
  package is built on, so the shipped ones are trained from scratch on CIFAR-10 (``weights=None``).
  Users with a network can pass ``weights="imagenet"`` to start from ImageNet features.
* ``resnet_cifar10``: the paper cites He et al. 2016, *Identity mappings in deep residual
  networks* (ref. [28]) for "ResNet": the pre-activation ResNet in that paper's CIFAR form (3x3
  stem, three stages of 16/32/64 filters, 2 basic pre-activation blocks x n). Default depth 20
  (n = 3, 0.27 M parameters); the paper gives no depth, so we chose the smallest of He et al.'s
  CIFAR family -- ``depth=110`` is theirs. ``keras.applications.ResNet50V2`` (the same design at
  ImageNet scale, 23.6 M parameters) is registered as ``resnet50v2_cifar10`` for comparison.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.classifiers import _check_classifier_args, _head

# Channel statistics of the CIFAR-10 training images (0..1 scale).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
WEIGHTS = (None, "imagenet")


def _normalized_input(shape, name="image"):
    inputs = keras.Input(shape, name=name)
    x = layers.Normalization(mean=list(CIFAR10_MEAN), variance=[s * s for s in CIFAR10_STD], name="normalize")(inputs)
    return inputs, x


def _check_weights(weights, model_name):
    if weights not in WEIGHTS:
        raise ValueError(f"`weights` of {model_name} must be None (random init) or 'imagenet', got {weights!r}.")


def _application(app, model_name, input_shape, classes, classifier_activation, weights, name, **kwargs):
    shape = _check_classifier_args(input_shape, (32, 32, 3), classes, classifier_activation, model_name)
    _check_weights(weights, model_name)
    inputs, x = _normalized_input(shape)
    base = app(include_top=False, weights=weights, input_shape=shape, pooling="avg", **kwargs)
    base.name = "backbone"
    x = base(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name or model_name)


def densenet121_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None, weights=None, name=None):
    """Table 5 "Dense-Net" (the paper's ref. [24]): ``keras.applications.DenseNet121`` at 32x32,
    global average pooling, ``Dense(classes)``. 7,047,754 parameters with 10 classes."""
    return _application(keras.applications.DenseNet121, "densenet121_cifar10", input_shape, classes,
                        classifier_activation, weights, name)


def mobilenet_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None, weights=None, name=None):
    """Table 5 "Mobile-Net" (the paper's ref. [25]): ``keras.applications.MobileNet`` (v1,
    alpha 1.0) at 32x32, global average pooling, ``Dense(classes)``. 3,239,114 parameters."""
    return _application(keras.applications.MobileNet, "mobilenet_cifar10", input_shape, classes,
                        classifier_activation, weights, name)


def vgg19_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None, weights=None, name=None):
    """Table 7 "VGG19" (Simonyan & Zisserman 2015): ``keras.applications.VGG19`` convolutional
    base at 32x32 (1x1x512 after five pools), global average pooling, ``Dense(classes)`` -- the
    usual CIFAR form, without the 4096-unit ImageNet head. 20,029,514 parameters."""
    return _application(keras.applications.VGG19, "vgg19_cifar10", input_shape, classes,
                        classifier_activation, weights, name)


def resnet50v2_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None, weights=None, name=None):
    """``keras.applications.ResNet50V2`` (pre-activation, ref. [28] at ImageNet scale) at 32x32."""
    return _application(keras.applications.ResNet50V2, "resnet50v2_cifar10", input_shape, classes,
                        classifier_activation, weights, name)


def preact_block(x, filters, stride, name):
    """Pre-activation basic block (He et al. 2016b): BN-ReLU-conv3x3-BN-ReLU-conv3x3 + shortcut
    (a 1x1 projection of the pre-activated input when the shape changes)."""
    pre = layers.BatchNormalization(name=f"{name}_bn1")(x)
    pre = layers.Activation("relu", name=f"{name}_relu1")(pre)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(pre)
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(pre)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Activation("relu", name=f"{name}_relu2")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    return layers.Add(name=f"{name}_add")([shortcut, y])


def resnet_cifar10(input_shape=(32, 32, 3), classes=10, classifier_activation=None, depth=20, name=None):
    """Table 7 "ResNet": pre-activation ResNet (He et al. 2016b, ref. [28]) for CIFAR, depth
    6n + 2 (default 20: 273,658 parameters). Layers named ``stage{s}_block{b}_*``."""
    shape = _check_classifier_args(input_shape, (32, 32, 3), classes, classifier_activation, "resnet_cifar10")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"`depth` must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110, ...), got {depth!r}.")
    n = (depth - 2) // 6
    inputs, x = _normalized_input(shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem_conv")(x)
    for s, filters in enumerate((16, 32, 64), start=1):
        for b in range(1, n + 1):
            x = preact_block(x, filters, 2 if (s > 1 and b == 1) else 1, f"stage{s}_block{b}")
    x = layers.BatchNormalization(name="final_bn")(x)
    x = layers.Activation("relu", name="final_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name or f"resnet{depth}_cifar10")

"""Target classifiers of Zhang et al., "Adversarial example defense based on image reconstruction"
(papers/002, Tables 1-4): ResNet50, ResNet101 (He et al. 2016) and GoogLeNet (Szegedy et al. 2015)
on 28x28x1 MNIST / Fashion-MNIST. The paper names the networks and nothing else (no input
adaptation, widths, training); every choice below is ours and recorded in each result's metadata.

* ``resnet50_gray`` / ``resnet101_gray``: ``keras.applications.ResNet50`` / ``ResNet101``
  (``weights=None``: ImageNet weights are 3-channel and cannot be downloaded here anyway),
  ``include_top=False``, global average pooling, ``Dense(classes)``. keras.applications needs
  inputs of at least 32x32, so the 28x28 image is zero-padded by 2 pixels (as LeNet-5 pads MNIST);
  the ImageNet stem (7x7/2 conv, 3x3/2 pool) is kept, so conv2_x runs at 8x8 and conv5_x at 1x1.
  23.6 M / 42.6 M parameters (94 / 170 MB in float32): over the 30 MB limit of a shipped file,
  so the tables' scripts train and cache them (``ModelSpec.not_shipped``).
* ``googlenet_gray``: Inception v1 (Szegedy et al. 2015, Table 1: the nine inception modules
  3a-5b with their printed widths) adapted to 28x28: the 7x7/2 stem conv becomes a 3x3/1 conv
  (64), then 3x3/2 max-pool, 1x1 (64) and 3x3 (192) convs, 3x3/2 max-pool -- the same overall
  stride (4) before inception 3a as ResNet50 has before conv2_x here -- so 3a-3b run at 7x7,
  4a-4e at 4x4, 5a-5b at 2x2. BatchNorm after every convolution (Ioffe & Szegedy 2015's
  BN-Inception; the 2015 network used local response normalisation and is hard to train from
  scratch without its auxiliary heads), no auxiliary classifiers (used only to help train the
  ImageNet network), dropout 0.4 before the classifier as in the paper. 5.98 M parameters (24 MB).

All take images in [0, 1] and return logits (``classifier_activation=None``).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.classifiers import _check_classifier_args, _head

# Szegedy et al. 2015, Table 1: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
INCEPTION_V1 = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _padded_application(app, model_name, input_shape, classes, classifier_activation, name):
    shape = _check_classifier_args(input_shape, None, classes, classifier_activation, model_name)
    if shape[0] < 28 or shape[1] < 28:
        raise ValueError(f"`input_shape` of {model_name} must be at least 28x28, got {shape}.")
    inputs = keras.Input(shape, name="image")
    pad_h, pad_w = max(0, 32 - shape[0]), max(0, 32 - shape[1])
    x = inputs
    if pad_h or pad_w:
        x = layers.ZeroPadding2D(((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)), name="pad")(x)
    base = app(include_top=False, weights=None, input_shape=(shape[0] + pad_h, shape[1] + pad_w, shape[2]),
               pooling="avg")
    base.name = "backbone"
    return keras.Model(inputs, _head(base(x), classes, classifier_activation), name=name or model_name)


def resnet50_gray(input_shape=(28, 28, 1), classes=10, classifier_activation=None, name=None):
    """papers/002 "ResNet50": ``keras.applications.ResNet50`` on 2-pixel zero-padded 28x28 images
    (see the module docstring). 23,585,674 parameters with 1 channel and 10 classes."""
    return _padded_application(keras.applications.ResNet50, "resnet50_gray", input_shape, classes,
                               classifier_activation, name)


def resnet101_gray(input_shape=(28, 28, 1), classes=10, classifier_activation=None, name=None):
    """papers/002 "ResNet101": ``keras.applications.ResNet101``, as :func:`resnet50_gray`."""
    return _padded_application(keras.applications.ResNet101, "resnet101_gray", input_shape, classes,
                               classifier_activation, name)


def conv_bn(x, filters, kernel, name, strides=1):
    """Conv (no bias) -> BatchNorm -> ReLU, the unit of every GoogLeNet convolution here."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def inception_block(x, widths, name):
    """Inception v1 module: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1, concatenated."""
    b1, r3, b3, r5, b5, pp = widths
    branch1 = conv_bn(x, b1, 1, f"{name}_1x1")
    branch3 = conv_bn(conv_bn(x, r3, 1, f"{name}_3x3_reduce"), b3, 3, f"{name}_3x3")
    branch5 = conv_bn(conv_bn(x, r5, 1, f"{name}_5x5_reduce"), b5, 5, f"{name}_5x5")
    pool = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    pool = conv_bn(pool, pp, 1, f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([branch1, branch3, branch5, pool])


def googlenet_gray(input_shape=(28, 28, 1), classes=10, classifier_activation=None, name="googlenet_gray"):
    """papers/002 "GoogLeNet": Inception v1 adapted to 28x28 (see the module docstring). Layers
    are named ``stem*``, ``inception{3a..5b}_*``, ``pool{1..4}``."""
    shape = _check_classifier_args(input_shape, None, classes, classifier_activation, "googlenet_gray")
    if shape[0] < 16 or shape[1] < 16:
        raise ValueError(f"`input_shape` of googlenet_gray must be at least 16x16, got {shape}.")
    inputs = keras.Input(shape, name="image")
    x = conv_bn(inputs, 64, 3, "stem1")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = conv_bn(x, 64, 1, "stem2")
    x = conv_bn(x, 192, 3, "stem3")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    for block in ("3a", "3b"):
        x = inception_block(x, INCEPTION_V1[block], f"inception{block}")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool3")(x)
    for block in ("4a", "4b", "4c", "4d", "4e"):
        x = inception_block(x, INCEPTION_V1[block], f"inception{block}")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool4")(x)
    for block in ("5a", "5b"):
        x = inception_block(x, INCEPTION_V1[block], f"inception{block}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(0.4, name="dropout")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)

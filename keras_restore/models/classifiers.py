"""Target classifiers of Ali et al. (2021), Table 3 (M1, M2 on MNIST).

Builders return logits by default in the zoo (``classifier_activation=None``): attacks need
logits. Pass ``classifier_activation="softmax"`` for the paper's literal softmax output.
"""

from __future__ import annotations

import keras
from keras import layers

ACTIVATIONS = (None, "softmax")


def _check_classifier_args(input_shape, expected, classes, classifier_activation, model_name):
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"`input_shape` of {model_name} must be (height, width, channels), got {input_shape!r}.")
    if expected is not None and shape != tuple(expected):
        raise ValueError(f"`input_shape` of {model_name} must be {tuple(expected)}, got {shape}.")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"`classes` must be an integer >= 2, got {classes!r}.")
    if classifier_activation not in ACTIVATIONS:
        raise ValueError(
            f"`classifier_activation` must be None (logits) or 'softmax', got {classifier_activation!r}."
        )
    return shape


def _head(x, classes, classifier_activation):
    x = layers.Dense(classes, name="logits", dtype="float32")(x)
    if classifier_activation == "softmax":
        x = layers.Softmax(name="softmax", dtype="float32")(x)
    return x


def m1(input_shape=(28, 28, 1), classes=10, classifier_activation=None, name="m1"):
    """Table 3, M1: three Conv2D(3x3, valid)+ReLU / MaxPool(2) stages, Dropout(0.2), Dense(128),
    Dropout(0.2), Dense(10) [+ Softmax]. 28x28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1."""
    shape = _check_classifier_args(input_shape, (28, 28, 1), classes, classifier_activation, "m1")
    inputs = keras.Input(shape, name="image")
    x = inputs
    for i, filters in enumerate((32, 64, 128), start=1):
        x = layers.Conv2D(filters, 3, activation="relu", name=f"block{i}_conv")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.2, name="dropout1")(x)
    x = layers.Dense(128, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.2, name="dropout2")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def m2(input_shape=(28, 28, 1), classes=10, classifier_activation=None, name="m2"):
    """Table 3, M2: Flatten, Dense(56)+ReLU, Dense(56)+ReLU, Dense(10) [+ Softmax]."""
    shape = _check_classifier_args(input_shape, (28, 28, 1), classes, classifier_activation, "m2")
    inputs = keras.Input(shape, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(56, activation="relu", name="fc1")(x)
    x = layers.Dense(56, activation="relu", name="fc2")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def lenet5(input_shape=(28, 28, 1), classes=10, classifier_activation=None, name="lenet5"):
    """LeNet-5 (LeCun et al. 1998; the paper's ref. [26]), a transfer target of Table 6.

    As in the 1998 paper: 28x28 MNIST digits padded to 32x32, C1 Conv(6, 5x5) -> S2 AvgPool(2)
    -> C3 Conv(16, 5x5) -> S4 AvgPool(2) -> C5 Conv(120, 5x5) -> F6 Dense(84) -> output.
    Reconstruction choices: tanh activations as in the paper; the full C3 connection table
    (every S2 map feeds every C3 map) and a linear output layer instead of RBF units, as in
    every modern re-implementation. 61,706 parameters.
    """
    shape = _check_classifier_args(input_shape, (28, 28, 1), classes, classifier_activation, "lenet5")
    inputs = keras.Input(shape, name="image")
    x = layers.ZeroPadding2D(2, name="pad")(inputs)
    x = layers.Conv2D(6, 5, activation="tanh", name="c1_conv")(x)
    x = layers.AveragePooling2D(2, name="s2_pool")(x)
    x = layers.Conv2D(16, 5, activation="tanh", name="c3_conv")(x)
    x = layers.AveragePooling2D(2, name="s4_pool")(x)
    x = layers.Conv2D(120, 5, activation="tanh", name="c5_conv")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(84, activation="tanh", name="f6")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def alexnet_mnist(input_shape=(28, 28, 1), classes=10, classifier_activation=None, name="alexnet_mnist"):
    """AlexNet (Krizhevsky et al. 2012; the paper's ref. [27]) adapted to 28x28x1, a transfer
    target of Table 6.

    Kept: five convolutions with AlexNet's widths (64, 192, 384, 256, 256 as in the one-GPU
    torchvision version), ReLU, max-pooling after conv1, conv2 and conv5, two dropout(0.5)
    fully-connected layers, then the classifier. Adapted to 28x28 (the 224x224 stem would leave
    no spatial extent): conv1 5x5 stride 1 instead of 11x11 stride 4, conv2 5x5, conv3-5 3x3,
    2x2 pools (28 -> 14 -> 7 -> 3), and 512 instead of 4096 units in the fully-connected layers
    (4096 would hold 10 M parameters for a 3x3x256 input). 3,896,010 parameters.
    """
    shape = _check_classifier_args(input_shape, (28, 28, 1), classes, classifier_activation, "alexnet_mnist")
    inputs = keras.Input(shape, name="image")
    x = inputs
    for i, (filters, kernel, pool) in enumerate(
        ((64, 5, True), (192, 5, True), (384, 3, False), (256, 3, False), (256, 3, True)), start=1
    ):
        x = layers.Conv2D(filters, kernel, padding="same", activation="relu", name=f"conv{i}")(x)
        if pool:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = layers.Dropout(0.5, name=f"dropout{i}")(x)
        x = layers.Dense(512, activation="relu", name=f"fc{i}")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)

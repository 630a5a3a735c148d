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

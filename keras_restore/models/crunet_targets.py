"""Target classifiers of the CRU-Net paper (Ali et al. 2022, papers/001), all on MNIST.

* ``anet``, ``bnet``: Table 1, the white-box targets (taken by the paper from cGAN-Defense);
  reported accuracies 99.35% and 99.39%.
* ``model_a`` ... ``model_d``: Table 8, the comparison models of Defense-GAN (Samangouei et al.
  2018) used for the success-rate comparison of Tables 9 and 10 (no accuracy is reported).

Builders return logits by default (``classifier_activation=None``, as in
:mod:`keras_restore.models.classifiers`): attacks need logits; pass
``classifier_activation="softmax"`` for the tables' final Softmax. A ``Flatten`` is implied
before the first fully-connected layer of every table.

Choices where the tables are silent or ambiguous:

* **Padding** is not printed. Table 8 follows Defense-GAN's released code
  (``utils/network_builder.py``): the first convolution ``same``, every later one ``valid``,
  so model B ends at 1x1x128 on 28x28 inputs. Table 1 gives no source code: A-net is read the
  same way as model A, which it mirrors (``same`` then ``valid``: 28 -> 28 -> 13); B-net is the
  Carlini-Wagner MNIST layout it copies (four ``valid`` 3x3 convolutions, 2x2 max-pooling:
  28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 4).
* Table 1 prints ``FC(10) + ReLU`` before the Softmax in both nets. A ReLU on the logits would
  clamp every negative logit to 0 (zero gradient there: gradient masking for the attacks, and
  ties in the prediction), and no classifier it cites has one, so it is left out: the last
  layer is a plain ``Dense(10)``.
* Table 8 model A prints no activation after ``FC(128)``; Defense-GAN's table and code have a
  ReLU there, as do models C and D, so model A has one too. Model C's second convolution is
  3x3 as printed (Defense-GAN's code uses 5x5). Model D keeps both Dropout(0.5) layers as
  printed (Defense-GAN's code has only the first).

Parameters (10 classes): A-net 146,762; B-net 358,634; model A 1,285,194; model B 710,218;
model C 1,460,938; model D 199,210.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.classifiers import _check_classifier_args, _head

MNIST_SHAPE = (28, 28, 1)


def _conv(x, filters, kernel, strides, padding, name):
    return layers.Conv2D(filters, kernel, strides=strides, padding=padding, activation="relu", name=name)(x)


def _dense(x, units, name):
    return layers.Dense(units, activation="relu", name=name)(x)


def anet(input_shape=MNIST_SHAPE, classes=10, classifier_activation=None, name="anet"):
    """Table 1, A-net: Conv(64, 5x5, 1) + ReLU, Conv(64, 3x3, 2) + ReLU, Dropout(0.5), FC(10)."""
    shape = _check_classifier_args(input_shape, MNIST_SHAPE, classes, classifier_activation, "anet")
    inputs = keras.Input(shape, name="image")
    x = _conv(inputs, 64, 5, 1, "same", "conv1")
    x = _conv(x, 64, 3, 2, "valid", "conv2")
    x = layers.Dropout(0.5, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def bnet(input_shape=MNIST_SHAPE, classes=10, classifier_activation=None, name="bnet"):
    """Table 1, B-net: two [Conv(64, 3x3, 1) + ReLU] x 2 / MaxPool(2) stages, FC(200) + ReLU,
    Dropout(0.5), FC(200) + ReLU, Dropout(0.5), FC(10)."""
    shape = _check_classifier_args(input_shape, MNIST_SHAPE, classes, classifier_activation, "bnet")
    inputs = keras.Input(shape, name="image")
    x = inputs
    for stage in (1, 2):
        x = _conv(x, 64, 3, 1, "valid", f"block{stage}_conv1")
        x = _conv(x, 64, 3, 1, "valid", f"block{stage}_conv2")
        x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = _dense(x, 200, f"fc{i}")
        x = layers.Dropout(0.5, name=f"dropout{i}")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def model_a(input_shape=MNIST_SHAPE, classes=10, classifier_activation=None, name="model_a"):
    """Table 8, model A: Conv(64, 5x5, 1), Conv(64, 5x5, 2), Dropout(0.25), FC(128),
    Dropout(0.5), FC(10); ReLU after each hidden layer."""
    shape = _check_classifier_args(input_shape, MNIST_SHAPE, classes, classifier_activation, "model_a")
    inputs = keras.Input(shape, name="image")
    x = _conv(inputs, 64, 5, 1, "same", "conv1")
    x = _conv(x, 64, 5, 2, "valid", "conv2")
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = _dense(x, 128, "fc1")
    x = layers.Dropout(0.5, name="dropout2")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def model_b(input_shape=MNIST_SHAPE, classes=10, classifier_activation=None, name="model_b"):
    """Table 8, model B: Dropout(0.2) on the input, Conv(64, 8x8, 2), Conv(128, 6x6, 2),
    Conv(128, 5x5, 1) (ReLU each), Dropout(0.5), FC(10)."""
    shape = _check_classifier_args(input_shape, MNIST_SHAPE, classes, classifier_activation, "model_b")
    inputs = keras.Input(shape, name="image")
    x = layers.Dropout(0.2, name="input_dropout")(inputs)
    x = _conv(x, 64, 8, 2, "same", "conv1")
    x = _conv(x, 128, 6, 2, "valid", "conv2")
    x = _conv(x, 128, 5, 1, "valid", "conv3")
    x = layers.Dropout(0.5, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def model_c(input_shape=MNIST_SHAPE, classes=10, classifier_activation=None, name="model_c"):
    """Table 8, model C: Conv(128, 3x3, 1), Conv(64, 3x3, 2) (ReLU each), Dropout(0.25),
    FC(128) + ReLU, Dropout(0.5), FC(10)."""
    shape = _check_classifier_args(input_shape, MNIST_SHAPE, classes, classifier_activation, "model_c")
    inputs = keras.Input(shape, name="image")
    x = _conv(inputs, 128, 3, 1, "same", "conv1")
    x = _conv(x, 64, 3, 2, "valid", "conv2")
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = _dense(x, 128, "fc1")
    x = layers.Dropout(0.5, name="dropout2")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)


def model_d(input_shape=MNIST_SHAPE, classes=10, classifier_activation=None, name="model_d"):
    """Table 8, model D: FC(200) + ReLU, Dropout(0.5), FC(200) + ReLU, Dropout(0.5), FC(10)."""
    shape = _check_classifier_args(input_shape, MNIST_SHAPE, classes, classifier_activation, "model_d")
    inputs = keras.Input(shape, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    for i in (1, 2):
        x = _dense(x, 200, f"fc{i}")
        x = layers.Dropout(0.5, name=f"dropout{i}")(x)
    return keras.Model(inputs, _head(x, classes, classifier_activation), name=name)

"""The deep image restoration models of Ali et al. (2021), Tables 1 and 2.

Both are plain encoder-decoders (no skip connections): stride-2 convolutions down to a dense
bottleneck, stride-2 transposed convolutions back up. Built with the Keras functional API, every
layer named from its block (``enc2_conv1``, ``dec3_bn``).

Reconstruction choices (the paper's tables are incomplete; each choice matches every figure the
paper states):

* Table 1 (MNIST) lists ``Conv2DTranspose(256, 3x3, 2)`` taking 4x4 to 7x7; Keras gives 7 with
  ``output_padding=0``. The stated 15.93 M parameters and 32 layers need one more
  ``Conv2DTranspose(256, 3x3, 1)`` after it (``dec2_convt2``), lost in the text conversion.
  Result: 15,929,753 parameters, 2,818 non-trainable (paper: 15.93 M, 0.003 M).
* Table 2 (CIFAR-10) needs the implied ``Reshape(4, 4, 256)`` after ``Dense(4096)``:
  19,665,539 parameters (paper: 19.667 M).
* The Dense bottlenecks have no activation (none is printed).

``variant="paper"`` builds the tables literally. ``variant="stable"`` (MNIST only) is the smallest
change we found that trains on CPU budgets: the literal stack ends in three 1-channel
``Conv2D + ReLU`` layers and a BatchNorm, and collapses to a constant output (measured before any
code existed: ``../shared/FINDINGS.md``; output std 0.0000, ~13% accuracy through M1). The stable
variant keeps every layer shape but uses LeakyReLU(0.2) on the first two 1-channel convolutions,
a sigmoid on the last, a ``Clip(0, 1)`` instead of the final BatchNorm (4 parameters fewer:
15,929,749), and BatchNorm momentum 0.9 instead of 0.99 so its moving statistics track short runs.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.layers import output_clip
from keras_restore.validation import check_choice

VARIANTS = ("paper", "stable")


def _check_input_shape(input_shape, expected, model_name):
    if input_shape is None:
        return tuple(expected)
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"`input_shape` of {model_name} must be (height, width, channels), got {input_shape!r}."
        )
    if shape != tuple(expected):
        raise ValueError(
            f"`input_shape` of {model_name} must be {tuple(expected)} (the paper's table is "
            f"specific to it), got {shape}."
        )
    return shape


def conv_block(x, filters, name, *, momentum=0.99):
    """Two 3x3 convolutions (stride 2 then 1, ReLU) and a BatchNorm: one encoder row pair."""
    x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu", name=f"{name}_conv1")(x)
    x = layers.Conv2D(filters, 3, strides=1, padding="same", activation="relu", name=f"{name}_conv2")(x)
    return layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)


def deconv_block(x, filters, name, *, bn=True, momentum=0.99, output_padding=None):
    """Two 3x3 transposed convolutions (stride 2 then 1, ReLU), optionally a BatchNorm."""
    x = layers.Conv2DTranspose(
        filters, 3, strides=2, padding="same", activation="relu",
        output_padding=output_padding, name=f"{name}_convt1",
    )(x)
    x = layers.Conv2DTranspose(filters, 3, strides=1, padding="same", activation="relu", name=f"{name}_convt2")(x)
    if bn:
        x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return x


def bottleneck(x, units, reshape_to, name="bottleneck"):
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dropout(0.2, name=f"{name}_dropout")(x)
    x = layers.Dense(units, name=f"{name}_dense")(x)
    return layers.Reshape(reshape_to, name=f"{name}_reshape")(x)


def restorer_mnist(input_shape=(28, 28, 1), variant="stable", name=None):
    """Table 1 of Ali et al. (2021): the MNIST deep image restoration model.

    Args:
        input_shape: must be ``(28, 28, 1)``.
        variant: ``"paper"`` (literal Table 1, collapses in training, see module docstring) or
            ``"stable"`` (default; the documented trainable variant).
        name: model name (default ``restorer_mnist`` / ``restorer_mnist_paper``).

    Returns:
        A ``keras.Model`` mapping ``(batch, 28, 28, 1)`` images in [0, 1] to restored images.
    """
    check_choice(variant, "variant", VARIANTS)
    shape = _check_input_shape(input_shape, (28, 28, 1), "restorer_mnist")
    momentum = 0.9 if variant == "stable" else 0.99
    inputs = keras.Input(shape, name="adversarial")
    x = inputs
    for i, filters in enumerate((64, 128, 256, 512), start=1):
        x = conv_block(x, filters, f"enc{i}", momentum=momentum)
    x = bottleneck(x, 2048, (2, 2, 512))
    # dec1: 2 -> 4 (no BatchNorm in Table 1), dec2: 4 -> 7, dec3: 7 -> 14, dec4: 14 -> 28.
    x = deconv_block(x, 512, "dec1", bn=False)
    x = deconv_block(x, 256, "dec2", momentum=momentum, output_padding=0)
    x = deconv_block(x, 128, "dec3", momentum=momentum)
    x = deconv_block(x, 64, "dec4", momentum=momentum)
    if variant == "paper":
        for j in (1, 2, 3):
            x = layers.Conv2D(1, 3, padding="same", activation="relu", name=f"out_conv{j}")(x)
        outputs = layers.BatchNormalization(name="out_bn")(x)
    else:
        x = layers.Conv2D(1, 3, padding="same", name="out_conv1")(x)
        x = layers.LeakyReLU(0.2, name="out_act1")(x)
        x = layers.Conv2D(1, 3, padding="same", name="out_conv2")(x)
        x = layers.LeakyReLU(0.2, name="out_act2")(x)
        x = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="out_conv3")(x)
        outputs = output_clip(x)
    default = "restorer_mnist" if variant == "stable" else "restorer_mnist_paper"
    return keras.Model(inputs, outputs, name=name or default)


def restorer_cifar10(input_shape=(32, 32, 3), variant="paper", name=None):
    """Table 2 of Ali et al. (2021): the CIFAR-10 deep image restoration model.

    ``variant="paper"`` is the literal table (final ``Conv2DTranspose(3) + ReLU``);
    ``variant="stable"`` ends in ``Clip(0, 1)`` after that layer (no parameter change) so restored
    images stay in range.
    """
    check_choice(variant, "variant", VARIANTS)
    shape = _check_input_shape(input_shape, (32, 32, 3), "restorer_cifar10")
    inputs = keras.Input(shape, name="adversarial")
    x = inputs
    for i, filters in enumerate((64, 128, 256), start=1):
        x = conv_block(x, filters, f"enc{i}")
    x = bottleneck(x, 4096, (4, 4, 256))
    for i, filters in enumerate((256, 128, 64), start=1):
        x = deconv_block(x, filters, f"dec{i}")
    x = layers.Conv2DTranspose(3, 3, padding="same", activation="relu", name="out_convt")(x)
    if variant == "stable":
        x = output_clip(x)
    return keras.Model(inputs, x, name=name or f"restorer_cifar10{'' if variant == 'paper' else '_stable'}")

"""CRU-Net, the Clipped Residual U-Net of Ali et al. (2022) (papers/001, Section 4, Eq. 11).

A U-Net whose levels are made of ResNet-style *de-noising blocks*, ending in a global residual
``I'' = Clip(F(I') + I', 0, 1)``. Built with the Keras functional API, every layer named from its
block (``enc2_db1_conv1``, ``dec1_up``, ``out_clip``); every convolution is followed by its own
``LeakyReLU`` layer named ``<conv>_lrelu``. Only built-in layers (the clip is ``ReLU(max_value=1)``), no ``Lambda``, so
``.keras`` files load with plain ``keras.saving.load_model``.

What the paper states, followed layer for layer:

* de-noising block: a 3x3 convolution that halves the feature maps, two more 3x3 convolutions,
  then a 3x3 convolution that combines the feature maps of the first and the last
  ("reuse the feature maps", ResNet style);
* kernel 3x3, ``same`` padding, stride 1 inside blocks; filters doubled at every level;
* downsampling by a stride-2 3x3 convolution (no max-pooling) that doubles the feature maps;
* upsampling by ``Conv2DTranspose``; same-level skips by concatenation, each followed by a 3x3
  convolution "to smooth and restore important information";
* ``LeakyReLU()`` after every convolution (Keras' default slope, 0.3, as the paper's bare
  ``LeakyReLU()`` call gives);
* the output depth reduced to the input's channel count, the input added (global residual
  learning), and ``Clip(0, 1)`` (Eq. 11; images are in [0, 1] in this package).

Choices where the paper is silent or ambiguous (Figure 2, which holds the exact structure, is
missing from the text):

* **Levels: 3** (28 -> 14 -> 7 on MNIST, 32 -> 16 -> 8 on CIFAR-10). Stride-2 ``same``
  convolutions take 7 to 4 and a transposed convolution 4 to 8, so a 4th MNIST level would need
  padding and cropping; three levels need neither, and we read "three de-noising blocks at each
  level according to the size of the images, e.g. 28x28x1" as three resolution levels. Height
  and width must be divisible by ``2 ** (levels - 1)``: the builder raises otherwise (no silent
  padding or cropping).
* **Blocks per level: 2** in the encoder and 2 in the decoder ("Two blocks are used in the
  encoding and decoding phase at each level"); the bottom level has 2 blocks (the bridge, named
  ``enc<levels>``).
* **Base filters: 32** (32, 64, 128 per level). The paper gives no width; 32 keeps each model
  near 1.2 M parameters (the shipped-model budget is tight) while every layer keeps >= 16 maps.
* **Halving** is relative to the level's width: at width ``F`` a block's convolutions 1-3 have
  ``F / 2`` filters and the combining convolution ``F``.
* **Combining** the first and last feature maps is a ``Concatenate`` followed by the 3x3
  convolution (``<block>_concat``, ``<block>_fuse``): "combines all the feature maps" keeps
  all of them, and the convolution learns the mix (an ``Add`` would fix it to a sum).
* The skip of encoder level ``l`` is taken after its blocks, before its downsampling
  convolution; the decoder at level ``l`` is ``dec<l>_up`` (``Conv2DTranspose``, 3x3, stride 2,
  ``F_l`` filters) -> ``dec<l>_concat`` -> ``dec<l>_smooth`` (3x3) -> blocks.
* The **output projection** ``out_conv`` (3x3 to the input's channels) is linear, the one
  exception to "LeakyReLU in each layer": it is the residual ``F(I')`` of Eq. 11, which must be
  free to take either sign (it subtracts the perturbation).
* No BatchNorm or Dropout (none is mentioned).

Sizes (``levels=3, base_filters=32``): ``crunet_mnist`` 1,232,753 parameters,
``crunet_cifar10`` 1,233,619; forward cost per image by :func:`keras_restore.profiling.count_flops`
0.369 GFLOP (MNIST) and 0.484 GFLOP (CIFAR-10).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.layers import output_clip
from keras_restore.models.restorers import _check_input_shape
from keras_restore.validation import check_positive_int

DEFAULT_LEVELS = 3
DEFAULT_BASE_FILTERS = 32
DEFAULT_BLOCKS = 2


def conv_lrelu(x, filters, name, *, strides=1):
    """3x3 ``same`` convolution ``name`` followed by ``LeakyReLU()`` ``name_lrelu``."""
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", name=name)(x)
    return layers.LeakyReLU(name=f"{name}_lrelu")(x)


def denoising_block(x, filters, name):
    """CRU-Net de-noising block: conv (``filters / 2``) -> conv -> conv, then the first and last
    feature maps concatenated and combined by a 3x3 convolution to ``filters`` maps."""
    first = conv_lrelu(x, filters // 2, f"{name}_conv1")
    y = conv_lrelu(first, filters // 2, f"{name}_conv2")
    y = conv_lrelu(y, filters // 2, f"{name}_conv3")
    y = layers.Concatenate(name=f"{name}_concat")([first, y])
    return conv_lrelu(y, filters, f"{name}_fuse")


def level_blocks(x, filters, blocks, name):
    for b in range(1, blocks + 1):
        x = denoising_block(x, filters, f"{name}_db{b}")
    return x


def up_block(x, skip, filters, name):
    """``Conv2DTranspose`` (stride 2), concatenation with the same-level skip, 3x3 smoothing conv."""
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", name=f"{name}_up")(x)
    x = layers.LeakyReLU(name=f"{name}_up_lrelu")(x)
    x = layers.Concatenate(name=f"{name}_concat")([x, skip])
    return conv_lrelu(x, filters, f"{name}_smooth")


def _check_crunet_args(input_shape, levels, base_filters, blocks):
    levels = check_positive_int(levels, "levels", minimum=2)
    base_filters = check_positive_int(base_filters, "base_filters", minimum=2)
    if base_filters % 2:
        raise ValueError(
            f"`base_filters` must be even (de-noising blocks halve it), got {base_filters}."
        )
    blocks = check_positive_int(blocks, "blocks", minimum=1)
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(
            f"`input_shape` must be (height, width, channels), got {input_shape!r}."
        ) from None
    if len(shape) != 3 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(
            f"`input_shape` must be (height, width, channels) of positive integers, got {input_shape!r}."
        )
    factor = 2 ** (levels - 1)
    if shape[0] % factor or shape[1] % factor:
        raise ValueError(
            f"`input_shape` height and width must be divisible by 2 ** (levels - 1) = {factor} "
            f"for `levels`={levels} (stride-2 downsampling, no padding), got {shape[:2]}."
        )
    return shape, levels, base_filters, blocks


def crunet(input_shape, *, levels=DEFAULT_LEVELS, base_filters=DEFAULT_BASE_FILTERS,
           blocks=DEFAULT_BLOCKS, name=None):
    """Build a CRU-Net (see the module docstring for the architecture and its choices).

    Args:
        input_shape: ``(height, width, channels)``; height and width divisible by
            ``2 ** (levels - 1)``.
        levels: resolution levels (>= 2), including the bottom one.
        base_filters: width of level 1 (even); level ``l`` has ``base_filters * 2 ** (l - 1)``.
        blocks: de-noising blocks per level in the encoder and in the decoder.
        name: model name (default ``"crunet"``).

    Returns:
        A ``keras.Model`` mapping ``(batch, h, w, c)`` images in [0, 1] to restored images in
        [0, 1] of the same shape.
    """
    shape, levels, base_filters, blocks = _check_crunet_args(input_shape, levels, base_filters, blocks)
    inputs = keras.Input(shape, name="adversarial")
    x = inputs
    skips = []
    for level in range(1, levels):
        filters = base_filters * 2 ** (level - 1)
        x = level_blocks(x, filters, blocks, f"enc{level}")
        skips.append(x)
        x = conv_lrelu(x, filters * 2, f"enc{level}_down", strides=2)
    x = level_blocks(x, base_filters * 2 ** (levels - 1), blocks, f"enc{levels}")
    for level in range(levels - 1, 0, -1):
        filters = base_filters * 2 ** (level - 1)
        x = up_block(x, skips[level - 1], filters, f"dec{level}")
        x = level_blocks(x, filters, blocks, f"dec{level}")
    residual = layers.Conv2D(shape[-1], 3, padding="same", name="out_conv")(x)
    x = layers.Add(name="out_residual")([inputs, residual])
    outputs = output_clip(x)
    return keras.Model(inputs, outputs, name=name or "crunet")


def crunet_mnist(input_shape=(28, 28, 1), *, levels=DEFAULT_LEVELS, base_filters=DEFAULT_BASE_FILTERS,
                 blocks=DEFAULT_BLOCKS, name="crunet_mnist"):
    """CRU-Net for 28x28x1 MNIST images (1,232,753 parameters with the defaults)."""
    shape = _check_input_shape(input_shape, (28, 28, 1), "crunet_mnist")
    return crunet(shape, levels=levels, base_filters=base_filters, blocks=blocks, name=name)


def crunet_cifar10(input_shape=(32, 32, 3), *, levels=DEFAULT_LEVELS, base_filters=DEFAULT_BASE_FILTERS,
                   blocks=DEFAULT_BLOCKS, name="crunet_cifar10"):
    """CRU-Net for 32x32x3 CIFAR-10 images (1,233,619 parameters with the defaults)."""
    shape = _check_input_shape(input_shape, (32, 32, 3), "crunet_cifar10")
    return crunet(shape, levels=levels, base_filters=base_filters, blocks=blocks, name=name)

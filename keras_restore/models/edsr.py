"""The reconstruction network of Zhang et al., "Adversarial example defense based on image
reconstruction" (papers/002, Sec. 3.2 and Fig. 4): an EDSR-style residual network (Lim et al. 2017,
"Enhanced deep residual networks for single image super-resolution") that restores an image whose
pixel depth was reduced to ``k`` levels.

What the paper states: the EDSR structure; ResNet-style skip connections ("chain-hopping"); ReLU;
3x3 filters; trained first at a low, then at a high up-sampling multiple, the second initialised
from the first. What it does not state, and what is chosen here (recorded in every result's
metadata through the builder's arguments):

* **depth and width**: EDSR's baseline model, 16 residual blocks of 64 filters (Lim et al. Sec. 3.2;
  their large model, 32 x 256, does not fit this CPU);
* **residual block**: EDSR's ``conv3x3 - ReLU - conv3x3`` with no BatchNorm (Lim et al. removed it:
  it normalises away the range flexibility an image-to-image network needs), the block output
  scaled by ``res_scale`` before the skip addition (EDSR baseline: 1.0; 0.1 only in the 256-filter
  model);
* **global skip**: the head convolution's features are added to the body's output (EDSR's long
  skip), then a 3x3 tail convolution maps back to the image's channels;
* **up-sampling**: the defense restores images of the input's own size (28x28 / 32x32), so there
  is no up-sampling stage (multiple 1). The paper's two-stage low-to-high multiple schedule has
  nothing to act on at multiple 1 and is not reproduced; ``keras_restore.training.Stages`` can run
  it if a multiple is added;
* **output**: clipped to [0, 1] with the built-in ``ReLU(max_value=1)`` (:func:`layers.output_clip`),
  as the package's other restorers, so the ``.keras`` file loads with plain Keras.

``edsr_restorer(input_shape=(28, 28, 1))`` has 1,219,841 parameters (4.9 MB in float32); on
32x32x3, 1,222,147.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.layers import output_clip
from keras_restore.validation import check_positive_int


def residual_block(x, filters: int, res_scale: float, name: str):
    """EDSR's block: ``x + res_scale * conv(relu(conv(x)))``, 3x3 convolutions, no BatchNorm."""
    y = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv1")(x)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    if res_scale != 1.0:
        y = layers.Rescaling(res_scale, name=f"{name}_scale")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def _check_edsr_args(input_shape, blocks, filters, res_scale):
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(f"`input_shape` must be (height, width, channels), got {input_shape!r}.") from None
    if len(shape) != 3 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(
            f"`input_shape` must be (height, width, channels) of positive integers, got {input_shape!r}."
        )
    blocks = check_positive_int(blocks, "blocks")
    filters = check_positive_int(filters, "filters")
    if isinstance(res_scale, bool) or not isinstance(res_scale, (int, float)) or not 0 < res_scale <= 1:
        raise ValueError(f"`res_scale` must be a number in (0, 1], got {res_scale!r}.")
    return shape, blocks, filters, float(res_scale)


def edsr_restorer(input_shape=(28, 28, 1), blocks: int = 16, filters: int = 64, res_scale: float = 1.0,
                  name: str = "edsr_restorer") -> keras.Model:
    """papers/002's reconstruction network (see the module docstring for every choice).

    Args:
        input_shape: ``(height, width, channels)`` of the images (and of the output).
        blocks: residual blocks (EDSR baseline: 16).
        filters: feature maps of every convolution but the tail (EDSR baseline: 64).
        res_scale: factor on each block's residual branch (EDSR baseline: 1.0).
        name: the model's name.

    Returns: a functional ``keras.Model`` mapping images in [0, 1] to images in [0, 1].
    """
    shape, blocks, filters, res_scale = _check_edsr_args(input_shape, blocks, filters, res_scale)
    inputs = keras.Input(shape, name="image")
    head = layers.Conv2D(filters, 3, padding="same", name="head_conv")(inputs)
    x = head
    for i in range(1, blocks + 1):
        x = residual_block(x, filters, res_scale, name=f"block{i}")
    x = layers.Conv2D(filters, 3, padding="same", name="body_conv")(x)
    x = layers.Add(name="global_skip")([head, x])
    x = layers.Conv2D(shape[-1], 3, padding="same", name="tail_conv")(x)
    return keras.Model(inputs, output_clip(x), name=name)

"""The generator of papers/003: Bana et al. 2021, "Robust Recovery of Adversarial Examples" (ICML 2021
workshop), an Attention U-Net with self- and cross-attention and PixelShuffle upsampling.

What the paper states (Sec. 5; its Fig. 1, "Generator Architecture", was lost in the text):

* the base generator is an **Attention U-Net** (Oktay et al. 2018, "Attention U-Net: Learning Where
  to Look for the Pancreas"): additive attention gates on the skip connections;
* a **single 3x3 convolution per stage** ("usually, 3-4 layers ... at every stage; we instead used a
  single convolutional layer with a kernel size of 3");
* **self-attention at the decoding layers** (it cites Yang et al. 2019; see below);
* **PixelShuffle rather than ConvTranspose** for upsampling, its output normalised by BatchNorm and
  passed through **PReLU**;
* the U-Net's output passes **a self-attention layer followed by a residual cross-attention
  connection**;
* **tanh** output (images on [-1, 1]);
* two output modes, **image** (the clean image) and **noise** (the negative perturbation, added to
  the adversarial input);
* **fewer parameters than VGG-13** (CIFAR-10).

Every choice the text leaves open, and ours (all built by :func:`attention_unet_generator`):

* **depth 4, base width 64**: stages of 64, 128, 256, 512 filters (``base_filters * 2 ** (l - 1)``
  at level ``l``), 32 -> 16 -> 8 -> 4 on CIFAR-10 (a 5th level would be 2x2). These are the classic
  U-Net / Attention U-Net widths, one level shallower than U-Net's five, and keep the network under
  VGG-13's size (counts below).
* **stage**: ``conv3x3 - BatchNorm - PReLU`` (``enc<l>_conv/_bn/_prelu``); PReLU everywhere (the
  paper motivates it in general terms; one activation throughout), BatchNorm after every
  convolution (the paper names BatchNorm after the PixelShuffle; Attention U-Net normalises every
  convolution). **BatchNorm momentum 0.9** (:data:`BN_MOMENTUM`), PyTorch's default: the paper's
  PixelShuffle / PReLU / MSELoss / CrossEntropyLoss are PyTorch names.
* **PReLU**: one slope per channel (``shared_axes=[1, 2]``), initialised to 0.25 as PyTorch's
  ``nn.PReLU`` (Keras' default, one slope per element initialised to 0, would make the parameter
  count depend on the image size and start as a plain ReLU).
* **downsampling** by ``MaxPooling2D(2)`` (U-Net's and Oktay's; the paper names no strided
  convolution).
* **decoder stage** ``l`` (coarse to fine): the coarser map (``F_{l+1} = 2 F_l`` channels) is
  **PixelShuffled** (block 2: ``F_l / 2`` channels at twice the resolution; parameter-free and
  lossless -- the previous stage's convolution plays the sub-pixel convolution of Shi et al. 2016,
  so the stage keeps its single 3x3 convolution) ``- BN - PReLU`` (``dec<l>_up_*``); the skip of
  encoder level ``l`` passes its **attention gate** with this upsampled map as the gating signal;
  gated skip and upsampled map are concatenated, ``conv3x3(F_l) - BN - PReLU``, then self-attention.
* **attention gate** (Oktay et al. Eq. 1-2, additive): ``alpha = sigmoid(psi(ReLU(W_x x + W_g g +
  b_g)) + b_psi)``, ``x * alpha``; ``W_x`` (no bias), ``W_g`` and ``psi`` are 1x1 convolutions, the
  intermediate width ``F_int = F_l / 2`` (Oktay's half of the skip's), one coefficient per pixel
  (broadcast over the skip's channels), no BatchNorm inside the gate (Oktay's formula has none).
  The gating signal is taken after upsampling, at the skip's resolution (the common 2D form; Oktay's
  3D gate resamples instead).
* **self-attention** is SAGAN's (Zhang et al. 2019, "Self-Attention Generative Adversarial
  Networks"), as our issue specifies: query and key 1x1 convolutions to ``max(1, C // 8)``
  channels, value 1x1 to ``C``, scores ``q_i . k_j`` (unscaled, as SAGAN), softmax over the
  positions ``j``, ``y = x + gamma * attention``, ``gamma`` initialised to 0 (identity at
  initialisation). The cited Yang et al. 2019 ("Convolutional self-attention networks") restrict
  attention to local windows for text; that locality is not reproduced (every position attends to
  every position: 1024 at 32x32). **Placement**: after every decoder stage's convolution; at the
  full-resolution stage ``dec1`` the paper's output self-attention (``out_sa``) is that stage's
  (two back-to-back self-attentions on the same map would be redundant), so every decoding
  resolution has exactly one.
* **gamma** is one value **per channel** (a zero-initialised 1x1 ``DepthwiseConv2D`` without bias),
  not SAGAN's single scalar: no built-in Keras layer holds one trainable scalar, and the per-channel
  gamma equals the scalar one at initialisation (0) and contains it.
* **cross-attention** (``cross_*``): attention between the output features and the input image,
  queries from the features after ``out_sa``, keys and values 1x1 convolutions of the (padded)
  input image itself; residual with a zero-initialised per-channel gamma, like the self-attention
  (``y = f + gamma * attend(q(f), k(image), v(image))``). It gives the last layers direct,
  position-matched access to the raw input pixels, which the encoder has transformed.
* **softmax in float32**: the attention softmax layers are pinned to ``dtype="float32"`` so the
  distribution over up to 1024 positions is not computed in bfloat16 under ``mixed_bfloat16``
  (no effect under float32).
* **output head**: ``out_conv`` (3x3 to the image's channels, linear) - ``out_tanh``; the package's
  images are in [0, 1], so the paper's [-1, 1] scale is mapped affinely with factor 0.5:
  ``mode="image"``: ``out_unit = 0.5 * tanh + 0.5`` (as :mod:`keras_restore.models.gan_denoiser`);
  ``mode="noise"``: ``out_noise = 0.5 * tanh`` (the paper's [-1, 1] negative noise in [0, 1]
  units, at most half the range), ``out_residual = input + noise``. Both end in the package's
  [0, 1] clip (:func:`keras_restore.models.layers.output_clip`). The output features are cropped
  back to the input's size before ``out_conv`` when the input was padded.
* **28x28 (MNIST) and other sizes**: the input is zero-padded symmetrically (``pad``) to the next
  multiple of ``2 ** (depth - 1)`` and the features cropped back (``crop``): 28x28 -> 32x32, so
  MNIST gets the same 4-level network as CIFAR-10 (zero padding is MNIST's own background, as
  LeNet-5's 32x32 input). Height and width must be at least ``2 ** depth`` (the bottom level at
  least 2x2).

**Built-in layers only.** Shipped ``.keras`` files of this package load with plain
``keras.saving.load_model`` (safe mode) in a process that never imported it
(``tests/models/test_shipped_plain_keras.py`` asserts no ``keras_restore`` layer in any shipped
file), so there are no custom layers here: PixelShuffle (exactly ``tf.nn.depth_to_space``, block 2)
is ``Reshape - Permute - Reshape``; attention is ``Conv2D`` (1x1) / ``Reshape`` / ``Dot`` /
``Softmax`` / ``Dot`` / ``Reshape`` / ``DepthwiseConv2D`` (gamma) / ``Add``; the gate's broadcast is
``Multiply``. No ``Lambda`` layers.

Parameters (``base_filters=64, depth=4``, Keras ``count_params``, BatchNorm moving statistics
included): 2,896,894 on 32x32x3 (2,893,630 trainable) and 2,894,444 on 28x28x1 (2,891,180
trainable), the same in both modes.
VGG-13 on CIFAR-10 (the standard CIFAR VGG13: ten 3x3 conv layers 64-64-128-128-256-256-512-512-
512-512, each with BatchNorm, five max-pools, one 512 -> 10 linear layer): 9,416,010 trainable
parameters (9,404,992 conv + 5,888 BatchNorm + 5,130 linear; PyTorch's ``parameters()`` count),
9,421,898 with the BatchNorm running statistics: ours is 31% of it. Forward cost per image: 0.512 GFLOP
in convolutions by :func:`keras_restore.profiling.count_flops` (0.507 on 28x28x1; it counts Conv2D / Dense
layers only), plus 0.323 GFLOP in the attention products (``Dot`` layers, ``2 N^2 (d + C)`` each; 0.302
of it in ``out_sa`` and ``cross`` at 32x32, N = 1024), the same for both sizes (28x28 runs padded).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.layers import output_clip
from keras_restore.validation import check_choice, check_image_shape, check_positive_int

MODES = ("image", "noise")
DEFAULT_BASE_FILTERS = 64
DEFAULT_DEPTH = 4
# PyTorch's BatchNorm update (moving = 0.9 moving + 0.1 batch), the paper's framework.
BN_MOMENTUM = 0.9
# PyTorch's nn.PReLU initial slope.
PRELU_INIT = 0.25
# SAGAN's query/key width: C // 8.
QK_REDUCTION = 8


def _check_args(input_shape, mode, base_filters, depth):
    mode = check_choice(mode, "mode", MODES)
    shape = check_image_shape(input_shape, "input_shape")
    base_filters = check_positive_int(base_filters, "base_filters", minimum=2)
    if base_filters % 2:
        raise ValueError(f"`base_filters` must be even (PixelShuffle turns 2 * base_filters maps into "
                         f"base_filters / 2), got {base_filters}.")
    depth = check_positive_int(depth, "depth", minimum=2)
    smallest = 2 ** depth
    if shape[0] < smallest or shape[1] < smallest:
        raise ValueError(f"`input_shape` height and width must be >= 2 ** depth = {smallest} for `depth`={depth} "
                         f"(the bottom level at least 2x2), got {shape[:2]}.")
    return shape, mode, base_filters, depth


def conv_bn_prelu(x, filters: int, name: str):
    """One U-Net stage: ``conv3x3(filters) - BatchNorm - PReLU`` (``name_conv/_bn/_prelu``)."""
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    return bn_prelu(x, name)


def bn_prelu(x, name: str):
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.PReLU(alpha_initializer=keras.initializers.Constant(PRELU_INIT), shared_axes=[1, 2],
                        name=f"{name}_prelu")(x)


def pixel_shuffle(x, name: str, block: int = 2):
    """``tf.nn.depth_to_space(x, block)`` from built-in layers: ``(H, W, r*r*C) -> (rH, rW, C)``,
    ``out[r*h + i, r*w + j, c] = in[h, w, (r*i + j)*C + c]``."""
    h, w, c = x.shape[1:]
    if c % (block * block):
        raise ValueError(f"PixelShuffle `{name}` needs channels divisible by {block * block}, got {c}.")
    out_c = c // (block * block)
    x = layers.Reshape((h, w, block, block, out_c), name=f"{name}_split")(x)      # (h, w, i, j, c)
    x = layers.Permute((1, 3, 2, 4, 5), name=f"{name}_permute")(x)                # (h, i, w, j, c)
    return layers.Reshape((h * block, w * block, out_c), name=f"{name}_merge")(x)


def attention_gate(x, g, inter: int, name: str):
    """Oktay et al.'s additive gate: ``x * sigmoid(psi(ReLU(W_x x + W_g g + b_g)) + b_psi)``, ``x`` the
    skip, ``g`` the gating signal at the same resolution, one coefficient per pixel."""
    theta = layers.Conv2D(inter, 1, use_bias=False, name=f"{name}_x")(x)
    phi = layers.Conv2D(inter, 1, name=f"{name}_g")(g)
    a = layers.Add(name=f"{name}_add")([theta, phi])
    a = layers.ReLU(name=f"{name}_relu")(a)
    a = layers.Conv2D(1, 1, name=f"{name}_psi")(a)
    a = layers.Activation("sigmoid", name=f"{name}_sigmoid")(a)
    return layers.Multiply(name=f"{name}_mul")([x, a])


def attention(x, context, name: str):
    """SAGAN attention of ``x``'s positions over ``context``'s, residual with a zero-initialised
    per-channel gamma: ``x + gamma * softmax(q(x) k(context)^T) v(context)``. ``context=x`` is
    self-attention; ``context`` must have ``x``'s height and width."""
    h, w, c = x.shape[1:]
    n, d = h * w, max(1, c // QK_REDUCTION)
    q = layers.Conv2D(d, 1, name=f"{name}_query")(x)
    k = layers.Conv2D(d, 1, name=f"{name}_key")(context)
    v = layers.Conv2D(c, 1, name=f"{name}_value")(context)
    q = layers.Reshape((n, d), name=f"{name}_query_flat")(q)
    k = layers.Reshape((n, d), name=f"{name}_key_flat")(k)
    v = layers.Reshape((n, c), name=f"{name}_value_flat")(v)
    scores = layers.Dot(axes=2, name=f"{name}_scores")([q, k])                    # (n, n)
    weights = layers.Softmax(axis=-1, dtype="float32", name=f"{name}_softmax")(scores)
    y = layers.Dot(axes=(2, 1), name=f"{name}_attend")([weights, v])               # (n, c)
    y = layers.Reshape((h, w, c), name=f"{name}_unflat")(y)
    y = layers.DepthwiseConv2D(1, use_bias=False, depthwise_initializer="zeros", name=f"{name}_gamma")(y)
    return layers.Add(name=f"{name}_residual")([x, y])


def self_attention(x, name: str):
    return attention(x, x, name)


def decoder_stage(x, skip, filters: int, level: int, *, attend: bool):
    """Decoder stage ``level``: PixelShuffle - BN - PReLU, gated skip, concat, conv3x3 - BN - PReLU,
    then (``attend``) self-attention."""
    name = f"dec{level}"
    up = pixel_shuffle(x, f"{name}_shuffle")
    up = bn_prelu(up, f"{name}_up")
    gated = attention_gate(skip, up, max(1, filters // 2), f"{name}_gate")
    x = layers.Concatenate(name=f"{name}_concat")([gated, up])
    x = conv_bn_prelu(x, filters, name)
    return self_attention(x, f"{name}_sa") if attend else x


def attention_unet_generator(input_shape=(32, 32, 3), mode: str = "image", base_filters: int = DEFAULT_BASE_FILTERS,
                             depth: int = DEFAULT_DEPTH, name: str | None = None) -> keras.Model:
    """papers/003's generator (Bana et al. 2021; every choice in the module docstring).

    Args:
        input_shape: ``(height, width, channels)``, height and width >= ``2 ** depth``; padded to a
            multiple of ``2 ** (depth - 1)`` inside (28x28 -> 32x32) and cropped back.
        mode: ``"image"`` (the output is the restored image) or ``"noise"`` (the network predicts the
            negative perturbation; the output is ``clip(input + noise, 0, 1)``).
        base_filters: width of level 1 (even); level ``l`` has ``base_filters * 2 ** (l - 1)``.
        depth: resolution levels (>= 2), the bottom one included.
        name: the model's name (default ``"attention_unet_<mode>"``).

    Returns: a functional ``keras.Model`` of built-in layers mapping images in [0, 1] to images in
        [0, 1] of the same shape.
    """
    shape, mode, base_filters, depth = _check_args(input_shape, mode, base_filters, depth)
    inputs = keras.Input(shape, name="image")
    multiple = 2 ** (depth - 1)
    pads = [(-size) % multiple for size in shape[:2]]
    crops = tuple((p // 2, p - p // 2) for p in pads)
    x = image = layers.ZeroPadding2D(crops, name="pad")(inputs) if any(pads) else inputs

    skips = []
    for level in range(1, depth + 1):
        x = conv_bn_prelu(x, base_filters * 2 ** (level - 1), f"enc{level}")
        if level < depth:
            skips.append(x)
            x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    for level in range(depth - 1, 0, -1):
        x = decoder_stage(x, skips[level - 1], base_filters * 2 ** (level - 1), level, attend=level > 1)
    x = self_attention(x, "out_sa")
    x = attention(x, image, "cross")
    if any(pads):
        x = layers.Cropping2D(crops, name="crop")(x)

    x = layers.Conv2D(shape[-1], 3, padding="same", name="out_conv")(x)
    x = layers.Activation("tanh", name="out_tanh")(x)
    if mode == "image":
        x = layers.Rescaling(0.5, offset=0.5, name="out_unit")(x)      # [-1, 1] -> [0, 1]
    else:
        x = layers.Rescaling(0.5, name="out_noise")(x)                 # [-1, 1] units -> [0, 1] units
        x = layers.Add(name="out_residual")([inputs, x])
    return keras.Model(inputs, output_clip(x), name=name or f"attention_unet_{mode}")

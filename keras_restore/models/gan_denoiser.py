"""The GAN denoiser of papers/004 ("a novel defense network based on generative adversarial network",
repair / recovery / isomorphic losses): its generator and discriminator.

The paper's text lost its architecture figure (Fig. 2 and the "Algorithm structure" section are
empty in ``../shared/papers/004_…``). What it states: a generator that maps an adversarial (or a
clean) image to a denoised image, "convolution and deconvolution operations" and "the full
connection operation" (about 1.5 GFLOP in all, at ImageNet's 128x128), and a discriminator that
tells clean images from denoised ones. It names APE-GAN (Jin et al. 2019) as "the origin of our
motivation". Every layer below is therefore chosen from APE-GAN (Jin, Shen, Zhou, Chen & Wu 2019,
"APE-GAN: Adversarial Perturbation Elimination with GAN", ICASSP; their MNIST networks), and each
choice is ours where that paper is silent:

Generator (:func:`gan_denoiser_generator`), one builder for 28x28x1 and 32x32x3:

* **encoder**: APE-GAN's ``conv(64, 3x3, stride 2) - BN - ReLU - conv(128, 3x3, stride 2) - BN -
  ReLU`` (28 -> 14 -> 7; 32 -> 16 -> 8), ``same`` padding (ours: so both image sizes halve
  exactly; APE-GAN prints no padding);
* **decoder**: ``deconv(64, 3x3, stride 2) - BN - ReLU - deconv(channels, 3x3, stride 2) - tanh``
  (7 -> 14 -> 28; 8 -> 16 -> 32), transposed convolutions with ``same`` padding;
* **no skip connection** and an image (not a noise) output, as APE-GAN;
* **BatchNorm momentum 0.9** (:data:`BN_MOMENTUM`): PyTorch's default update, the paper's framework;
* **output range**: APE-GAN's tanh targets images scaled to [-1, 1]; the package's images are in
  [0, 1], so the tanh is mapped affinely, ``0.5 * tanh + 0.5`` (a built-in ``Rescaling``), then the
  package's [0, 1] clip (:func:`keras_restore.models.layers.output_clip`, a no-op on that range,
  kept so every restorer ends in the same layer) -- the ``.keras`` file holds built-in layers only
  and loads with plain Keras;
* **the same network on CIFAR-10** (only the channels change): APE-GAN uses one generator shape for
  MNIST and CIFAR-10; the pix2pix / Defense-GAN generators are sized for 64x64+ images.

Discriminator (:func:`gan_denoiser_discriminator`), APE-GAN's:

* ``conv(64, 3x3, s2) - LeakyReLU(0.2) - conv(128, 3x3, s2) - BN - LeakyReLU - conv(256, 3x3, s2) -
  BN - LeakyReLU - Flatten - Dense(1)`` (the paper's "full connection"), ``same`` padding (28 -> 14
  -> 7 -> 4; 32 -> 16 -> 8 -> 4);
* **no sigmoid**: the score is a logit (the GAN loss is binary cross-entropy on logits,
  :class:`keras_restore.training.gan.GANRestorer` with ``adversarial="bce"``); APE-GAN's sigmoid +
  BCE is the same loss, computed stably.

Parameters: generator 149,889 on 28x28x1 (152,195 on 32x32x3); discriminator 375,297 on 28x28x1
(376,449 on 32x32x3; both end at 4x4x256 before the Dense).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.models.layers import output_clip
from keras_restore.validation import check_image_shape, check_positive_int

LEAKY_SLOPE = 0.2
# PyTorch's BatchNorm update (moving = 0.9 moving + 0.1 batch; the paper's code "runs under the PyTorch
# deep learning framework", as APE-GAN's public re-implementation does); Keras' default 0.99 leaves the
# moving statistics near their initial values after a short run (measured: validation MSE 0.21 after
# 19 steps, the MSE of a constant grey image).
BN_MOMENTUM = 0.9


def _check_shape(input_shape) -> tuple:
    return check_image_shape(input_shape, "input_shape")


def _check_filters(filters, what: str, n: int | None = None) -> tuple:
    try:
        filters = tuple(filters)
    except TypeError:
        raise ValueError(f"`{what}` must be a sequence of positive ints, got {filters!r}.") from None
    if not filters or (n is not None and len(filters) != n):
        count = n if n is not None else "at least one"
        raise ValueError(f"`{what}` must give {count} block width(s), got {filters!r}.")
    for f in filters:
        check_positive_int(f, what)
    return filters


def enc_block(x, filters: int, kernel: int, name: str):
    """``conv(filters, kernel, stride 2) - BN - ReLU`` (APE-GAN's encoder step)."""
    x = layers.Conv2D(filters, kernel, strides=2, padding="same", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def dec_block(x, filters: int, kernel: int, name: str):
    """``deconv(filters, kernel, stride 2) - BN - ReLU`` (APE-GAN's decoder step)."""
    x = layers.Conv2DTranspose(filters, kernel, strides=2, padding="same", name=f"{name}_deconv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def disc_block(x, filters: int, kernel: int, name: str, *, bn: bool = True):
    """``conv(filters, kernel, stride 2) [- BN] - LeakyReLU(0.2)`` (APE-GAN's discriminator step)."""
    x = layers.Conv2D(filters, kernel, strides=2, padding="same", name=f"{name}_conv")(x)
    if bn:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.LeakyReLU(LEAKY_SLOPE, name=f"{name}_lrelu")(x)


def gan_denoiser_generator(input_shape=(28, 28, 1), filters=(64, 128), kernel: int = 3,
                           name: str = "gan_denoiser") -> keras.Model:
    """papers/004's generator (APE-GAN's; every choice in the module docstring).

    Args:
        input_shape: ``(height, width, channels)``; height and width divisible by 4 (two stride-2
            steps down and back up restore the size exactly): 28x28x1, 32x32x3.
        filters: widths of the two encoder blocks ``(64, 128)``; the first decoder block has
            ``filters[0]``, the last the image's channels.
        kernel: every (de)convolution's kernel size (APE-GAN: 3).
        name: the model's name.

    Returns: a functional ``keras.Model`` mapping images in [0, 1] to images in [0, 1].
    """
    shape = _check_shape(input_shape)
    if shape[0] % 4 or shape[1] % 4:
        raise ValueError(f"`input_shape` height and width must be divisible by 4 (two stride-2 steps), got {shape!r}.")
    filters = _check_filters(filters, "filters", n=2)
    kernel = check_positive_int(kernel, "kernel")
    inputs = keras.Input(shape, name="image")
    x = enc_block(inputs, filters[0], kernel, "enc1")
    x = enc_block(x, filters[1], kernel, "enc2")
    x = dec_block(x, filters[0], kernel, "dec1")
    x = layers.Conv2DTranspose(shape[-1], kernel, strides=2, padding="same", name="out_deconv")(x)
    x = layers.Activation("tanh", name="out_tanh")(x)
    x = layers.Rescaling(0.5, offset=0.5, name="out_unit")(x)   # [-1, 1] -> [0, 1]
    return keras.Model(inputs, output_clip(x), name=name)


def gan_denoiser_discriminator(input_shape=(28, 28, 1), filters=(64, 128, 256), kernel: int = 3,
                               name: str = "gan_denoiser_discriminator") -> keras.Model:
    """papers/004's discriminator (APE-GAN's): stride-2 conv blocks (BatchNorm after the first),
    then ``Flatten - Dense(1)``: one real/fake logit per image."""
    shape = _check_shape(input_shape)
    filters = _check_filters(filters, "filters")
    kernel = check_positive_int(kernel, "kernel")
    inputs = keras.Input(shape, name="image")
    x = inputs
    for i, f in enumerate(filters, start=1):
        x = disc_block(x, f, kernel, f"d{i}", bn=i > 1)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(1, name="logit")(x)
    return keras.Model(inputs, outputs, name=name)

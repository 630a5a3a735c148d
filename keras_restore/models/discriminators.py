"""Discriminators for GAN-trained restorers (papers/003, papers/004, APE-GAN).

:func:`patch_discriminator` is the pix2pix PatchGAN (Isola et al. 2017, Sec. 3.2.2) as used by
APE-GAN (Jin et al. 2019) on small images: strided 4x4 convolutions with LeakyReLU(0.2) and
BatchNorm after the first, ending in a 1-channel map of real/fake logits (one per patch), no
sigmoid (the GAN losses take logits or, for LSGAN, raw scores). :func:`build_discriminator` builds one
by the name a GAN recipe gives (``"patch"``, or ``"gan_denoiser"``: APE-GAN's for papers/004,
:mod:`keras_restore.models.gan_denoiser`).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.validation import check_positive_int


def disc_block(x, filters: int, name: str, *, strides: int = 2, bn: bool = True):
    x = layers.Conv2D(filters, 4, strides=strides, padding="same", name=f"{name}_conv")(x)
    if bn:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


def patch_discriminator(input_shape=(28, 28, 1), filters=(64, 128), name: str = "patch_discriminator"):
    """PatchGAN: ``len(filters)`` stride-2 blocks then a 1-channel 4x4 convolution (patch logits)."""
    if len(input_shape) != 3 or any(not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"`input_shape` must be (height, width, channels) of positive ints, got {input_shape!r}.")
    if not filters:
        raise ValueError("`filters` must name at least one block's width.")
    for f in filters:
        check_positive_int(f, "filters")
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for i, f in enumerate(filters, start=1):
        x = disc_block(x, f, f"d{i}", bn=i > 1)
    outputs = layers.Conv2D(1, 4, padding="same", name="patch_logits")(x)
    return keras.Model(inputs, outputs, name=name)


def discriminator_builders() -> dict:
    """Discriminators a GAN recipe can name (``GAN.discriminator``): name -> ``builder(input_shape)``."""
    from keras_restore.models.gan_denoiser import gan_denoiser_discriminator

    return {"patch": patch_discriminator, "gan_denoiser": gan_denoiser_discriminator}


def build_discriminator(name: str, input_shape) -> keras.Model:
    """The discriminator ``name`` (:func:`discriminator_builders`) for images of ``input_shape``."""
    builders = discriminator_builders()
    if name not in builders:
        raise ValueError(f"Unknown discriminator {name!r}; expected one of: {', '.join(builders)}.")
    return builders[name](tuple(input_shape))

"""Defense-GAN (Samangouei, Kabkab & Chellappa, "Defense-GAN: Protecting Classifiers Against
Adversarial Attacks Using Generative Models", ICLR 2018): its MNIST generator and critic.

Defense-GAN trains a WGAN-GP (Gulrajani et al. 2017) on clean images and, at test time, replaces
an image by the closest image its generator can make (:mod:`keras_restore.defenses.defense_gan`).
The networks below follow the authors' code (github.com/kabkabm/defensegan,
``models/dataset_models.py``: ``mnist_generator`` / ``mnist_discriminator``, which are Gulrajani
et al.'s ``gan_mnist.py`` networks) with its MNIST configuration (``experiments/cfgs/gans/
default.yml`` + ``mnist.yml``: ``LATENT_DIM 128``, ``NET_DIM 64``, ``USE_BN False``, mode
``wgan-gp``). Every choice, and where it comes from:

Generator (:func:`defense_gan_generator`), ``z`` (128-d) -> image:

* ``Dense(4 * 4 * 4 * width)`` - ReLU - reshape to ``4 x 4 x 4 width`` (their ``Generator.Input``);
* ``Conv2DTranspose(2 width, 5x5, stride 2, same)`` - ReLU: 4 -> 8 (``Generator.2``); on 28x28
  images the 8x8 map is cropped to its top-left 7x7 (their ``output[:, :7, :7, :]``, here a
  built-in ``Cropping2D((0, 1), (0, 1))``);
* ``Conv2DTranspose(width, 5x5, s2, same)`` - ReLU: 7 -> 14 (8 -> 16) (``Generator.3``);
* ``Conv2DTranspose(channels, 5x5, s2, same)`` - sigmoid: 14 -> 28 (16 -> 32) (``Generator.5``).
  The sigmoid gives [0, 1] images, the package's range and theirs for MNIST (``input_transform``:
  ``x / 255``), so no rescaling and no extra clip layer are needed;
* **no BatchNorm by default**: their MNIST config sets ``USE_BN: False`` (the class default
  ``use_bn = True`` is overridden by ``default.yml``), and the WGAN-GP MNIST generator of
  Gulrajani et al. has none either. ``batch_norm=True`` puts one after the Dense and after the
  first two transposed convolutions, where their ``use_bn`` branch does (momentum 0.9, our choice);
* ``width`` 64 (their ``NET_DIM``);
* **32x32 images** (CIFAR-10): the same network without the crop (4 -> 8 -> 16 -> 32), i.e.
  Gulrajani et al.'s ``gan_cifar.py`` layout with width 64 instead of its 128 and without its
  BatchNorm (our choice: one builder for both sizes; Defense-GAN itself reports no CIFAR-10 GAN);
* Keras' default initialisers (glorot-uniform kernels, zero biases); their ``tflib`` uses a
  He-style uniform initialisation -- ours, to keep the layers built-in and plain.

Critic (:func:`defense_gan_critic`), image -> one unbounded score (WGAN critic, no sigmoid):

* three ``Conv2D(5x5, stride 2, same)`` - ``LeakyReLU(0.2)`` blocks of ``width``, ``2 width``,
  ``4 width`` filters (28 -> 14 -> 7 -> 4; 32 -> 16 -> 8 -> 4), ``Flatten``, ``Dense(1)`` (their
  ``mnist_discriminator``; ``tflib``'s convolutions pad ``SAME``);
* **no BatchNorm**: WGAN-GP's gradient penalty is per example, which batch statistics break
  (Gulrajani et al. 2017, Sec. 4), and ``USE_BN: False`` in their config;
* ``width`` 64: ``MnistDefenseGAN`` passes ``NET_DIM`` (64) to the discriminator too (the
  function's own default of 128 is not used).

Parameters (``width=64``, no BatchNorm):

* generator, 28x28x1: 528,384 (Dense) + 819,328 + 204,864 + 1,601 (transposed convolutions)
  = **1,554,177**; 32x32x3: the last layer has 4,803, **1,557,379** in all;
* critic, 28x28x1: 1,664 + 204,928 + 819,456 (convolutions) + 4,097 (Dense) = **1,030,145**;
  32x32x3: the first convolution has 4,864, **1,033,345** in all.

Both files hold built-in Keras layers only (they load with plain Keras).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_restore.validation import check_image_shape, check_positive_int

LATENT_DIM = 128          # their LATENT_DIM
WIDTH = 64                # their NET_DIM
KERNEL = 5                # every (transposed) convolution of their MNIST networks
LEAKY_SLOPE = 0.2         # their LeakyReLU(x, alpha=0.2)
BN_MOMENTUM = 0.9         # only with batch_norm=True (our choice)
SIZES = (28, 32)          # image heights/widths the builders support


def _check_image_shape(image_shape) -> tuple:
    shape = check_image_shape(image_shape, "image_shape")
    if shape[0] != shape[1] or shape[0] not in SIZES:
        raise ValueError(f"`image_shape` must be square with side 28 (MNIST, Fashion-MNIST) or 32 (CIFAR-10), "
                         f"got {shape!r}.")
    return shape


def defense_gan_generator(latent_dim: int = LATENT_DIM, image_shape=(28, 28, 1), *, width: int = WIDTH,
                          batch_norm: bool = False, name: str = "defense_gan_generator") -> keras.Model:
    """Defense-GAN's MNIST WGAN-GP generator (every choice in the module docstring).

    Args:
        latent_dim: size of ``z`` (their 128).
        image_shape: ``(28, 28, channels)`` or ``(32, 32, channels)``.
        width: ``NET_DIM`` (64): the last hidden map has ``width`` channels, the first ``4 width``.
        batch_norm: BatchNorm after the Dense and the first two transposed convolutions (their
            ``use_bn`` branch; off in their MNIST config, so off by default).
        name: the model's name.

    Returns: a functional ``keras.Model`` from ``(batch, latent_dim)`` to images in [0, 1].
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    shape = _check_image_shape(image_shape)
    width = check_positive_int(width, "width")
    if not isinstance(batch_norm, bool):
        raise ValueError(f"`batch_norm` must be True or False, got {batch_norm!r}.")

    def norm(x, tag):
        return layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{tag}_bn")(x) if batch_norm else x

    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(4 * 4 * 4 * width, name="fc")(z)
    x = layers.ReLU(name="fc_relu")(norm(x, "fc"))
    x = layers.Reshape((4, 4, 4 * width), name="fc_reshape")(x)
    x = layers.Conv2DTranspose(2 * width, KERNEL, strides=2, padding="same", name="deconv1")(x)
    x = layers.ReLU(name="deconv1_relu")(norm(x, "deconv1"))
    if shape[0] == 28:
        x = layers.Cropping2D(((0, 1), (0, 1)), name="crop7")(x)        # 8x8 -> 7x7, their [:, :7, :7, :]
    x = layers.Conv2DTranspose(width, KERNEL, strides=2, padding="same", name="deconv2")(x)
    x = layers.ReLU(name="deconv2_relu")(norm(x, "deconv2"))
    x = layers.Conv2DTranspose(shape[-1], KERNEL, strides=2, padding="same", name="deconv3")(x)
    out = layers.Activation("sigmoid", name="out_sigmoid")(x)
    return keras.Model(z, out, name=name)


def defense_gan_critic(image_shape=(28, 28, 1), *, width: int = WIDTH, name: str = "defense_gan_critic") -> keras.Model:
    """Defense-GAN's MNIST WGAN-GP critic: three stride-2 ``5x5`` convolutions with LeakyReLU(0.2),
    no BatchNorm, then ``Flatten - Dense(1)``: one unbounded score per image.

    Args:
        image_shape: ``(28, 28, channels)`` or ``(32, 32, channels)``.
        width: filters of the first convolution (their ``NET_DIM``, 64); then ``2 width``, ``4 width``.
        name: the model's name.
    """
    shape = _check_image_shape(image_shape)
    width = check_positive_int(width, "width")
    inputs = keras.Input(shape, name="image")
    x = inputs
    for i, filters in enumerate((width, 2 * width, 4 * width), start=1):
        x = layers.Conv2D(filters, KERNEL, strides=2, padding="same", name=f"conv{i}")(x)
        x = layers.LeakyReLU(LEAKY_SLOPE, name=f"conv{i}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    score = layers.Dense(1, name="critic_score")(x)
    return keras.Model(inputs, score, name=name)

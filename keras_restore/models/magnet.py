"""MagNet's autoencoders (Meng & Chen 2017, "MagNet: a two-pronged defense against adversarial
examples", CCS): the MNIST detector networks and reformer, and the CIFAR-10 reformer.

MagNet puts autoencoders trained on clean images only in front of a classifier. A *detector* rejects
an input whose reconstruction error is high (it lies off the manifold of clean images). The
*reformer* replaces the input by its reconstruction, moving it back to that manifold.
:mod:`keras_restore.defenses.magnet` holds the detector logic and the defense. For MNIST, MagNet uses
two autoencoders (their Table 1 and their public code, ``defensive_models.py`` /
``train_defense.py``):

* **detector I, also the reformer** (:func:`magnet_mnist_reformer`, the structure ``[3, "average", 3]``
  of their code): ``Conv3x3(3) - AvgPool2 - Conv3x3(3) - Conv3x3(3) - Upsample2 - Conv3x3(3) -
  Conv3x3(1)``: 310 parameters;
* **detector II** (:func:`magnet_mnist_detector2`, structure ``[3]``): ``Conv3x3(3) - Conv3x3(3) -
  Conv3x3(1)``: 142 parameters.

Choices, each as MagNet's code makes it:

* every convolution is 3x3, ``padding="same"``, with a **sigmoid** activation (``activation =
  "sigmoid"`` in ``train_defense.py``), the last one too. The output is therefore in (0, 1) already,
  and no [0, 1] clip is added (MagNet's reformer clips its output anyway, which is a no-op after a
  sigmoid);
* 2x2 **average** pooling with ``padding="same"`` (28 -> 14), and 2x2 nearest-neighbour
  ``UpSampling2D`` (14 -> 28);
* an L2 **activity** regulariser of weight ``reg_strength = 1e-9`` on the output of every
  convolution (``activity_regularizer=regs.l2(reg_strength)``). Keras 3 divides an activity penalty
  by the batch size. We assume the Keras 2.0 that MagNet used did not (not checked), so the
  effective penalty here may be up to a batch size (256) weaker. On the shipped models the
  penalty is ~3e-6 per batch of 256, 0.05-0.07% of their reconstruction MSE (3.5-5.5e-3). Undivided,
  it would be 13-18% of the MSE;
* no BatchNorm, no dropout, no skip connection.

Training (MagNet's code; see ``reproduce/baseline_magnet.py`` for the epochs we run):
``(clip(x + 0.1 * N(0, 1), 0, 1), x)`` pairs on clean training images (noise "volume" ``v_noise =
0.1``, drawn once), mean squared error, Adam at Keras' default learning rate 1e-3, batch 256, 100
epochs. MagNet holds out the first 5,000 training images as validation data, which also set the
detectors' thresholds.

Layer names: ``enc1_conv``, ``enc_pool``, ``enc2_conv``, ``dec1_conv``, ``dec_up``, ``dec2_conv``,
``out_conv`` (detector II: ``enc1_conv``, ``dec1_conv``, ``out_conv``).

**CIFAR-10** (:func:`magnet_cifar10_reformer`; papers/000 Table 9's "Mag-Net" column). MagNet uses one
autoencoder layout for every CIFAR-10 device (their Table 2, "Detectors & Reformer"): ``Conv3x3(96,
sigmoid) - Conv3x3(96, sigmoid) - Conv3x3(3, sigmoid)``, i.e. their code's ``DenoisingAutoEncoder`` with
the structure ``[96]`` (one encoder convolution, its mirror in the decoder, then the output
convolution): detector II's layout at 96 filters, with no pooling. The layout is MagNet's Table 2 as
cited by issue 17; the paper itself is not in ``../shared/papers``, so neither it nor its CIFAR-10
training settings are checked against the text. Their public code (github.com/Trevillie/MagNet) ships
the MNIST setup only; the CIFAR-10 training settings are those of a public re-run of that code on
CIFAR-10 (the RsNet authors' ``train_defense.py``: ``v_noise = 0.025``, 400 epochs, the same sigmoid
activation and ``reg_strength``; it builds the same three-convolution layout at 3 filters, ``[3]``;
we keep Table 2's 96). Choices:

* 3x3 ``padding="same"`` convolutions with a sigmoid on every one, the last one too (output in (0, 1),
  no clip layer), L2 activity penalty ``reg_strength = 1e-9`` on each output, no BatchNorm, no
  dropout, no skip connection -- as the MNIST networks;
* 96 filters in both hidden layers (their Table 2); 88,323 parameters on 32x32x3;
* trained on ``(clip(x + 0.025 * N(0, 1), 0, 1), x)`` pairs of clean training images (noise
  volume :data:`NOISE_VOLUME_CIFAR10`, drawn once), MSE, Adam 1e-3, batch 256
  (:class:`keras_restore.training.recipes.MagNetDenoising` with ``noise_volume=0.025``); MagNet: 400
  epochs, here the table's restorer epochs (``keras_restore.pipeline.tables.TABLE9``);
* **reformer only**: MagNet's CIFAR-10 detectors (this autoencoder's reconstruction error, and the
  Jensen-Shannon divergence of the classifier's softmax at temperatures 10 and 40 on its input and
  reconstruction) are not built: papers/000 Table 9 compares success rates of the defended classifier,
  which the reformer alone determines.

Layer names: ``enc1_conv``, ``dec1_conv``, ``out_conv`` (as detector II).
"""

from __future__ import annotations

import keras
from keras import layers

REG_STRENGTH = 1e-9     # MagNet's train_defense.py: reg_strength
NOISE_VOLUME = 0.1      # MagNet's train_defense.py: v_noise
NOISE_VOLUME_CIFAR10 = 0.025   # MagNet's CIFAR-10 v_noise (see the module docstring)
CIFAR10_FILTERS = 96    # MagNet Table 2: Conv.Sigmoid 3x3x96 (both hidden layers)


def _check_shape(input_shape, builder):
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(f"`input_shape` of {builder} must be (height, width, channels), "
                         f"got {input_shape!r}.") from None
    if len(shape) != 3 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(f"`input_shape` of {builder} must be (height, width, channels) of positive integers, "
                         f"got {input_shape!r}.")
    return shape


def _check_reg(reg_strength):
    if isinstance(reg_strength, bool) or not isinstance(reg_strength, (int, float)) or not reg_strength >= 0:
        raise ValueError(f"`reg_strength` must be a number >= 0, got {reg_strength!r}.")
    return float(reg_strength)


def sigmoid_conv(x, filters: int, name: str, reg_strength: float):
    """MagNet's one layer type: 3x3 SAME convolution, sigmoid, L2 activity penalty on its output."""
    return layers.Conv2D(filters, 3, padding="same", activation="sigmoid",
                         activity_regularizer=keras.regularizers.L2(reg_strength) if reg_strength else None,
                         name=f"{name}_conv")(x)


def magnet_mnist_reformer(input_shape=(28, 28, 1), reg_strength: float = REG_STRENGTH,
                          name: str = "magnet_mnist_reformer") -> keras.Model:
    """MagNet's MNIST detector I autoencoder, which MagNet also uses as its reformer.

    ``Conv3x3(3, sigmoid) - AvgPool2 - Conv3x3(3, sigmoid) - Conv3x3(3, sigmoid) - Upsample2 -
    Conv3x3(3, sigmoid) - Conv3x3(1, sigmoid)`` (MagNet Table 1; their code's structure ``[3,
    "average", 3]``). Height and width must be even (pooling then up-sampling by 2). 310
    parameters on 28x28x1.

    Args:
        input_shape: ``(height, width, channels)``; the output has the same shape.
        reg_strength: weight of the L2 activity penalty on every convolution's output (MagNet: 1e-9).
        name: the model's name.
    """
    shape = _check_shape(input_shape, "magnet_mnist_reformer")
    if shape[0] % 2 or shape[1] % 2:
        raise ValueError(f"`input_shape` of magnet_mnist_reformer must have an even height and width (2x2 pooling "
                         f"then 2x up-sampling), got {shape}.")
    reg = _check_reg(reg_strength)
    inputs = keras.Input(shape, name="image")
    x = sigmoid_conv(inputs, 3, "enc1", reg)
    x = layers.AveragePooling2D(2, padding="same", name="enc_pool")(x)
    x = sigmoid_conv(x, 3, "enc2", reg)
    x = sigmoid_conv(x, 3, "dec1", reg)
    x = layers.UpSampling2D(2, name="dec_up")(x)
    x = sigmoid_conv(x, 3, "dec2", reg)
    outputs = sigmoid_conv(x, shape[-1], "out", reg)
    return keras.Model(inputs, outputs, name=name)


def magnet_mnist_detector2(input_shape=(28, 28, 1), reg_strength: float = REG_STRENGTH,
                           name: str = "magnet_mnist_detector2") -> keras.Model:
    """MagNet's MNIST detector II autoencoder: ``Conv3x3(3, sigmoid) - Conv3x3(3, sigmoid) -
    Conv3x3(1, sigmoid)`` (their code's structure ``[3]``; no pooling). 142 parameters on 28x28x1.

    Args: as :func:`magnet_mnist_reformer`.
    """
    shape = _check_shape(input_shape, "magnet_mnist_detector2")
    reg = _check_reg(reg_strength)
    inputs = keras.Input(shape, name="image")
    x = sigmoid_conv(inputs, 3, "enc1", reg)
    x = sigmoid_conv(x, 3, "dec1", reg)
    outputs = sigmoid_conv(x, shape[-1], "out", reg)
    return keras.Model(inputs, outputs, name=name)


def magnet_cifar10_reformer(input_shape=(32, 32, 3), filters: int = CIFAR10_FILTERS,
                            reg_strength: float = REG_STRENGTH, name: str = "magnet_cifar10_reformer") -> keras.Model:
    """MagNet's CIFAR-10 autoencoder (their Table 2, "Detectors & Reformer"), used here as the reformer.

    ``Conv3x3(filters, sigmoid) - Conv3x3(filters, sigmoid) - Conv3x3(channels, sigmoid)`` (their code's
    structure ``[96]``; no pooling), 88,323 parameters on 32x32x3 with 96 filters. Every choice is in the
    module docstring.

    Args:
        input_shape: ``(height, width, channels)``; the output has the same shape.
        filters: filters of the two hidden convolutions (MagNet: 96).
        reg_strength: weight of the L2 activity penalty on every convolution's output (MagNet: 1e-9).
        name: the model's name.
    """
    shape = _check_shape(input_shape, "magnet_cifar10_reformer")
    if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
        raise ValueError(f"`filters` of magnet_cifar10_reformer must be a positive int (MagNet: 96), got {filters!r}.")
    reg = _check_reg(reg_strength)
    inputs = keras.Input(shape, name="image")
    x = sigmoid_conv(inputs, filters, "enc1", reg)
    x = sigmoid_conv(x, filters, "dec1", reg)
    outputs = sigmoid_conv(x, shape[-1], "out", reg)
    return keras.Model(inputs, outputs, name=name)

"""Training-free preprocessing steps of a :class:`~keras_restore.defenses.Defense`, as Keras layers
that declare their gradient for attacks.

Each layer's class attribute ``gradient`` says how an attack differentiates through it:

* ``"exact"``: the layer is differentiable (almost everywhere) and attacks use its true gradient
  (:class:`MedianFilter`: the gradient flows to the pixel the median selects);
* ``"bpda"``: the step has a zero or useless gradient (rounding); its forward pass is exact and
  its backward pass is the identity, the straight-through estimator of BPDA (Athalye, Carlini &
  Wagner, ICML 2018, Sec. 4.1). The layer computes ``stop_gradient(f(x)) + (x - stop_gradient(x))``:
  the second term is exactly 0 in the forward pass, so predictions are those of ``f`` alone.

Like ART's preprocessors (``estimate_gradient``), but the declaration lives in the layer, so
``Defense.model`` is one differentiable Keras model an attack can use as it is.
"""

from __future__ import annotations

import keras
import tensorflow as tf

GRADIENTS = ("exact", "bpda")


def _straight_through(x, y):
    """``y`` in the forward pass, the identity gradient w.r.t. ``x`` in the backward pass."""
    return keras.ops.stop_gradient(y) + (x - keras.ops.stop_gradient(x))


@keras.saving.register_keras_serializable(package="keras_restore")
class BitDepthReduction(keras.layers.Layer):
    """Reduce [0, 1] images to ``levels`` evenly spaced intensity levels.

    ``round(x (levels - 1)) / (levels - 1)``: feature squeezing's "bit depth reduction" (Xu et al.,
    NDSS 2018, Sec. IV-A) with ``levels = 2**bits`` (1 bit = binarisation at 0.5, their MNIST
    choice; 5 bits on CIFAR-10). Give exactly one of ``bits`` and ``levels`` (``levels`` is the
    k of Zhang et al.'s compression, papers/002). Gradient: ``"bpda"`` (straight-through).
    """

    gradient = "bpda"

    def __init__(self, bits: int | None = None, levels: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if (bits is None) == (levels is None):
            raise ValueError(f"Give exactly one of `bits` and `levels`, got bits={bits!r}, levels={levels!r}.")
        if bits is not None:
            if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= 16:
                raise ValueError(f"`bits` must be an int in [1, 16], got {bits!r}.")
            levels = 2 ** bits
        if not isinstance(levels, int) or isinstance(levels, bool) or levels < 2:
            raise ValueError(f"`levels` must be an int >= 2, got {levels!r}.")
        self.bits, self.levels = bits, int(levels)

    def call(self, inputs):
        scale = float(self.levels - 1)
        return _straight_through(inputs, keras.ops.round(inputs * scale) / scale)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "bits": self.bits, "levels": None if self.bits else self.levels}


@keras.saving.register_keras_serializable(package="keras_restore")
class MedianFilter(keras.layers.Layer):
    """Per-channel median over a ``size x size`` window ("median smoothing", Xu et al. 2018).

    Matches ``scipy.ndimage.median_filter(x, size=(1, size, size, 1), mode="reflect")``, the
    reference implementation of feature squeezing: the window of pixel ``i`` spans
    ``i - size//2 .. i - size//2 + size - 1`` (for an even size one pixel more before than after),
    edges are mirrored (``d c b a | a b c d``), and for an even window the upper of the two middle
    values is taken (rank ``size*size // 2``). Gradient: ``"exact"`` (to the selected pixel).
    """

    gradient = "exact"

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool) or size < 2:
            raise ValueError(f"`size` must be an int >= 2, got {size!r}.")
        self.size = size

    def call(self, inputs):
        k = self.size
        before, after = k // 2, k - 1 - k // 2
        x = tf.pad(inputs, [[0, 0], [before, after], [before, after], [0, 0]], mode="SYMMETRIC")
        channels = inputs.shape[-1]
        patches = tf.image.extract_patches(x, [1, k, k, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
        shape = tf.shape(patches)
        patches = tf.reshape(patches, [shape[0], shape[1], shape[2], k * k, channels])
        return tf.sort(patches, axis=3)[:, :, :, (k * k) // 2, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def declared_gradient(layer) -> str:
    """The gradient ``layer`` declares (``"exact"`` or ``"bpda"``); a ValueError otherwise."""
    grad = getattr(layer, "gradient", None)
    if grad not in GRADIENTS:
        raise ValueError(
            f"Preprocessing layer {getattr(layer, 'name', layer)!r} declares no gradient for attacks: give its "
            f"class a `gradient` attribute, one of {', '.join(GRADIENTS)} ('bpda' = straight-through).")
    return grad

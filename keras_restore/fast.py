"""Faster inference clones of trained models: :func:`fast_inference`.

Every ``Conv2DTranspose`` (and the small-map ``Conv2D`` layers where it pays) is replaced by an
equivalent registered layer that computes the same output with other TensorFlow kernels; every
other layer is copied with its weights. The clone is a *snapshot*: train the original, then call
:func:`fast_inference` again. Outputs equal the original's to float32 rounding (~1e-6 relative;
``tests/test_fast.py``).

Replacements (all exact rewrites of the same linear map, then bias and activation):

* :class:`UnrolledConv` -- on tiny maps (2x2, 4x4 -> 2x2, 2x2 -> 4x4) the convolution is a dense
  linear map of the flattened image; its matrix (the layer applied to the one-hot basis) is one
  large ``matmul``. The 3x3 SAME convolution on a 2x2 map does 4/9 of the counted work this way
  (the padding taps vanish) and runs at matmul speed.
* :class:`ShiftConv` -- stride-1 convolutions with few output channels (Table 1's 64 -> 1 head):
  one ``matmul`` to ``kh*kw*c_out`` channels, then the shifted slices summed. oneDNN's
  convolution ran the 64 -> 1 layer at ~16 GFLOP/s; this is ~1.8x faster.
* :class:`ForwardConvTranspose` -- the textbook rewrite: stride 1 as a forward ``Conv2D`` with the
  spatially flipped, in/out-transposed kernel; stride ``s`` as zero-insertion (dilate by ``s``),
  padding, and a VALID forward convolution; Keras' SAME / VALID padding and ``output_padding``
  reproduced exactly. On TensorFlow 2.21 CPU (oneDNN) the native ``Conv2DBackpropInput`` kernel
  is *not* slow here (200-360 GFLOP/s at batch 128): zero-insertion loses 1.3-5.6x at stride 2
  and the stride-1 rewrite gains 2-20% on maps >= 7x7 only (``benchmarks/README.md``).
  ``strategy="forward"`` forces it for every ``Conv2DTranspose``.

``strategy``:

* ``"auto"`` (default) -- rules from the measured per-layer profile (``benchmarks/README.md``):
  unroll when the input or output map has <= 4 positions, the dense matrix has at most ``2**24``
  entries and does at most 2x the counted multiply-adds (Table 1: ``enc4_conv1/2``,
  ``dec1_convt1``, 1.6-5.7x faster; a 4x4 -> 4x4 map was 1.8x *slower*); stride-1
  ``Conv2DTranspose`` on maps >= 7x7 as a forward ``Conv2D`` (2-20% faster); stride-1 ``Conv2D``
  with ``c_out <= 4`` and ``c_in >= 16`` shift-summed (the 64 -> 1 head, 1.8x); otherwise keep
  the layer (stride-2 zero-insertion was 1.3-5.6x slower than the native kernel everywhere).
* ``"measure"`` -- time every applicable candidate on random inputs of ``batch_size`` and keep the
  fastest (the original wins ties within 5%). Costs a few seconds per model.
* ``"forward"`` -- every ``Conv2DTranspose`` as :class:`ForwardConvTranspose`, nothing else.
* ``"none"`` -- a plain copy (for comparisons).

Only channels-last, ungrouped, undilated 2-D layers are rewritten; anything else is copied as is.
The custom layers use TensorFlow ops directly (the package's backend).
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

STRATEGIES = ("auto", "measure", "forward", "none")
MAX_UNROLLED_ENTRIES = 2 ** 24  # 64 MiB of float32
MAX_UNROLLED_WORK = 2.0  # unrolled multiply-adds / counted multiply-adds
MAX_UNROLLED_POSITIONS = 4  # unroll only if the input or the output map has <= 4 positions
MAX_SHIFT_CHANNELS = 4
MIN_SHIFT_IN_CHANNELS = 16
MIN_FORWARD_POSITIONS = 49  # stride-1 Conv2DTranspose on maps of >= 7x7: forward Conv2D


def _pairs(v):
    return tuple(int(a) for a in (v if isinstance(v, (list, tuple)) else (v, v)))


def _pads_pairs(pads):
    return tuple(tuple(int(a) for a in p) for p in pads)


def _pad_or_crop(x, pads):
    """Pad (positive) or crop (negative) the two spatial axes of an NHWC tensor."""
    (t, b), (l, r) = pads
    if min(t, b, l, r) < 0:
        h, w = x.shape[1], x.shape[2]
        x = x[:, max(-t, 0):h - max(-b, 0), max(-l, 0):w - max(-r, 0), :]
    if max(t, b, l, r) > 0:
        x = tf.pad(x, [[0, 0], [max(t, 0), max(b, 0)], [max(l, 0), max(r, 0)], [0, 0]])
    return x


class _FastBase(keras.layers.Layer):
    """Shared config: output shape, activation, bias."""

    def __init__(self, output_hwc, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.output_hwc = tuple(int(v) for v in output_hwc)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)

    def _finish(self, y):
        if self.use_bias:
            y = tf.nn.bias_add(y, self.bias)
        return self.activation(y)

    def _add_bias(self):
        self.bias = (self.add_weight(name="bias", shape=(self.output_hwc[-1],), initializer="zeros")
                     if self.use_bias else None)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_hwc)

    def get_config(self):
        return {**super().get_config(), "output_hwc": list(self.output_hwc),
                "activation": keras.activations.serialize(self.activation), "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="keras_restore")
class UnrolledConv(_FastBase):
    """A convolution on a tiny map as one dense ``matmul``: ``y = reshape(x) @ matrix``.

    ``matrix`` has shape ``(in_h * in_w * c_in, out_h * out_w * c_out)``; row ``i`` is the
    convolution (without bias) of the ``i``-th one-hot image, so any stride, padding or
    ``output_padding`` is reproduced exactly.
    """

    def __init__(self, output_hwc, activation=None, use_bias=True, **kwargs):
        super().__init__(output_hwc, activation, use_bias, **kwargs)

    def build(self, input_shape):
        rows = int(np.prod(input_shape[1:]))
        self.matrix = self.add_weight(name="matrix", shape=(rows, int(np.prod(self.output_hwc))),
                                      initializer="zeros")
        self._add_bias()

    def call(self, inputs):
        flat = tf.reshape(inputs, [-1, self.matrix.shape[0]])
        y = tf.reshape(tf.matmul(flat, self.matrix), [-1, *self.output_hwc])
        return self._finish(y)


class _KernelBase(_FastBase):
    """Base of the replacements that hold a forward ``(kh, kw, c_in, c_out)`` kernel."""

    def build(self, input_shape):
        kh, kw = self.kernel_size
        self.kernel = self.add_weight(name="kernel", shape=(kh, kw, int(input_shape[-1]), self.output_hwc[-1]),
                                      initializer="zeros")
        self._add_bias()


@keras.saving.register_keras_serializable(package="keras_restore")
class ShiftConv(_KernelBase):
    """A stride-1 convolution with few output channels: ``matmul`` to ``kh*kw*c_out`` channels,
    then the ``kh*kw`` shifted slices summed.

    ``kernel`` is in forward ``Conv2D`` layout ``(kh, kw, c_in, c_out)``; ``pads`` is
    ``((top, bottom), (left, right))`` of the equivalent VALID convolution (negative = crop).
    """

    def __init__(self, output_hwc, kernel_size, pads, activation=None, use_bias=True, **kwargs):
        super().__init__(output_hwc, activation, use_bias, **kwargs)
        self.kernel_size = _pairs(kernel_size)
        self.pads = _pads_pairs(pads)

    def call(self, inputs):
        kh, kw = self.kernel_size
        c_in, c_out = self.kernel.shape[2], self.kernel.shape[3]
        h, w = self.output_hwc[:2]
        mat = tf.reshape(tf.transpose(self.kernel, [2, 0, 1, 3]), [c_in, kh * kw * c_out])
        y = tf.einsum("nhwc,ck->nhwk", inputs, mat)
        y = _pad_or_crop(y, self.pads)
        out = None
        for a in range(kh):
            for b in range(kw):
                j = (a * kw + b) * c_out
                part = y[:, a:a + h, b:b + w, j:j + c_out]
                out = part if out is None else out + part
        return self._finish(out)

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size),
                "pads": [list(p) for p in self.pads]}


@keras.saving.register_keras_serializable(package="keras_restore")
class ForwardConvTranspose(_KernelBase):
    """``Conv2DTranspose`` as zero-insertion (stride > 1) + padding + a VALID forward ``Conv2D``.

    ``kernel`` is the transposed layer's kernel flipped in both spatial axes with its two channel
    axes swapped: forward layout ``(kh, kw, c_in, c_out)``. ``pads`` as in :class:`ShiftConv`.
    """

    def __init__(self, output_hwc, kernel_size, strides, pads, activation=None, use_bias=True, **kwargs):
        super().__init__(output_hwc, activation, use_bias, **kwargs)
        self.kernel_size = _pairs(kernel_size)
        self.strides = _pairs(strides)
        self.pads = _pads_pairs(pads)

    def call(self, inputs):
        x = inputs
        sh, sw = self.strides
        if sh > 1 or sw > 1:
            h, w, c = x.shape[1], x.shape[2], x.shape[3]
            x = tf.reshape(x, [-1, h, 1, w, 1, c])
            x = tf.pad(x, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]])
            x = tf.reshape(x, [-1, h * sh, w * sw, c])[:, :(h - 1) * sh + 1, :(w - 1) * sw + 1, :]
        (t, b), (l, r) = self.pads
        if min(t, b, l, r) >= 0:
            y = tf.nn.conv2d(x, self.kernel, 1, padding=[[0, 0], [t, b], [l, r], [0, 0]])
        else:
            y = tf.nn.conv2d(_pad_or_crop(x, self.pads), self.kernel, 1, padding="VALID")
        return self._finish(y)

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "pads": [list(p) for p in self.pads]}


# --------------------------------------------------------------------------------------------
# Geometry


def _tf_same_pad_before(out_size, in_size, k, s):
    """TF's SAME padding (before) of the forward conv mapping ``out_size`` -> ``in_size``."""
    return max((in_size - 1) * s + k - out_size, 0) // 2


def transpose_pads(layer):
    """Pads of the VALID forward conv (on the zero-inserted input) equal to ``layer``
    (a built, channels-last ``Conv2DTranspose``): ``((top, bottom), (left, right))``."""
    in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
    pads = []
    for axis in (0, 1):
        i, o = int(in_shape[1 + axis]), int(out_shape[1 + axis])
        k, s = layer.kernel_size[axis], layer.strides[axis]
        before = _tf_same_pad_before(o, i, k, s) if layer.padding == "same" else 0
        left = k - 1 - before
        right = o + k - 1 - left - ((i - 1) * s + 1)
        pads.append((left, right))
    return tuple(pads)


def conv_pads(layer):
    """Pads of a stride-1 ``Conv2D`` (SAME: TF's split, extra on the bottom/right)."""
    pads = []
    for axis in (0, 1):
        k = layer.kernel_size[axis]
        total = k - 1 if layer.padding == "same" else 0
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def forward_kernel(layer):
    """Forward-``Conv2D`` kernel ``(kh, kw, c_in, c_out)`` equal to ``layer``'s (flipped and
    transposed for ``Conv2DTranspose``)."""
    k = np.asarray(layer.kernel)
    if isinstance(layer, keras.layers.Conv2DTranspose):
        k = np.transpose(k[::-1, ::-1], (0, 1, 3, 2))
    return np.ascontiguousarray(k)


def unrolled_matrix(layer) -> np.ndarray:
    """The dense matrix of ``layer``'s convolution (no bias): the layer applied to the basis."""
    in_hwc = tuple(int(v) for v in layer.input.shape[1:])
    rows = int(np.prod(in_hwc))
    basis = tf.reshape(tf.eye(rows, dtype=tf.float32), [rows, *in_hwc])
    kernel = tf.convert_to_tensor(np.asarray(layer.kernel))
    if isinstance(layer, keras.layers.Conv2DTranspose):
        y = keras.ops.conv_transpose(basis, kernel, strides=layer.strides, padding=layer.padding,
                                     output_padding=layer.output_padding, data_format="channels_last",
                                     dilation_rate=layer.dilation_rate)
    else:
        y = keras.ops.conv(basis, kernel, strides=layer.strides, padding=layer.padding,
                           data_format="channels_last", dilation_rate=layer.dilation_rate)
    return np.asarray(tf.reshape(y, [rows, -1]))


# --------------------------------------------------------------------------------------------
# Per-layer choice


def _supported(layer) -> bool:
    if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
        return False
    if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1):
        return False
    if getattr(layer, "groups", 1) != 1 or layer.dtype_policy.compute_dtype != "float32":
        return False
    try:
        in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return False
    return len(in_shape) == 4 and all(v is not None for v in in_shape[1:] + out_shape[1:])


def _geometry(layer):
    in_hwc = tuple(int(v) for v in layer.input.shape[1:])
    out_hwc = tuple(int(v) for v in layer.output.shape[1:])
    return in_hwc, out_hwc


def candidates(layer) -> list[str]:
    """Rewrites applicable to ``layer`` (``"native"`` = keep it)."""
    if not _supported(layer):
        return ["native"]
    in_hwc, out_hwc = _geometry(layer)
    out = ["native"]
    if np.prod(in_hwc) * np.prod(out_hwc) <= MAX_UNROLLED_ENTRIES:
        out.append("unroll")
    if tuple(layer.strides) == (1, 1):
        out.append("shift")
    if isinstance(layer, keras.layers.Conv2DTranspose):
        out.append("forward")
    return out


def auto_choice(layer) -> str:
    """The ``strategy="auto"`` rule (see the module docstring), from the per-layer measurements
    of ``benchmarks/README.md``."""
    cands = candidates(layer)
    if len(cands) == 1:
        return "native"
    in_hwc, out_hwc = _geometry(layer)
    kh, kw = layer.kernel_size
    transpose = isinstance(layer, keras.layers.Conv2DTranspose)
    counted = (in_hwc[0] * in_hwc[1] if transpose else out_hwc[0] * out_hwc[1]) * kh * kw * in_hwc[2] * out_hwc[2]
    tiny = min(in_hwc[0] * in_hwc[1], out_hwc[0] * out_hwc[1]) <= MAX_UNROLLED_POSITIONS
    if "unroll" in cands and tiny and np.prod(in_hwc) * np.prod(out_hwc) <= MAX_UNROLLED_WORK * counted:
        return "unroll"
    if transpose and tuple(layer.strides) == (1, 1) and in_hwc[0] * in_hwc[1] >= MIN_FORWARD_POSITIONS:
        return "forward"
    if ("shift" in cands and not transpose and out_hwc[2] <= MAX_SHIFT_CHANNELS
            and in_hwc[2] >= MIN_SHIFT_IN_CHANNELS):
        return "shift"
    return "native"


def _copy_layer(layer):
    return layer.__class__.from_config(layer.get_config())


def make_replacement(layer, choice: str):
    """A new layer computing ``layer``'s output by ``choice`` (weights copied), or a plain copy."""
    if choice == "native":
        return None
    in_hwc, out_hwc = _geometry(layer)
    common = dict(activation=keras.activations.serialize(layer.activation), use_bias=layer.use_bias,
                  name=layer.name)
    if choice == "unroll":
        new = UnrolledConv(out_hwc, **common)
        new.build((None, *in_hwc))
        new.matrix.assign(unrolled_matrix(layer))
    elif choice == "shift":
        pads = transpose_pads(layer) if isinstance(layer, keras.layers.Conv2DTranspose) else conv_pads(layer)
        new = ShiftConv(out_hwc, layer.kernel_size, pads, **common)
        new.build((None, *in_hwc))
        new.kernel.assign(forward_kernel(layer))
    elif choice == "forward":
        if not isinstance(layer, keras.layers.Conv2DTranspose):
            raise ValueError(f"'forward' applies to Conv2DTranspose only, not {type(layer).__name__}.")
        new = ForwardConvTranspose(out_hwc, layer.kernel_size, layer.strides, transpose_pads(layer), **common)
        new.build((None, *in_hwc))
        new.kernel.assign(forward_kernel(layer))
    else:
        raise ValueError(f"Unknown rewrite {choice!r}; expected one of native, unroll, shift, forward.")
    if layer.use_bias:
        new.bias.assign(np.asarray(layer.bias))
    return new


def _time_layer(layer, in_hwc, batch_size, repeats):
    x = tf.random.uniform((batch_size, *in_hwc))
    fn = tf.function(lambda t: layer(t, training=False))
    np.asarray(fn(x))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(fn(x))
        best = min(best, time.perf_counter() - start)
    return best


def measured_choice(layer, batch_size: int = 128, repeats: int = 5) -> tuple[str, dict]:
    """Time every candidate of ``layer`` at ``batch_size``; return (fastest, {choice: seconds})."""
    cands = candidates(layer)
    if len(cands) == 1:
        return "native", {}
    in_hwc, _ = _geometry(layer)
    times = {}
    for choice in cands:
        impl = layer if choice == "native" else make_replacement(layer, choice)
        times[choice] = _time_layer(impl, in_hwc, batch_size, repeats)
    best = min(times, key=times.get)
    if times[best] > 0.95 * times["native"]:
        best = "native"
    return best, times


# --------------------------------------------------------------------------------------------
# Model clone


def plan(model: keras.Model, strategy: str = "auto", batch_size: int = 128) -> dict:
    """``{layer name: choice}`` for the rewritable layers of ``model`` (nested models by prefix)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {', '.join(STRATEGIES)}, got {strategy!r}.")
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.update({f"{layer.name}/{k}": v for k, v in plan(layer, strategy, batch_size).items()})
            continue
        if not _supported(layer):
            continue
        if strategy == "none":
            out[layer.name] = "native"
        elif strategy == "auto":
            out[layer.name] = auto_choice(layer)
        elif strategy == "forward":
            out[layer.name] = "forward" if isinstance(layer, keras.layers.Conv2DTranspose) else "native"
        else:
            out[layer.name] = measured_choice(layer, batch_size)[0]
    return out


def fast_inference(model: keras.Model, strategy: str = "auto", batch_size: int = 128,
                   choices: dict | None = None) -> keras.Model:
    """A functional clone of ``model`` for inference with faster equivalent layers.

    Args:
        model: a built functional (or Sequential) Keras model, e.g. a trained restorer.
        strategy: how each layer is rewritten: ``"auto"``, ``"measure"``, ``"forward"`` or
            ``"none"`` (module docstring).
        batch_size: the batch size ``"measure"`` times layers at.
        choices: optional ``{layer name: "native" | "unroll" | "shift" | "forward"}`` overriding
            the strategy for those layers (e.g. the output of :func:`plan`).

    Returns:
        A new ``keras.Model`` with the same inputs/outputs; its ``fast_plan`` attribute holds the
        choice made for every rewritable layer. Weights are copied (a snapshot of ``model``).
    """
    decided = plan(model, strategy, batch_size)
    decided.update(choices or {})
    return _clone(model, decided, prefix="")


def _clone(model, decided, prefix):
    sources = []  # (copy, original) pairs whose weights are copied after cloning

    def clone_layer(layer):
        key = prefix + layer.name
        if isinstance(layer, keras.Model):
            return _clone(layer, decided, prefix=f"{key}/")
        choice = decided.get(key, "native")
        new = make_replacement(layer, choice) if choice != "native" else None
        if new is None:
            new = _copy_layer(layer)
            sources.append((new, layer))
        return new

    clone = keras.models.clone_model(model, clone_function=clone_layer)
    for new, src in sources:  # built by now: copy the weights of the plain copies
        new.set_weights(src.get_weights())
    clone.fast_plan = {k[len(prefix):]: v for k, v in decided.items() if k.startswith(prefix)}
    return clone


def _iter_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _iter_layers(layer)
        else:
            yield layer

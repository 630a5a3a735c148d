"""Analytic FLOP counts and per-layer timings for Keras models (used by ``benchmarks/``).

How FLOPs are counted (:func:`count_flops`), per image, forward pass:

* ``Conv2D``: ``2 * out_h * out_w * kh * kw * (c_in / groups) * c_out`` -- one multiply-add
  (2 FLOPs) per kernel tap per output position, taps falling on SAME zero-padding included
  (the usual convention of FLOP counters).
* ``Conv2DTranspose``: ``2 * in_h * in_w * kh * kw * c_in * c_out`` -- each *input* position
  multiplies the whole kernel once (the cost of the forward convolution it is the transpose of;
  the convention of fvcore). Counting by output positions instead, as if the zero-inserted input
  were convolved, overstates a stride-2 layer by 4x: that is where a ``0.74 GFLOP`` figure for the
  Table 1 restorer comes from; by this count it is ``0.43 GFLOP``.
* ``Dense``: ``2 * in_features * units`` per leading position.
* Everything else (biases, activations, BatchNorm, pooling, reshapes) is not counted: it is a
  few element-wise operations per activation, under 1% of these models.

Nested models are counted recursively. ``training=True`` returns ``3x`` the forward count (forward,
gradient with respect to the inputs and with respect to the weights, each about one forward pass),
the usual approximation; the optimizer update is not counted.
"""

from __future__ import annotations

import time

import keras
import numpy as np


def _shape(tensor_or_shape):
    shape = getattr(tensor_or_shape, "shape", tensor_or_shape)
    return tuple(shape)


def _layer_io_shapes(layer):
    """(input_shape, output_shape) of a built layer that was called exactly once (functional)."""
    try:
        in_shape = _shape(layer.input)
        out_shape = _shape(layer.output)
    except (AttributeError, ValueError) as e:  # called several times or never
        raise ValueError(
            f"Cannot count FLOPs of layer {layer.name!r}: it needs one input/output shape "
            f"(build the model with the functional API and call each layer once). {e}"
        ) from e
    return in_shape, out_shape


def layer_flops(layer) -> int:
    """Forward FLOPs per image of one layer (see the module docstring); 0 for uncounted layers."""
    if isinstance(layer, keras.Model):
        return sum(layer_flops(sub) for sub in layer.layers)
    if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)):
        flops_fn = getattr(layer, "flops_per_image", None)
        return int(flops_fn()) if callable(flops_fn) else 0
    in_shape, out_shape = _layer_io_shapes(layer)
    if isinstance(layer, keras.layers.Dense):
        positions = int(np.prod(in_shape[1:-1])) if len(in_shape) > 2 else 1
        return 2 * positions * int(in_shape[-1]) * int(layer.units)
    channels_last = layer.data_format == "channels_last"
    kh, kw = layer.kernel_size
    if isinstance(layer, keras.layers.Conv2DTranspose):
        h, w = (in_shape[1:3] if channels_last else in_shape[2:4])
        c_in = in_shape[-1] if channels_last else in_shape[1]
        return 2 * int(h) * int(w) * kh * kw * int(c_in) * int(layer.filters)
    h, w = (out_shape[1:3] if channels_last else out_shape[2:4])
    c_in = in_shape[-1] if channels_last else in_shape[1]
    groups = getattr(layer, "groups", 1) or 1
    return 2 * int(h) * int(w) * kh * kw * (int(c_in) // groups) * int(layer.filters)


def count_flops(model: keras.Model, training: bool = False) -> int:
    """Analytic FLOPs per image of ``model`` (2 per multiply-add; ``3x`` forward if ``training``).

    See the module docstring for exactly what is counted.
    """
    forward = sum(layer_flops(layer) for layer in model.layers)
    return 3 * forward if training else forward


def per_layer_flops(model: keras.Model) -> list[tuple[str, str, int]]:
    """``[(layer name, class name, forward FLOPs per image)]`` in model order."""
    return [(l.name, type(l).__name__, layer_flops(l)) for l in model.layers]


def _sync(x):
    for t in (x if isinstance(x, (list, tuple)) else [x]):
        np.asarray(t)


def per_layer_times(model: keras.Model, batch, repeats: int = 5, warmup: int = 1):
    """Time each layer of a functional ``model`` alone, on the activations ``batch`` produces.

    Every layer is wrapped in its own fixed-shape ``tf.function`` and fed the (precomputed) input
    it sees in the model, so the sum of the rows omits only inter-layer overhead. Returns a list of
    dicts ``{name, type, in_shape, out_shape, seconds (best of repeats), flops (whole batch),
    gflops_per_s}`` in model order; input layers are skipped.
    """
    import tensorflow as tf

    batch = tf.convert_to_tensor(np.asarray(batch, dtype=np.float32))
    n = int(batch.shape[0])
    # Activations of every layer output, by running the model's graph once.
    names = [l.name for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
    probe = keras.Model(model.inputs, [model.get_layer(nm).output for nm in names])
    outputs = dict(zip(names, probe(batch, training=False)))
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        inbound = layer._inbound_nodes[0].input_tensors
        feeds = []
        for t in inbound:
            src = t._keras_history.operation
            feeds.append(batch if isinstance(src, keras.layers.InputLayer) else outputs[src.name])
        args = feeds[0] if len(feeds) == 1 else feeds
        fn = tf.function(lambda a, _l=layer: _l(a, training=False))
        for _ in range(warmup):
            _sync(fn(args))
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            _sync(fn(args))
            best = min(best, time.perf_counter() - start)
        flops = layer_flops(layer) * n
        rows.append({
            "name": layer.name, "type": type(layer).__name__,
            "in_shape": tuple(feeds[0].shape), "out_shape": tuple(outputs[layer.name].shape),
            "seconds": best, "flops": flops,
            "gflops_per_s": flops / best / 1e9 if flops else 0.0,
        })
    return rows


def format_layer_table(rows) -> str:
    """The rows of :func:`per_layer_times` as a fixed-width text table."""
    total = sum(r["seconds"] for r in rows) or 1.0
    lines = [f"{'layer':<22}{'type':<20}{'out shape':<22}{'ms':>9}{'%':>7}{'GFLOP/s':>9}"]
    for r in rows:
        lines.append(
            f"{r['name']:<22}{r['type']:<20}{str(r['out_shape']):<22}"
            f"{r['seconds'] * 1e3:>9.2f}{100 * r['seconds'] / total:>7.1f}{r['gflops_per_s']:>9.1f}"
        )
    lines.append(f"{'total':<64}{total * 1e3:>9.2f}")
    return "\n".join(lines)

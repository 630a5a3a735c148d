"""keras_restore.fast (exact faster inference clones) and keras_restore.profiling (FLOP counts)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_restore import fast
from keras_restore.models import build
from keras_restore.profiling import count_flops, per_layer_flops, per_layer_times

TOL = 1e-5


def _single_layer_model(layer, in_shape, seed=0):
    inp = keras.Input(in_shape)
    model = keras.Model(inp, layer(inp))
    rng = np.random.default_rng(seed)
    layer.bias.assign(rng.normal(size=layer.bias.shape).astype("float32"))
    return model


def _rel_err(a, b):
    return float(np.abs(a - b).max() / max(1.0, float(np.abs(b).max())))


TRANSPOSE_CASES = [
    # (H, W, c_in, c_out, kernel, strides, padding, output_padding)
    (2, 2, 8, 6, 3, 1, "same", None),
    (3, 5, 4, 5, 3, 2, "same", None),
    (3, 5, 4, 5, 3, 2, "same", 0),
    (3, 5, 4, 5, 3, 2, "same", 1),
    (4, 4, 6, 3, 3, 2, "same", 0),  # the Table 1 dec2_convt1 geometry: 4 -> 7
    (5, 5, 4, 3, 4, 2, "same", None),  # even kernel
    (5, 4, 4, 3, 4, 3, "same", 2),
    (4, 4, 4, 3, 3, 2, "valid", None),
    (4, 4, 4, 3, 3, 2, "valid", 1),
    (7, 6, 3, 2, 5, 1, "valid", None),
    (7, 7, 5, 4, 3, 1, "same", None),
]


@pytest.mark.parametrize("h,w,ci,co,k,s,pad,op", TRANSPOSE_CASES)
def test_conv_transpose_rewrites_are_exact(h, w, ci, co, k, s, pad, op):
    layer = keras.layers.Conv2DTranspose(co, k, strides=s, padding=pad, output_padding=op, activation="relu")
    model = _single_layer_model(layer, (h, w, ci))
    x = np.random.default_rng(1).normal(size=(3, h, w, ci)).astype("float32")
    ref = np.asarray(model(x))
    cands = fast.candidates(layer)
    assert "forward" in cands and "unroll" in cands
    for choice in cands:
        out = np.asarray(fast.fast_inference(model, choices={layer.name: choice})(x))
        assert out.shape == ref.shape, choice
        assert _rel_err(out, ref) < TOL, choice


@pytest.mark.parametrize("h,w,k,s,pad", [(5, 7, 3, 1, "same"), (5, 7, 4, 2, "same"), (4, 4, 3, 2, "valid"),
                                         (2, 2, 3, 1, "same")])
def test_conv2d_rewrites_are_exact(h, w, k, s, pad):
    layer = keras.layers.Conv2D(3, k, strides=s, padding=pad, activation="sigmoid")
    model = _single_layer_model(layer, (h, w, 4))
    x = np.random.default_rng(2).normal(size=(2, h, w, 4)).astype("float32")
    ref = np.asarray(model(x))
    for choice in fast.candidates(layer):
        out = np.asarray(fast.fast_inference(model, choices={layer.name: choice})(x))
        assert _rel_err(out, ref) < TOL, choice


def _with_random_bn(model, seed=0):
    """Non-trivial BatchNorm statistics so the decoder output is not constant."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, c).astype("float32"))
    return model


@pytest.mark.parametrize("name", ["restorer_mnist", "restorer_cifar10"])
@pytest.mark.parametrize("strategy", ["auto", "forward"])
def test_whole_restorer_is_exact(name, strategy):
    keras.utils.set_random_seed(0)
    model = _with_random_bn(build(name))
    # Compare a pre-head activation (sensitive) and the final output.
    last_dec = [l.name for l in model.layers if l.name.startswith("dec")][-1]
    probe = keras.Model(model.input, [model.get_layer(last_dec).output, model.output])
    x = np.random.default_rng(3).random((4, *model.input_shape[1:]), dtype=np.float32)
    clone = fast.fast_inference(probe, strategy=strategy)
    rewritten = [k for k, v in clone.fast_plan.items() if v != "native"]
    assert rewritten, clone.fast_plan
    for got, ref in zip(clone(x), probe(x)):
        ref = np.asarray(ref)
        assert np.asarray(got).shape == ref.shape
        assert _rel_err(np.asarray(got), ref) < TOL
    assert np.asarray(probe(x)[0]).std() > 0  # the comparison is not vacuous


def test_auto_plan_of_table1_restorer():
    plan = fast.plan(build("restorer_mnist"), "auto")
    assert plan["enc4_conv2"] == "unroll" and plan["dec1_convt1"] == "unroll"  # 2x2 maps
    assert plan["dec1_convt2"] == "native"  # 4x4 s1 512->512: the 8192^2 matrix is slower
    assert plan["enc3_conv2"] == "native" and plan["dec2_convt1"] == "native"
    assert plan["dec4_convt2"] == "forward" and plan["out_conv2"] == "native"
    assert plan["out_conv1"] == "shift"  # 64 -> 1 channel head


def test_clone_is_a_serializable_snapshot(tmp_path):
    layer = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=0)
    inp = keras.Input((3, 3, 2))
    x = keras.layers.BatchNormalization()(layer(inp))
    model = keras.Model(inp, keras.layers.Conv2DTranspose(2, 3, padding="same")(x))
    clone = fast.fast_inference(model, strategy="forward")
    assert all(isinstance(l, fast.ForwardConvTranspose) for l in clone.layers
               if "transpose" in l.name)
    assert clone.layers[1] is not model.layers[1]
    path = tmp_path / "clone.keras"
    clone.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode: registered layers, no Lambda
    x = np.random.default_rng(4).normal(size=(2, 3, 3, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-5)


def test_unsupported_layers_are_copied():
    # A dilated 16 -> 2 convolution: undilated it would be shift-summed (see the plain model), dilated
    # it is copied as is. (A dilated Conv2DTranspose, used here before, no longer runs on TF 2.21's
    # CPU kernels under Keras 3.15: "Current CPU implementations do not yet support dilation rates
    # larger than 1" in Conv2DBackpropInput.)
    plain_inp = keras.Input((6, 6, 16))
    plain = keras.Model(plain_inp, keras.layers.Conv2D(2, 3, padding="same", name="plain")(plain_inp))
    assert fast.plan(plain, "auto") == {"plain": "shift"}
    inp = keras.Input((6, 6, 16))
    out = keras.layers.Conv2D(2, 3, dilation_rate=2, padding="same")(inp)
    model = keras.Model(inp, out)
    assert fast.plan(model, "auto") == {}
    x = np.random.default_rng(0).random((1, 6, 6, 16)).astype("float32")
    np.testing.assert_allclose(np.asarray(fast.fast_inference(model)(x)), np.asarray(model(x)), atol=1e-6)
    with pytest.raises(ValueError, match="strategy"):
        fast.fast_inference(model, strategy="fastest")


def test_count_flops_small_model_by_hand():
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inp)  # -> 4x4x4
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2DTranspose(5, 3, strides=2, padding="same")(x)  # 4x4x4 -> 8x8x5
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(10)(x)
    model = keras.Model(inp, out)
    conv = 2 * (4 * 4) * (3 * 3) * 3 * 4  # output positions x taps x c_in x c_out
    convt = 2 * (4 * 4) * (3 * 3) * 4 * 5  # *input* positions x taps x c_in x c_out
    dense = 2 * (8 * 8 * 5) * 10
    assert count_flops(model) == conv + convt + dense == 3456 + 5760 + 6400
    assert count_flops(model, training=True) == 3 * (conv + convt + dense)
    assert [f for _, _, f in per_layer_flops(model)] == [0, conv, 0, convt, 0, dense]


def test_count_flops_restorers():
    # Encoder/bottleneck/decoder by hand for Table 1 (see keras_restore/profiling.py).
    enc = sum(2 * o * o * 9 * ci * co for o, ci, co in
              [(14, 1, 64), (14, 64, 64), (7, 64, 128), (7, 128, 128), (4, 128, 256), (4, 256, 256),
               (2, 256, 512), (2, 512, 512)])
    dec = sum(2 * i * i * 9 * ci * co for i, ci, co in
              [(2, 512, 512), (4, 512, 512), (4, 512, 256), (7, 256, 256), (7, 256, 128), (14, 128, 128),
               (14, 128, 64), (28, 64, 64)])
    head = 2 * 28 * 28 * 9 * (64 + 1 + 1)
    assert count_flops(build("restorer_mnist")) == enc + 2 * 2048 * 2048 + dec + head


def test_per_layer_times_rows():
    inp = keras.Input((8, 8, 2))
    model = keras.Model(inp, keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(
        keras.layers.Conv2D(4, 3, padding="same")(inp)))
    rows = per_layer_times(model, np.zeros((2, 8, 8, 2), "float32"), repeats=1)
    assert [r["type"] for r in rows] == ["Conv2D", "Conv2DTranspose"]
    assert rows[1]["out_shape"] == (2, 16, 16, 3) and rows[1]["seconds"] > 0


def test_measure_strategy_picks_a_valid_exact_rewrite():
    inp = keras.Input((2, 2, 16))
    x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Conv2D(2, 3, padding="same")(x))
    clone = fast.fast_inference(model, strategy="measure", batch_size=4)
    assert set(clone.fast_plan.values()) <= {"native", "unroll", "shift", "forward"}
    x = np.random.default_rng(5).normal(size=(4, 2, 2, 16)).astype("float32")
    assert _rel_err(np.asarray(clone(x)), np.asarray(model(x))) < TOL

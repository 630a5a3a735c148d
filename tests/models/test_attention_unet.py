"""papers/003's Attention U-Net generator: shapes and range in both modes and both image sizes, the
noise mode's residual, the built-in PixelShuffle / attention / gate against their formulas, zero-gamma
attention is the identity at init, fewer parameters than VGG-13, plain-Keras save/load, mixed
bfloat16, input gradients and bad arguments."""

import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from keras_restore.models import attention_unet
from keras_restore.models.attention_unet import attention_unet_generator

SMALL = {"base_filters": 8, "depth": 3}     # 8-16-32 maps, 32 -> 16 -> 8: fast on CPU
RNG = np.random.default_rng(0)


def _images(shape, n=2, seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def _vgg13_cifar10_params():
    """The standard CIFAR VGG13 (conv3x3 + bias + BatchNorm, 512 -> 10 linear): (trainable, with BN stats)."""
    widths = (64, 64, 128, 128, 256, 256, 512, 512, 512, 512)
    conv = sum(9 * cin * cout + cout for cin, cout in zip((3,) + widths[:-1], widths))
    bn = 2 * sum(widths)
    return conv + bn + 512 * 10 + 10, conv + 2 * bn + 512 * 10 + 10


def _expected_params(channels, base=64, depth=4):
    """Keras count_params of the generator, from the module docstring's layer list."""
    widths = [base * 2 ** i for i in range(depth)]

    def bn(c):                      # gamma, beta, moving mean and variance
        return 4 * c

    def stage(cin, c):              # conv3x3 + bias, BN, per-channel PReLU
        return 9 * cin * c + c + bn(c) + c

    def attend(c, cctx):            # query (c -> d), key (cctx -> d), value (cctx -> c), biases; gamma
        d = max(1, c // 8)
        return c * d + d + cctx * d + d + cctx * c + c + c

    total, cin = 0, channels
    for c in widths:
        total, cin = total + stage(cin, c), c
    for level in range(depth - 1, 0, -1):
        c, half, inter = widths[level - 1], widths[level - 1] // 2, max(1, widths[level - 1] // 2)
        total += bn(half) + half                                    # up BN + PReLU
        total += c * inter + half * inter + inter + inter + 1       # gate W_x, W_g + b_g, psi + b_psi
        total += stage(c + half, c) + (attend(c, c) if level > 1 else 0)
    return total + attend(base, base) + attend(base, channels) + 9 * base * channels + channels


@pytest.mark.parametrize("shape", [(32, 32, 3), (28, 28, 1)])
@pytest.mark.parametrize("mode", ["image", "noise"])
def test_default_shapes_and_unit_range(shape, mode):
    g = attention_unet_generator(shape, mode)
    assert g.name == f"attention_unet_{mode}" and g.input_shape == g.output_shape == (None, *shape)
    y = g(_images(shape), training=False).numpy()
    assert y.shape == (2, *shape) and np.isfinite(y).all() and y.min() >= 0.0 and y.max() <= 1.0
    names = [layer.name for layer in g.layers]
    assert ("pad" in names and "crop" in names) == (shape == (28, 28, 1))
    assert g.get_layer("enc4_prelu").output.shape[1:] == (4, 4, 512)          # both pad to 32x32
    assert g.get_layer("dec1_shuffle_merge").output.shape[1:] == (32, 32, 32)     # 128 maps -> 32
    assert g.count_params() == _expected_params(shape[-1])
    assert all(n in {"image", "pad", "crop"} or n.split("_")[0] in
               {"enc1", "enc2", "enc3", "enc4", "dec1", "dec2", "dec3", "out", "cross"} for n in names)


def test_fewer_parameters_than_vgg13_and_docstring_counts():
    trainable, total = _vgg13_cifar10_params()
    assert (trainable, total) == (9_416_010, 9_421_898)
    vgg = keras.Sequential([keras.Input((32, 32, 3))], name="vgg13")   # cross-check the arithmetic
    for i, w in enumerate((64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")):
        vgg.add(layers.MaxPooling2D(2) if w == "M" else layers.Conv2D(w, 3, padding="same"))
        if w != "M":
            vgg.add(layers.BatchNormalization())
    vgg.add(layers.Flatten())
    vgg.add(layers.Dense(10))
    assert vgg.count_params() == total
    assert sum(int(np.prod(v.shape)) for v in vgg.trainable_weights) == trainable
    ours = attention_unet_generator((32, 32, 3))
    ours_trainable = sum(int(np.prod(v.shape)) for v in ours.trainable_weights)
    assert (ours.count_params(), ours_trainable) == (2_896_894, 2_893_630)
    assert ours_trainable < trainable and ours.count_params() < total
    mnist = attention_unet_generator((28, 28, 1), "noise")
    assert mnist.count_params() == _expected_params(1) == 2_894_444
    assert sum(int(np.prod(v.shape)) for v in mnist.trainable_weights) == 2_891_180
    assert "2,896,894" in attention_unet.__doc__ and "2,894,444" in attention_unet.__doc__
    assert "9,416,010" in attention_unet.__doc__ and "2,891,180" in attention_unet.__doc__


def test_pixel_shuffle_is_depth_to_space():
    inp = keras.Input((3, 5, 12))
    m = keras.Model(inp, attention_unet.pixel_shuffle(inp, "ps"))
    x = RNG.standard_normal((2, 3, 5, 12)).astype("float32")
    np.testing.assert_array_equal(m(x).numpy(), tf.nn.depth_to_space(x, 2).numpy())


def test_attention_and_gate_match_their_formulas():
    inp, ctx = keras.Input((3, 4, 16)), keras.Input((3, 4, 2))
    m = keras.Model([inp, ctx], [attention_unet.attention(inp, ctx, "ca"),
                                 attention_unet.attention_gate(inp, ctx, 5, "gate")])
    rng = np.random.default_rng(1)
    for w in m.weights:
        w.assign(rng.standard_normal(w.shape).astype("float32") * 0.3)
    x, c = rng.standard_normal((2, 3, 4, 16)).astype("float32"), rng.standard_normal((2, 3, 4, 2)).astype("float32")
    got_attn, got_gate = (t.numpy() for t in m([x, c]))

    def conv1(t, name, bias=True):
        layer = m.get_layer(name)
        y = t @ layer.kernel.numpy()[0, 0]
        return y + layer.bias.numpy() if bias else y

    q, k, v = conv1(x, "ca_query").reshape(2, 12, 2), conv1(c, "ca_key").reshape(2, 12, 2), conv1(c, "ca_value")
    s = np.einsum("bnd,bmd->bnm", q, k)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    attended = np.einsum("bnm,bmc->bnc", p, v.reshape(2, 12, 16)).reshape(2, 3, 4, 16)
    gamma = m.get_layer("ca_gamma").kernel.numpy()[0, 0, :, 0]
    np.testing.assert_allclose(got_attn, x + gamma * attended, rtol=1e-4, atol=1e-4)
    a = np.maximum(conv1(x, "gate_x", bias=False) + conv1(c, "gate_g"), 0)
    alpha = 1 / (1 + np.exp(-conv1(a, "gate_psi")))
    np.testing.assert_allclose(got_gate, x * alpha, rtol=1e-4, atol=1e-5)


def test_attention_is_identity_at_init():
    g = attention_unet_generator((32, 32, 3), **SMALL)
    blocks = sorted({layer.name[: -len("_gamma")] for layer in g.layers if layer.name.endswith("_gamma")})
    assert blocks == ["cross", "dec2_sa", "out_sa"]      # dec1's self-attention is out_sa
    pairs = [("dec2_prelu", "dec2_sa_residual"), ("dec1_prelu", "out_sa_residual"),
             ("out_sa_residual", "cross_residual")]
    probe = keras.Model(g.input, [g.get_layer(n).output for pair in pairs for n in pair])
    outs = [t.numpy() for t in probe(_images((32, 32, 3)), training=False)]
    for before, after in zip(outs[::2], outs[1::2]):
        np.testing.assert_array_equal(before, after)
    g.get_layer("dec2_sa_gamma").kernel.assign(np.ones((1, 1, 16, 1), "float32"))
    probe = keras.Model(g.input, [g.get_layer("dec2_prelu").output, g.get_layer("dec2_sa_residual").output])
    before, after = probe(_images((32, 32, 3)), training=False)
    assert np.abs(after.numpy() - before.numpy()).max() > 1e-3


def test_noise_mode_is_clipped_input_plus_noise():
    g = attention_unet_generator((28, 28, 1), "noise", **SMALL)
    x = _images((28, 28, 1), n=3)
    noise, y = (t.numpy() for t in keras.Model(g.input, [g.get_layer("out_noise").output, g.output])(x))
    assert np.abs(noise).max() <= 0.5 and np.abs(noise).max() > 0
    np.testing.assert_allclose(y, np.clip(x + noise, 0.0, 1.0), atol=1e-6)
    out_conv = g.get_layer("out_conv")
    out_conv.kernel.assign(np.zeros(out_conv.kernel.shape, "float32"))
    out_conv.bias.assign(np.zeros(out_conv.bias.shape, "float32"))
    np.testing.assert_array_equal(g(x, training=False).numpy(), x)          # zero noise: the input itself
    image = attention_unet_generator((28, 28, 1), "image", **SMALL)
    image.get_layer("out_conv").kernel.assign(np.zeros(image.get_layer("out_conv").kernel.shape, "float32"))
    image.get_layer("out_conv").bias.assign(np.zeros((1,), "float32"))
    np.testing.assert_array_equal(image(x, training=False).numpy(), np.full_like(x, 0.5))   # 0.5 * tanh(0) + 0.5


def test_save_load_round_trip_with_plain_keras(tmp_path):
    g = attention_unet_generator((32, 32, 3), "noise", **SMALL)
    for layer in g.layers:            # non-zero gammas so the attention paths take part
        if layer.name.endswith("_gamma"):
            layer.kernel.assign(np.full(layer.kernel.shape, 0.5, "float32"))
    path = tmp_path / "g.keras"
    g.save(path)
    with zipfile.ZipFile(path) as z:
        assert "keras_restore" not in z.read("config.json").decode()
    assert all(type(layer).__module__.startswith("keras.") for layer in g.layers)   # built-in layers only
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    x = _images((32, 32, 3), seed=3)
    np.testing.assert_array_equal(loaded(x, training=False).numpy(), g(x, training=False).numpy())


@pytest.mark.parametrize("mode", ["image", "noise"])
def test_input_gradients_are_finite(mode):
    g = attention_unet_generator((28, 28, 1), mode, **SMALL)
    x = tf.constant(_images((28, 28, 1), seed=4) * 0.8 + 0.1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(g(x, training=True))
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0


def test_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        for shape, mode in (((28, 28, 1), "noise"), ((32, 32, 3), "image")):
            g = attention_unet_generator(shape, mode, **SMALL)
            assert g.get_layer("out_sa_softmax").compute_dtype == "float32"
            assert g.get_layer("enc1_conv").compute_dtype == "bfloat16"
            y = np.asarray(g(_images(shape), training=False), dtype="float32")
            assert y.shape == (2, *shape) and np.isfinite(y).all() and y.min() >= 0.0 and y.max() <= 1.0
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("kwargs,match", [
    ({"mode": "foo"}, r"^Unknown mode 'foo'; expected one of: image, noise\.$"),
    ({"base_filters": 0}, r"^`base_filters` must be an integer >= 2, got 0\.$"),
    ({"base_filters": -8}, r"^`base_filters` must be an integer >= 2, got -8\.$"),
    ({"base_filters": 6.0}, r"^`base_filters` must be an integer >= 2, got 6\.0\.$"),
    ({"base_filters": 3}, r"^`base_filters` must be even \(PixelShuffle turns 2 \* base_filters maps into "
                          r"base_filters / 2\), got 3\.$"),
    ({"depth": 1}, r"^`depth` must be an integer >= 2, got 1\.$"),
    ({"input_shape": (32, 32)},
     r"^`input_shape` must be \(height, width, channels\) of positive integers, got \(32, 32\)\.$"),
    ({"input_shape": (1, 32, 32, 3)}, r"^`input_shape` must be \(height, width, channels\) of positive integers"),
    ({"input_shape": 32}, r"^`input_shape` must be \(height, width, channels\), got 32\.$"),
    ({"input_shape": (8, 8, 3)}, r"^`input_shape` height and width must be >= 2 \*\* depth = 16 for `depth`=4 "
                                 r"\(the bottom level at least 2x2\), got \(8, 8\)\.$"),
    ({"input_shape": (32, 32, 3), "depth": 6}, r"^`input_shape` height and width must be >= 2 \*\* depth = 64"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        attention_unet_generator(**kwargs)

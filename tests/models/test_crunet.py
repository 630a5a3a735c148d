"""CRU-Net (papers/001, Section 4) and its target models (Tables 1 and 8)."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore import models
from keras_restore.models.crunet import crunet

# name: (parameters, output shape). CRU-Net counts follow from the choices in crunet.py's
# docstring; the classifiers' from the tables' layers (Flatten sizes: A-net 13x13x64, B-net
# 4x4x64, model A 12x12x64, model B 1x1x128, model C 13x13x64, model D 784).
TABLE = {
    "crunet_mnist": (1_232_753, (None, 28, 28, 1)),
    "crunet_cifar10": (1_233_619, (None, 32, 32, 3)),
    "anet": (146_762, (None, 10)),
    "bnet": (358_634, (None, 10)),
    "model_a": (1_285_194, (None, 10)),
    "model_b": (710_218, (None, 10)),
    "model_c": (1_460_938, (None, 10)),
    "model_d": (199_210, (None, 10)),
}
BLOCK_NAME = re.compile(r"^(enc\d+|dec\d+|out)_")


@pytest.fixture(scope="module")
def mnist_net():
    keras.utils.set_random_seed(0)
    return models.build("crunet_mnist")


def _images(shape, low=0.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_parameter_counts_and_output(name):
    params, out = TABLE[name]
    model = models.build(name)
    assert model.count_params() == params
    assert model.output_shape == out
    assert models.get_spec(name).paper == "Ali et al. 2022, CRU-Net (papers/001)"


def test_registry_kinds_and_reported_accuracy():
    assert models.get_spec("crunet_mnist").kind == models.get_spec("crunet_cifar10").kind == "restorer"
    assert models.get_spec("crunet_cifar10").dataset == "cifar10"
    assert models.get_spec("anet").reported == {"accuracy": 99.35}
    assert models.get_spec("bnet").reported == {"accuracy": 99.39}
    assert all(models.get_spec(f"model_{c}").reported == {} for c in "abcd")


def test_output_in_unit_range(mnist_net):
    # Inputs outside [0, 1] too: the Clip must hold whatever the residual adds.
    y = mnist_net(_images((4, 28, 28, 1), -0.5, 1.5), training=False).numpy()
    assert y.shape == (4, 28, 28, 1)
    assert y.min() >= 0.0 and y.max() <= 1.0


def test_global_residual_is_identity_when_projection_is_zero():
    model = models.build("crunet_cifar10")
    out = model.get_layer("out_conv")
    out.set_weights([np.zeros_like(w) for w in out.get_weights()])
    x = _images((2, 32, 32, 3))
    np.testing.assert_allclose(model(x, training=False).numpy(), x, atol=1e-7)


def test_differentiable_end_to_end(mnist_net):
    x = tf.constant(_images((2, 28, 28, 1), 0.3, 0.7))  # inside (0, 1): the Clip passes gradients
    first = mnist_net.get_layer("enc1_db1_conv1").kernel
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.square(mnist_net(x, training=True) - 0.5))
    dx, dw = tape.gradient(loss, [x, first])
    assert np.all(np.isfinite(dx.numpy())) and np.abs(dx.numpy()).sum() > 0
    # The deepest-from-the-output weights get a gradient too: the U-Net path is connected.
    assert np.abs(dw.numpy()).sum() > 0


def test_keras_file_round_trip(tmp_path, mnist_net):
    path = tmp_path / "crunet_mnist.keras"
    mnist_net.save(path)
    loaded = keras.saving.load_model(path)  # plain Keras, safe_mode on
    x = _images((3, 28, 28, 1), seed=1)
    np.testing.assert_array_equal(loaded(x, training=False).numpy(), mnist_net(x, training=False).numpy())


@pytest.mark.parametrize("name", ["anet", "model_b"])
def test_target_round_trip_and_softmax(tmp_path, name):
    model = models.build(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    x = _images((3, 28, 28, 1), seed=2)
    np.testing.assert_array_equal(keras.saving.load_model(path)(x).numpy(), model(x).numpy())
    probs = models.build(name, classifier_activation="softmax")(x).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_layer_names_unique_and_prefixed_by_block(mnist_net):
    names = [layer.name for layer in mnist_net.layers]
    assert len(names) == len(set(names))
    assert names[0] == "adversarial"
    assert all(BLOCK_NAME.match(n) for n in names[1:]), [n for n in names[1:] if not BLOCK_NAME.match(n)]
    for expected in ("enc2_db1_conv1", "enc1_down", "enc3_db2_fuse", "dec1_up", "dec1_concat",
                     "dec1_smooth", "out_conv", "out_residual", "out_clip"):
        assert expected in names


def test_structure_follows_section4(mnist_net):
    layers = mnist_net.layers
    convs = [l for l in layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert all(l.kernel_size == (3, 3) and l.padding == "same" for l in convs)
    assert not any(isinstance(l, (keras.layers.MaxPooling2D, keras.layers.Lambda)) for l in layers)
    # Downsampling: stride-2 convolutions doubling the maps; upsampling: transposed convolutions.
    strided = {l.name: l.filters for l in convs if l.strides == (2, 2)}
    assert strided == {"enc1_down": 64, "enc2_down": 128, "dec2_up": 64, "dec1_up": 32}
    assert sorted(l.name for l in layers if isinstance(l, keras.layers.Conv2DTranspose)) == ["dec1_up", "dec2_up"]
    # LeakyReLU after every convolution but the (signed) residual projection.
    names = {l.name for l in layers}
    assert all(f"{l.name}_lrelu" in names for l in convs if l.name != "out_conv")
    # De-noising block: halve, two convs, then combine the first and the last maps.
    get = mnist_net.get_layer
    assert [get(f"enc2_db1_{s}").filters for s in ("conv1", "conv2", "conv3", "fuse")] == [32, 32, 32, 64]
    concat_inputs = {t._keras_history.operation.name for t in get("enc2_db1_concat").input}
    assert concat_inputs == {"enc2_db1_conv1_lrelu", "enc2_db1_conv3_lrelu"}
    # Same-level skip: decoder level 1 concatenates the upsampled maps with encoder level 1.
    skip_inputs = {t._keras_history.operation.name for t in get("dec1_concat").input}
    assert skip_inputs == {"dec1_up_lrelu", "enc1_db2_fuse_lrelu"}
    assert models.layers.is_unit_clip(layers[-1]) and type(layers[-1]) is keras.layers.ReLU   # built-in clip to [0, 1]
    assert isinstance(layers[-2], keras.layers.Add)


def test_generic_builder_other_depths():
    model = crunet((32, 32, 3), levels=4, base_filters=8, blocks=1, name="tiny")
    assert model.name == "tiny" and model.output_shape == (None, 32, 32, 3)
    assert model.get_layer("enc4_db1_fuse").filters == 64
    y = model(_images((1, 32, 32, 3)), training=False).numpy()
    assert 0.0 <= y.min() and y.max() <= 1.0


@pytest.mark.parametrize("kwargs,match", [
    ({"input_shape": (28, 28)}, r"`input_shape` must be \(height, width, channels\)"),
    ({"input_shape": 28}, r"`input_shape` must be \(height, width, channels\)"),
    ({"input_shape": (28, 0, 1)}, r"`input_shape` must be .* positive integers"),
    ({"input_shape": (28, 28, 1), "levels": 4}, r"divisible by 2 \*\* \(levels - 1\) = 8 for `levels`=4"),
    ({"input_shape": (30, 30, 1)}, r"divisible by 2 \*\* \(levels - 1\) = 4"),
    ({"input_shape": (28, 28, 1), "levels": 1}, r"`levels` must be an integer >= 2"),
    ({"input_shape": (28, 28, 1), "levels": 2.0}, r"`levels` must be an integer >= 2"),
    ({"input_shape": (28, 28, 1), "levels": True}, r"`levels` must be an integer >= 2"),
    ({"input_shape": (28, 28, 1), "base_filters": 0}, r"`base_filters` must be an integer >= 2"),
    ({"input_shape": (28, 28, 1), "base_filters": 15}, r"`base_filters` must be even"),
    ({"input_shape": (28, 28, 1), "blocks": 0}, r"`blocks` must be an integer >= 1"),
])
def test_bad_crunet_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        crunet(**kwargs)


@pytest.mark.parametrize("call,match", [
    (lambda: models.build("crunet_mnist", input_shape=(32, 32, 1)), r"crunet_mnist must be \(28, 28, 1\)"),
    (lambda: models.build("crunet_cifar10", input_shape=(32, 32, 1)), r"crunet_cifar10 must be \(32, 32, 3\)"),
    (lambda: models.build("crunet_cifar10", levels=7), r"divisible by 2 \*\* \(levels - 1\) = 64"),
    (lambda: models.build("anet", input_shape=(32, 32, 3)), r"anet must be \(28, 28, 1\)"),
    (lambda: models.build("model_c", classes=1), "`classes` must be an integer >= 2"),
    (lambda: models.build("model_d", classifier_activation="relu"), "`classifier_activation` must be None"),
])
def test_bad_builder_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()

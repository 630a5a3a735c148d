"""Builders against the figures the papers state (not against the code's own output)."""

import keras
import numpy as np
import pytest

from keras_restore import models

# name: (parameters, non-trainable, output shape) -- Table 1: 15.93 M / 0.003 M (15,929,753 with
# the reconstruction in restorers.py); Table 2: 19.667 M; Table 3 M1/M2 follow from the layers.
TABLE = {
    "restorer_mnist_paper": (15_929_753, 2_818, (None, 28, 28, 1)),
    "restorer_mnist": (15_929_749, 2_816, (None, 28, 28, 1)),
    "restorer_cifar10": (19_665_539, 1_792, (None, 32, 32, 3)),
    "m1": (110_474, 0, (None, 10)),
    "m2": (47_722, 0, (None, 10)),
}


def _non_trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_parameter_counts_and_output(name):
    params, frozen, out = TABLE[name]
    model = models.build(name)
    assert model.count_params() == params
    assert _non_trainable(model) == frozen
    assert model.output_shape == out


def test_table1_matches_paper_rounding():
    model = models.build("restorer_mnist_paper")
    assert round(model.count_params() / 1e6, 2) == 15.93  # "Total parameters: 15.93 million"
    assert round(_non_trainable(model) / 1e6, 3) == 0.003


def test_table2_matches_paper_rounding():
    assert abs(models.build("restorer_cifar10").count_params() / 1e6 - 19.667) < 0.002


def test_table1_layer_sequence():
    model = models.build("restorer_mnist_paper")
    kinds = [type(l).__name__ for l in model.layers]
    assert kinds.count("Conv2D") == 8 + 3
    assert kinds.count("Conv2DTranspose") == 8
    assert kinds.count("BatchNormalization") == 4 + 3 + 1
    assert kinds[-1] == "BatchNormalization"
    names = [l.name for l in model.layers]
    assert "enc2_conv1" in names and "dec3_bn" in names and "bottleneck_dense" in names
    strides = [l.strides[0] for l in model.layers if isinstance(l, keras.layers.Conv2D) and l.name.startswith("enc")]
    assert strides == [2, 1] * 4


def test_m1_layers_follow_table3():
    model = models.build("m1", classifier_activation="softmax")
    kinds = [type(l).__name__ for l in model.layers[1:]]
    assert kinds == ["Conv2D", "MaxPooling2D"] * 3 + ["Flatten", "Dropout", "Dense", "Dropout", "Dense", "Softmax"]
    assert np.allclose(model(np.zeros((2, 28, 28, 1), np.float32)).numpy().sum(axis=1), 1.0, atol=1e-5)


def test_stable_restorer_output_in_range():
    model = models.build("restorer_mnist")
    y = model(np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32), training=False).numpy()
    assert y.min() >= 0 and y.max() <= 1


@pytest.mark.parametrize("name", ["m1", "m2", "restorer_mnist"])
def test_keras_file_round_trip(tmp_path, name):
    model = models.build(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # plain Keras, safe_mode on
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), atol=1e-6)


@pytest.mark.parametrize("call,match", [
    (lambda: models.build("resnet9000"), "Unknown model 'resnet9000'"),
    (lambda: models.build("restorer_mnist", variant="tiny"), "Unknown variant 'tiny'"),
    (lambda: models.build("restorer_mnist", input_shape=(32, 32, 1)), r"must be \(28, 28, 1\)"),
    (lambda: models.build("restorer_mnist", input_shape=(28, 28)), r"\(height, width, channels\)"),
    (lambda: models.build("restorer_cifar10", input_shape=(32, 32, 1)), r"must be \(32, 32, 3\)"),
    (lambda: models.build("m1", classes=1), "`classes` must be an integer >= 2"),
    (lambda: models.build("m2", classifier_activation="sigmoid"), "`classifier_activation` must be None"),
    (lambda: models.build("m1", input_shape=(28, 28, 3)), r"must be \(28, 28, 1\)"),
    (lambda: models.Clip(1.0, 0.0), "`min_value` must be < `max_value`"),
])
def test_bad_builder_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()

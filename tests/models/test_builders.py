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
    # Table 6/7 and Table 5 targets: LeNet-5 as LeCun 1998 (C1 156 + C3 2,416 + C5 48,120 + F6
    # 10,164 + output 850); the keras.applications ones at 32x32 with a Dense(10) head (the fixed
    # normalisation constants are not counted as parameters).
    "lenet5": (61_706, 0, (None, 10)),
    "alexnet_mnist": (3_896_010, 0, (None, 10)),
    "densenet121_cifar10": (7_047_754, 83_648, (None, 10)),
    "mobilenet_cifar10": (3_239_114, 21_888, (None, 10)),
    "vgg19_cifar10": (20_029_514, 0, (None, 10)),
    "resnet_cifar10": (273_658, 1_376, (None, 10)),
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


def test_lenet5_follows_lecun_1998():
    model = models.build("lenet5")
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert [(l.filters, l.kernel_size) for l in convs] == [(6, (5, 5)), (16, (5, 5)), (120, (5, 5))]
    assert [l.output.shape[1] for l in convs] == [28, 10, 1]  # 32 -> 28, 14 -> 10, 5 -> 1
    assert sum(isinstance(l, keras.layers.AveragePooling2D) for l in model.layers) == 2


def test_alexnet_keeps_five_convs_and_three_pools():
    model = models.build("alexnet_mnist")
    convs = [l.filters for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert convs == [64, 192, 384, 256, 256]
    assert model.get_layer("pool5").output.shape[1:3] == (3, 3)


@pytest.mark.parametrize("name", ["densenet121_cifar10", "mobilenet_cifar10", "vgg19_cifar10", "vgg19_bn_cifar10",
                                  "resnet_cifar10"])
def test_cifar_targets_take_unit_range_images(name):
    model = models.build(name)
    norm = model.get_layer("normalize")
    # the fixed normalisation maps the CIFAR-10 channel means to ~0
    out = norm(np.array([[[[0.4914, 0.4822, 0.4465]]]], np.float32)).numpy()
    assert np.abs(out).max() < 1e-4
    assert model(np.zeros((1, 32, 32, 3), np.float32)).shape == (1, 10)


def test_resnet_depth_is_6n_plus_2():
    assert models.build("resnet_cifar10", depth=32).count_params() > models.build("resnet_cifar10").count_params()
    with pytest.raises(ValueError, match=r"`depth` must be 6n \+ 2"):
        models.build("resnet_cifar10", depth=21)


def test_cifar_targets_reject_bad_weights_and_shape():
    with pytest.raises(ValueError, match="`weights` of densenet121_cifar10 must be None"):
        models.build("densenet121_cifar10", weights="cifar")
    with pytest.raises(ValueError, match=r"must be \(32, 32, 3\)"):
        models.build("mobilenet_cifar10", input_shape=(28, 28, 1))

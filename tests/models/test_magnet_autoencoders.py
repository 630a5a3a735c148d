"""MagNet's autoencoders (Meng & Chen 2017; MNIST detectors / reformer, CIFAR-10 reformer): structure, parameter
counts, output range, bad arguments."""

import keras
import numpy as np
import pytest

from keras_restore import models
from keras_restore.models.magnet import (
    CIFAR10_FILTERS, NOISE_VOLUME_CIFAR10, REG_STRENGTH, magnet_cifar10_reformer, magnet_mnist_detector2,
    magnet_mnist_reformer,
)


def test_reformer_structure_and_count():
    m = magnet_mnist_reformer()
    # 3x3 convs: 1->3 (30), 3->3 (84) x 3, 3->1 (28)
    assert m.count_params() == 30 + 3 * 84 + 28 == 310
    assert [layer.name for layer in m.layers] == ["image", "enc1_conv", "enc_pool", "enc2_conv", "dec1_conv", "dec_up",
                                                  "dec2_conv", "out_conv"]
    assert m.get_layer("enc_pool").output.shape[1:] == (14, 14, 3)
    assert isinstance(m.get_layer("enc_pool"), keras.layers.AveragePooling2D)
    convs = [layer for layer in m.layers if isinstance(layer, keras.layers.Conv2D)]
    assert all(c.kernel_size == (3, 3) and c.activation.__name__ == "sigmoid" for c in convs)
    assert all(float(c.activity_regularizer.l2) == pytest.approx(1e-9) for c in convs)
    assert REG_STRENGTH == 1e-9


def test_detector2_structure_and_count():
    m = magnet_mnist_detector2()
    assert m.count_params() == 30 + 84 + 28 == 142
    assert [layer.name for layer in m.layers] == ["image", "enc1_conv", "dec1_conv", "out_conv"]
    assert [layer.filters for layer in m.layers[1:]] == [3, 3, 1]


def test_cifar10_reformer_structure_and_count():
    # MagNet Table 2 (CIFAR-10 detectors & reformer): Conv.Sigmoid 3x3x96 - 3x3x96 - 3x3x3, no pooling.
    m = magnet_cifar10_reformer()
    assert m.count_params() == (27 * 96 + 96) + (864 * 96 + 96) + (864 * 3 + 3) == 88323
    assert [layer.name for layer in m.layers] == ["image", "enc1_conv", "dec1_conv", "out_conv"]
    assert [layer.filters for layer in m.layers[1:]] == [96, 96, 3] and CIFAR10_FILTERS == 96
    convs = m.layers[1:]
    assert all(c.kernel_size == (3, 3) and c.padding == "same" and c.activation.__name__ == "sigmoid" for c in convs)
    assert all(float(c.activity_regularizer.l2) == pytest.approx(REG_STRENGTH) for c in convs)
    assert NOISE_VOLUME_CIFAR10 == 0.025
    small = magnet_cifar10_reformer(filters=8, reg_strength=0)
    assert small.count_params() == (27 * 8 + 8) + (72 * 8 + 8) + (72 * 3 + 3)
    assert magnet_cifar10_reformer((28, 28, 1)).output_shape == (None, 28, 28, 1)


@pytest.mark.parametrize("builder,shape", [(magnet_mnist_reformer, (28, 28, 1)), (magnet_mnist_detector2, (28, 28, 1)),
                                           (magnet_cifar10_reformer, (32, 32, 3))])
def test_output_in_unit_range_and_shape(builder, shape):
    m = builder()
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.random((3, *shape)), np.zeros((1, *shape)), np.ones((1, *shape))]).astype("float32")
    y = m.predict(x, verbose=0)
    assert y.shape == x.shape and y.min() >= 0.0 and y.max() <= 1.0   # sigmoid output, no clip layer needed
    assert not any(isinstance(layer, keras.layers.ReLU) for layer in m.layers)


def test_no_regulariser_at_zero_strength_and_other_shapes():
    m = magnet_mnist_reformer(reg_strength=0)
    assert all(layer.activity_regularizer is None for layer in m.layers if isinstance(layer, keras.layers.Conv2D))
    assert magnet_mnist_reformer((32, 32, 3)).output_shape == (None, 32, 32, 3)
    assert magnet_mnist_detector2((9, 9, 2)).output_shape == (None, 9, 9, 2)


def test_registry_entries():
    for name, count, dataset in (("magnet_mnist_reformer", 310, "mnist"), ("magnet_mnist_detector2", 142, "mnist"),
                                 ("magnet_cifar10_reformer", 88323, "cifar10")):
        spec = models.get_spec(name)
        assert spec.kind == "restorer" and spec.dataset == dataset and spec.paper.startswith("Meng & Chen 2017")
        assert models.build(name).count_params() == count and not spec.not_shipped


@pytest.mark.parametrize("builder,kwargs,match", [
    (magnet_mnist_reformer, {"input_shape": (28, 28)},
     r"`input_shape` of magnet_mnist_reformer must be \(height, width, channels\)"),
    (magnet_mnist_reformer, {"input_shape": (27, 28, 1)}, "must have an even height and width"),
    (magnet_mnist_detector2, {"input_shape": 28},
     r"`input_shape` of magnet_mnist_detector2 must be \(height, width, channels\)"),
    (magnet_mnist_detector2, {"input_shape": (28, 0, 1)}, "of positive integers"),
    (magnet_mnist_reformer, {"reg_strength": -1e-9}, r"`reg_strength` must be a number >= 0, got -1e-09"),
    (magnet_mnist_detector2, {"reg_strength": True}, "`reg_strength` must be a number >= 0"),
    (magnet_cifar10_reformer, {"input_shape": (32, 32)},
     r"`input_shape` of magnet_cifar10_reformer must be \(height, width, channels\)"),
    (magnet_cifar10_reformer, {"filters": 0}, r"`filters` of magnet_cifar10_reformer must be a positive int .*got 0"),
    (magnet_cifar10_reformer, {"filters": 9.5}, "`filters` of magnet_cifar10_reformer must be a positive int"),
    (magnet_cifar10_reformer, {"reg_strength": -1.0}, "`reg_strength` must be a number >= 0"),
])
def test_bad_arguments(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)

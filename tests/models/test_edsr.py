"""papers/002's EDSR-style reconstruction network: structure, parameter count, range, bad arguments."""

import keras
import numpy as np
import pytest

from keras_restore import models
from keras_restore.models.edsr import edsr_restorer


def test_edsr_baseline_structure_and_count():
    m = edsr_restorer()
    # head 640 + 16 blocks x 2 x (3*3*64*64 + 64) + body 36,928 + tail 577
    assert m.count_params() == 640 + 16 * 2 * (9 * 64 * 64 + 64) + 36_928 + 577 == 1_219_841
    names = [layer.name for layer in m.layers]
    assert names[:3] == ["image", "head_conv", "block1_conv1"] and "block16_add" in names
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in m.layers)   # EDSR drops BN
    assert m.get_layer("global_skip").input[0].name == m.get_layer("head_conv").output.name


def test_output_in_unit_range_and_shape():
    m = edsr_restorer((32, 32, 3), blocks=2, filters=8, res_scale=0.1)
    x = np.random.default_rng(0).random((3, 32, 32, 3)).astype("float32")
    y = m.predict(x, verbose=0)
    assert y.shape == x.shape and y.min() >= 0.0 and y.max() <= 1.0
    assert "block1_scale" in [layer.name for layer in m.layers]


def test_registry_entries():
    assert models.get_spec("edsr_mnist").kind == "restorer"
    assert models.build("edsr_cifar10").input_shape == (None, 32, 32, 3)


@pytest.mark.parametrize("kwargs,match", [
    ({"input_shape": (28, 28)}, r"`input_shape` must be \(height, width, channels\)"),
    ({"blocks": 0}, "`blocks`"),
    ({"filters": 2.5}, "`filters`"),
    ({"res_scale": 0}, r"`res_scale` must be a number in \(0, 1\], got 0"),
    ({"res_scale": True}, "`res_scale`"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        edsr_restorer(**kwargs)

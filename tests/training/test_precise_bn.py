"""training.precise_batchnorm: BatchNorm moving statistics = the mean of the per-batch statistics
(PreciseBN), nested models included; weights and momenta untouched."""

import keras
import numpy as np
import pytest

from keras_restore.training import precise_batchnorm


def _model():
    inner_in = keras.Input((4, 4, 2))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization(name="inner_bn")(inner_in), name="inner")
    x_in = keras.Input((4, 4, 2))
    x = keras.layers.BatchNormalization(name="outer_bn")(x_in)
    return keras.Model(x_in, inner(x))


def test_moving_statistics_are_the_mean_of_batch_statistics():
    rng = np.random.default_rng(0)
    x = (rng.random(size=(40, 4, 4, 2)) * [0.2, 0.9] + [0.7, 0.05]).astype("float32")   # images in [0, 1]
    model = _model()
    outer = model.get_layer("outer_bn")
    outer.moving_mean.assign([100.0, 100.0])   # stale statistics
    gamma = outer.gamma.numpy().copy()
    record = precise_batchnorm(model, x, batch_size=10)
    assert record["layers"] == 2 and record["images"] == 40 and record["batch_size"] == 10
    batch_means = x.reshape(4, 10, -1, 2).mean(axis=(1, 2))
    batch_vars = x.reshape(4, 10, -1, 2).var(axis=(1, 2))
    np.testing.assert_allclose(outer.moving_mean.numpy(), batch_means.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outer.moving_variance.numpy(), batch_vars.mean(axis=0), rtol=1e-3)
    # the nested model's BatchNorm sees the (batch-normalised) outer output: mean ~0, variance ~1
    inner = model.get_layer("inner").get_layer("inner_bn")
    np.testing.assert_allclose(inner.moving_mean.numpy(), 0.0, atol=1e-4)
    assert outer.momentum == 0.99 and inner.momentum == 0.99
    np.testing.assert_array_equal(outer.gamma.numpy(), gamma)


def test_bad_input():
    with pytest.raises(ValueError, match="x"):
        precise_batchnorm(_model(), np.zeros((3, 5, 5, 2), "float32"))

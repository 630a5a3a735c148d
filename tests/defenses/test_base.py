import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore import models
from keras_restore.defense import RestorerDefense, compose, predict, psnr, ssim, success_rate


@pytest.fixture(scope="module")
def tiny_restorer():
    inp = keras.Input((28, 28, 1))
    return keras.Model(inp, models.Clip()(keras.layers.Conv2D(1, 3, padding="same")(inp)))


def test_composed_model_is_differentiable_through_the_restorer(tiny_restorer):
    defense = RestorerDefense(tiny_restorer, models.build("m2"))
    x = tf.constant(np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(defense.model(x))
    grad = tape.gradient(loss, x)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0
    np.testing.assert_allclose(defense.predict(x.numpy()), defense.model(x).numpy(), atol=1e-5)


def test_predict_pads_last_batch():
    m = models.build("m2")
    x = np.random.default_rng(0).random((37, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(predict(m, x, batch_size=16), m(x).numpy(), atol=1e-5)


def test_metrics(tiny_restorer):
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    assert ssim(x, x) == pytest.approx(1.0)
    assert psnr(x, x) == 100.0  # identical images: capped
    assert psnr(x, np.clip(x + 0.1, 0, 1)) < 25
    assert success_rate(45.0, 90.0) == 50.0
    metrics, restored = RestorerDefense(tiny_restorer, models.build("m2")).evaluate(x, x, np.arange(8) % 10)
    assert restored.shape == x.shape and metrics["n_images"] == 8
    assert metrics["ssim_adversarial"] == pytest.approx(1.0)


def test_bad_inputs(tiny_restorer):
    defense = RestorerDefense(tiny_restorer, models.build("m2"))
    x = np.zeros((2, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"image shape \(28, 28, 1\), got \(28, 28, 3\)"):
        defense.restore(np.zeros((2, 28, 28, 3), np.float32))
    with pytest.raises(ValueError, match="`x_adv` shape"):
        defense.evaluate(x, np.zeros((3, 28, 28, 1), np.float32), [0, 1])
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        defense.evaluate(x, x, [0, 1, 2])
    with pytest.raises(ValueError, match="`original_accuracy` must be > 0"):
        success_rate(10.0, 0.0)
    with pytest.raises(ValueError, match="must match"):
        compose(models.build("restorer_cifar10"), models.build("m1"))
    with pytest.raises(ValueError, match="empty batch"):
        predict(models.build("m2"), np.zeros((0, 28, 28, 1), np.float32))

"""models/quantize.py: the int8 copy of papers/000's Table 2 restorer is under the 30 MB limit, computes
nearly what the float32 model does, has an input gradient (adaptive attacks), loads with plain Keras and
through the package's loader (which checks it against the builder's model quantized the same way)."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore import models
from keras_restore.export import export_restorer
from keras_restore.fast import fast_inference
from keras_restore.io import save_model_atomic
from keras_restore.models import quantize


@pytest.fixture(scope="module")
def restorer():
    keras.utils.set_random_seed(0)
    return models.build("restorer_cifar10")


def test_int8_copy_is_small_close_and_differentiable(restorer, tmp_path):
    q = quantize.quantized_copy(restorer)
    assert quantize.quantized_layers(q) == {"bottleneck_dense": "int8"}
    assert quantize.quantized_layers(restorer) == {}   # the original is left float32
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype("float32")
    diff = np.abs(np.asarray(q(x)) - np.asarray(restorer(x)))
    assert 0 < diff.max() < 0.02
    # the pipeline's inference clone (keras_restore.fast) keeps the int8 layer and its outputs
    fast = fast_inference(q)
    assert quantize.quantized_layers(fast) == {"bottleneck_dense": "int8"}
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(q(x)), atol=1e-6)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(q(xt))
    grad = tape.gradient(loss, xt)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0
    path = save_model_atomic(q, tmp_path / "restorer_cifar10.keras")
    assert path.stat().st_size < 30e6 < 4 * restorer.count_params()
    loaded = models.load_keras_file(path, models.get_spec("restorer_cifar10"))
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(q(x)), atol=1e-6)
    # TF Serving: the package's SavedModel export of the int8 restorer serves what the model computes
    exported = export_restorer(q, tmp_path / "served")
    served = tf.saved_model.load(str(exported))
    fn = next(iter(served.signatures.values()))
    got = next(iter(fn(tf.constant(x)).values())).numpy()
    np.testing.assert_allclose(got, np.asarray(q(x)), atol=1e-5)
    child = ("import keras, sys; m = keras.saving.load_model(sys.argv[1], safe_mode=True); "
             "print(sorted(l.dtype_policy.name for l in m.layers if l.name == 'bottleneck_dense'))")
    out = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "int8_from_float32" in out.stdout


def test_loader_rejects_quantized_layers_a_spec_does_not_ship(tmp_path):
    q = quantize.quantized_copy(models.build("m2"))
    path = save_model_atomic(q, tmp_path / "m2.keras")
    with pytest.raises(ValueError, match=r"m2.keras holds quantized layers \(.*int8.*\); a 'm2' file is shipped in float32"):
        models.load_keras_file(path, models.get_spec("m2"))
    # a quantized file of another model under a quantized spec: the architecture check still runs
    other = save_model_atomic(quantize.quantized_copy(models.build("m2")), tmp_path / "restorer_cifar10.keras")
    with pytest.raises(ValueError, match=r"does not hold the 'restorer_cifar10' architecture \(47\d+ parameters, "
                                         r"expected 19665539 before quantization\)"):
        models.load_keras_file(other, models.get_spec("restorer_cifar10"))


def test_errors():
    with pytest.raises(ValueError, match=r"`mode` must be one of int8 \(a quantization mode\), got 'int4'"):
        quantize.quantized_copy(models.build("m2"), "int4")
    conv_only = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)], name="conv_only")
    with pytest.raises(ValueError, match="Model 'conv_only' has no Dense layer"):
        quantize.quantized_copy(conv_only)
    with pytest.raises(ValueError, match=r"`layers` names \['nope'\], which 'conv_only' does not have"):
        quantize.quantize_layers(conv_only, {"nope": "int8"})
    with pytest.raises(ValueError, match=r"`ship_quantized of x` must be one of int8"):
        models.ModelSpec("x", models.restorer_cifar10, ship_quantized="int4")

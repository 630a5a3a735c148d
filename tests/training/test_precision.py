"""Training precision: a model built and trained under mixed_bfloat16 is used in float32 afterwards
(same weights); the policy is restored; bad names are refused."""

import keras
import numpy as np
import pytest

from keras_restore import runtime, training
from keras_restore.models.layers import output_clip
from keras_restore.training import PixelLoss, TrainConfig, TrainData


def _build():
    inp = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inp)
    x = keras.layers.Conv2D(1, 3, padding="same", name="c2")(x)
    return keras.Model(inp, output_clip(keras.layers.Add(name="res")([inp, x])))


def test_bf16_training_then_float32_copy():
    rng = np.random.default_rng(0)
    clean = rng.random((96, 8, 8, 1)).astype("float32")
    adv = np.clip(clean + 0.1 * rng.standard_normal(clean.shape), 0, 1).astype("float32")
    cfg = TrainConfig(epochs=3, batch_size=16, learning_rate=3e-3, val_fraction=0.25, precision="mixed_bfloat16")
    keras.utils.set_random_seed(0)
    model = training.build_model(_build, cfg)
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"   # restored after building
    record = PixelLoss().train(model, TrainData(x_adv=adv, x_clean=clean), cfg, verbose=0)
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]
    assert record["config"]["precision"] == "mixed_bfloat16"
    f32 = training.float32_copy(model, _build)
    assert f32.dtype_policy.name == "float32" and f32.output.dtype == "float32"
    for a, b in zip(model.get_weights(), f32.get_weights()):
        np.testing.assert_array_equal(a, b)
    # bf16 outputs carry ~3 significant digits: the float32 copy agrees to that precision
    np.testing.assert_allclose(np.asarray(model.predict(adv, verbose=0), np.float32), f32.predict(adv, verbose=0),
                               atol=2e-2)
    assert training.float32_copy(f32, _build) is f32


def test_precision_names_are_checked():
    with pytest.raises(ValueError, match="`precision` must be one of"):
        TrainConfig(precision="bfloat16")
    with pytest.raises(ValueError, match="`precision` must be one of"):
        with runtime.precision_scope("half"):
            pass
    assert runtime.training_precision("float32") == "float32"
    assert runtime.training_precision("auto") in runtime.PRECISIONS
    assert isinstance(runtime.cpu_supports_bf16(), bool)
    assert isinstance(runtime.gpu_supports_bf16(), bool) and isinstance(runtime.bf16_is_native(), bool)


@pytest.mark.parametrize("has_bf16, policy, warns", [
    (False, "mixed_bfloat16", True), (True, "mixed_bfloat16", False), (False, "float32", False),
])
def test_emulated_bfloat16_is_warned_once(monkeypatch, has_bf16, policy, warns):
    """mixed_bfloat16 on a CPU without AVX512-BF16 / AMX is emulated (about 2x slower than float32 on such a
    Xeon): building a model in it warns, once per process; the policy itself is kept."""
    import tensorflow as tf

    monkeypatch.setattr(runtime, "cpu_supports_bf16", lambda: has_bf16)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda *a: [])   # as on a CPU-only machine
    monkeypatch.setattr(runtime, "_WARNED_EMULATED", False)
    cfg = TrainConfig(epochs=1, precision=policy)
    if warns:
        with pytest.warns(RuntimeWarning, match="mixed_bfloat16 on a CPU without AVX512-BF16 or AMX"):
            model = training.build_model(_build, cfg)
        assert runtime.warn_if_emulated(policy) is False   # once
    else:
        assert runtime.warn_if_emulated(policy) is False
        model = training.build_model(_build, cfg)
    assert model.dtype_policy.name == policy

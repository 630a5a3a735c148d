"""pipeline/cifar_targets.py: the CIFAR-10 targets' recipe settings, one per model, and its argument checks."""

import pytest

from keras_restore.pipeline import cifar_targets


def test_settings_per_model():
    assert cifar_targets.learning_rate("densenet121_cifar10") == 0.05   # diverged at 0.1 (PEAK_LR's comment)
    assert cifar_targets.learning_rate("mobilenet_cifar10") == cifar_targets.LEARNING_RATE == 0.1
    assert cifar_targets.PRECISION["mobilenet_cifar10"] == "float32"    # benchmarks/precision.py: 0.56x in bf16
    for name in cifar_targets.MODELS:
        assert name in cifar_targets.SCHEDULE and name in cifar_targets.EPOCHS["retrain"]


def test_train_target_refuses_an_unknown_model(tmp_path):
    from keras_restore.pipeline.cache import Cache

    with pytest.raises(ValueError, match="Unknown CIFAR-10 target 'lenet5'"):
        cifar_targets.train_target("lenet5", [], [], epochs=1, seed=0, precision="float32", source="x",
                                   cache=Cache(tmp_path))

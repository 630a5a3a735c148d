"""Run.attack: a large attack set is made and cached in chunks, so an interrupted run resumes with
the finished chunks and ends with the same set as an uninterrupted one."""

import dataclasses

import numpy as np
import pytest

from keras_restore import attacks
from keras_restore.pipeline import get_scale, phases
from keras_restore.pipeline.phases import Run
from keras_restore.pipeline.tables import TABLE4


def tiny_classifier():
    import keras

    inp = keras.Input((28, 28, 1))
    out = keras.layers.Dense(10, kernel_initializer=keras.initializers.RandomNormal(seed=0))(
        keras.layers.Flatten()(inp))
    return keras.Model(inp, out)


def make_run(tmp_path):
    run = Run(TABLE4, get_scale("quick"), data_dir=None, cache_dir=tmp_path / "cache", seed=0, columns=None,
              progress=False, log=lambda s: None)
    run.source = "test images"
    return run


def test_large_attack_set_resumes_from_its_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(phases, "ATTACK_CHUNK", 4)
    rng = np.random.default_rng(0)
    x, y = rng.random((10, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 10)
    model = tiny_classifier()
    real, calls = attacks.generate, []

    def interrupted(name, m, xs, *args, **kwargs):
        calls.append(len(xs))
        if len(calls) == 2:
            raise KeyboardInterrupt("session ended")
        return real(name, m, xs, *args, **kwargs)

    monkeypatch.setattr(attacks, "generate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        make_run(tmp_path).attack(model, "fgsm", x, y, tag="pairs")
    assert calls == [4, 4]                      # the first chunk was finished and cached
    counted = []
    monkeypatch.setattr(attacks, "generate", lambda name, m, xs, *a, **k: counted.append(len(xs)) or real(name, m, xs, *a, **k))
    x_adv, info = make_run(tmp_path).attack(model, "fgsm", x, y, tag="pairs")
    assert counted == [4, 2] and not info["cached"]     # chunk 0 came from the cache
    assert x_adv.shape == x.shape
    assert not list((tmp_path / "cache" / "attacks").glob("*chunk*")), "chunks are removed once the set is stored"
    x_again, info = make_run(tmp_path).attack(model, "fgsm", x, y, tag="pairs")
    assert info["cached"] and np.array_equal(x_again, x_adv) and counted == [4, 2]
    # The same set made in one go by the chunk code path as it is with no interruption.
    x_fresh, _ = make_run(tmp_path / "fresh").attack(model, "fgsm", x, y, tag="pairs")
    np.testing.assert_array_equal(x_fresh, x_adv)


def test_small_attack_set_is_made_in_one_call(tmp_path, monkeypatch):
    monkeypatch.setattr(phases, "ATTACK_CHUNK", 4)
    x, y = np.random.default_rng(1).random((8, 28, 28, 1), dtype=np.float32), np.arange(8) % 10
    real, calls = attacks.generate, []
    monkeypatch.setattr(attacks, "generate", lambda name, m, xs, *a, **k: calls.append(len(xs)) or real(name, m, xs, *a, **k))
    make_run(tmp_path).attack(tiny_classifier(), "fgsm", x, y, tag="eval")
    assert calls == [8]


def test_cifar_retrain_scale_trains_targets_by_the_cifar_recipe(tmp_path, monkeypatch):
    """--retrain of the CIFAR-10 tables: the papers' pair budget, and targets by reproduce/cifar10_targets.py's
    recipe through the same function (one cache key), at that script's epochs and dtype per model."""
    from keras_restore.pipeline import cifar_targets
    from keras_restore.pipeline.tables import TABLE5, CRUNET_TABLE3

    for spec in (TABLE5, CRUNET_TABLE3):
        s = get_scale("retrain", spec)
        assert (s.n_pairs, s.restorer_epochs, s.n_eval) == (50000, 20, 200)
        assert s.target_recipe["densenet121_cifar10"] == cifar_targets.RECIPE == "classifier_cifar"
        assert s.target_epochs["mobilenet_cifar10"] == cifar_targets.EPOCHS["retrain"]["mobilenet_cifar10"] == 50
        assert s.target_precision["mobilenet_cifar10"] == "float32"
    assert get_scale("default", TABLE5).n_pairs == 8000   # the default keeps the shipped (CPU-budget) restorer's
    calls = []

    def fake_train(name, x, y, **kwargs):
        calls.append((name, len(x), kwargs["epochs"], kwargs["precision"]))
        return tiny_classifier(), {"config": {"epochs": kwargs["epochs"]}}, False

    monkeypatch.setattr(cifar_targets, "train_target", fake_train)
    monkeypatch.setattr("keras_restore.metrics.accuracy", lambda *a, **k: 10.0)
    scale = dataclasses.replace(get_scale("retrain", TABLE5), pretrained=False)
    run = Run(TABLE5, scale, data_dir=None, cache_dir=tmp_path, seed=0, columns=None, progress=False, log=lambda s: None)
    run.x_train, run.y_train = np.zeros((6, 32, 32, 3), np.float32), np.zeros(6, int)
    run.x_test, run.y_test = run.x_train, run.y_train
    _, record = run.target("Mobile-Net", "mobilenet_cifar10")
    assert calls == [("mobilenet_cifar10", 6, 50, "float32")] and record["source"] == "trained (retrain scale)"
    # a recipe of the family that is not this target's own is refused, not trained under the other recipe's key
    wrong = dataclasses.replace(scale, target_recipe={**scale.target_recipe, "mobilenet_cifar10": "classifier_cifar_he"})
    run = Run(TABLE5, wrong, data_dir=None, cache_dir=tmp_path, seed=0, columns=None, progress=False, log=lambda s: None)
    run.x_train, run.y_train = np.zeros((6, 32, 32, 3), np.float32), np.zeros(6, int)
    run.x_test, run.y_test = run.x_train, run.y_train
    with pytest.raises(ValueError, match="`target_recipe` of 'mobilenet_cifar10' is 'classifier_cifar_he', but the "
                                         "CIFAR-10 targets' recipe for it is 'classifier_cifar'"):
        run.target("Mobile-Net", "mobilenet_cifar10")

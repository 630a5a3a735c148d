"""Run.attack: a large attack set is made and cached in chunks, so an interrupted run resumes with
the finished chunks and ends with the same set as an uninterrupted one."""

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

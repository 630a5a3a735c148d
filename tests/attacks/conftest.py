"""Fixtures of the attack tests: MNIST (skipped with a reason when absent) and a small trained M1.

M1 is trained once per session (1 epoch on 6,000 images, ~10 s on 2 CPU cores) and reused; the
attacked set is the first correctly classified test images.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
N_ATTACK = 100  # correctly classified test images attacked by each test


def _data_dir() -> Path:
    env = os.environ.get("KERAS_RESTORE_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def _load_mnist(split: str, limit: int):
    directory = _data_dir()
    path = directory / "mnist.npz"
    if not path.exists():
        pytest.skip(f"MNIST not found at {path} (set KERAS_RESTORE_DATA to the folder of mnist.npz)")
    try:  # the package's loader (reads the same file; never falls back to a TFDS download here)
        from keras_restore.data import load_arrays
    except ImportError:
        with np.load(path) as f:
            x = f[f"x_{split}"][:limit].astype(np.float32)[..., None] / 255.0
            y = f[f"y_{split}"][:limit].astype(np.int64)
        return x, y
    x, y = load_arrays("mnist", split, data_dir=directory, limit=limit)
    return np.asarray(x, np.float32), np.asarray(y, np.int64)


@pytest.fixture(scope="session")
def mnist_train():
    return _load_mnist("train", 6000)


@pytest.fixture(scope="session")
def mnist_test():
    return _load_mnist("test", 1000)


@pytest.fixture(scope="session")
def m1(mnist_train):
    import keras

    from keras_restore.models import build

    keras.utils.set_random_seed(0)
    model = build("m1")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = mnist_train
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    return model


@pytest.fixture(scope="session")
def clean(m1, mnist_test):
    """``N_ATTACK`` correctly classified test images and labels."""
    x, y = mnist_test
    pred = predict(m1, x)
    ok = np.flatnonzero(pred == y)[:N_ATTACK]
    assert ok.size == N_ATTACK, f"M1 classified only {ok.size} test images correctly"
    return x[ok], y[ok]


def predict(model, x):
    return np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1)


def accuracy(model, x, y) -> float:
    return float(np.mean(predict(model, x) == y))

"""Shared fixtures. Real data comes from ../shared/data (or $KERAS_RESTORE_DATA); tests that need
it are skipped, saying so, where it is absent. Nothing here falls back to random data."""

import os
from pathlib import Path

# As keras_restore/__init__.py does, before any test module imports TensorFlow (oneDNN CPU kernels).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("KERAS_RESTORE_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir():
    if not (SHARED_DATA / "mnist.npz").exists():
        pytest.skip(f"real datasets not found in {SHARED_DATA} (set KERAS_RESTORE_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mnist_test(data_dir):
    from keras_restore import data

    return data.load_arrays("mnist", "test", data_dir)


@pytest.fixture(scope="session")
def trained_m1(data_dir):
    """M1 trained briefly (1 epoch on 6,000 images, ~10 s): ~95% test accuracy."""
    from keras_restore import data, models, runtime, training

    runtime.configure()
    x, y = data.load_arrays("mnist", "train", data_dir, limit=6000)
    model = models.build("m1")
    training.train_classifier(model, x, y, training.TrainConfig(epochs=1, seed=0), verbose=0)
    return model


@pytest.fixture
def tiny_npz(tmp_path):
    """A Keras-layout mnist.npz written by the test (for loader mechanics only)."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz",
             x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), y_train=rng.integers(0, 10, 20).astype(np.uint8),
             x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), y_test=rng.integers(0, 10, 10).astype(np.uint8))
    return tmp_path


def _load_reproduce_script(name: str):
    """``reproduce/<name>.py`` as a module (registered in sys.modules: dataclasses look their module
    up there); importing it runs nothing (the scripts are importable without side effects)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, REPO / "reproduce" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def reproduce_script():
    """Loader of a ``reproduce/`` script by name: ``reproduce_script("adaptive_robustness")``."""
    return _load_reproduce_script

import numpy as np
import pytest

from keras_restore import data


def test_mnist_from_shared_is_exact(data_dir):
    x, y = data.load_arrays("mnist", "test", data_dir)
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1
    raw = np.round(x * 255).astype(np.uint8)
    with np.load(data_dir / "mnist.npz") as f:
        np.testing.assert_array_equal(raw[..., 0], f["x_test"])
        np.testing.assert_array_equal(y, f["y_test"])


def test_cifar10_folder_is_class_mixed_and_labelled(data_dir):
    if not (data_dir / "cifar10").is_dir():
        pytest.skip("cifar10 image folder absent")
    x, y = data.load_arrays("cifar10", "test", data_dir)
    assert x.shape == (10000, 32, 32, 3)
    assert np.bincount(y, minlength=10).tolist() == [1000] * 10
    assert len(set(y[:500].tolist())) == 10  # any prefix mixes the classes
    assert "CIFAR-10 (JPEG copy)" in data.source_label("cifar10", data_dir)


def test_tf_data_pipeline(tiny_npz):
    ds = data.load("mnist", "train", tiny_npz, batch_size=8, shuffle=True, seed=1)
    xb, yb = next(iter(ds))
    assert xb.shape == (8, 28, 28, 1) and xb.dtype.name == "float32" and yb.dtype.name == "int64"


def test_env_variable_source(tiny_npz, monkeypatch):
    monkeypatch.setenv("KERAS_RESTORE_DATA", str(tiny_npz))
    x, _ = data.load_arrays("mnist", "test")
    assert x.shape == (10, 28, 28, 1)


def test_limit(tiny_npz):
    x, y = data.load_arrays("mnist", "train", tiny_npz, limit=5)
    assert len(x) == len(y) == 5


@pytest.mark.parametrize("call,exc,match", [
    (lambda d: data.load_arrays("imagenet", "test", d), ValueError, "Unknown dataset 'imagenet'"),
    (lambda d: data.load_arrays("mnist", "validation", d), ValueError, "Unknown split 'validation'"),
    (lambda d: data.load_arrays("mnist", "test", d / "nowhere"), FileNotFoundError, "does not exist"),
    (lambda d: data.load_arrays("fashion_mnist", "test", d), FileNotFoundError, "Dataset 'fashion_mnist' not found in"),
    (lambda d: data.load_arrays("mnist", "test", d, limit=-1), ValueError, "`limit` must be an integer >= 0"),
    (lambda d: data.load("mnist", "test", d, batch_size=0), ValueError, "`batch_size` must be an integer >= 1"),
])
def test_bad_arguments(tiny_npz, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tiny_npz)


def test_corrupt_npz(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="is corrupt or not an .npz"):
        data.load_arrays("mnist", "test", tmp_path)


def test_npz_missing_arrays(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="lacks array"):
        data.load_arrays("mnist", "test", tmp_path)


def test_npz_wrong_image_shape(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_test=np.zeros((2, 32, 32), np.uint8), y_test=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"has image shape \(32, 32, 1\), expected \(28, 28, 1\)"):
        data.load_arrays("mnist", "test", tmp_path)


def test_empty_split(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_test=np.zeros((0, 28, 28), np.uint8), y_test=np.zeros(0, np.uint8))
    with pytest.raises(ValueError, match="is empty"):
        data.load_arrays("mnist", "test", tmp_path)

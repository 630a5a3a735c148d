import numpy as np
import pytest

from keras_restore.validation import check_images, check_labels

GOOD = np.zeros((2, 28, 28, 1), np.float32)


@pytest.mark.parametrize("x,kwargs,exc,match", [
    (np.zeros((28, 28, 1), np.float32), {}, ValueError, r"4-D batch .* \(rank 3\)"),
    (np.zeros((2, 28, 28, 3), np.float32), {"shape": (28, 28, 1)}, ValueError, r"image shape \(28, 28, 1\), got \(28, 28, 3\)"),
    (np.zeros((2, 28, 28, 3), np.float32), {"channels": 1}, ValueError, "1 channel"),
    (np.zeros((2, 28, 28, 1), np.uint8), {}, TypeError, "floating dtype .* divide by 255"),
    (np.array([["a"]]), {}, TypeError, "numeric array"),
    (np.full((1, 28, 28, 1), np.nan, np.float32), {}, ValueError, "NaN/Inf"),
    (np.full((1, 28, 28, 1), np.inf, np.float32), {}, ValueError, "NaN/Inf"),
    (np.full((1, 28, 28, 1), 1.5, np.float32), {}, ValueError, r"values must lie in \[0, 1\], got min 1.5"),
    (np.full((1, 28, 28, 1), -0.1, np.float32), {}, ValueError, r"values must lie in \[0, 1\]"),
    (np.zeros((0, 28, 28, 1), np.float32), {}, ValueError, "empty batch"),
    (None, {}, ValueError, "got None"),
])
def test_bad_images(x, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        check_images(x, "x", **kwargs)


def test_good_images_pass_through():
    assert check_images(GOOD, shape=(28, 28, 1)).dtype == np.float32


@pytest.mark.parametrize("y,match", [
    (np.array([0, 1, 2]), "3 labels for 2 images"),
    (np.array([0, 10]), r"must lie in \[0, 9\]"),
    (np.array([0.5, 1.0]), "integer class indices"),
    (np.zeros((2, 3)), "one-hot labels must have 10 columns"),
])
def test_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        check_labels(y, 2, 10)

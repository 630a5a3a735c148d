"""Metrics of a defended classifier (Ali et al. 2021, Eq. 6-8) and batched inference.

Accuracy on original, adversarial and restored images, and ``success rate = restored accuracy /
original accuracy x 100``. SSIM and PSNR use ``tf.image.ssim`` / ``tf.image.psnr`` on [0, 1]
images (``max_val=1``); :func:`psnr_paper_255` is the CRU-Net paper's Eq. 16 on 8-bit 0-255 images.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_restore.validation import check_positive_int

_PREDICTORS: dict = {}


def predict(model: keras.Model, x, batch_size: int = 128) -> np.ndarray:
    """Batched inference through one traced graph of fixed batch shape (no retracing).

    The last batch is padded to ``batch_size``; Keras ``predict`` would trace a second graph
    for it and run its per-call callbacks machinery.
    """
    check_positive_int(batch_size, "batch_size")
    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        raise ValueError("`x` is an empty batch (0 images); at least one image is needed.")
    key = (id(model), batch_size, x.shape[1:])
    fn = _PREDICTORS.get(key)
    if fn is None or fn[0] is not model:
        spec = tf.TensorSpec((batch_size, *x.shape[1:]), tf.float32)
        fn = (model, tf.function(lambda t: model(t, training=False), input_signature=[spec],
                                 reduce_retracing=True))
        _PREDICTORS[key] = fn
    out = []
    for i in range(0, len(x), batch_size):
        chunk = x[i:i + batch_size]
        n = len(chunk)
        if n < batch_size:
            chunk = np.concatenate([chunk, np.zeros((batch_size - n, *x.shape[1:]), np.float32)])
        out.append(np.asarray(fn[1](chunk))[:n])
    return np.concatenate(out)


def accuracy(model: keras.Model, x, y, batch_size: int = 128) -> float:
    """Top-1 accuracy in percent."""
    logits = predict(model, x, batch_size)
    return float(np.mean(logits.argmax(axis=1) == np.asarray(y)) * 100.0)


def success_rate(restored_accuracy: float, original_accuracy: float) -> float:
    """Eq. 8 of Ali et al. (2021): restored accuracy / original accuracy x 100."""
    if original_accuracy <= 0:
        raise ValueError(f"`original_accuracy` must be > 0 to compute a success rate, got {original_accuracy}.")
    return restored_accuracy / original_accuracy * 100.0


def ssim(a, b) -> float:
    """Mean SSIM of two image batches in [0, 1] (``tf.image.ssim``, max_val=1)."""
    return float(tf.reduce_mean(tf.image.ssim(tf.constant(a), tf.constant(b), max_val=1.0)))


def psnr(a, b) -> float:
    """Mean PSNR (dB) of two image batches in [0, 1] (``tf.image.psnr``, max_val=1); identical
    images (infinite PSNR) are capped at 100 dB so the mean stays finite."""
    v = tf.image.psnr(tf.constant(a), tf.constant(b), max_val=1.0)
    return float(tf.reduce_mean(tf.minimum(v, 100.0)))


def psnr_paper_255(a, b, cap_db: float = 100.0) -> float:
    """Mean PSNR (dB) exactly as Eq. 16 of the CRU-Net paper (papers/001, Sec. 5.1):
    ``10 log10((L - 1)^2 / MSE)`` with ``L = 256`` intensity levels on 0-255 images.

    ``a``, ``b``: image batches ``(n, h, w, c)`` (or one image ``(h, w, c)``) in [0, 1]; each is
    turned into an 8-bit image (``round(255 x)``, integer levels 0..255) before the MSE, which is
    taken per image over rows, columns and channels; the per-image PSNRs are averaged. Identical
    8-bit images (MSE 0, infinite PSNR) count as ``cap_db``.

    Without the rounding this equals :func:`psnr` (``tf.image.psnr`` on [0, 1], max_val=1): the
    255 cancels. Values near 95 dB, as printed in the paper's Tables 6-7, mean an RMSE of ~0.005
    gray levels, i.e. identical 8-bit images.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"`a` shape {a.shape} must equal `b` shape {b.shape}.")
    if a.ndim == 3:
        a, b = a[None], b[None]
    if a.ndim != 4 or a.shape[0] == 0:
        raise ValueError(f"Expected images (n, h, w, c) or (h, w, c), got shape {a.shape}.")
    a8 = np.rint(np.clip(a, 0.0, 1.0) * 255.0)
    b8 = np.rint(np.clip(b, 0.0, 1.0) * 255.0)
    mse = np.mean((a8 - b8) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        v = 10.0 * np.log10(255.0 ** 2 / mse)
    return float(np.mean(np.minimum(v, cap_db)))

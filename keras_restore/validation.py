"""Argument checks shared by every public entry point.

Every check raises ``ValueError`` (or ``TypeError`` for a wrong type) whose message names the
argument and says what was expected, so bad input never reaches a TensorFlow kernel and never
fails with an opaque shape error deep inside a graph.
"""

from __future__ import annotations

import numpy as np


def _describe_shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def check_images(
    x,
    name: str = "x",
    *,
    shape=None,
    channels=None,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
    allow_empty: bool = False,
) -> np.ndarray:
    """Validate a batch of images and return it as a float32 NumPy array.

    Args:
        x: array-like of shape ``(batch, height, width, channels)``, floating dtype, values in
            ``[clip_min, clip_max]`` (``[0, 1]`` by default), finite.
        name: the argument's name, used in error messages.
        shape: optional expected ``(height, width, channels)``; ``None`` entries are free.
        channels: optional expected channel count (ignored when ``shape`` gives it).
        clip_min, clip_max: the valid value range.
        allow_empty: accept a batch of zero images.

    Raises:
        TypeError: ``x`` is not numeric or has an integer/bool dtype.
        ValueError: wrong rank, shape or channel count, NaN/Inf, out-of-range values, empty batch.
    """
    if x is None:
        raise ValueError(f"`{name}` must be a batch of images, got None.")
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`{name}` must be a numeric array of images, got dtype {arr.dtype}.")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"`{name}` must have a floating dtype with values in [{clip_min:g}, {clip_max:g}], "
            f"got dtype {arr.dtype} (for uint8 images divide by 255 first)."
        )
    if arr.ndim != 4:
        raise ValueError(
            f"`{name}` must be a 4-D batch (batch, height, width, channels), "
            f"got shape {arr.shape} (rank {arr.ndim})."
        )
    if shape is not None:
        expected = tuple(shape)
        if len(expected) != 3:
            raise ValueError(f"`shape` must be (height, width, channels), got {shape!r}.")
        for got, want in zip(arr.shape[1:], expected):
            if want is not None and got != want:
                raise ValueError(
                    f"`{name}` must have image shape {_describe_shape(expected)}, "
                    f"got {tuple(arr.shape[1:])}."
                )
    elif channels is not None and arr.shape[-1] != channels:
        raise ValueError(f"`{name}` must have {channels} channel(s), got {arr.shape[-1]}.")
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"`{name}` is an empty batch (0 images); at least one image is needed.")
    if arr.size:
        if not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(f"`{name}` contains {bad} NaN/Inf value(s); images must be finite.")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < clip_min or hi > clip_max:
            raise ValueError(
                f"`{name}` values must lie in [{clip_min:g}, {clip_max:g}], "
                f"got min {lo:g}, max {hi:g}."
            )
    return arr.astype(np.float32, copy=False)


def check_labels(y, n: int, num_classes: int, name: str = "y") -> np.ndarray:
    """Validate integer class labels (or one-hot rows) for ``n`` images; return int64 labels."""
    arr = np.asarray(y)
    if arr.ndim == 2:
        if arr.shape[1] != num_classes:
            raise ValueError(
                f"`{name}` one-hot labels must have {num_classes} columns, got {arr.shape[1]}."
            )
        arr = arr.argmax(axis=1)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array of class indices, got shape {arr.shape}.")
    if arr.shape[0] != n:
        raise ValueError(f"`{name}` has {arr.shape[0]} labels for {n} images; they must match.")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise ValueError(f"`{name}` must hold integer class indices, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(
            f"`{name}` class indices must lie in [0, {num_classes - 1}], "
            f"got min {arr.min()}, max {arr.max()}."
        )
    return arr


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value}.")
    return int(value)


def check_nonnegative(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a non-negative number, got {value!r}.") from None
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"`{name}` must be a finite non-negative number, got {value!r}.")
    return v


def check_choice(value, name: str, choices) -> str:
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"Unknown {name} {value!r}; expected one of: {', '.join(map(str, choices))}.")
    return value


def check_image_shape(shape, name: str = "input_shape") -> tuple:
    """``shape`` as a ``(height, width, channels)`` tuple of positive integers (a builder's image
    shape argument, named ``name`` in the error)."""
    try:
        out = tuple(shape)
    except TypeError:
        raise ValueError(f"`{name}` must be (height, width, channels), got {shape!r}.") from None
    if len(out) != 3 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in out):
        raise ValueError(f"`{name}` must be (height, width, channels) of positive integers, got {shape!r}.")
    return out

"""Offline-first ``tf.data`` loaders for MNIST, Fashion-MNIST and CIFAR-10.

Where the data comes from, in order:

1. the ``data_dir`` argument, else
2. the ``KERAS_RESTORE_DATA`` environment variable: a directory holding either a Keras-layout
   ``{name}.npz`` (``x_train, y_train, x_test, y_test``, uint8) or an image folder
   ``{name}/{split}/{class}/*`` (read with ``keras.utils.image_dataset_from_directory``);
3. else ``tfds.load(name)``, which downloads where a network exists.

An explicit directory without the dataset is an error naming the path and the accepted layouts;
nothing falls back to random or other data. Images are float32 in [0, 1], NHWC
(28x28x1 or 32x32x3); labels int64.

Image folders list class by class, so "the first N test images" would all be airplanes: a folder
split is put, once per process, in the order of a fixed permutation (seed 0, independent of any
run seed), so any prefix mixes the classes.

The CIFAR-10 folder in ``../shared/data`` is a lossy JPEG copy: :func:`source_label` names it
"CIFAR-10 (JPEG copy)" and every result that comes from it must carry that label.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_restore.validation import check_choice, check_positive_int


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    shape: tuple
    classes: tuple
    tfds_name: str
    title: str


DATASETS = {
    "mnist": DatasetInfo("mnist", (28, 28, 1), tuple(str(i) for i in range(10)), "mnist", "MNIST"),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", (28, 28, 1),
        ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
         "ankle_boot"), "fashion_mnist", "Fashion-MNIST"),
    "cifar10": DatasetInfo(
        "cifar10", (32, 32, 3),
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        "cifar10", "CIFAR-10"),
}
SPLITS = ("train", "test")
_CACHE: dict = {}


def info(name: str) -> DatasetInfo:
    check_choice(name, "dataset", DATASETS)
    return DATASETS[name]


def resolve_data_dir(data_dir=None):
    """The directory to read from (argument, then $KERAS_RESTORE_DATA), or None for TFDS."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("KERAS_RESTORE_DATA")
    return Path(env) if env else None


def _layouts(directory: Path, name: str) -> str:
    return f"{directory / (name + '.npz')} (Keras layout) or {directory / name}/{{train,test}}/{{class}}/* (image folder)"


def find_source(name: str, data_dir=None) -> tuple[str, Path | None]:
    """Return ``(kind, path)`` with kind ``npz``, ``folder`` or ``tfds``."""
    info(name)
    directory = resolve_data_dir(data_dir)
    if directory is None:
        return "tfds", None
    if not directory.is_dir():
        raise FileNotFoundError(
            f"Data directory {directory} does not exist (from "
            f"{'`data_dir`' if data_dir is not None else '$KERAS_RESTORE_DATA'}); "
            f"expected {_layouts(directory, name)}."
        )
    if (directory / f"{name}.npz").is_file():
        return "npz", directory / f"{name}.npz"
    if (directory / name).is_dir():
        return "folder", directory / name
    raise FileNotFoundError(f"Dataset {name!r} not found in {directory}; expected {_layouts(directory, name)}.")


def source_label(name: str, data_dir=None) -> str:
    """Human-readable source, e.g. ``"CIFAR-10 (JPEG copy)"`` for the shared image folder."""
    kind, path = find_source(name, data_dir)
    title = info(name).title
    if kind == "folder" and name == "cifar10":
        return f"{title} (JPEG copy) from {path}"
    return f"{title} from {path}" if path else f"{title} from tensorflow-datasets"


def _read_npz(path: Path, name: str, split: str):
    if not zipfile.is_zipfile(path):
        raise ValueError(f"Dataset file {path} is corrupt or not an .npz archive (not a zip file).")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in (f"x_{split}", f"y_{split}") if k not in f.files]
            if missing:
                raise ValueError(
                    f"Dataset file {path} lacks array(s) {', '.join(missing)}; the Keras layout "
                    f"needs x_train, y_train, x_test, y_test."
                )
            x, y = f[f"x_{split}"], f[f"y_{split}"]
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ValueError(f"Dataset file {path} is corrupt or not an .npz archive: {e}.") from None
    return x, y


def _read_folder(path: Path, name: str, split: str):
    import keras
    import tensorflow as tf

    split_dir = path / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"Image folder {split_dir} does not exist; expected {path}/{{train,test}}/{{class}}/*.")
    meta = info(name)
    ds = keras.utils.image_dataset_from_directory(
        split_dir, labels="inferred", label_mode="int", class_names=list(meta.classes),
        color_mode="rgb" if meta.shape[-1] == 3 else "grayscale", image_size=meta.shape[:2],
        shuffle=False, batch_size=1024, interpolation="nearest", verbose=False,
    )
    xs, ys = [], []
    for xb, yb in ds:
        xs.append(tf.cast(xb, tf.uint8).numpy())
        ys.append(yb.numpy())
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = np.random.default_rng(0).permutation(len(x))  # fixed, class-mixed order
    return x[order], y[order]


def _read_tfds(name: str, split: str):
    import tensorflow_datasets as tfds

    x, y = tfds.as_numpy(tfds.load(info(name).tfds_name, split=split, as_supervised=True, batch_size=-1))
    return x, y


def _to_float(x: np.ndarray, name: str, source) -> np.ndarray:
    meta = info(name)
    if x.ndim == 3:
        x = x[..., None]
    if x.shape[1:] != meta.shape:
        raise ValueError(f"Dataset {name!r} from {source} has image shape {x.shape[1:]}, expected {meta.shape}.")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    x = x.astype(np.float32)
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"Dataset {name!r} from {source} has float values outside [0, 1].")
    return x


def load_arrays(name: str, split: str, data_dir=None, *, limit: int | None = None):
    """Load a whole split as NumPy ``(x float32 NHWC in [0,1], y int64)``; cached per process."""
    info(name)
    check_choice(split, "split", SPLITS)
    if limit is not None:
        check_positive_int(limit, "limit", minimum=0)
    kind, path = find_source(name, data_dir)
    key = (name, split, kind, str(path))
    if key not in _CACHE:
        if kind == "npz":
            x, y = _read_npz(path, name, split)
        elif kind == "folder":
            x, y = _read_folder(path, name, split)
        else:
            x, y = _read_tfds(name, split)
        x = _to_float(np.asarray(x), name, path or "tfds")
        y = np.asarray(y).astype(np.int64).reshape(-1)
        if len(x) != len(y):
            raise ValueError(f"Dataset {name!r} from {path}: {len(x)} images but {len(y)} labels.")
        if len(x) == 0:
            raise ValueError(f"Dataset {name!r} split {split!r} from {path} is empty.")
        _CACHE[key] = (x, y)
    x, y = _CACHE[key]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y


def load(name: str, split: str, data_dir=None, *, batch_size: int | None = None,
         shuffle: bool = False, seed: int = 0, limit: int | None = None):
    """A ``tf.data.Dataset`` of ``(image, label)`` (batched when ``batch_size`` is given)."""
    import tensorflow as tf

    if batch_size is not None:
        check_positive_int(batch_size, "batch_size")
    x, y = load_arrays(name, split, data_dir, limit=limit)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)

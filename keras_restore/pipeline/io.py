"""Kept for existing imports: the atomic writers live in :mod:`keras_restore.io` (bottom layer)."""

from keras_restore.io import (  # noqa: F401
    _fmt, _replace, fingerprint, key, load_npz, merge_csv, read_csv, save_figure, save_model_atomic, save_npz, versions, write_csv,
    write_json, write_text,
)

"""Atomic writers and fingerprints (the bottom layer: imports nothing of the package but its version).

Every result file is written to a temporary file beside it and renamed, so an
interrupted run never leaves a half-written CSV/JSON/NPZ/PNG and never destroys an older one."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def _replace(path: Path, write) -> Path:
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ValueError(f"Output path {path} is a directory, expected a file path.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"Output directory {path.parent} cannot be created (a file is in the way).") from None
    if not os.access(path.parent, os.W_OK):
        raise PermissionError(f"Output directory {path.parent} is not writable.")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_text(path, text: str) -> Path:
    return _replace(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path, obj) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_csv(path, rows: list[dict], columns: list[str] | None = None) -> Path:
    if not rows:
        raise ValueError(f"No rows to write to {path}; refusing to write an empty table.")
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))   # every row's keys, in order
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row.get(k, "")) for k in columns})
    return write_text(path, buf.getvalue())


def merge_csv(path, rows: list[dict], key: str) -> Path:
    """Write ``rows`` to ``path``, keeping the rows already there whose ``key`` the new rows lack.

    For tables filled a few rows per run (each target is trained by its own command): a run that
    trains two models must not drop the rows of the models an earlier run trained."""
    if not rows:
        raise ValueError(f"No rows to write to {path}; refusing to write an empty table.")
    if any(key not in row for row in rows):
        raise ValueError(f"merge_csv: every row needs the key column {key!r}.")
    path, new = Path(path), {str(row[key]) for row in rows}
    old = read_csv(path) if path.is_file() else []
    if old and key not in old[0]:
        raise ValueError(f"merge_csv: {path} has no {key!r} column; cannot merge into it.")
    return write_csv(path, [row for row in old if row[key] not in new] + list(rows))


def read_csv(path) -> list[dict]:
    """The rows of a CSV this module wrote (values as strings)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) >= 0.01 or v == 0 else f"{v:.4g}"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return v


def save_npz(path, **arrays) -> Path:
    return _replace(path, lambda f: np.savez_compressed(f, **arrays))


def load_json(path):
    """A JSON file's value; a missing or corrupt one is treated as absent (None)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def load_npz(path) -> dict | None:
    """Load a cache file; a corrupt one is treated as absent (it will be regenerated)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, Exception):  # noqa: BLE001 - corrupt cache
        return None


def save_figure(fig, path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return _replace(path, lambda f: f.write(buf.getvalue()))


# ------------------------------------------------------------------ fingerprints and model files
def fingerprint(model) -> str:
    """sha256 (12 hex digits) of a model's weights: identifies trained models in cache keys."""
    import hashlib

    h = hashlib.sha256()
    for w in model.weights:
        h.update(np.ascontiguousarray(np.asarray(w)).tobytes())
    return h.hexdigest()[:12]


def key(*parts) -> str:
    """sha256 (12 hex digits) of JSON-serialisable ``parts``: a cache key."""
    import hashlib

    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def save_model_atomic(model, path) -> Path:
    """Save ``model`` as ``.keras`` atomically, without optimizer state (a compiled model's file
    would also hold Adam's two moment slots: 3x the size for no use at inference)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    if getattr(model, "optimizer", None) is not None:
        fresh = model.__class__.from_config(model.get_config())
        fresh.set_weights(model.get_weights())
        model = fresh
    model.save(tmp)
    os.replace(tmp, path)
    return path


def versions() -> dict:
    """Versions of everything that shapes a result (recorded in every ``.meta.json``)."""
    import platform

    import keras
    import tensorflow as tf

    from keras_restore import __version__

    return {"keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "keras_restore": __version__}

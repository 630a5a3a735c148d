"""One cache for everything expensive a table run makes: :meth:`Cache.cached`.

``cached(kind, stem, make)`` returns the cached value for ``stem`` (a name plus a key that covers
everything that determines the value: model fingerprints, attack parameters, data source, image
indices, seed, training recipe fingerprint) or calls ``make(checkpoint_dir)`` and stores what it
returns. Values and their JSON records are written atomically; a corrupt value is made again; a
``make`` interrupted mid-way resumes from ``checkpoint_dir`` (``BackupAndRestore``).

Kinds: ``models`` (a Keras model, ``.keras``) and ``attacks`` / ``pairs`` (dicts of arrays, ``.npz``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keras_restore import io

KINDS = {"models": ".keras", "attacks": ".npz", "pairs": ".npz"}
ENV = "KERAS_RESTORE_CACHE"


def default_dir() -> Path:
    """Every script's default ``--cache-dir``: ``$KERAS_RESTORE_CACHE`` where set, else ``reproduce/cache`` of
    the repository. A long run points the variable outside the work tree (``reproduce/cifar10_paper_scale.sh``:
    ``~/.cache/keras_restore``), so that a fresh checkout on the same machine resumes it."""
    env = os.environ.get(ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "reproduce" / "cache"


class Cache:
    def __init__(self, root):
        self.root = Path(root)

    def path(self, kind: str, stem: str) -> Path:
        if kind not in KINDS:
            raise ValueError(f"Unknown cache kind {kind!r}; expected one of: {', '.join(KINDS)}.")
        return self.root / kind / f"{stem.replace('/', '_')}{KINDS[kind]}"

    def _load(self, kind, path: Path):
        record_path = path.with_suffix(".json")
        if not path.exists():
            return None
        try:
            record = json.loads(record_path.read_text()) if record_path.exists() else None
        except (OSError, ValueError):
            return None
        if kind == "models":
            if record is None:
                return None
            from keras_restore import models

            try:
                return models.load_keras_file(path), record
            except ValueError:   # corrupt: made again
                return None
        arrays = io.load_npz(path)
        return None if arrays is None else (arrays, record or {})

    def cached(self, kind: str, stem: str, make, *, valid=None):
        """``(value, record, hit)``: the cached value of ``stem``, or ``make(checkpoint_dir)`` -> ``(value,
        record)`` stored for next time. ``valid(value)`` (optional) rejects a cached value (made again)."""
        path = self.path(kind, stem)
        found = self._load(kind, path)
        if found is not None and (valid is None or valid(found[0])):
            return found[0], found[1], True
        value, record = make(self.root / "ckpt" / path.stem)
        if kind == "models":
            io.save_model_atomic(value, path)
        else:
            io.save_npz(path, **value)
        io.write_json(path.with_suffix(".json"), record)
        return value, record, False

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
import re
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


# ------------------------------------------------------------------------------------------ status

_CHUNK = re.compile(r"^(?P<set>.+)-chunk(?P<index>\d+)$")


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _npz_rows(path: Path) -> int | None:
    """The first array's length in an ``.npz``, read from its header alone (None if unreadable)."""
    import zipfile

    import numpy as np

    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(".npy")]
            if not names:
                return None
            with z.open(names[0]) as f:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape = read(f)[0]
        return int(shape[0]) if shape else None
    except (OSError, ValueError, zipfile.BadZipFile, KeyError):
        return None


def _training(ckpt: Path) -> dict:
    """A model being trained (``ckpt/<stem>``): the epochs its :class:`~keras_restore.training.RunLog`
    has, their seconds, the last epoch's metrics and where the kept-best weights stand."""
    log = _json(ckpt / "run_log.json") or {}
    epochs = {}
    for k, v in (log.get("epochs") or {}).items():
        if str(k).isdigit() and isinstance(v, dict):
            epochs[int(k)] = v
    done = sorted(epochs)
    entry = {"stem": ckpt.name, "epochs_done": done[-1] if done else 0, "epochs_planned": log.get("epochs_planned"),
             "attempts": log.get("attempts"), "seconds": round(sum(float(epochs[e].get("seconds", 0)) for e in done), 1),
             "last_epoch_seconds": epochs[done[-1]].get("seconds") if done else None,
             "last": {k: v for k, v in epochs[done[-1]].items() if k != "seconds"} if done else {},
             "backup": (ckpt / "latest.weights.h5").exists() or any(ckpt.glob("*.weights.h5"))}
    if not log:
        entry["note"] = "no run_log.json: started before RunLog existed, or not a fit() run"
    return entry


def status(root) -> dict:
    """What the cache at ``root`` holds and what is being made, from file names and JSON records
    alone (nothing is loaded): finished ``models`` (size, epochs, seconds, precision), models
    ``in_training`` (``ckpt/<stem>`` of a model not yet finished: epochs done of those planned, wall
    seconds, the last epoch's metrics), finished ``attack_sets`` (images) and ``partial_attack_sets``
    (a paper-scale set made 1,000 images at a time: the chunks finished so far).
    Raises ``ValueError`` if ``root`` is not a directory."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"`cache_dir` {str(root)!r} is not a directory (expected a keras_restore cache: "
                         f"models/, attacks/, ckpt/; default ${ENV} or reproduce/cache)")
    out = {"root": str(root), "models": [], "in_training": [], "attack_sets": [], "partial_attack_sets": []}
    finished = set()
    for path in sorted((root / "models").glob("*.keras")):
        record = _json(path.with_suffix(".json")) or {}
        config = record.get("config") if isinstance(record.get("config"), dict) else {}
        finished.add(path.stem)
        out["models"].append({"stem": path.stem, "bytes": path.stat().st_size, "epochs": config.get("epochs"),
                              "seconds": record.get("seconds"), "precision": record.get("precision")})
    for ckpt in sorted(p for p in (root / "ckpt").glob("*") if p.is_dir()):
        if ckpt.name not in finished and any(ckpt.iterdir()):
            out["in_training"].append(_training(ckpt))
    partial: dict[str, list] = {}
    for kind in ("attacks", "pairs"):
        for path in sorted((root / kind).glob("*.npz")):
            m = _CHUNK.match(path.stem)
            if m:
                partial.setdefault(m["set"], []).append(path)
                continue
            out["attack_sets"].append({"stem": path.stem, "kind": kind, "images": _npz_rows(path),
                                       "bytes": path.stat().st_size})
    done_sets = {s["stem"] for s in out["attack_sets"]}
    for stem, paths in sorted(partial.items()):
        if stem in done_sets:   # finished; its chunks are removed after the whole set is stored
            continue
        rows = [_npz_rows(p) for p in paths]
        out["partial_attack_sets"].append({"stem": stem, "chunks": len(paths),
                                           "images": sum(r for r in rows if r is not None)})
    return out


def format_status(st: dict) -> str:
    """:func:`status` as the lines ``keras-restore cache`` prints."""
    def mb(n):
        return f"{n / 1e6:.1f} MB"

    lines = [f"cache {st['root']}"]
    lines.append(f"models: {len(st['models'])} finished")
    for m in st["models"]:
        extra = ", ".join(x for x in (f"{m['epochs']} epochs" if m["epochs"] is not None else "",
                                      f"{m['seconds']:,.0f} s" if isinstance(m["seconds"], (int, float)) else "",
                                      m["precision"] or "") if x)
        lines.append(f"  {m['stem']}  {mb(m['bytes'])}" + (f"  ({extra})" if extra else ""))
    lines.append(f"in training: {len(st['in_training'])}")
    for t in st["in_training"]:
        planned = f" of {t['epochs_planned']}" if t.get("epochs_planned") else ""
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in t["last"].items() if isinstance(v, (int, float)))
        line = (f"  {t['stem']}: epoch {t['epochs_done']}{planned} finished, {t['seconds']:,.0f} s so far"
                + (f" over {t['attempts']} attempt(s)" if t.get("attempts") else "")
                + (f", last epoch {t['last_epoch_seconds']:,.0f} s" if t.get("last_epoch_seconds") is not None else "")
                + (f"; {metrics}" if metrics else ""))
        if t.get("epochs_planned") and t["epochs_done"] and t.get("last_epoch_seconds"):
            left = (t["epochs_planned"] - t["epochs_done"]) * float(t["last_epoch_seconds"])
            line += f"; ~{left / 3600:.1f} h left at the last epoch's pace"
        lines.append(line + (f" ({t['note']})" if t.get("note") else ""))
    lines.append(f"attack sets: {len(st['attack_sets'])} finished, "
                 f"{sum(s['images'] or 0 for s in st['attack_sets']):,} images")
    lines.append(f"attack sets being made in chunks: {len(st['partial_attack_sets'])}")
    for p in st["partial_attack_sets"]:
        lines.append(f"  {p['stem']}: {p['chunks']} chunk(s), {p['images']:,} images so far")
    return "\n".join(lines) + "\n"

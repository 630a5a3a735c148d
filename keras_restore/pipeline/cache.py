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
import math
import os
import re
import statistics
import time
import zipfile
from pathlib import Path

import numpy as np

from keras_restore import io

KINDS = {"models": ".keras", "attacks": ".npz", "pairs": ".npz"}
ENV = "KERAS_RESTORE_CACHE"


def default_dir() -> Path:
    """Every script's default ``--cache-dir``: ``$KERAS_RESTORE_CACHE`` where set, else ``reproduce/cache`` of
    the repository. A long run points the variable outside the work tree (``reproduce/cifar10_paper_scale.sh``:
    ``~/.cache/keras_restore``), so that a fresh checkout on the same machine resumes it."""
    env = os.environ.get(ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "reproduce" / "cache"


class NotTrained(LookupError):
    """A model asked for without training (``train=False``) is neither shipped nor cached; ``stem`` is its
    cache stem (name and key)."""

    def __init__(self, message: str, stem: str):
        super().__init__(message)
        self.stem = stem


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

    def cached(self, kind: str, stem: str, make, *, valid=None, train: bool = True):
        """``(value, record, hit)``: the cached value of ``stem``, or ``make(checkpoint_dir)`` -> ``(value,
        record)`` stored for next time. ``valid(value)`` (optional) rejects a cached value (made again).
        ``train=False``: a value not cached raises :class:`NotTrained` instead of being made."""
        path = self.path(kind, stem)
        found = self._load(kind, path)
        if found is not None and (valid is None or valid(found[0])):
            return found[0], found[1], True
        if not train:
            raise NotTrained(f"{kind}/{path.name} is not in the cache {self.root}", stem)
        value, record = make(self.root / "ckpt" / path.stem)
        if kind == "models":
            io.save_model_atomic(value, path)
        else:
            io.save_npz(path, **value)
        io.write_json(path.with_suffix(".json"), record)
        return value, record, False


# ------------------------------------------------------------------------------------------ status

_CHUNK = re.compile(r"^(?P<set>.+)-chunk(?P<index>\d+)$")
RUN_LOG = "run_log.json"   # training.RunLog.FILE (not imported: reading a cache's status loads no Keras)
DIVERGED = "diverged.json"   # training.StopOnNonFinite.FILE: where a run's loss went non-finite
LOSS_PER_GROUP = "loss_per_group.json"   # training.LossPerGroup.FILE: MSE per attack, before training and per epoch
PACE_EPOCHS = 5            # a model in training: its ETA from the median seconds of its last epochs


def _number(v):
    """``v`` if it is a finite number, else None (run logs and records are read as they are found)."""
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _npz_rows(path: Path) -> int | None:
    """The first array's length in an ``.npz``, read from its header alone (None if unreadable)."""
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
    except Exception:   # noqa: BLE001 -- any damage (bad zip, bad header, zlib) reads as "unreadable"
        return None


def _training(ckpt: Path, now: float) -> dict:
    """A model being trained (``ckpt/<stem>``): the epochs its newest
    :class:`~keras_restore.training.RunLog` has (a staged recipe keeps one per stage, in a sub-folder),
    their seconds, the last epoch's metrics and how long ago the log was written."""
    logs = sorted(ckpt.rglob(RUN_LOG), key=lambda p: p.stat().st_mtime)
    entry = {"stem": ckpt.name, "stage": None, "epochs_done": 0, "epochs_planned": None, "attempts": None,
             "seconds": 0.0, "last_epoch_seconds": None, "median_epoch_seconds": None, "pace_epochs": 0,
             "last": {}, "age_seconds": None}
    if not logs:
        entry["note"] = f"no {RUN_LOG}: started before RunLog existed, or not a fit() run"
        return entry
    path = logs[-1]
    entry["stage"] = str(path.parent.relative_to(ckpt)) if path.parent != ckpt else None
    entry["age_seconds"] = round(max(0.0, now - path.stat().st_mtime), 1)
    log = io.load_json(path)
    if not isinstance(log, dict):
        entry["note"] = f"{RUN_LOG} unreadable"
        return entry
    epochs = {int(k): v for k, v in (log.get("epochs") if isinstance(log.get("epochs"), dict) else {}).items()
              if str(k).isdigit() and isinstance(v, dict)}
    done = sorted(epochs)
    planned = _number(log.get("epochs_planned"))
    last = epochs[done[-1]] if done else {}
    # The pace of the last PACE_EPOCHS epochs by their median: one epoch that a pause (SIGSTOP while a
    # test suite runs) or a neighbour stretched does not move it.
    recent = [x for x in (_number(epochs[e].get("seconds")) for e in done[-PACE_EPOCHS:]) if x is not None]
    # A run whose loss went NaN / inf: stopped by training.StopOnNonFinite (its file says where), or, before it
    # existed, trained on by Keras (NaN epochs in the run log). No ETA either way.
    stopped = io.load_json(path.parent / DIVERGED)
    diverged = next((e for e in done if any(isinstance(v, float) and not math.isfinite(v)
                                            for k, v in epochs[e].items() if "loss" in str(k))), None)
    if isinstance(stopped, dict) and _number(stopped.get("epoch")) is not None:
        diverged = int(stopped["epoch"]) if diverged is None else min(diverged, int(stopped["epoch"]))
    entry.update(epochs_done=done[-1] if done else 0, epochs_planned=int(planned) if planned else None,
                 diverged_at=diverged,
                 attempts=_number(log.get("attempts")),
                 seconds=round(sum(_number(epochs[e].get("seconds")) or 0.0 for e in done), 1),
                 last_epoch_seconds=_number(last.get("seconds")),
                 median_epoch_seconds=round(statistics.median(recent), 1) if recent else None,
                 pace_epochs=len(recent),
                 last={k: _number(v) for k, v in last.items() if k != "seconds"},
                 loss_per_group=_loss_per_group(path.parent / LOSS_PER_GROUP))
    return entry


def _loss_per_group(path: Path) -> dict | None:
    """A run's held-out MSE per attack (group) from its :class:`~keras_restore.training.LossPerGroup` file:
    ``{"epochs": [0, 1, ...], "identity": {group: MSE before training}, "last": {group: MSE after the last
    epoch}, "by_epoch": {epoch: {group: MSE}}}`` from the ``val`` split (``train`` when there is none).
    Epoch 0 is the model before training: for a residual restorer (output = input + residual, the
    CRU-Nets) that is the identity's error, i.e. no restoration. None if absent or unreadable."""
    data = io.load_json(path)
    if not isinstance(data, dict):
        return None
    by_epoch = {}
    for key, splits in data.items():
        if not (str(key).isdigit() and isinstance(splits, dict)):
            continue
        split = splits.get("val") or splits.get("train")
        if isinstance(split, dict):
            values = {g: _number(v) for g, v in split.items()}
            by_epoch[int(key)] = {g: v for g, v in values.items() if v is not None}
    if not by_epoch:
        return None
    epochs = sorted(by_epoch)
    return {"epochs": epochs, "identity": by_epoch[epochs[0]] if epochs[0] == 0 else {},
            "last": by_epoch[epochs[-1]], "by_epoch": {str(e): by_epoch[e] for e in epochs}}


def status(root) -> dict:
    """What the cache at ``root`` holds and what is being made, from file names and JSON records
    alone (nothing is loaded): finished ``models`` (size, epochs, seconds, precision), models
    ``in_training`` (``ckpt/<stem>`` of a model not yet finished: epochs done of those planned, wall
    seconds, the last epoch's metrics, how long ago its log was written -- an old one may be a run
    nobody resumes), finished ``attack_sets`` (images; kinds ``attacks`` and ``pairs``) and
    ``partial_attack_sets`` (a paper-scale set made 1,000 images at a time: the chunks finished so
    far). Checkpoints that a script keeps elsewhere (``models/<stem>.backup``) are not seen.
    Raises ``ValueError`` if ``root`` is not a directory."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"cache directory (--cache-dir / `root`) {str(root)!r} is not a directory (expected a "
                         f"keras_restore cache: models/, attacks/, ckpt/; default ${ENV} or reproduce/cache)")
    now = time.time()
    out = {"root": str(root), "models": [], "in_training": [], "attack_sets": [], "partial_attack_sets": []}
    finished = set()
    for path in sorted((root / "models").glob("*.keras")):
        if path.name.startswith("."):   # a save in progress, or one cut off (io.save_model_atomic)
            continue
        record = io.load_json(path.with_suffix(".json"))
        record = record if isinstance(record, dict) else {}
        config = record.get("config") if isinstance(record.get("config"), dict) else {}
        epochs = _number(config.get("epochs"))
        finished.add(path.stem)
        out["models"].append({"stem": path.stem, "bytes": path.stat().st_size,
                              "epochs": int(epochs) if epochs is not None else None,
                              "seconds": _number(record.get("seconds")),
                              "precision": record.get("precision") if isinstance(record.get("precision"), str) else None})
    for ckpt in sorted(p for p in (root / "ckpt").glob("*") if p.is_dir()):
        if ckpt.name not in finished and any(ckpt.iterdir()):
            out["in_training"].append(_training(ckpt, now))
    partial: dict[tuple, list] = {}
    done_sets = set()
    for kind in ("attacks", "pairs"):
        for path in sorted((root / kind).glob("*.npz")):
            if path.name.startswith("."):
                continue
            m = _CHUNK.match(path.stem)
            if m:
                partial.setdefault((kind, m["set"]), []).append(path)
                continue
            done_sets.add((kind, path.stem))
            out["attack_sets"].append({"stem": path.stem, "kind": kind, "images": _npz_rows(path),
                                       "bytes": path.stat().st_size})
    for (kind, stem), paths in sorted(partial.items()):
        if (kind, stem) in done_sets:   # finished; its chunks are removed after the whole set is stored
            continue
        rows = [_npz_rows(p) for p in paths]
        out["partial_attack_sets"].append({"stem": stem, "kind": kind, "chunks": len(paths),
                                           "images": sum(r for r in rows if r is not None),
                                           "unreadable_chunks": sum(r is None for r in rows)})
    return out


def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _age(seconds) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def format_status(st: dict) -> str:
    """:func:`status` as the lines ``keras-restore cache`` prints."""
    lines = [f"cache {st['root']}", f"models: {len(st['models'])} finished"]
    for m in st["models"]:
        extra = ", ".join(x for x in (_plural(m["epochs"], "epoch") if m["epochs"] is not None else "",
                                      f"{m['seconds']:,.0f} s" if m["seconds"] is not None else "",
                                      m["precision"] or "") if x)
        lines.append(f"  {m['stem']}  {m['bytes'] / 1e6:.1f} MB" + (f"  ({extra})" if extra else ""))
    lines.append(f"in training: {len(st['in_training'])}")
    for t in st["in_training"]:
        name = t["stem"] + (f" [{t['stage']}]" if t.get("stage") else "")
        if t.get("note"):
            lines.append(f"  {name}: {t['note']}")
            continue
        planned = f" of {t['epochs_planned']}" if t.get("epochs_planned") else ""
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in t["last"].items() if v is not None)
        line = (f"  {name}: epoch {t['epochs_done']}{planned} finished, {t['seconds']:,.0f} s so far"
                + (f" over {_plural(int(t['attempts']), 'attempt')}" if t.get("attempts") else "")
                + (f", last epoch {t['last_epoch_seconds']:,.0f} s" if t.get("last_epoch_seconds") is not None else "")
                + (f"; {metrics}" if metrics else ""))
        left = (t["epochs_planned"] or 0) - t["epochs_done"]
        if t.get("diverged_at"):
            line += (f"; DIVERGED: a non-finite loss in epoch {t['diverged_at']} (no ETA: the same settings resume "
                     "into it again; rerun at a lower learning rate, which trains under another cache key)")
        elif t.get("epochs_planned") and t["epochs_done"] and t.get("median_epoch_seconds") and left > 0:
            line += (f"; ~{left * float(t['median_epoch_seconds']) / 3600:.1f} h left at the median pace of the last "
                     f"{_plural(t['pace_epochs'], 'epoch')} ({t['median_epoch_seconds']:,.0f} s)")
        if t.get("age_seconds") is not None:
            line += f" (log written {_age(t['age_seconds'])} ago)"
        lines.append(line)
        lpg = t.get("loss_per_group")
        if lpg and lpg["epochs"][-1] > 0:
            ident = lpg["identity"]
            parts = [f"{g} {v:.3g}" + (f" ({v / ident[g]:.2f}x)" if ident.get(g) else "")
                     for g, v in lpg["last"].items()]
            lines.append(f"    held-out MSE per attack after epoch {lpg['epochs'][-1]}"
                         + (" (x its value before training)" if ident else "") + ": " + ", ".join(parts))
    lines.append(f"attack sets: {len(st['attack_sets'])} finished, "
                 f"{sum(s['images'] or 0 for s in st['attack_sets']):,} images")
    lines.append(f"attack sets being made in chunks: {len(st['partial_attack_sets'])}")
    for p in st["partial_attack_sets"]:
        bad = f" ({p['unreadable_chunks']} unreadable)" if p.get("unreadable_chunks") else ""
        lines.append(f"  {p['stem']}: {_plural(p['chunks'], 'chunk')}{bad}, {p['images']:,} images so far")
    return "\n".join(lines) + "\n"

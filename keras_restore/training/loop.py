"""The one training loop: Keras ``fit`` on ``tf.data`` input, resumable, keep-best, loss per group.

Every recipe (:mod:`keras_restore.training.recipes`) ends in :func:`fit`:

* input: ``tf.data`` pipelines (:func:`make_dataset`: seeded shuffle of indices each epoch,
  batch, prefetch), the last ``val_fraction`` of the examples held out for validation;
* resume: ``keras.callbacks.BackupAndRestore`` -- an interrupted run (Ctrl-C, SIGKILL, power
  loss) resumes from its last finished epoch when the same call is made again; the backup is
  removed when training completes. :class:`AtomicBackupAndRestore` replaces its files atomically
  (Keras writes them in place, and a cut during that write lost the whole backup);
* keep-best: with ``keep_best`` the weights of the epoch with the lowest validation loss are kept
  (the CIFAR-10 restorer's validation MSE once jumped from 0.013 to 0.064 in its last epoch);
* loss per group (papers/001 Figs. 3-5): :class:`LossPerGroup` records, before training and
  after every epoch, the model's MSE per attack on held-out and training pairs next to the MSE of
  no restoration; evaluation only, and it survives an interrupted run;
* a resumed run's record covers the whole run: :class:`RunLog` keeps every finished epoch's logs and
  seconds in the backup directory, and :class:`KeepBest` (Keras' ``EarlyStopping`` with
  ``restore_best_weights``) keeps the best epoch's weights there, so the kept epoch may come from an
  earlier attempt. Without them a resumed ``fit`` reported only the epochs and wall time of its last
  attempt (VGG19's 25-epoch run of 2026-12-06, resumed at epoch 10, was recorded as 2,884 s).

Choices (neither paper states loss, optimizer or epochs; recorded in every result's metadata):
classifiers: Adam, sparse categorical cross-entropy on logits, batch 128, 5% held out; restorers:
see :class:`keras_restore.training.recipes.PixelLoss`.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from keras_restore import io
from keras_restore.validation import check_images, check_positive_int


LR_SCHEDULES = ("constant", "cosine", "cosine_warmup")
# Training-time input augmentation (``fit(augment=...)``), applied per image inside the tf.data
# pipeline by Keras preprocessing layers:
#   "crop_flip": the standard CIFAR-10 augmentation (He et al. 2016, Sec. 4.2: 4-px padding, random
#   32x32 crop, horizontal flip) as RandomTranslation(+-4 px, zero fill, nearest) -- per image, unlike
#   keras.layers.RandomCrop, which draws one crop for the whole batch -- then RandomFlip("horizontal").
AUGMENTATIONS = ("none", "crop_flip")


def augmentation(name: str, image_shape, seed: int = 0):
    """The Keras preprocessing model of augmentation ``name`` for images of ``image_shape``
    (``None`` for ``"none"``)."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"`augment` must be one of {', '.join(AUGMENTATIONS)}, got {name!r}.")
    if name == "none":
        return None
    h, w = int(image_shape[0]), int(image_shape[1])
    return keras.Sequential([
        keras.Input(tuple(image_shape)),
        keras.layers.RandomTranslation(4 / h, 4 / w, fill_mode="constant", interpolation="nearest", seed=seed,
                                       name="random_shift_4px"),
        keras.layers.RandomFlip("horizontal", seed=seed + 1, name="random_flip"),
    ], name=f"augment_{name}")


def precise_batchnorm(model, x, batch_size: int = 250) -> dict:
    """Recompute every BatchNormalization layer's moving mean and variance of ``model`` (nested
    models included) as the plain average of its batch statistics over ``x`` ("PreciseBN", Wu &
    Johnson 2021, *Rethinking "Batch" in BatchNorm*, Sec. 3): the k-th batch is folded in with
    momentum k / (k + 1). Weights are untouched. Why: keras.applications ResNet50 on padded MNIST,
    after one epoch (Adam 1e-3, cosine decay), classified 96.5% of 2,000 test images with batch
    statistics but 16% with its exponential moving averages; after this, 96.4% (measured 2026-12-02).
    Returns a record (layers, images, batch size)."""
    x = check_images(x, "x", shape=tuple(model.input_shape[1:]))
    bns = _batchnorm_layers(model)
    momenta = [layer.momentum for layer in bns]
    try:
        for k, start in enumerate(range(0, len(x), batch_size)):
            for layer in bns:
                layer.momentum = k / (k + 1.0)
            model(x[start:start + batch_size], training=True)
    finally:
        for layer, momentum in zip(bns, momenta):
            layer.momentum = momentum
    return {"layers": len(bns), "images": int(len(x)), "batch_size": int(batch_size),
            "method": "PreciseBN (Wu & Johnson 2021): moving statistics = mean of per-batch statistics"}


def _batchnorm_layers(model) -> list:
    out = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            out.append(layer)
        elif isinstance(layer, keras.Model):
            out.extend(_batchnorm_layers(layer))
    return out


@dataclass
class TrainConfig:
    """Optimisation settings for one model (defaults: the classifier choices above)."""

    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 1e-3
    val_fraction: float = 0.05
    seed: int = 0
    # Keras dtype policy the model is *built and trained* in (keras_restore.runtime.PRECISIONS);
    # the trained weights are used in float32 afterwards (float32_copy).
    precision: str = "float32"
    # Learning rate over training: "constant", "cosine_warmup" (see learning_rate_for), or "cosine" (keras CosineDecay from learning_rate to 0
    # over all epochs: the BatchNorm moving statistics then settle on the final weights; with a
    # constant 1e-3, keras.applications ResNet50 on padded MNIST scored 91% on training batches but
    # 41% in inference after one epoch, measured 2026-12-02).
    lr_schedule: str = "constant"

    def __post_init__(self):
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        if not (0 < float(self.learning_rate) < 1):
            raise ValueError(f"`learning_rate` must be in (0, 1), got {self.learning_rate!r}.")
        if not (0 <= float(self.val_fraction) < 0.5):
            raise ValueError(f"`val_fraction` must be in [0, 0.5), got {self.val_fraction!r}.")
        from keras_restore.runtime import PRECISIONS

        if self.precision not in PRECISIONS:
            raise ValueError(f"`precision` must be one of {', '.join(PRECISIONS)}, got {self.precision!r}.")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"`lr_schedule` must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}.")

    def learning_rate_for(self, n_examples: int):
        """The optimizer's learning rate for ``n_examples`` training examples (held-out ones
        excluded): a float, or a ``CosineDecay`` over every step of every epoch."""
        if self.lr_schedule == "constant":
            return self.learning_rate
        per_epoch = max(1, -(-int(n_examples) // self.batch_size))
        steps = self.epochs * per_epoch
        if self.lr_schedule == "cosine":
            return keras.optimizers.schedules.CosineDecay(self.learning_rate, decay_steps=steps)
        # "cosine_warmup": linear from 0 to learning_rate over the first epoch (Goyal et al. 2017), then
        # cosine to 0 over the rest (DenseNet121 at SGD 0.1 from the first step went unstable here:
        # training accuracy 56% -> 44% in its 6th epoch, measured 2026-12-02).
        warm = per_epoch if self.epochs > 1 else 0
        return keras.optimizers.schedules.CosineDecay(0.0, decay_steps=max(1, steps - warm),
                                                      warmup_target=self.learning_rate, warmup_steps=warm)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


RESTORER_DEFAULTS = TrainConfig(epochs=4, batch_size=32, learning_rate=1e-3)


def build_model(build, config: TrainConfig):
    """``build()`` under ``config.precision`` (the dtype policy the model trains in)."""
    from keras_restore.runtime import precision_scope, warn_if_emulated

    warn_if_emulated(config.precision)
    with precision_scope(config.precision):
        return build()


def float32_copy(model, build):
    """``model``'s weights in a float32 model made by ``build()`` (mixed-precision models keep float32
    variables, so the weights are the same numbers); ``model`` itself when it is float32 already."""
    from keras_restore.runtime import precision_scope

    if model.dtype_policy.name == "float32":
        return model
    with precision_scope("float32"):
        fresh = build()
    fresh.set_weights(model.get_weights())
    return fresh


def make_dataset(x, y, batch_size: int, *, seed: int | None = None, shuffle: bool = True, augment=None,
                 sample_weight=None):
    """``tf.data`` pipeline over the arrays ``x`` and ``y`` (any nesting of arrays of equal
    length): a seeded permutation of the indices, reshuffled each epoch, batched, gathered and
    prefetched. The arrays stay NumPy-side tensors captured once (no 2 GB graph constant).
    ``augment``: a Keras preprocessing model (:func:`augmentation`) applied to each batch of ``x``.
    ``sample_weight``: one weight per example, yielded as the third element (Keras' weighted loss)."""
    import tensorflow as tf

    n = len(x)
    xs = tf.convert_to_tensor(x)
    ys = tf.nest.map_structure(tf.convert_to_tensor, y)
    ws = None if sample_weight is None else tf.convert_to_tensor(np.asarray(sample_weight, np.float32))
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)

    def gather(i):
        batch = (tf.gather(xs, i), tf.nest.map_structure(lambda t: tf.gather(t, i), ys))
        return batch if ws is None else batch + (tf.gather(ws, i),)

    ds = ds.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if augment is not None:
        ds = ds.map(lambda a, *rest: (augment(a, training=True), *rest), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def split(n: int, val_fraction: float) -> int:
    """Number of held-out examples: the last ``round(n * val_fraction)``."""
    return int(round(n * val_fraction))


def fit(model, x, y, config: TrainConfig, checkpoint_dir=None, verbose=2, keep_best=False, monitor=None,
        callbacks=(), augment: str = "none", sample_weight=None) -> dict:
    """Train a compiled ``model`` on ``(x, y)`` (``y`` may be a tuple of arrays); see the module docstring.
    ``augment``: an :data:`AUGMENTATIONS` name, applied to the training inputs only. ``sample_weight``:
    one weight per example (training and held-out split alike), or None.
    Returns a JSON-serialisable record (config, sizes, history, seconds, kept epoch, loss per group)."""
    from keras_restore.runtime import seed_everything

    seed_everything(config.seed)
    n_val = split(len(x), config.val_fraction)
    n_tr = len(x) - n_val
    take = (lambda a, s: a[s]) if not isinstance(y, tuple) else (lambda a, s: tuple(t[s] for t in a))
    aug = augmentation(augment, x.shape[1:], config.seed)
    if aug is not None and keras.backend.backend() != "tensorflow":
        raise ValueError(f"`augment={augment!r}` needs the TensorFlow backend (tf.data); got {keras.backend.backend()!r}.")
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, np.float32)
        if sw.shape != (len(x),) or not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError(f"`sample_weight` must hold one finite weight >= 0 per example: expected shape "
                             f"({len(x)},), got {sw.shape}.")
        if not isinstance(y, tuple) and np.ndim(y) > 2:
            # Keras' pixel losses reduce the channel axis only: one weight per image, broadcast over its pixels.
            sw = sw.reshape((len(x),) + (1,) * (np.ndim(y) - 2))
    w_tr, w_val = (None, None) if sw is None else (sw[:n_tr], sw[n_tr:])
    if keras.backend.backend() == "tensorflow":
        train = make_dataset(x[:n_tr], take(y, slice(0, n_tr)), config.batch_size, seed=config.seed, augment=aug,
                             sample_weight=w_tr)
        val = (make_dataset(x[n_tr:], take(y, slice(n_tr, None)), config.batch_size, shuffle=False,
                            sample_weight=w_val) if n_val else None)
        fit_kwargs = {"shuffle": False}   # tf.data shuffles (seeded)
    else:   # Keras 3 on JAX/PyTorch without TensorFlow (e.g. a GPU machine): NumPy input, Keras shuffles
        train = x[:n_tr]
        val = ((x[n_tr:], take(y, slice(n_tr, None))) + (() if w_val is None else (w_val,))) if n_val else None
        fit_kwargs = {"y": take(y, slice(0, n_tr)), "batch_size": config.batch_size, "shuffle": True,
                      **({} if w_tr is None else {"sample_weight": w_tr})}
    # StopOnNonFinite first: a diverged step raises before any callback records its epoch or the backup saves it.
    guard = StopOnNonFinite(config)
    guard.backup_dir = checkpoint_dir
    callbacks = [guard, *callbacks]
    # RunLog and KeepBest come before BackupAndRestore: an epoch is in their files before the backup
    # counts it done (a cut in between makes the resumed run redo that epoch; both drop what they had
    # kept of it), so no epoch the backup counts is missing from the record or from keep-best.
    run_log = RunLog()
    run_log.backup_dir = checkpoint_dir
    callbacks.append(run_log)
    best = None
    if keep_best and val is not None:
        best = KeepBest(patience=config.epochs)
        best.backup_dir = checkpoint_dir
        callbacks.append(best)
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
        callbacks.append(AtomicBackupAndRestore(str(checkpoint_dir)))
    if monitor is not None:   # after BackupAndRestore: a resumed run has its weights back first
        monitor.backup_dir = checkpoint_dir
        callbacks.append(monitor)
    # Keras sets Model._initial_epoch when BackupAndRestore resumes and never resets it: a later fit()
    # of the same model would start at that epoch.
    model._initial_epoch = None
    start = time.time()
    hist = model.fit(train, epochs=config.epochs, validation_data=val, callbacks=callbacks, verbose=verbose,
                     **fit_kwargs)
    history, history_epochs = run_log.history()
    whole = bool(history)
    if not whole:   # an attempt interrupted before RunLog existed (or a corrupt log): this call's epochs only
        history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        first = max(run_log.first_epoch, 1)
        history_epochs = list(range(first, first + len(next(iter(history.values()), []))))
    record = {
        "config": config.as_dict(),
        "n_train": int(n_tr),
        "n_val": int(n_val),
        "augment": augment,
        "input": ("tf.data: seeded index shuffle each epoch, batch, gather, prefetch"
                  if keras.backend.backend() == "tensorflow" else f"NumPy arrays, Keras shuffle ({keras.backend.backend()})"),
        "history": history,
        "history_epochs": history_epochs,   # the epoch (1-based) of each history value
        # wall time of this call plus the finished epochs of earlier, interrupted calls (an epoch cut
        # short by the interruption is lost work and not counted)
        "seconds": round(time.time() - start + run_log.earlier_seconds(), 1),
    }
    if run_log.first_epoch > 1:
        if whole and run_log.logged_before():
            record["resumed"] = {"attempts": run_log.attempts, "at_epoch": run_log.first_epoch,
                                 "earlier_seconds": round(run_log.earlier_seconds(), 1)}
        else:   # the backup predates RunLog (or its log was lost): say what this record lacks
            record["resumed"] = {"attempts": None, "at_epoch": run_log.first_epoch, "earlier_seconds": None,
                                 "note": f"resumed at epoch {run_log.first_epoch} from a backup without a "
                                         "complete run log: 'seconds' and 'history' cover this attempt only"}
    if best is not None and best.best is not None:
        record["kept_epoch"] = int(best.best_epoch) + 1
    if monitor is not None:
        record["loss_per_attack"] = monitor.record()
    return record


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` (one backup per finished epoch) whose two files are replaced
    atomically: written to a temporary file in ``backup_dir``, flushed to disk, then renamed over the old one.

    Why: Keras 3 (read in 3.15.1, ``BackupAndRestore._save_model``) writes ``latest.weights.h5`` and
    ``training_metadata.json`` in place. A run killed during that write (the end of a session, SIGKILL, power
    loss: the paper-scale CIFAR-10 runs here are cut every few hours) leaves a truncated file that the next
    attempt cannot load: ``fit`` fails at its start, and the backup, hours of epochs, must be deleted by hand.
    Here either file is the old one or the new one, never a part. The weights are renamed first, so a cut
    between the two renames (microseconds) makes the resumed run redo the epoch from that epoch's weights,
    never skip one. Loading is Keras' own; the file names and format are unchanged, so a backup written by
    plain ``BackupAndRestore`` resumes here and vice versa. Only ``save_freq="epoch"`` and no
    ``double_checkpoint`` (the atomic replace makes the second copy unnecessary)."""

    TMP = ".latest.tmp.weights.h5"   # Keras' save_weights needs the .weights.h5 suffix

    def __init__(self, backup_dir: str, delete_checkpoint: bool = True):
        super().__init__(backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=delete_checkpoint)

    def _save_model(self):
        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / self.TMP
        try:
            self.model.save_weights(str(tmp), overwrite=True)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self._weights_path)
        finally:
            tmp.unlink(missing_ok=True)
        io.write_json(self._training_metadata_path,
                      {"epoch": int(self._current_epoch), "batch": int(self._last_batch_seen)})


class _BackupFile(keras.callbacks.Callback):
    """A callback keeping one JSON file (``FILE``) beside the BackupAndRestore backup (``backup_dir``,
    set by :func:`fit`), removed with it when training completes."""

    FILE = ""
    backup_dir = None

    def _path(self):
        return None if self.backup_dir is None else Path(self.backup_dir) / self.FILE

    def _read(self):
        """The file's JSON, or None when there is none or it is corrupt (the callback then starts over)."""
        path = self._path()
        return None if path is None else io.load_json(path)

    def _write(self, obj):
        path = self._path()
        if path is not None and path.parent.exists():
            io.write_json(path, obj)


class StopOnNonFinite(_BackupFile):
    """Raise ``FloatingPointError`` at the first batch (or epoch end) whose loss is NaN or infinite, naming where,
    the optimizers' learning rates and what to change. Keras' ``TerminateOnNaN`` only stops training: the run
    would then end with a NaN model, or keep-best would quietly return an earlier epoch's weights as if the run
    had finished (on 2026-12-07 M-net's paper-scale CRU-Net, Adam 1e-3, went NaN in its 2nd epoch and trained two
    more NaN epochs before anyone looked). It comes first in :func:`fit`'s callbacks, so the diverged epoch
    reaches neither the run log nor keep-best nor the ``BackupAndRestore`` backup; with a ``backup_dir`` it
    writes ``FILE`` there first (where, which losses, the rates), which ``keras-restore cache`` reports."""

    FILE = "diverged.json"

    def __init__(self, config: TrainConfig):
        super().__init__()
        self.config, self.epoch = config, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, self.epoch, batch)

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, epoch, None)

    def learning_rates(self) -> dict:
        """The current learning rate of each optimizer the model trains with (``optimizer``, or a GAN's
        ``g_optimizer`` / ``d_optimizer``), falling back to the config's."""
        rates = {}
        for name in ("optimizer", "g_optimizer", "d_optimizer"):
            opt = getattr(self.model, name, None) if self.model is not None else None
            try:
                rates[name] = float(keras.ops.convert_to_numpy(opt.learning_rate))
            except (AttributeError, TypeError, ValueError):
                continue
        return rates or {"TrainConfig.learning_rate": float(self.config.learning_rate)}

    def _check(self, logs, epoch: int, batch):
        bad = {k: float(v) for k, v in (logs or {}).items()
               if "loss" in k and np.ndim(v) == 0 and not np.isfinite(float(v))}
        if not bad:
            return
        where = f"batch {batch + 1} of epoch {epoch + 1}" if batch is not None else f"the end of epoch {epoch + 1}"
        rates = self.learning_rates()
        self._write({"epoch": epoch + 1, "batch": None if batch is None else batch + 1,
                     "losses": {k: str(v) for k, v in bad.items()}, "learning_rates": rates})
        if epoch == 0:
            kept = "; no epoch had finished, so there is no backup to resume from"
        elif self.backup_dir is not None:
            kept = f"; the backup in {self.backup_dir} holds epoch {epoch}, from which a rerun resumes"
        else:
            kept = ""
        raise FloatingPointError(
            f"Training diverged: {', '.join(f'{k} = {v}' for k, v in bad.items())} at {where} (learning rate "
            f"{', '.join(f'{k} {v:.3g}' for k, v in rates.items())}; batch {self.config.batch_size}, "
            f"{self.config.precision}). Nothing of this epoch was kept{kept}. Lower the learning rate of whatever "
            f"sets it for this model (a recipe's or a table scale's, e.g. restorer_lr) and run again.")


class RunLog(_BackupFile):
    """Every finished epoch's logs and wall seconds; with a ``backup_dir`` (the BackupAndRestore
    directory, set by :func:`fit`) written there after each epoch, so that a resumed run's record
    (:meth:`history`, :meth:`earlier_seconds`) covers the epochs of the interrupted attempts too.
    An epoch's seconds run from the end of the one before (or the start of training), so they include
    the other callbacks' end-of-epoch work (the loss per attack) and the start-up of the attempt."""

    FILE = "run_log.json"

    def __init__(self):
        super().__init__()
        self.by_epoch, self.attempts, self.first_epoch = {}, 0, 0
        self._t0 = None

    def on_train_begin(self, logs=None):
        saved = self._read()
        try:
            self.by_epoch = {int(k): dict(v) for k, v in saved["epochs"].items()}
            self.attempts = int(saved["attempts"])
        except (ValueError, KeyError, TypeError, AttributeError):   # none, or corrupt: the record restarts
            self.by_epoch, self.attempts = {}, 0
        self.attempts += 1
        self.first_epoch = 0
        self._t0 = time.time()
        self._save()   # the attempt counts even if it is cut before its first epoch ends

    def on_epoch_begin(self, epoch, logs=None):
        if not self.first_epoch:
            self.first_epoch = int(epoch) + 1
            # epochs at or after this one are being redone: drop what an interrupted attempt left of them
            self.by_epoch = {e: v for e, v in self.by_epoch.items() if e <= int(epoch)}

    def on_epoch_end(self, epoch, logs=None):
        entry = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        now = time.time()
        entry["seconds"] = round(now - self._t0, 1)
        self._t0 = now
        self.by_epoch[int(epoch) + 1] = entry
        self._save()

    def on_train_end(self, logs=None):
        if not self.first_epoch:   # resumed after its last epoch (cut before training ended): no epoch ran
            self.first_epoch = int(getattr(self.model, "_initial_epoch", None) or 0) + 1

    def _save(self):
        planned = (self.params or {}).get("epochs")   # Keras sets params (epochs, steps) before training begins
        self._write({"attempts": self.attempts, **({"epochs_planned": int(planned)} if planned else {}),
                     "epochs": {str(k): v for k, v in sorted(self.by_epoch.items())}})

    def history(self) -> tuple[dict, list]:
        """(metric -> one value per epoch, the epochs) over epochs 1..n (``History.history``'s
        layout), or ({}, []) when an epoch or a metric is missing."""
        epochs = sorted(self.by_epoch)
        if not epochs or epochs != list(range(1, len(epochs) + 1)):
            return {}, []
        keys = [k for k in self.by_epoch[epochs[-1]] if k != "seconds"]
        if any(k not in self.by_epoch[e] for e in epochs for k in keys):
            return {}, []
        return {k: [self.by_epoch[e][k] for e in epochs] for k in keys}, epochs

    def logged_before(self) -> bool:
        """True when every epoch before this call's first one is in the log."""
        return all(e in self.by_epoch for e in range(1, max(self.first_epoch, 1)))

    def earlier_seconds(self) -> float:
        """Seconds of the epochs finished by earlier attempts (before this call's first epoch)."""
        return float(sum(v.get("seconds") or 0.0 for e, v in self.by_epoch.items()
                         if 0 < e < max(self.first_epoch, 1)))


class KeepBest(keras.callbacks.EarlyStopping):
    """``EarlyStopping(monitor="val_loss", restore_best_weights=True)`` whose best value, epoch and
    weights survive an interrupted run: with a ``backup_dir`` (set by :func:`fit`) they are saved there
    whenever the validation loss improves (the previous best kept beside them) and read back when the
    resumed run begins, so the weights restored at the end are the best of all attempts, not of the
    last one. If the run was cut after the best epoch was saved here but before the backup counted that
    epoch, the resumed run redoes it and the previous best is used instead."""

    FILE, PREVIOUS = "keep_best.npz", "keep_best.previous.npz"

    def __init__(self, patience: int):
        super().__init__(monitor="val_loss", patience=patience, restore_best_weights=True, start_from_epoch=0)
        self.backup_dir = None
        self._checked = False

    def _load(self, name):
        if self.backup_dir is None or not (Path(self.backup_dir) / name).exists():
            return None
        f = io.load_npz(Path(self.backup_dir) / name)   # corrupt: None (keep-best restarts from this attempt)
        try:
            weights = [f[f"w{i}"] for i in range(int(f["n"]))]
            return float(f["best"]), int(f["best_epoch"]), weights
        except (TypeError, KeyError, ValueError):
            return None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._checked = False
        self._saved = [self._load(self.FILE), self._load(self.PREVIOUS)]

    def on_epoch_begin(self, epoch, logs=None):
        if self._checked:
            return
        self._checked = True   # the first epoch of this attempt: keep the best of the epochs before it
        for saved in self._saved:
            if saved is not None and saved[1] < int(epoch) and len(saved[2]) == len(self.model.weights):
                self.best, self.best_epoch, self.best_weights = saved
                break
        self._saved = []

    def on_train_end(self, logs=None):
        if not self._checked:   # resumed after its last epoch (cut before training ended): no epoch ran
            self.on_epoch_begin(int(getattr(self.model, "_initial_epoch", None) or 0))
        super().on_train_end(logs)

    def on_epoch_end(self, epoch, logs=None):
        before = self.best_epoch
        super().on_epoch_end(epoch, logs)
        if self.backup_dir is None or not Path(self.backup_dir).exists() or self.best_weights is None:
            return
        path = Path(self.backup_dir) / self.FILE
        if self.best_epoch != before or not path.exists():
            if path.exists():
                path.replace(path.with_name(self.PREVIOUS))
            io.save_npz(path, n=np.asarray(len(self.best_weights)), best=np.asarray(self.best),
                        best_epoch=np.asarray(self.best_epoch),
                        **{f"w{i}": np.asarray(w) for i, w in enumerate(self.best_weights)})


class LossPerGroup(_BackupFile):
    """MSE of the model per group of (input, target) pairs, before training and after each epoch.

    ``sets`` maps split ("train", "val") -> group -> ``(x, y)``. With a ``backup_dir`` (set by
    :func:`_fit` to the BackupAndRestore directory) the values are written there after every
    epoch, so a resumed run keeps the epochs it had finished before the interruption.
    """

    FILE = "loss_per_group.json"

    def __init__(self, sets: dict, batch_size: int = 256):
        super().__init__()
        self.sets, self.batch_size, self.backup_dir = sets, int(batch_size), None
        self.by_epoch: dict[int, dict] = {}

    def _mse(self) -> dict:
        out = {}
        for split, groups in self.sets.items():
            out[split] = {}
            for group, (x, y) in groups.items():
                pred = self.model.predict(x, batch_size=self.batch_size, verbose=0)
                out[split][group] = float(np.mean((pred.astype(np.float64) - y) ** 2))
        return out

    def on_train_begin(self, logs=None):
        try:   # none, or corrupt: start the curves over, training is unaffected
            self.by_epoch = {int(k): v for k, v in (self._read() or {}).items()}
        except (ValueError, AttributeError):
            self.by_epoch = {}
        if 0 not in self.by_epoch:
            self.by_epoch[0] = self._mse()

    def on_epoch_end(self, epoch, logs=None):
        self.by_epoch[int(epoch) + 1] = self._mse()
        self._write({str(k): v for k, v in sorted(self.by_epoch.items())})

    def record(self) -> dict:
        epochs = sorted(self.by_epoch)
        return {
            "epochs": epochs,
            "mse": {split: {g: [self.by_epoch[e][split][g] for e in epochs] for g in groups}
                    for split, groups in self.sets.items()},
            "identity_mse": {split: {g: float(np.mean((x.astype(np.float64) - y) ** 2)) for g, (x, y) in groups.items()}
                             for split, groups in self.sets.items()},
            "n": {split: {g: int(len(x)) for g, (x, _) in groups.items()} for split, groups in self.sets.items()},
            "definition": "MSE(restorer(x_adv), x_clean) per attack, before training (epoch 0) and after each "
                          "epoch; 'train' = up to monitor_per_group training pairs of that attack, 'val' = its "
                          "held-out pairs; identity_mse = MSE(x_adv, x_clean), i.e. no restoration.",
        }


def _group_sets(x_adv, x_clean, groups, n_val: int, per_group: int) -> dict:
    """split -> group -> (x_adv, x_clean) for :class:`LossPerGroup` (the split of :func:`_fit`)."""
    n_train = len(x_adv) - n_val
    sets = {"train": {}, "val": {}}
    for g in dict.fromkeys(groups.tolist()):
        idx = np.flatnonzero(groups == g)
        tr, va = idx[idx < n_train][:per_group], idx[idx >= n_train]
        if len(tr):
            sets["train"][g] = (x_adv[tr], x_clean[tr])
        if len(va):
            sets["val"][g] = (x_adv[va], x_clean[va])
    return {split: v for split, v in sets.items() if v}


def shuffled_pairs(x_adv: np.ndarray, x_clean: np.ndarray, seed: int, groups=None):
    """Mix pairs from all (target, attack) combinations in one seeded order (and their
    ``groups`` labels in the same order, when given)."""
    order = np.random.default_rng(seed).permutation(len(x_adv))
    if groups is None:
        return x_adv[order], x_clean[order]
    return x_adv[order], x_clean[order], np.asarray(groups)[order]

"""Training of target classifiers and restorers, resumable after interruption.

Both use Keras ``fit`` with ``keras.callbacks.BackupAndRestore``: an interrupted run (Ctrl-C,
SIGKILL, power loss) resumes from its last finished epoch when the same call is made again,
instead of starting over. The backup is removed when training completes.

Choices (neither paper states loss, optimizer or epochs; recorded in every result's metadata):

* classifiers: Adam, sparse categorical cross-entropy on logits, batch 128, the last 5% of the
  training split held out for validation;
* restorers: MSE between restored and original images (the CRU-Net paper's Eq. 9-10), Adam,
  batch 32; the weights of the epoch with the lowest validation MSE (on held-out *training*
  pairs) are kept. A restorer ending in ``Clip(0, 1)`` trains with the straight-through gradient
  through its clip (same forward pass; see :class:`keras_restore.models.layers.Clip`), because
  the clip's zero gradient outside [0, 1] lets a restorer whose output drifts out of range stop
  learning for good.

Restoration loss per attack (papers/001 Figs. 3-5): given the attack of every pair (``groups``),
:func:`train_restorer` also records, before training and after every epoch, the MSE per attack on
the held-out pairs and on up to ``monitor_per_group`` training pairs of that attack, next to the
MSE of no restoration at all (adversarial vs original): ``record["loss_per_attack"]``. It is
evaluation only (the trained weights do not depend on it) and survives an interrupted run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from keras_restore.validation import check_images, check_labels, check_positive_int


@dataclass
class TrainConfig:
    """Optimisation settings for one model (defaults: the classifier choices above)."""

    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 1e-3
    val_fraction: float = 0.05
    seed: int = 0

    def __post_init__(self):
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        if not (0 < float(self.learning_rate) < 1):
            raise ValueError(f"`learning_rate` must be in (0, 1), got {self.learning_rate!r}.")
        if not (0 <= float(self.val_fraction) < 0.5):
            raise ValueError(f"`val_fraction` must be in [0, 0.5), got {self.val_fraction!r}.")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


RESTORER_DEFAULTS = TrainConfig(epochs=4, batch_size=32, learning_rate=1e-3)


def _fit(model, x, y, loss, metrics, config: TrainConfig, checkpoint_dir, verbose, keep_best=False,
         monitor=None):
    from keras_restore.runtime import seed_everything

    seed_everything(config.seed)
    n_val = int(round(len(x) * config.val_fraction))
    x_tr, y_tr = x[: len(x) - n_val], y[: len(y) - n_val]
    val = (x[len(x) - n_val:], y[len(y) - n_val:]) if n_val else None
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss, metrics=metrics)
    callbacks = []
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.BackupAndRestore(str(checkpoint_dir), save_freq="epoch"))
    if monitor is not None:   # after BackupAndRestore: a resumed run has its weights back first
        monitor.backup_dir = checkpoint_dir
        callbacks.append(monitor)
    best = None
    if keep_best and val is not None:
        # Keep the weights of the epoch with the lowest validation loss (never stops early): the
        # CIFAR-10 restorer's validation MSE jumped from 0.013 to 0.064 in its last epoch once.
        best = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.epochs,
                                             restore_best_weights=True, start_from_epoch=0)
        callbacks.append(best)
    start = time.time()
    hist = model.fit(x_tr, y_tr, batch_size=config.batch_size, epochs=config.epochs,
                     validation_data=val, shuffle=True, callbacks=callbacks, verbose=verbose)
    record = {
        "config": config.as_dict(),
        "n_train": int(len(x_tr)),
        "n_val": int(n_val),
        "history": {k: [float(v) for v in vals] for k, vals in hist.history.items()},
        "seconds": round(time.time() - start, 1),
    }
    if best is not None and "val_loss" in hist.history:
        record["kept_epoch"] = int(np.argmin(hist.history["val_loss"])) + 1
    if monitor is not None:
        record["loss_per_attack"] = monitor.record()
    return record


class LossPerGroup(keras.callbacks.Callback):
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

    def _path(self):
        return None if self.backup_dir is None else Path(self.backup_dir) / self.FILE

    def on_train_begin(self, logs=None):
        path = self._path()
        if path is not None and path.exists():
            try:
                self.by_epoch = {int(k): v for k, v in json.loads(path.read_text()).items()}
            except (ValueError, OSError):   # corrupt: start the curves over, training is unaffected
                self.by_epoch = {}
        if 0 not in self.by_epoch:
            self.by_epoch[0] = self._mse()

    def on_epoch_end(self, epoch, logs=None):
        self.by_epoch[int(epoch) + 1] = self._mse()
        path = self._path()
        if path is not None and path.parent.exists():
            from keras_restore.pipeline import io

            io.write_json(path, {str(k): v for k, v in sorted(self.by_epoch.items())})

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


def _clip_layers(layer) -> list:
    from keras_restore.models.layers import Clip

    found = [layer] if isinstance(layer, Clip) else []
    for sub in getattr(layer, "layers", []):
        found += _clip_layers(sub)
    return found


@contextlib.contextmanager
def straight_through_clips(model: keras.Model):
    """Within the block, every :class:`Clip` layer of ``model`` passes gradients straight through
    (forward pass unchanged); yields the names of those layers. Afterwards the plain clip is back
    and the compiled train/test/predict functions (traced with it set) are dropped."""
    clips = _clip_layers(model)
    for layer in clips:
        layer.straight_through = True
    try:
        yield [layer.name for layer in clips]
    finally:
        for layer in clips:
            layer.straight_through = False
        if clips:
            model.train_function = model.test_function = model.predict_function = None


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


def train_classifier(model: keras.Model, x, y, config: TrainConfig | None = None, *,
                     checkpoint_dir=None, verbose=2) -> dict:
    """Train a logits classifier in place; returns a JSON-serialisable record of the run."""
    config = config or TrainConfig()
    x = check_images(x, "x", shape=tuple(model.input_shape[1:]))
    y = check_labels(y, len(x), int(model.output_shape[-1]))
    return _fit(model, x, y, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                ["accuracy"], config, checkpoint_dir, verbose)


def train_restorer(model: keras.Model, x_adv, x_clean, config: TrainConfig | None = None, *,
                   checkpoint_dir=None, verbose=2, groups=None, monitor_per_group: int = 256) -> dict:
    """Train a restorer to map adversarial images to their originals (MSE); in place.

    ``groups`` (optional): the attack (any label) of every pair, in the order of ``x_adv``; the
    record then holds ``loss_per_attack`` (see the module docstring) for loss curves like
    papers/001 Figs. 3-5. ``monitor_per_group`` caps the training pairs evaluated per attack.
    """
    config = config or RESTORER_DEFAULTS
    shape = tuple(model.input_shape[1:])
    x_adv = check_images(x_adv, "x_adv", shape=shape)
    x_clean = check_images(x_clean, "x_clean", shape=shape)
    if len(x_adv) != len(x_clean):
        raise ValueError(f"`x_adv` has {len(x_adv)} images but `x_clean` has {len(x_clean)}; pairs must match.")
    monitor = None
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim != 1 or len(groups) != len(x_adv):
            raise ValueError(f"`groups` must give one label per pair: expected shape ({len(x_adv)},), "
                             f"got {groups.shape}.")
        if groups.dtype.kind not in "UO" or not all(isinstance(g, str) and g for g in groups.tolist()):
            raise ValueError("`groups` must hold non-empty strings (the attack of each pair).")
        check_positive_int(monitor_per_group, "monitor_per_group")
        n_val = int(round(len(x_adv) * config.val_fraction))
        monitor = LossPerGroup(_group_sets(x_adv, x_clean, groups, n_val, int(monitor_per_group)))
    with straight_through_clips(model) as clips:
        record = _fit(model, x_adv, x_clean, "mse", [], config, checkpoint_dir, verbose, keep_best=True,
                      monitor=monitor)
    if clips:
        record["clip_gradient"] = f"straight-through while training ({', '.join(clips)}); plain clip after"
    return record


def shuffled_pairs(x_adv: np.ndarray, x_clean: np.ndarray, seed: int, groups=None):
    """Mix pairs from all (target, attack) combinations in one seeded order (and their
    ``groups`` labels in the same order, when given)."""
    order = np.random.default_rng(seed).permutation(len(x_adv))
    if groups is None:
        return x_adv[order], x_clean[order]
    return x_adv[order], x_clean[order], np.asarray(groups)[order]

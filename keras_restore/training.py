"""Training of target classifiers and restorers, resumable after interruption.

Both use Keras ``fit`` with ``keras.callbacks.BackupAndRestore``: an interrupted run (Ctrl-C,
SIGKILL, power loss) resumes from its last finished epoch when the same call is made again,
instead of starting over. The backup is removed when training completes.

Choices (neither paper states loss, optimizer or epochs; recorded in every result's metadata):

* classifiers: Adam, sparse categorical cross-entropy on logits, batch 128, the last 5% of the
  training split held out for validation;
* restorers: MSE between restored and original images (the CRU-Net paper's Eq. 9-10), Adam,
  batch 32; the weights of the epoch with the lowest validation MSE (on held-out *training*
  pairs) are kept.
"""

from __future__ import annotations

import dataclasses
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


def _fit(model, x, y, loss, metrics, config: TrainConfig, checkpoint_dir, verbose, keep_best=False):
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
    return record


def train_classifier(model: keras.Model, x, y, config: TrainConfig | None = None, *,
                     checkpoint_dir=None, verbose=2) -> dict:
    """Train a logits classifier in place; returns a JSON-serialisable record of the run."""
    config = config or TrainConfig()
    x = check_images(x, "x", shape=tuple(model.input_shape[1:]))
    y = check_labels(y, len(x), int(model.output_shape[-1]))
    return _fit(model, x, y, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                ["accuracy"], config, checkpoint_dir, verbose)


def train_restorer(model: keras.Model, x_adv, x_clean, config: TrainConfig | None = None, *,
                   checkpoint_dir=None, verbose=2) -> dict:
    """Train a restorer to map adversarial images to their originals (MSE); in place."""
    config = config or RESTORER_DEFAULTS
    shape = tuple(model.input_shape[1:])
    x_adv = check_images(x_adv, "x_adv", shape=shape)
    x_clean = check_images(x_clean, "x_clean", shape=shape)
    if len(x_adv) != len(x_clean):
        raise ValueError(f"`x_adv` has {len(x_adv)} images but `x_clean` has {len(x_clean)}; pairs must match.")
    return _fit(model, x_adv, x_clean, "mse", [], config, checkpoint_dir, verbose, keep_best=True)


def shuffled_pairs(x_adv: np.ndarray, x_clean: np.ndarray, seed: int):
    """Mix pairs from all (target, attack) combinations in one seeded order."""
    order = np.random.default_rng(seed).permutation(len(x_adv))
    return x_adv[order], x_clean[order]

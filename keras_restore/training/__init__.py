"""Training: one loop (:mod:`.loop`), recipes (:mod:`.recipes`), GAN and adversarial-training
models (:mod:`.gan`, :mod:`.adversarial`, :mod:`.wgan`).

:func:`train_classifier` and :func:`train_restorer` are the two recipes every table uses
(:class:`~.recipes.Classification`, :class:`~.recipes.PixelLoss`), kept as functions.
Layering: imports data/models/attacks/io below it; never defenses' users above (pipeline).
"""

from __future__ import annotations

from keras_restore.models.layers import straight_through_clips
from keras_restore.training.loop import (
    RESTORER_DEFAULTS, AtomicBackupAndRestore, KeepBest, LossPerGroup, RunLog, StopOnNonFinite, TrainConfig, build_model, fit, float32_copy, make_dataset, precise_batchnorm,
    shuffled_pairs,
)
from keras_restore.training.recipes import (
    GAN, RECIPES, AdversarialTraining, Classification, FeatureMatching, MagNetDenoising, PixelLoss, Recipe, Stages,
    TrainData, WGANGenerator, get_recipe,
)
from keras_restore.training.wgan import WGANGP


def train_classifier(model, x, y, config: TrainConfig | None = None, *, checkpoint_dir=None, verbose=2) -> dict:
    """Train a logits classifier in place (:class:`Classification`); returns the run's record."""
    return Classification().train(model, TrainData(x_clean=x, labels=y), config or TrainConfig(),
                                  checkpoint_dir=checkpoint_dir, verbose=verbose)


def train_restorer(model, x_adv, x_clean, config: TrainConfig | None = None, *, checkpoint_dir=None, verbose=2,
                   groups=None, monitor_per_group: int = 256, loss: str = "mse") -> dict:
    """Train a restorer in place to map adversarial images to their originals (:class:`PixelLoss`).

    ``groups`` (optional): the attack of every pair; the record then holds ``loss_per_attack``
    (MSE per attack before training and after every epoch, papers/001 Figs. 3-5)."""
    recipe = PixelLoss(loss, monitor_per_group=monitor_per_group)
    return recipe.train(model, TrainData(x_adv=x_adv, x_clean=x_clean, groups=groups), config or RESTORER_DEFAULTS,
                        checkpoint_dir=checkpoint_dir, verbose=verbose)


__all__ = ["build_model", "float32_copy", "precise_batchnorm", "TrainConfig", "RESTORER_DEFAULTS", "AtomicBackupAndRestore", "KeepBest", "LossPerGroup", "RunLog", "StopOnNonFinite", "fit", "make_dataset", "shuffled_pairs",
           "straight_through_clips", "train_classifier", "train_restorer", "Recipe", "TrainData", "PixelLoss",
           "GAN", "FeatureMatching", "Stages", "Classification", "AdversarialTraining", "MagNetDenoising",
           "WGANGenerator", "WGANGP", "RECIPES",
           "get_recipe"]

"""Training recipes: what data a recipe needs, its stages, its fingerprint, and how it trains.

Every recipe ends in the one loop, :func:`keras_restore.training.loop.fit` (tf.data input,
``BackupAndRestore`` resume, keep-best on validation, loss per attack group). A recipe's
:meth:`~Recipe.fingerprint` covers its fields *and* its training rules (:attr:`Recipe.RULES`), and
is part of every cache key of a model it trains: change a rule and the model is retrained instead
of a stale one being reused.

* :class:`PixelLoss` -- restorer on (adversarial, clean) pairs with MSE (papers/000; papers/001
  Eq. 9-10) or L1; Adam; batch 32 by default; keep-best; straight-through gradient through the
  output clip while training (see :mod:`keras_restore.models.layers`).
* :class:`MagNetDenoising` -- MagNet's autoencoders (Meng & Chen 2017): :class:`PixelLoss` MSE on
  (clean + Gaussian noise, clean) pairs it makes from clean images itself; batch 256.
* :class:`GAN` -- generator + discriminator (+ frozen classifier) through
  :class:`~keras_restore.training.gan.GANRestorer` (Adam 2e-4, beta_1 0.5 as pix2pix / DCGAN).
  ``gan_repair`` (papers/004): MSE repair + BCE adversarial + classifier + recovery + isomorphic
  losses, APE-GAN's discriminator; ``gan_repair_no_isomorphic`` / ``_no_recovery``: its ablations.
* :class:`FeatureMatching` -- a post-training stage (papers/003): the frozen classifier's
  penultimate features, with or without the discriminator.
* :class:`Stages` -- recipes run in order on the same generator (multi-stage training).
* :class:`Classification` -- a logits classifier with cross-entropy (the targets).
* :class:`AdversarialTraining` -- FGSM (Goodfellow et al. 2015, mixed objective), PGD (Madry et
  al. 2018) or BIM examples made inside ``train_step``
  (:class:`~keras_restore.training.adversarial.AdversarialTrainer`).
* :class:`WGANGenerator` -- Defense-GAN's generator (``z -> image``) trained with WGAN-GP on clean
  images only (:class:`~keras_restore.training.wgan.WGANGP`; recipe ``defense_gan_wgan``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np

from keras_restore import io
from keras_restore.models.layers import straight_through_clips
from keras_restore.training.loop import LossPerGroup, TrainConfig, _group_sets, fit, split
from keras_restore.validation import check_images, check_labels, check_positive_int

DATA_FIELDS = ("x_adv", "x_clean", "labels", "groups")


@dataclass
class TrainData:
    """What a recipe trains on: (adversarial, clean) pairs, clean images with labels, each pair's
    attack group (for the loss per attack). Fields a recipe does not need may stay None."""

    x_adv: np.ndarray | None = None
    x_clean: np.ndarray | None = None
    labels: np.ndarray | None = None
    groups: np.ndarray | None = None

    def require(self, needs, recipe: str):
        missing = [f for f in needs if getattr(self, f) is None]
        if missing:
            raise ValueError(f"Recipe {recipe!r} needs {', '.join(missing)}; the data has "
                             f"{', '.join(f for f in DATA_FIELDS if getattr(self, f) is not None) or 'nothing'}.")


@dataclass(frozen=True)
class Recipe:
    """Base: subclasses set ``NEEDS`` (TrainData fields), ``RULES`` (training rules not in the fields)
    and implement :meth:`train`."""

    NEEDS: ClassVar[tuple] = ()
    RULES: ClassVar[tuple] = ()
    # Fields added after models were trained (and cached) with the recipe: out of the fingerprint at their default.
    UNKEYED_AT_DEFAULT: ClassVar[tuple] = ()

    def stages(self) -> list[str]:
        return [type(self).__name__]

    def data_needs(self) -> tuple:
        """The :class:`TrainData` fields this recipe trains on (``NEEDS``, or more for some settings)."""
        return tuple(self.NEEDS)

    def context_needs(self) -> tuple:
        """Keyword context :meth:`train` needs beside the data (``"classifier"``: the frozen target
        classifier); the pipeline (``Run.restorer``) passes what is named here."""
        return ()

    def fingerprint(self) -> str:
        """Cache-key part: the recipe's fields and its rules. A field named in :attr:`UNKEYED_AT_DEFAULT`
        is left out while it has its default value, so models cached before that field existed keep their
        keys."""
        fields = dataclasses.asdict(self)
        for f in dataclasses.fields(self):
            if f.name in self.UNKEYED_AT_DEFAULT and fields[f.name] == (
                    f.default if f.default_factory is dataclasses.MISSING else f.default_factory()):
                del fields[f.name]
        return io.key(type(self).__name__, fields, list(self.RULES))

    def describe(self) -> dict:
        return {"recipe": type(self).__name__, **dataclasses.asdict(self), "rules": list(self.RULES),
                "stages": self.stages(), "fingerprint": self.fingerprint()}

    def train(self, model, data: TrainData, config: TrainConfig, *, checkpoint_dir=None, verbose=2,
              **context) -> dict:
        raise NotImplementedError


def _pairs(model, data: TrainData):
    shape = tuple(model.input_shape[1:])
    x_adv = check_images(data.x_adv, "x_adv", shape=shape)
    x_clean = check_images(data.x_clean, "x_clean", shape=shape)
    if len(x_adv) != len(x_clean):
        raise ValueError(f"`x_adv` has {len(x_adv)} images but `x_clean` has {len(x_clean)}; pairs must match.")
    return x_adv, x_clean


def _monitor(data: TrainData, x_adv, x_clean, config: TrainConfig, per_group: int):
    if data.groups is None:
        return None
    groups = np.asarray(data.groups)
    if groups.ndim != 1 or len(groups) != len(x_adv):
        raise ValueError(f"`groups` must give one label per pair: expected shape ({len(x_adv)},), got {groups.shape}.")
    if groups.dtype.kind not in "UO" or not all(isinstance(g, str) and g for g in groups.tolist()):
        raise ValueError("`groups` must hold non-empty strings (the attack of each pair).")
    check_positive_int(per_group, "monitor_per_group")
    return LossPerGroup(_group_sets(x_adv, x_clean, groups, split(len(x_adv), config.val_fraction), int(per_group)))


def _concat_epochs(first: dict, second: dict) -> dict:
    """Per-group loss curves of two fits in a row as one (the second's epoch 0, the first's last, dropped)."""
    shift, keep = first["epochs"][-1], [i for i, e in enumerate(second["epochs"]) if e > 0]
    out = {**second, "epochs": list(first["epochs"]) + [second["epochs"][i] + shift for i in keep], "mse": {}}
    for split_name, groups in first["mse"].items():
        out["mse"][split_name] = {g: list(v) + [second["mse"][split_name][g][i] for i in keep]
                                  for g, v in groups.items()}
    return out


def _with_clip_rule(model, train) -> dict:
    with straight_through_clips(model) as clips:
        record = train()
    if clips:
        record["clip_gradient"] = f"straight-through while training ({', '.join(clips)}); plain clip after"
    return record


@dataclass(frozen=True)
class PixelLoss(Recipe):
    """A restorer trained on (adversarial, clean) pairs with a pixel loss (``"mse"`` or ``"l1"``).

    ``balance``: ``"none"`` (the papers' pooled loss: every pair counts the same) or ``"attack"`` (a
    variant, issue 21; not in any paper): each pair is weighted by its attack group (``TrainData.groups``)
    so that every attack contributes equally and relative to its own size, ``w_i = c / (n_g * e_g)`` with
    ``n_g`` the group's pairs, ``e_g`` the group's identity loss (the pixel loss of ``x_adv`` against
    ``x_clean`` before training) and ``c`` making the weights average 1 (:func:`attack_balanced_weights`).
    Why: with the pooled MSE, pairs whose perturbation is large in pixels (the spatial attack: a rotation
    moves every edge) outweigh the small L-inf ones by orders of magnitude (the CIFAR-10 loss curves of
    papers/000 Table 5). The held-out loss, which picks the kept epoch, is weighted the same way."""

    loss: str = "mse"
    monitor_per_group: int = 256
    balance: str = "none"
    NEEDS: ClassVar[tuple] = ("x_adv", "x_clean")
    RULES: ClassVar[tuple] = ("adam", "keep-best-val", "clip-ste", "tf.data")
    UNKEYED_AT_DEFAULT: ClassVar[tuple] = ("balance",)   # the pooled recipes keep their older fingerprints

    def __post_init__(self):
        if self.loss not in ("mse", "l1"):
            raise ValueError(f"`loss` must be 'mse' or 'l1', got {self.loss!r}.")
        if self.balance not in BALANCES:
            raise ValueError(f"`balance` must be one of {', '.join(map(repr, BALANCES))}, got {self.balance!r}.")

    def stages(self):
        return [f"pixel ({self.loss}" + (", attack-balanced)" if self.balance == "attack" else ")")]

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, **context):
        data.require(self.NEEDS, "PixelLoss")
        x_adv, x_clean = _pairs(model, data)
        weights = balance_record = None
        if self.balance == "attack":
            if data.groups is None:
                raise ValueError("`balance='attack'` needs `groups` (the attack of each pair) in the training data.")
            weights, balance_record = attack_balanced_weights(x_adv, x_clean, data.groups, loss=self.loss)
        monitor = _monitor(data, x_adv, x_clean, config, self.monitor_per_group)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                      loss="mse" if self.loss == "mse" else "mae")
        record = _with_clip_rule(model, lambda: fit(model, x_adv, x_clean, config, checkpoint_dir, verbose,
                                                    keep_best=True, monitor=monitor, sample_weight=weights))
        if balance_record is not None:
            record["balance"] = balance_record
        return record


BALANCES = ("none", "attack")


def attack_balanced_weights(x_adv, x_clean, groups, *, loss: str = "mse"):
    """Per-pair weights of :class:`PixelLoss`'s ``balance="attack"``: ``w_i = c / (n_g * e_g)`` for a pair
    of group ``g`` (``n_g`` pairs, identity loss ``e_g`` = mean pixel loss of ``x_adv`` vs ``x_clean``,
    floored at 1e-8), ``c`` such that the weights average 1. Returns ``(weights float32, record)``; the
    record gives each group's ``n``, ``identity_loss`` and ``weight``."""
    groups = np.asarray(groups)
    if groups.shape != (len(x_adv),):
        raise ValueError(f"`groups` must give one label per pair: expected shape ({len(x_adv)},), got {groups.shape}.")
    diff = np.asarray(x_adv, np.float32) - np.asarray(x_clean, np.float32)
    per_pair = (np.square(diff) if loss == "mse" else np.abs(diff)).reshape(len(diff), -1).mean(axis=1)
    raw, record = np.empty(len(diff), np.float64), {}
    for g in np.unique(groups):
        mask = groups == g
        e = max(float(per_pair[mask].mean()), 1e-8)
        raw[mask] = 1.0 / (mask.sum() * e)
        record[str(g)] = {"n": int(mask.sum()), "identity_loss": e}
    raw *= len(raw) / raw.sum()
    for g in record:
        record[g]["weight"] = float(raw[groups == g][0])
    return raw.astype(np.float32), record


def magnet_noisy(x, noise_volume: float, seed: int, stream: int = 0) -> np.ndarray:
    """MagNet's training inputs: ``clip(x + noise_volume * N(0, 1), 0, 1)`` as float32, the noise drawn once
    from ``numpy.random.default_rng([seed, stream])`` (``reproduce/baseline_magnet.py``'s ``noisy_pairs``:
    stream 0 = the reformer, 1 = detector II)."""
    rng = np.random.default_rng([int(seed), int(stream)])
    x = np.asarray(x, np.float32)
    return np.clip(x + noise_volume * rng.standard_normal(x.shape, dtype=np.float32), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class MagNetDenoising(PixelLoss):
    """MagNet's autoencoder training (Meng & Chen 2017; their ``DenoisingAutoEncoder.train``), as a recipe that
    needs clean images only, so a table run trains a reformer the way it trains Defense-GAN's generator
    (``keras_restore.pipeline.phases.Run`` feeds such a recipe the first ``n_pairs`` training images of its
    seeded order, clean, and makes no adversarial example).

    The pairs are ``(clip(x + noise_volume * N(0, 1), 0, 1), x)`` (:func:`magnet_noisy`; the noise is drawn
    once, seeded by the :class:`TrainConfig`'s seed and ``noise_stream``, as ``reproduce/baseline_magnet.py``
    draws it), trained by :class:`PixelLoss` (MSE, Adam at the config's learning rate, keep-best on the held-out
    5%): ``reproduce/baseline_magnet.py``'s training of the MNIST reformer. ``noise_volume``: MagNet's
    ``v_noise``, 0.1 on MNIST (the default), 0.025 on CIFAR-10 (set it per table: ``Row.recipe_options``).
    ``batch_size``: MagNet's 256, replacing the config's (a scale's restorer batch); None keeps the config's."""

    noise_volume: float = 0.1
    batch_size: int | None = 256
    noise_stream: int = 0
    NEEDS: ClassVar[tuple] = ("x_clean",)
    RULES: ClassVar[tuple] = PixelLoss.RULES + ("gaussian-noise-drawn-once", "clip-0-1")

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.noise_volume, bool) or not isinstance(self.noise_volume, (int, float)) \
                or not 0 < self.noise_volume < 1:
            raise ValueError(f"`noise_volume` must be a number in (0, 1) (MagNet: 0.1 MNIST, 0.025 CIFAR-10), "
                             f"got {self.noise_volume!r}.")
        if self.batch_size is not None:
            check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.noise_stream, "noise_stream", minimum=0)

    def stages(self):
        return [f"denoising autoencoder (mse on clean + {self.noise_volume:g} x N(0, 1) noise)"]

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, **context):
        data.require(self.NEEDS, "MagNetDenoising")
        x_clean = check_images(data.x_clean, "x_clean", shape=tuple(model.input_shape[1:]))
        if self.batch_size is not None:
            config = dataclasses.replace(config, batch_size=int(self.batch_size))
        noisy = magnet_noisy(x_clean, self.noise_volume, config.seed, self.noise_stream)
        record = super().train(model, TrainData(x_adv=noisy, x_clean=x_clean), config, checkpoint_dir=checkpoint_dir,
                               verbose=verbose)
        record["noise"] = (f"clip(x + {self.noise_volume:g} * N(0, 1), 0, 1), drawn once "
                           f"(numpy default_rng([seed {config.seed}, stream {self.noise_stream}]))")
        record["batch_size_used"] = int(config.batch_size)
        return record


@dataclass(frozen=True)
class GAN(Recipe):
    """Generator ``model`` trained with a discriminator (:class:`~keras_restore.training.gan.GANRestorer`).

    ``weights``: loss weights (pixel, adversarial, classifier, feature, recovery, isomorphic).
    Defaults: pix2pix's L1 x 100 + adversarial x 1 (Isola et al. 2017). Context: ``classifier=``
    (frozen, for the classifier/feature losses), ``discriminator=`` (default
    :func:`keras_restore.models.discriminators.patch_discriminator`)."""

    weights: dict = field(default_factory=lambda: {"pixel": 100.0, "adversarial": 1.0})
    pixel: str = "l1"
    adversarial: str = "lsgan"
    output: str = "image"
    d_learning_rate: float = 2e-4
    beta_1: float = 0.5
    monitor_per_group: int = 256
    # keras_restore.models.discriminators.discriminator_builders() name, used when no `discriminator=`
    # is given; enters the fingerprint only when not "patch" (fingerprints of older recipes stay valid).
    discriminator: str = "patch"
    # The generator's Adam learning rate; None: the TrainConfig's (a scale's restorer_lr). Enters the
    # fingerprint only when set (fingerprints of older recipes stay valid). A table whose rows share one
    # scale sets it per row (Row.recipe_options), e.g. APE-GAN's 2e-4 beside a restorer trained at 1e-3.
    g_learning_rate: float | None = None
    # SRGAN-style warm start (Ledig et al. 2017 start their GAN from the MSE-trained SRResNet): the first
    # round(warmup_fraction x epochs) epochs train the generator on every loss but the adversarial one
    # (no discriminator), the rest with the full objective from those weights: the same epoch budget.
    # 0: none. Enters the fingerprint only when set (fingerprints of older recipes stay valid).
    warmup_fraction: float = 0.0
    # What keep-best monitors on the held-out pairs: "pixel" (the MSE of restored vs clean images) or "feature"
    # (the feature-matching loss: a restorer guided by the classifier alone). Enters the fingerprint only when set.
    val_loss: str = "pixel"
    # Clip each generator gradient to this global norm (Keras's Adam ``clipnorm``); None: no clipping. Enters the
    # fingerprint only when set.
    g_clipnorm: float | None = None
    NEEDS: ClassVar[tuple] = ("x_adv", "x_clean")
    RULES: ClassVar[tuple] = ("adam-beta1", "d-then-g-step", "keep-best-val-mse", "clip-ste", "tf.data")
    UNKEYED_AT_DEFAULT: ClassVar[tuple] = ("discriminator", "g_learning_rate", "warmup_fraction", "val_loss",
                                           "g_clipnorm")

    def __post_init__(self):
        from keras_restore.models.discriminators import discriminator_builders

        if self.discriminator not in discriminator_builders():
            raise ValueError(f"`discriminator` must be one of {', '.join(discriminator_builders())}, "
                             f"got {self.discriminator!r}.")
        lr = self.g_learning_rate
        if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < 1):
            raise ValueError(f"`g_learning_rate` must be None or a number in (0, 1), got {lr!r}.")
        w = self.warmup_fraction
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < 1:
            raise ValueError(f"`warmup_fraction` must be a number in [0, 1), got {w!r}.")
        from keras_restore.training.gan import VAL_LOSSES

        if self.val_loss not in VAL_LOSSES:
            raise ValueError(f"`val_loss` must be one of {', '.join(VAL_LOSSES)}, got {self.val_loss!r}.")
        if self.val_loss == "feature" and not self.weights.get("feature", 0) > 0:
            raise ValueError("`val_loss='feature'` monitors the feature-matching loss: give `weights['feature']` > 0.")
        c = self.g_clipnorm
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float)) or not c > 0):
            raise ValueError(f"`g_clipnorm` must be None or a number > 0, got {c!r}.")

    def warmup_epochs(self, epochs: int) -> int:
        """Epochs of the warm start out of ``epochs`` (the GAN keeps at least one)."""
        return min(int(round(self.warmup_fraction * epochs)), epochs - 1)

    def data_needs(self):
        return self.NEEDS + (("labels",) if self.weights.get("classifier", 0) > 0 else ())

    def context_needs(self):
        uses = self.weights.get("classifier", 0) > 0 or self.weights.get("feature", 0) > 0
        return ("classifier",) if uses else ()

    def stages(self):
        gan = f"gan ({', '.join(f'{k} x {v:g}' for k, v in self.weights.items() if v)})"
        if not self.warmup_fraction:
            return [gan]
        warm = ", ".join(f"{k} x {v:g}" for k, v in self.weights.items() if v and k != "adversarial")
        return [f"warm start, {self.warmup_fraction:g} of the epochs ({warm}; no discriminator)", gan]

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, classifier=None, discriminator=None,
              **context):
        from keras_restore.models.discriminators import build_discriminator
        from keras_restore.training.gan import GANRestorer

        data.require(self.data_needs(), "GAN")
        x_adv, x_clean = _pairs(model, data)
        if self.weights.get("adversarial", 0) > 0 and discriminator is None:
            discriminator = build_discriminator(self.discriminator, model.input_shape[1:])
        g_lr = config.learning_rate if self.g_learning_rate is None else self.g_learning_rate

        def run(weights, disc, cfg, ckpt):
            monitor = _monitor(data, x_adv, x_clean, cfg, self.monitor_per_group)   # one per fit: its epochs
            # GANRestorer checks its arguments (a classifier for the classifier loss) before the labels are.
            wrapper = GANRestorer(model, disc if weights.get("adversarial", 0) > 0 else None, classifier,
                                  weights=weights, pixel=self.pixel, adversarial=self.adversarial, output=self.output,
                                  val_loss=self.val_loss)
            y = x_clean if weights.get("classifier", 0) == 0 else (x_clean, check_labels(
                data.labels, len(x_clean), int(classifier.output_shape[-1])))
            wrapper.compile(g_optimizer=keras.optimizers.Adam(g_lr, beta_1=self.beta_1, clipnorm=self.g_clipnorm),
                            d_optimizer=keras.optimizers.Adam(self.d_learning_rate, beta_1=self.beta_1))
            return _with_clip_rule(model, lambda: fit(wrapper, x_adv, y, cfg, ckpt, verbose, keep_best=True,
                                                      monitor=monitor))

        n_warm = self.warmup_epochs(config.epochs)
        if n_warm == 0:
            record = run(self.weights, discriminator, config, checkpoint_dir)
        else:
            sub = (lambda name: None) if checkpoint_dir is None else (lambda name: Path(checkpoint_dir) / name)
            warm = run({**self.weights, "adversarial": 0.0}, None, dataclasses.replace(config, epochs=n_warm),
                       sub("warmup"))
            record = run(self.weights, discriminator, dataclasses.replace(config, epochs=config.epochs - n_warm),
                         sub("gan"))
            record = {**record, "warmup": warm, "warmup_epochs": n_warm,
                      "seconds": round(warm["seconds"] + record["seconds"], 1)}
            if "loss_per_attack" in warm and "loss_per_attack" in record:
                record["loss_per_attack"] = _concat_epochs(warm["loss_per_attack"], record["loss_per_attack"])
            if "kept_epoch" in record:   # counted over the whole run, like loss_per_attack's epochs
                record["kept_epoch_in_gan_stage"] = record["kept_epoch"]
                record["kept_epoch"] = record["kept_epoch"] + n_warm
        if self.g_learning_rate is not None:
            record["g_learning_rate_used"] = g_lr
        return record


@dataclass(frozen=True)
class FeatureMatching(GAN):
    """Post-training stage (papers/003 "Image Reconstruction-2"): the frozen classifier's
    penultimate-layer features of ``G(x_adv)`` matched to those of ``x_clean`` (+ a pixel term), with
    the discriminator (``weights["adversarial"] > 0``) or without."""

    weights: dict = field(default_factory=lambda: {"feature": 1.0, "pixel": 1.0})

    def context_needs(self):
        return ("classifier",)

    def stages(self):
        return [f"feature matching ({', '.join(f'{k} x {v:g}' for k, v in self.weights.items() if v)})"]

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, classifier=None, **context):
        if classifier is None:
            raise ValueError("Recipe 'FeatureMatching' needs a frozen `classifier`.")
        return super().train(model, data, config, checkpoint_dir=checkpoint_dir, verbose=verbose,
                             classifier=classifier, **context)


@dataclass(frozen=True)
class Stages(Recipe):
    """Recipes run in order on the same model; each stage checkpoints in its own sub-directory.
    ``configs``: one TrainConfig per stage (default: the ``config`` given to :meth:`train`)."""

    recipes: tuple = ()
    configs: tuple = ()

    def __post_init__(self):
        if not self.recipes:
            raise ValueError("`recipes` must hold at least one recipe.")
        if self.configs and len(self.configs) != len(self.recipes):
            raise ValueError(f"`configs` must give one TrainConfig per recipe ({len(self.recipes)}), "
                             f"got {len(self.configs)}.")

    def stages(self):
        return [s for r in self.recipes for s in r.stages()]

    def data_needs(self):
        return tuple(dict.fromkeys(f for r in self.recipes for f in r.data_needs()))

    def context_needs(self):
        return tuple(dict.fromkeys(c for r in self.recipes for c in r.context_needs()))

    def fingerprint(self):
        return io.key("Stages", [r.fingerprint() for r in self.recipes],
                      [c.as_dict() for c in self.configs])

    def describe(self):
        return {"recipe": "Stages", "stages": [r.describe() for r in self.recipes],
                "configs": [c.as_dict() for c in self.configs], "fingerprint": self.fingerprint()}

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, **context):
        records = []
        for i, recipe in enumerate(self.recipes):
            ckpt = None if checkpoint_dir is None else Path(checkpoint_dir) / f"stage{i + 1}"
            cfg = self.configs[i] if self.configs else config
            records.append(recipe.train(model, data, cfg, checkpoint_dir=ckpt, verbose=verbose, **context))
        return {"stages": records, "seconds": round(sum(r["seconds"] for r in records), 1)}


@dataclass(frozen=True)
class Classification(Recipe):
    """A logits classifier with sparse categorical cross-entropy (the targets).

    Defaults (``"classifier"``): Adam, no augmentation, no weight decay or label smoothing -- what
    every MNIST target here was trained with. ``"classifier_cifar"``: the standard CIFAR-10 recipe
    (issue 21): SGD with Nesterov momentum 0.9, decoupled weight decay 5e-4 (``SGD(weight_decay=...)``,
    outside the momentum: L2 5e-5 under momentum 0.9), label smoothing 0.1 (Szegedy et al. 2016), random 4-px
    shifts and horizontal flips (He et al. 2016 Sec. 4.2's augmentation); ``"classifier_cifar_he"``: the same
    with He et al.'s weight decay (decoupled 1e-3 = their L2 1e-4 under momentum 0.9) (:func:`keras_restore.training.loop.augmentation`); the learning rate and
    its schedule come from the :class:`TrainConfig` (0.1 with ``"cosine"`` as used for it)."""

    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augment: str = "none"
    NEEDS: ClassVar[tuple] = ("x_clean", "labels")
    RULES: ClassVar[tuple] = ("adam", "tf.data")
    # Every field: the plain (Adam) recipe keeps the fingerprint it always had.
    UNKEYED_AT_DEFAULT: ClassVar[tuple] = ("optimizer", "momentum", "weight_decay", "label_smoothing", "augment")

    def __post_init__(self):
        from keras_restore.training.loop import AUGMENTATIONS

        if self.optimizer not in ("adam", "sgd_nesterov"):
            raise ValueError(f"`optimizer` must be 'adam' or 'sgd_nesterov', got {self.optimizer!r}.")
        if self.augment not in AUGMENTATIONS:
            raise ValueError(f"`augment` must be one of {', '.join(AUGMENTATIONS)}, got {self.augment!r}.")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"`label_smoothing` must be in [0, 1), got {self.label_smoothing!r}.")
        if self.weight_decay < 0:
            raise ValueError(f"`weight_decay` must be >= 0, got {self.weight_decay!r}.")

    def stages(self):
        if self.optimizer == "adam" and self.augment == "none":
            return ["classification (adam)"]
        return [f"classification ({self.optimizer}, weight decay {self.weight_decay:g}, label smoothing "
                f"{self.label_smoothing:g}, augment {self.augment})"]

    def make_optimizer(self, lr):
        if self.optimizer == "adam":
            return keras.optimizers.Adam(lr, weight_decay=self.weight_decay or None)
        return keras.optimizers.SGD(lr, momentum=self.momentum, nesterov=True, weight_decay=self.weight_decay or None)

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, **context):
        data.require(self.NEEDS, "Classification")
        x = check_images(data.x_clean, "x", shape=tuple(model.input_shape[1:]))
        y = check_labels(data.labels, len(x), int(model.output_shape[-1]))
        lr = config.learning_rate_for(len(x) - split(len(x), config.val_fraction))
        if self.label_smoothing:   # the sparse loss has no label_smoothing: one-hot targets then
            loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=self.label_smoothing)
            y = keras.utils.to_categorical(y, int(model.output_shape[-1])).astype("float32")
            metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            metrics = ["accuracy"]
        model.compile(optimizer=self.make_optimizer(lr), loss=loss, metrics=metrics)
        record = fit(model, x, y, config, checkpoint_dir, verbose, augment=self.augment)
        record["recipe"] = self.describe()
        return record


@dataclass(frozen=True)
class AdversarialTraining(Recipe):
    """Adversarial training of a classifier with ``attack`` examples made inside ``train_step``.

    ``params``: the attack's parameters (default: :func:`keras_restore.attacks.default_params` of
    ``dataset``); ``clean_weight``: 0.5 = Goodfellow et al.'s mixed objective (alpha = 0.5), 0 =
    Madry et al.'s adversarial-only objective. Adam at the :class:`TrainConfig`'s learning rate and
    ``lr_schedule``. To fine-tune, pass a model that already holds the trained weights."""

    attack: str = "pgd"
    dataset: str = "mnist"
    params: dict = field(default_factory=dict)
    clean_weight: float = 0.0
    NEEDS: ClassVar[tuple] = ("x_clean", "labels")
    RULES: ClassVar[tuple] = ("adam", "attack-in-train-step", "tf.data")

    def stages(self):
        return [f"adversarial training ({self.attack}, clean weight {self.clean_weight:g})"]

    def attack_params(self) -> dict:
        from keras_restore.attacks import default_params

        return {**default_params(self.attack, self.dataset), **self.params}

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, **context):
        from keras_restore.training.adversarial import AdversarialTrainer

        data.require(self.NEEDS, "AdversarialTraining")
        x = check_images(data.x_clean, "x", shape=tuple(model.input_shape[1:]))
        y = check_labels(data.labels, len(x), int(model.output_shape[-1]))
        wrapper = AdversarialTrainer(model, self.attack, self.attack_params(), clean_weight=self.clean_weight,
                                     seed=config.seed)
        # the config's learning-rate schedule over the examples the loop trains on (constant: the float itself)
        lr = config.learning_rate_for(len(x) - split(len(x), config.val_fraction))
        wrapper.compile(optimizer=keras.optimizers.Adam(lr))
        record = fit(wrapper, x, y, config, checkpoint_dir, verbose)
        record["attack_params"] = wrapper.params
        return record


# papers/004 (GAN denoiser): its Eq. 3 (the total loss) was lost from the text, so the weights are
# ours. Repair (pixel) 0.7 and adversarial 0.3: APE-GAN's xi_1 / xi_2 (Jin et al. 2019; their code's
# defaults), APE-GAN being "the origin of our motivation". Recovery and isomorphic: the pixel weight,
# 0.7 -- the paper presents repair, recovery and isomorphic as three pixel-level MSE "pairs" of one
# kind (x_fake vs x_real, x_dec vs x_real, x_fake vs x_dec) with no preference among them. Classifier
# (Eq. 5, cross-entropy of the frozen target on G(x_adv)): 0.1, so that on a well restored image
# (cross-entropy ~0.05, MSE ~0.005-0.01 on MNIST) it is of the order of each 0.7 x MSE term instead of
# dominating them (a large weight turns the generator into an attack on its own classifier). MSE
# pixel losses and binary cross-entropy on the discriminator's logit, as the paper (Eq. 4 "mse", Eq. 5)
# and APE-GAN; Adam 2e-4 and batch 32 are set by the table's scale (the paper's "0.0002", "32"), beta_1
# 0.5 (APE-GAN's code / DCGAN; the paper states none).
GAN_REPAIR_WEIGHTS = {"pixel": 0.7, "adversarial": 0.3, "classifier": 0.1, "recovery": 0.7, "isomorphic": 0.7}


def _gan_repair(**drop) -> GAN:
    weights = {k: (0.0 if drop.get(k) else v) for k, v in GAN_REPAIR_WEIGHTS.items()}
    return GAN(weights=weights, pixel="mse", adversarial="bce", discriminator="gan_denoiser")


# APE-GAN (Jin et al. 2019, ICASSP; the baseline of papers/004 Table 2, issue 17): the same
# generator/discriminator pair trained with only its two losses, xi_1 = 0.7 x MSE (G(x_adv) vs x) and
# xi_2 = 0.3 x the adversarial BCE (their paper's Eq. 4 and their code's defaults).
APE_GAN = GAN(weights={"pixel": 0.7, "adversarial": 0.3}, pixel="mse", adversarial="bce", discriminator="gan_denoiser")


@dataclass(frozen=True)
class WGANGenerator(Recipe):
    """Defense-GAN's generator (Samangouei et al. 2018): ``model`` (``z -> image``,
    :func:`keras_restore.models.defense_gan.defense_gan_generator`) trained with WGAN-GP on clean
    images only (:class:`~keras_restore.training.wgan.WGANGP`; scheme and settings there).

    Fields: ``latent_dim`` (128; must be the generator's input size), ``gp_weight`` (10),
    ``n_critic`` (5 critic updates per generator update), ``learning_rate`` (1e-4, both Adams with
    beta_1 0.5, beta_2 0.9: WGAN-GP's and Defense-GAN's). The :class:`TrainConfig`'s
    ``learning_rate`` is *not* used (WGAN-GP's settings go with 1e-4, not with a restorer's 1e-3;
    the rate used is in the record as ``learning_rate_used``); its epochs, batch size, validation
    fraction and seed are. Context: ``critic=`` (default: a fresh float32
    :func:`~keras_restore.models.defense_gan.defense_gan_critic` for the generator's image shape).
    No keep-best (the critic's validation estimate is no model-selection criterion): the generator
    of the last epoch is kept. Data: ``x_clean`` only; given (adversarial, clean) pairs, as the
    pipeline's ``Run.restorer`` makes them, the adversarial halves are ignored."""

    latent_dim: int = 128
    gp_weight: float = 10.0
    n_critic: int = 5
    learning_rate: float = 1e-4
    NEEDS: ClassVar[tuple] = ("x_clean",)
    RULES: ClassVar[tuple] = ("wgan-gp", "adam-beta1-0.5-beta2-0.9", "critic-each-step-generator-each-n_critic",
                              "tf.data")

    def __post_init__(self):
        check_positive_int(self.latent_dim, "latent_dim")
        check_positive_int(self.n_critic, "n_critic")
        if isinstance(self.gp_weight, bool) or not isinstance(self.gp_weight, (int, float)) or self.gp_weight < 0:
            raise ValueError(f"`gp_weight` must be a number >= 0, got {self.gp_weight!r}.")
        if not isinstance(self.learning_rate, (int, float)) or not 0 < self.learning_rate < 1:
            raise ValueError(f"`learning_rate` must be in (0, 1), got {self.learning_rate!r}.")

    def stages(self):
        return [f"wgan-gp (gp x {self.gp_weight:g}, {self.n_critic} critic steps per generator step)"]

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, critic=None, **context):
        from keras_restore.models.defense_gan import defense_gan_critic
        from keras_restore.runtime import precision_scope
        from keras_restore.training.wgan import WGANGP, wgan_adam

        data.require(self.NEEDS, "WGANGenerator")
        if len(model.input_shape) != 2 or int(model.input_shape[-1]) != self.latent_dim:
            raise ValueError(f"Recipe 'WGANGenerator' trains a generator of z with {self.latent_dim} values "
                             f"(`latent_dim`); the model takes input shape {model.input_shape}.")
        shape = tuple(model.output_shape[1:])
        x = check_images(data.x_clean, "x_clean", shape=shape)
        if critic is None:
            with precision_scope("float32"):   # differentiated twice by the gradient penalty
                critic = defense_gan_critic(shape)
        wrapper = WGANGP(model, critic, self.latent_dim, gp_weight=self.gp_weight, n_critic=self.n_critic,
                         seed=int(config.seed))
        wrapper.compile(g_optimizer=wgan_adam(self.learning_rate), d_optimizer=wgan_adam(self.learning_rate))
        # y: a dummy (train_step reads the real images only).
        record = fit(wrapper, x, np.zeros(len(x), np.float32), config, checkpoint_dir, verbose)
        record["learning_rate_used"] = self.learning_rate
        return record


RECIPES: dict[str, Recipe] = {
    "pixel_mse": PixelLoss("mse"),
    "pixel_l1": PixelLoss("l1"),
    # issue 21's variant (not in any paper): every attack's pairs count equally, each relative to its own size.
    "pixel_mse_balanced": PixelLoss("mse", balance="attack"),
    # MagNet's autoencoders (Meng & Chen 2017): MSE on clean + N(0, 0.1) noise (their MNIST v_noise), batch 256.
    "magnet_denoising": MagNetDenoising(),
    "gan": GAN(),
    "feature_matching": FeatureMatching(),
    "classifier": Classification(),
    "classifier_cifar": Classification(optimizer="sgd_nesterov", weight_decay=5e-4, label_smoothing=0.1,
                                       augment="crop_flip"),
    # He et al. (2016) Sec. 4.2's weight decay for their ResNet-20 (issue 21; the rest stays this package's recipe:
    # Nesterov, cosine, label smoothing): L2 1e-4 added to the gradient, whose contributions SGD's momentum 0.9 sums to
    # 1 / (1 - 0.9) = 10x (Nesterov alike). Keras's `SGD(weight_decay=...)` decays the weights directly, outside the
    # momentum (`w -= lr * wd * w`), so their 1e-4 is 1e-3 here; "classifier_cifar"'s 5e-4 is half of it. At 5e-4, ResNet-20 ended at 85.76% test / 94.0% training accuracy after 40 epochs.
    "classifier_cifar_he": Classification(optimizer="sgd_nesterov", weight_decay=1e-3, label_smoothing=0.1,
                                          augment="crop_flip"),
    "adversarial_fgsm": AdversarialTraining("fgsm", clean_weight=0.5),
    "adversarial_bim": AdversarialTraining("bim", clean_weight=0.5),
    "adversarial_pgd": AdversarialTraining("pgd", clean_weight=0.0),
    # papers/004: the full objective and its ablation pair (Sec. 3: "an isomorphic loss ... is proposed").
    "gan_repair": _gan_repair(),
    "gan_repair_no_isomorphic": _gan_repair(isomorphic=True),
    "gan_repair_no_recovery": _gan_repair(recovery=True),
    # The CIFAR-10 variant (issue 20): the full objective after a warm start on its non-adversarial losses
    # for 0.4 of the epochs (2 of 5 at default), same budget -- the paper's recipe collapsed there.
    "gan_repair_warm": dataclasses.replace(_gan_repair(), warmup_fraction=0.4),
    "ape_gan": APE_GAN,
    # Defense-GAN (Samangouei et al. 2018; a papers/004 Table 2 baseline): its WGAN-GP generator, clean images only.
    "defense_gan_wgan": WGANGenerator(),
    # Issue 21's third CRU-Net variant (not in papers/001): the restorer guided by the frozen target alone, as
    # Liao et al. (CVPR 2018)'s high-level representation guided denoiser (HGD): the MSE between the target's
    # penultimate features of the restored image and of the clean one (their FGD takes an L1 distance on the top
    # convolution's map; the penultimate features are the pooled form of the same layer for these targets),
    # no pixel term, Adam (beta_1 0.9, Keras's default: no discriminator here) at 1e-4, keep-best on the held-out
    # feature loss. The pixel MSE lets a residual through that the target amplifies (the eps ablation of
    # 2026-12-07); HGD's remedy is this loss. At the CIFAR-10 CRU-Nets' 3e-4 it diverged in its second epoch
    # (M-net, 2026-12-07: held-out feature loss 0.0043 -> 0.0142, the outputs' pixel MSE 0.029 -> 0.22), and at
    # 1e-4 it went NaN in its third (batch 642, after a held-out feature loss of 0.0053 and 0.0038 in epochs 1-2):
    # 1e-4 with each gradient clipped to global norm 1 (the usual remedy; the pixel-loss CRU-Nets need none), with
    # which epoch 3 still rose (0.0038 -> 0.0146) but stayed finite, so keep-best kept epoch 2.
    "feature_guided": FeatureMatching(weights={"feature": 1.0}, pixel="mse", beta_1=0.9, val_loss="feature",
                                      g_learning_rate=1e-4, g_clipnorm=1.0),
    # Its fourth variant: the same, anchored by a pixel MSE at one tenth of the feature loss's weight. The feature
    # loss alone leaves the output's distance to the clean image free: M-net's kept epoch had a pixel MSE of 0.016
    # on its training pairs (30x the identity's 0.0005 for the L-inf attacks) and the epoch that rose went to 0.21
    # (2026-12-07). At 0.1 that drift would cost 0.021, five times the feature loss (0.0038), while an output as
    # close as the identity pays 0.00005 (~1% of it): the anchor bounds the drift without pulling the restorer back
    # to the pooled pixel MSE's solution (papers/003's feature matching weighs the two equally, after a pixel-loss
    # pre-training). Everything else is feature_guided's, keep-best still on the held-out feature loss. M-net's
    # (2026-12-07, 3 epochs) trained stably: held-out feature loss 0.0039 -> 0.0030 -> 0.0027, pixel MSE 0.0033-0.0044.
    "feature_guided_anchored": FeatureMatching(weights={"feature": 1.0, "pixel": 0.1}, pixel="mse", beta_1=0.9,
                                               val_loss="feature", g_learning_rate=1e-4, g_clipnorm=1.0),
    # Its fifth: the two losses equally weighted (papers/003's feature matching, weights {feature: 1, pixel: 1}). The
    # anchored CRU-Net (0.1) restored the pixel attacks to within 10 points of papers/001 but gave up the spatial one,
    # which only the pixel error measures: on M-net's pairs the pooled pixel MSE starts at 0.0083 (the spatial pairs'
    # 0.056 over a sixth of them) and fell to ~0.0012 as the pooled CRU-Net learned them, the same order as the
    # feature loss (0.003-0.006), so at 1:1 neither term swamps the other. Everything else is feature_guided's.
    # M-net's (2026-12-07, 3 epochs): held-out feature loss 0.0054 -> 0.0038 -> 0.0034, stable.
    "feature_pixel": FeatureMatching(weights={"feature": 1.0, "pixel": 1.0}, pixel="mse", beta_1=0.9,
                                     val_loss="feature", g_learning_rate=1e-4, g_clipnorm=1.0),
}


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name`` (a ValueError naming the known recipes otherwise)."""
    if not isinstance(name, str) or name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; expected one of: {', '.join(RECIPES)}.")
    return RECIPES[name]


# papers/003 (Bana et al. 2021, "Robust Recovery of Adversarial Examples"): its Sec. 5.1 names the
# three stage-1 losses (L1 pixel, "Adversarial loss from discriminator (MSELoss)", the frozen
# classifier's CrossEntropyLoss) and no weights. Ours: pix2pix's L1 x 100 + adversarial x 1 (Isola et
# al. 2017, the GAN default here; the paper's generator/discriminator pair is pix2pix-like) and the
# classification cross-entropy x 1 (the paper's PyTorch criteria summed as they come; at x 1 the
# cross-entropy of a well restored image, ~0.3, is of the order of the adversarial term, and with
# 100 x L1 ~ 2-3 the pixel term leads). Stage 2 ("post-training", Sec. 5.1 / 6): the feature-matching
# (perceptual) loss on the frozen classifier's top features (its penultimate layer: global average
# pooling of Inception-v3) x 1 "only", for noise and image reconstruction ("the discriminator is not
# involved in post-training in the other two methods, hence only the feature loss as the training
# criterion"); "Image Reconstruction-2" adds the stage-1 discriminator's adversarial loss x 1 (the same
# discriminator, continued).
BANA_STAGE1_WEIGHTS = {"pixel": 100.0, "adversarial": 1.0, "classifier": 1.0}
BANA_STAGE2_WEIGHTS = {"feature": 1.0}
# Image reconstruction-2's post-training: feature matching with the discriminator. The paper gives no
# weights; the adversarial term keeps stage 1's ratio to the main loss (pix2pix's 1 : 100). Measured
# 2026-12-04 with 1 : 1 (feature loss ~0.007 beside an LSGAN loss ~0.3): the generator left the images
# (validation MSE 0.0019 after stage 1 -> 0.168 after one epoch of stage 2), so 1 : 1 is not used.
BANA_STAGE2_WEIGHTS_2 = {"feature": 100.0, "adversarial": 1.0}
BANA_ATTACKED = ("inception_v3_cifar10", "resnet18_cifar10", "vgg13_cifar10")


@dataclass(frozen=True)
class OnlineRecovery(Recipe):
    """papers/003's two-stage training of a generator on adversarial examples made on the fly
    (:class:`~keras_restore.training.online.OnlineAttackGAN`; layout, eps and seeds there).

    Stage 1 (``weights``): L1 x 100 + LSGAN adversarial x 1 + classification cross-entropy x 1 of the
    frozen classifier on ``G(x_adv)``. Stage 2, post-training (``post_weights``): feature matching on
    the classifier's penultimate features, alone (noise / image reconstruction) or with the same
    discriminator (``post_weights["adversarial"] > 0``: image reconstruction-2); ``post_epochs`` (None:
    the stage-1 epochs). Fields: ``e_max`` (eps on the 0-255 scale, per image uniform on the integers
    1..E_max), ``attacked`` (the attacked models' names, recorded; the models come as context
    ``attacked=``), ``attacks`` (FGSM, R-FGSM), ``per_cell`` (16 images per (model, attack): batch 96 --
    the :class:`TrainConfig`'s ``batch_size`` must equal models x attacks x per_cell), ``rfgsm_alpha``
    (0.5: alpha = eps / 2). Reconstruction mode is the generator's own (``attention_unet_generator(mode=...)``:
    a noise generator adds its output to its input itself), so the wrapper's ``output`` is ``"image"``.
    Context: ``classifier=`` (frozen; papers/003: Inception-v3), ``attacked=`` (list of frozen models),
    ``discriminator=`` (default: a fresh ``patch`` discriminator). Adam (``config.learning_rate`` for
    G, ``d_learning_rate`` for D, beta_1 0.5), keep-best on the validation MSE of each stage."""

    e_max: int = 16
    attacked: tuple = BANA_ATTACKED
    attacks: tuple = ("fgsm", "rfgsm")
    per_cell: int = 16
    rfgsm_alpha: float = 0.5
    weights: dict = field(default_factory=lambda: dict(BANA_STAGE1_WEIGHTS))
    post_weights: dict = field(default_factory=lambda: dict(BANA_STAGE2_WEIGHTS))
    post_epochs: int | None = None
    d_learning_rate: float = 2e-4
    beta_1: float = 0.5
    discriminator: str = "patch"
    NEEDS: ClassVar[tuple] = ("x_clean", "labels")
    RULES: ClassVar[tuple] = ("online-attacks-in-train-step", "per-image-eps", "adam-beta1", "d-then-g-step",
                              "two-stages-same-discriminator", "keep-best-val-mse", "clip-ste", "tf.data")

    def __post_init__(self):
        from keras_restore.models.discriminators import discriminator_builders
        from keras_restore.training.online import check_attacks, check_e_max

        check_e_max(self.e_max)
        check_attacks(self.attacks)
        check_positive_int(self.per_cell, "per_cell")
        if not isinstance(self.attacked, tuple) or not self.attacked:
            raise ValueError(f"`attacked` must be a non-empty tuple of model names, got {self.attacked!r}.")
        if self.post_epochs is not None:
            check_positive_int(self.post_epochs, "post_epochs")
        if self.discriminator not in discriminator_builders():
            raise ValueError(f"`discriminator` must be one of {', '.join(discriminator_builders())}, "
                             f"got {self.discriminator!r}.")
        if self.post_weights.get("adversarial", 0) > 0 and self.weights.get("adversarial", 0) <= 0:
            raise ValueError("`post_weights` with an adversarial loss needs the stage-1 discriminator: "
                             "`weights['adversarial']` must be > 0.")

    @property
    def batch_size(self) -> int:
        return len(self.attacked) * len(self.attacks) * self.per_cell

    def context_needs(self):
        return ("classifier", "attacked")

    def stages(self):
        fmt = lambda w: ", ".join(f"{k} x {v:g}" for k, v in w.items() if v)  # noqa: E731
        return [f"online gan, E_max {self.e_max} ({fmt(self.weights)})", f"post-training ({fmt(self.post_weights)})"]

    def stage1_fingerprint(self) -> str:
        """What stage 1 depends on (every field but ``post_weights`` / ``post_epochs``, and the rules):
        image reconstruction and image reconstruction-2 share it (``stage1_dir`` in :meth:`train`)."""
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("post_weights", "post_epochs")}
        return io.key(type(self).__name__, "stage1", fields, list(self.RULES))

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, classifier=None, attacked=None,
              discriminator=None, stage1_dir=None, **context):
        """Stage 1 then stage 2 on ``model`` (see the class docstring). ``stage1_dir`` (optional): a
        folder the caller keys by :meth:`stage1_fingerprint`, the generator's build, the data, the
        config and the frozen models: stage 1's result (generator and discriminator weights, record)
        is stored there, and a later run that finds it skips stage 1 and starts stage 2 from it --
        the same state it would have reached itself (stage 2 compiles fresh optimizers)."""
        from keras_restore.models.discriminators import build_discriminator
        from keras_restore.training.online import OnlineAttackGAN

        data.require(self.NEEDS, "OnlineRecovery")
        if classifier is None:
            raise ValueError("Recipe 'OnlineRecovery' needs a frozen `classifier` (papers/003: Inception-v3).")
        if not attacked or len(attacked) != len(self.attacked):
            raise ValueError(f"Recipe 'OnlineRecovery' needs `attacked`: {len(self.attacked)} frozen models "
                             f"({', '.join(self.attacked)}), got {0 if not attacked else len(attacked)}.")
        if config.batch_size != self.batch_size:
            raise ValueError(f"`batch_size` must be models x attacks x per_cell = {len(self.attacked)} x "
                             f"{len(self.attacks)} x {self.per_cell} = {self.batch_size}, got {config.batch_size}.")
        x = check_images(data.x_clean, "x_clean", shape=tuple(model.input_shape[1:]))
        y = check_labels(data.labels, len(x), int(classifier.output_shape[-1]))
        if discriminator is None and self.weights.get("adversarial", 0) > 0:
            discriminator = build_discriminator(self.discriminator, model.input_shape[1:])
        records = []
        post = dataclasses.replace(config, epochs=self.post_epochs or config.epochs)
        for i, (weights, cfg) in enumerate(((self.weights, config), (self.post_weights, post)), start=1):
            d = discriminator if weights.get("adversarial", 0) > 0 else None
            if i == 1 and stage1_dir is not None:
                shared = _load_stage1(Path(stage1_dir), model, discriminator)
                if shared is not None:
                    records.append({**shared, "shared_stage1": str(stage1_dir)})
                    continue
            wrapper = OnlineAttackGAN(model, d, classifier, attacked=attacked, e_max=self.e_max,
                                      attacks=self.attacks, per_cell=self.per_cell, rfgsm_alpha=self.rfgsm_alpha,
                                      seed=int(cfg.seed) + 1000 * i, weights=weights, pixel="l1",
                                      adversarial="lsgan", output="image")
            wrapper.compile(g_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=self.beta_1),
                            d_optimizer=keras.optimizers.Adam(self.d_learning_rate, beta_1=self.beta_1))
            ckpt = None if checkpoint_dir is None else Path(checkpoint_dir) / f"stage{i}"
            records.append(_with_clip_rule(model, lambda: fit(wrapper, x, y, cfg, ckpt, verbose, keep_best=True)))
            if i == 1 and stage1_dir is not None:
                _save_stage1(Path(stage1_dir), model, discriminator, records[-1])
        return {"stages": records, "seconds": round(sum(r["seconds"] for r in records if "shared_stage1" not in r), 1),
                "recipe": self.describe()}


def _save_stage1(folder: Path, model, discriminator, record: dict):
    arrays = {f"g{i}": w for i, w in enumerate(model.get_weights())}
    if discriminator is not None:
        arrays.update({f"d{i}": w for i, w in enumerate(discriminator.get_weights())})
    io.save_npz(folder / "stage1.npz", **arrays)
    io.write_json(folder / "stage1.json", record)   # written last: its presence marks a complete stage 1


def _load_stage1(folder: Path, model, discriminator):
    import json

    if not (folder / "stage1.json").is_file():
        return None
    arrays = io.load_npz(folder / "stage1.npz")
    try:
        record = json.loads((folder / "stage1.json").read_text())
    except (OSError, ValueError):
        return None
    if arrays is None:
        return None
    g = [arrays[f"g{i}"] for i in range(len(model.weights)) if f"g{i}" in arrays]
    d = [] if discriminator is None else [arrays[f"d{i}"] for i in range(len(discriminator.weights))
                                         if f"d{i}" in arrays]
    shapes = lambda arrays, m: [tuple(a.shape) for a in arrays] == [tuple(w.shape) for w in m.weights]  # noqa: E731
    if not shapes(g, model) or (discriminator is not None and not shapes(d, discriminator)):
        raise ValueError(f"stage1_dir {folder}: stored stage 1 does not match this generator / discriminator "
                         f"(other array count or shapes); remove the folder to retrain it.")
    model.set_weights(g)
    if discriminator is not None:
        discriminator.set_weights(d)
    return record


def _bana(post_weights: dict, e_max: int = 16) -> OnlineRecovery:
    return OnlineRecovery(e_max=e_max, post_weights=dict(post_weights))


# papers/003's three methods (Table 1: E_max 16) and its Table 2/3 generator (E_max 128). Noise vs image
# is the generator's mode (attention_unet_noise_* / _image_*); the recipes differ in stage 2.
RECIPES.update({
    "bana_noise": _bana(BANA_STAGE2_WEIGHTS),
    "bana_image": _bana(BANA_STAGE2_WEIGHTS),
    "bana_image2": _bana(BANA_STAGE2_WEIGHTS_2),
    "bana_image_e128": _bana(BANA_STAGE2_WEIGHTS, e_max=128),
})

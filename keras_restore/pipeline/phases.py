"""The phases of a table run, per row: target -> defense (via its recipe) -> attacks -> evaluation.

Ali et al. (2021), Section 3 / Fig. 1:

I.   Targets: load the shipped classifier or train it (cached); test accuracy.
II.  Attacks: adversarial test sets from the first ``n_eval`` test images each target classifies
     correctly (or, with ``TableSpec.eval_images == "first"``, the first ``n_eval`` test images), one
     per attack (default parameters from :mod:`keras_restore.attacks.config`). They run once the
     defense exists, so attacks that need it (adaptive) can use it.
III. No defense: each target's accuracy on its adversarial sets.
IV.  Defense: the row's defense from :mod:`keras_restore.defenses`; its restorer (if any) shipped,
     cached, or trained with the defense's recipe on pairs made from the *training* split:
     ``n_pairs`` training images, each attacked once by one of the (trained-for target x attack)
     combinations (round robin), mixed.
V.   Restore the adversarial test sets, classify again: restored accuracy, success rate (Eq. 6-8),
     SSIM and PSNR of restored vs original images (:meth:`keras_restore.defenses.Defense.evaluate`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from keras_restore import data, io, runtime
from keras_restore.pipeline import cifar_targets
from keras_restore.pipeline.cache import Cache, NotTrained
from keras_restore.pipeline.report import reporter
from keras_restore.pipeline.scales import Scale
from keras_restore.pipeline.tables import ATTACK_OF_COLUMN, TableSpec

# Attack sets larger than 2 x ATTACK_CHUNK images are made and cached in chunks of this many (resumable).
ATTACK_CHUNK = 1000
PAIR_RECIPE = ("each of n_pairs training images (seeded order) attacked once by one (target, attack) "
               "combination, round robin, then mixed")


def correctly_classified(model, x, y, n: int):
    """Indices of the first ``n`` images ``model`` classifies correctly."""
    from keras_restore.metrics import predict

    pred = predict(model, x, 256).argmax(axis=1)
    return np.flatnonzero(pred == y)[:n]


def eval_indices(spec: TableSpec, model, x, y, n: int) -> np.ndarray:
    """Indices of the test images attacked for one target: the first ``n`` it classifies
    correctly (``spec.eval_images == "correct"``) or simply the first ``n`` ("first")."""
    if spec.eval_images == "first":
        return np.arange(min(int(n), len(x)))
    return correctly_classified(model, x, y, n)


def replaces_classifier(spec: TableSpec, label: str) -> bool:
    """True when row ``label``'s defense replaces the classifier by an adversarially trained copy
    (``DefenseSpec.model_arg == "robust"``): its ``restorer`` is that copy, not a restorer network."""
    from keras_restore.defenses import get_defense

    return get_defense(spec.rows[label].defense).model_arg == "robust"


def row_models(spec: TableSpec) -> set[str]:
    """The model registry names the rows of ``spec`` name: each row's target, its restorer (or other
    defense network) and, for a defense that replaces the classifier by its adversarially trained copy
    and names none, the copy the defense registry ships for that target (``DefenseSpec.robust_models``,
    e.g. ``m1_fgsm_at``). A script checks these before a run, for the rows it keeps (``--rows``). Not
    listed: parts a defense builder loads itself (MagNet's shipped detectors) and the other targets a
    restorer is trained for (loaded, or trained, by the run)."""
    from keras_restore.defenses import get_defense

    needed = set()
    for label, row in spec.rows.items():
        needed.add(row.target)
        if row.restorer:
            needed.add(row.restorer)
        elif replaces_classifier(spec, label):
            copy = get_defense(row.defense).robust_models.get(spec.dataset, {}).get(row.target)
            if copy:
                needed.add(copy)
    return needed


def attack_tag(spec: TableSpec, label: str) -> str:
    """Cache tag of a target's adversarial test sets. With ``eval_images == "first"`` the images
    do not depend on the table, so the tag is the target's registry name: a black-box table
    attacks exactly the images (and with the same seeds) as the white-box table of the same
    target, as papers/001 Tables 2 and 4 (equal "No defense" columns) do. A row whose attacks are made
    on its defense (``Row.attack_on == "defense"``) is tagged by the model attacked (its restorer
    name, e.g. an adversarially trained copy), so tables at other strengths share its sets too."""
    row = spec.rows[label]
    if row.attack_on == "defense":   # made on the defended model: tagged by what is attacked, not by the table
        made_on = row.restorer or f"{row.target}+{row.defense}"
        return f"{made_on}-test-first" if spec.eval_images == "first" else f"{made_on}-test"
    if spec.eval_images == "first":
        return f"{spec.targets[label]}-test-first"
    return f"{spec.attack_labels.get(label, label)}-test"


@dataclasses.dataclass(frozen=True)
class RestorerPlan:
    """A row's restorer before training (:meth:`Run.restorer_plan`): its registry ``name``, ``recipe``, the
    ``targets`` it is trained for (label -> loaded model), the preprocessing ``steps`` it trains behind, the
    ``classifier`` label of a classifier loss (None: none), whether its recipe needs the pairs' labels
    (``with_labels``) or pairs at all (``uses_pairs``; False: clean images only), and its cache ``key``."""

    label: str
    name: str
    recipe: object
    targets: dict
    steps: tuple
    classifier: str | None
    with_labels: bool
    uses_pairs: bool
    key: str


class Run:
    """State of one table run: spec, scale, data, cache, the models made so far, metadata."""

    def __init__(self, spec: TableSpec, scale: Scale, *, data_dir, cache_dir, seed, columns, progress, log,
                 precision: str = "float32"):
        from keras_restore import models

        self.spec, self.scale, self.seed = spec, scale, int(seed)
        self.data_dir, self.cache = data_dir, Cache(cache_dir)
        self.columns = list(columns or spec.columns)
        unknown = [c for c in self.columns if c not in spec.columns]
        if unknown:
            raise ValueError(f"Unknown attack column(s) {unknown}; expected some of: {', '.join(spec.columns)}.")
        self.progress, self.log = progress, log
        self.shipped = models.shipped() if scale.pretrained else {}
        self.meta: dict = {"timings": {}}
        self.source = data.source_label(spec.dataset, data_dir)
        self.models: dict = {}          # registry name -> (model, record)
        self.x_train = self.y_train = self.x_test = self.y_test = None
        self.precision = runtime.choose_precision(precision)   # training only; attacks/evaluation: float32

    def _precision_key(self, precision: str | None = None) -> list:
        """Part of a trained model's cache key (empty for float32: keys of older caches stay valid)."""
        precision = precision or self.precision
        return [] if precision == "float32" else [precision]

    @property
    def verbose(self) -> int:
        return 2 if self.progress else 0

    def load_data(self):
        self.x_train, self.y_train = data.load_arrays(self.spec.dataset, "train", self.data_dir)
        self.x_test, self.y_test = data.load_arrays(self.spec.dataset, "test", self.data_dir)

    # ---------------------------------------------------------------- Phase I
    def not_trained(self, what: str, name: str, err: NotTrained) -> NotTrained:
        """``err`` with the table, scale and what keys a trained model, for a model asked for with
        ``train=False`` (:meth:`target`, :meth:`restorer`, :meth:`robust`)."""
        return NotTrained(f"{what} {name!r} of table {self.spec.name!r} at scale {self.scale.name!r} is neither shipped "
                          f"nor cached ({err}); the table's run at that scale trains it. Its cache key holds the "
                          "training precision, seed, data and scale, so a run with another --precision (or 'auto' on "
                          "a CPU with other bfloat16 support) looks for another key.", err.stem)

    def _cached_model(self, what: str, name: str, stem: str, make, train: bool):
        """``self.cache.cached("models", stem, make, train=train)``; a :class:`NotTrained` comes back with
        :meth:`not_trained`'s context (``what`` and ``name`` say which model)."""
        try:
            return self.cache.cached("models", stem, make, train=train)
        except NotTrained as e:
            raise self.not_trained(what, name, e) from None

    def target(self, label: str, name: str, *, train: bool = True):
        """The target classifier ``name`` (row ``label``): shipped, cached or trained; with its record.
        ``train=False``: one neither shipped nor cached raises :class:`NotTrained`."""
        from keras_restore import models, training
        from keras_restore.metrics import accuracy

        if name in self.models:
            return self.models[name]
        if name in self.shipped:
            model = models.load_model(name)
            record = models.shipped_record(name, self.shipped)
            self.log(f"[I] {label}: loaded shipped {name}.keras")
        else:
            if self.scale.pretrained:
                self.log(f"[I] {label}: {name} is not shipped in saved_models/; training it here")
            if name not in self.scale.target_epochs:
                raise ValueError(f"Scale {self.scale.name!r} has no epochs for target {name!r} "
                                 f"(it knows {', '.join(sorted(self.scale.target_epochs))}).")
            epochs, limit = self.scale.target_epochs[name], self.scale.target_train_limit
            lr = self.scale.target_lr.get(name)
            precision = runtime.choose_precision(self.scale.target_precision.get(name, self.precision))
            schedule = self.scale.target_schedule.get(name, "constant")
            recipe_name = self.scale.target_recipe.get(name, "classifier")
            recipe = training.recipes.get_recipe(recipe_name)
            if not isinstance(recipe, training.Classification):
                raise ValueError(f"`target_recipe` of {name!r} must name a classification recipe, got {recipe_name!r}.")
            xt, yt = (self.x_train[:limit], self.y_train[:limit]) if limit else (self.x_train, self.y_train)
            if recipe_name in cifar_targets.RECIPE_NAMES:
                if recipe_name != cifar_targets.recipe_of(name):
                    raise ValueError(f"`target_recipe` of {name!r} is {recipe_name!r}, but the CIFAR-10 targets' "
                                     f"recipe for it is {cifar_targets.recipe_of(name)!r} (pipeline/cifar_targets.RECIPE_OF).")
                # The CIFAR-10 targets' recipe (reproduce/cifar10_targets.py): its batch, learning rate and
                # schedule, and its cache key, so a target that script trained is reused here (and back).
                self.log(f"[I] {label}: {name} by recipe {recipe_name}, {epochs} epoch(s) on {len(xt)} images "
                         f"({precision}; cached or trained)")
                try:
                    model, record, hit = cifar_targets.train_target(name, xt, yt, epochs=epochs, seed=self.seed,
                                                                    precision=precision, source=self.source,
                                                                    cache=self.cache, verbose=self.verbose, train=train)
                except NotTrained as e:
                    raise self.not_trained("Target", name, e) from None
                record = {**record, "source": cifar_targets.source_of(record, hit, self.scale.name)}
            else:
                cfg = training.TrainConfig(epochs=epochs, seed=self.seed, learning_rate=lr or 1e-3,
                                           precision=precision, lr_schedule=schedule)
                key = io.key(name, epochs, limit, self.seed, self.source, *([lr] if lr else []),
                             *self._precision_key(precision), *([schedule] if schedule != "constant" else []),
                             *([recipe.fingerprint()] if recipe_name != "classifier" else []))

                def make(ckpt):
                    self.log(f"[I] {label}: training {name} for {epochs} epoch(s) on {len(xt)} images "
                             f"({precision}, {recipe.stages()[0]})")
                    runtime.seed_everything(self.seed)
                    model = training.build_model(lambda: models.build(name), cfg)
                    record = recipe.train(model, training.TrainData(x_clean=xt, labels=yt), cfg, checkpoint_dir=ckpt,
                                          verbose=self.verbose)
                    model = training.float32_copy(model, lambda: models.build(name))
                    return model, {**record, "source": f"trained ({self.scale.name} scale)", "precision": precision}

                model, record, hit = self._cached_model("Target", name, f"{name}-{key}", make, train)
                if hit:
                    self.log(f"[I] {label}: cached {name}-{key}.keras")
                record["cache_file"] = str(self.cache.path("models", f"{name}-{key}"))
            n_bn = self.scale.target_precise_bn.get(name, 0)
            if n_bn:   # deterministic (a seeded image order), so the cached training is reused as it is
                order = self._train_order(n_bn)
                record["precise_bn"] = training.precise_batchnorm(model, self.x_train[np.sort(order)])
                self.log(f"[I] {label}: BatchNorm statistics recomputed on {n_bn} training images (PreciseBN)")
        record["test_accuracy"] = accuracy(model, self.x_test, self.y_test, 256)
        stated = self.spec.paper_accuracy.get(label)
        self.log(f"[I] {label}: test accuracy {record['test_accuracy']:.2f}% "
                 f"({'paper ' + str(stated) + '%' if stated is not None else 'the paper states none'})")
        self.models[name] = model, record
        return model, record

    # ---------------------------------------------------------------- Phase II
    def attack(self, model, attack: str, x, y, tag: str, overrides: dict | None = None):
        """Adversarial examples of ``x`` against ``model`` (cached); returns ``(x_adv, info)``.
        ``overrides``: parameters on top of the scale's ``attack_overrides`` (training pairs of
        :attr:`TableSpec.pair_attacks`)."""
        from keras_restore import attacks

        overrides = {**self.scale.attack_overrides.get(attack, {}), **(overrides or {})}
        params = {**attacks.default_params(attack, self.spec.dataset), **overrides}
        seed = int(io.key(self.seed, tag, attack), 16) % (2**31)
        key = io.key(io.fingerprint(model), attack, params, self.source, tag, len(x),
                     hashlib.sha256(x.tobytes()).hexdigest(), seed)
        start = time.time()

        def generate(xs, ys, chunk_seed):
            return attacks.generate(attack, model, xs, ys, dataset=self.spec.dataset, progress=self.progress,
                                    seed=chunk_seed, **overrides)

        # A large set (paper-scale training pairs) is made and cached ATTACK_CHUNK images at a time, so an
        # interrupted run keeps every finished chunk; each chunk has its own seed (from the set's).
        stem = f"{tag}-{attack}-{key}"
        chunks = ([slice(start, start + ATTACK_CHUNK) for start in range(0, len(x), ATTACK_CHUNK)]
                  if len(x) > 2 * ATTACK_CHUNK else [])

        def make(_ckpt):
            if not chunks:
                return {"x_adv": generate(x, y, seed)}, {"params": params, "seed": seed}
            parts = []
            for c, sl in enumerate(chunks):
                chunk_seed = int(io.key(seed, c), 16) % (2**31)

                def make_chunk(_ckpt, sl=sl, chunk_seed=chunk_seed):
                    return {"x_adv": generate(x[sl], y[sl], chunk_seed)}, {"params": params, "seed": chunk_seed}

                n = len(x[sl])
                arrays, _, _ = self.cache.cached("attacks", f"{stem}-chunk{c}", make_chunk,
                                                 valid=lambda a, n=n: "x_adv" in a and len(a["x_adv"]) == n)
                parts.append(arrays["x_adv"])
            return {"x_adv": np.concatenate(parts)}, {"params": params, "seed": seed, "chunk": ATTACK_CHUNK}

        arrays, _, hit = self.cache.cached("attacks", stem, make,
                                           valid=lambda a: "x_adv" in a and a["x_adv"].shape == x.shape)
        if not hit:   # the whole set is stored: its chunks are not needed again
            for c in range(len(chunks)):
                path = self.cache.path("attacks", f"{stem}-chunk{c}")
                for p in (path, path.with_suffix(".json")):
                    p.unlink(missing_ok=True)
        return arrays["x_adv"], {"params": params, "seed": seed, "cached": hit,
                                 "seconds": round(time.time() - start, 1),
                                 "source": attacks.default_source(attack, self.spec.dataset)}

    # ---------------------------------------------------------------- Phase IV
    def pairs(self, targets: dict, *, with_labels: bool = False):
        """(adversarial, clean) training pairs: ``n_pairs`` training images, each attacked once
        by one (target, attack) combination (round robin over a seeded order), then mixed.
        Returns ``x_adv, x_clean, groups, info``: ``groups`` is each pair's attack column;
        ``with_labels``: then ``labels`` (each pair's true class) as a fifth item."""
        from keras_restore import training

        pair_attacks = self.spec.pair_attacks or {col: {} for col in self.spec.columns}
        combos = [(label, col) for label in targets for col in pair_attacks]
        order = self._train_order(self.scale.n_pairs)
        adv_parts, clean_parts, group_parts, pair_info = [], [], [], {}
        for i, (label, col) in enumerate(combos):
            idx = np.sort(order[i:: len(combos)])
            x_adv, info = self.attack(targets[label], ATTACK_OF_COLUMN[col], self.x_train[idx], self.y_train[idx],
                                      tag=f"{label}-train-pairs", overrides=pair_attacks[col])
            adv_parts.append(x_adv)
            clean_parts.append(self.x_train[idx])
            group_parts.append(np.full(len(idx), col))
            pair_info[f"{label}/{col}"] = {"n": int(len(idx)), "seconds": info["seconds"], "cached": info["cached"]}
            self.log(f"[IV] pairs {label}/{col}: {len(idx)} ({'cached' if info['cached'] else str(info['seconds']) + ' s'})")
        x_adv, x_clean, groups = training.shuffled_pairs(np.concatenate(adv_parts), np.concatenate(clean_parts),
                                                         self.seed, groups=np.concatenate(group_parts))
        if not with_labels:
            return x_adv, x_clean, groups, pair_info
        # The same seeded order as the pairs (shuffled_pairs' order depends on the seed and the count only).
        y = np.concatenate([self.y_train[np.sort(order[i:: len(combos)])] for i in range(len(combos))])
        return x_adv, x_clean, groups, pair_info, training.shuffled_pairs(y, y, self.seed)[0]

    def _train_order(self, n: int) -> np.ndarray:
        """The first ``n`` indices of the run's seeded order of the training images (pairs, PreciseBN)."""
        return np.random.default_rng(self.seed).permutation(len(self.x_train))[:n]

    def _fit_restorer(self, name: str, recipe, data, ckpt, context=None):
        """A fresh ``name`` (in the run's training precision) trained by ``recipe`` on ``data``, as float32;
        a frozen classifier in ``context`` gets its trainable flag back afterwards."""
        from keras_restore import models, training

        cfg = self.restorer_config()
        runtime.seed_everything(self.seed)
        model = training.build_model(lambda: models.build(name), cfg)
        context = context or {}
        trainable = {k: m.trainable for k, m in context.items()}
        try:
            record = recipe.train(model, data, cfg, checkpoint_dir=ckpt, verbose=self.verbose, **context)
        finally:   # the recipe freezes the classifier; the run's target stays as it was
            for k, m in context.items():
                m.trainable = trainable[k]
        return training.float32_copy(model, lambda: models.build(name)), record

    def _clean_only_restorer(self, name: str, recipe, ckpt):
        """``name`` trained by a recipe that needs clean images only: the same ``n_pairs`` training
        images the pairs would use (seeded order, shuffled), without making any adversarial example."""
        from keras_restore import training

        order = self._train_order(self.scale.n_pairs)
        x_clean = self.x_train[np.sort(order)][np.random.default_rng(self.seed).permutation(len(order))]
        self.log(f"[IV] training {name} on {len(x_clean)} clean training images for {self.scale.restorer_epochs} "
                 f"epoch(s) ({recipe.stages()[0]}; no adversarial pairs: the recipe needs none)")
        model, record = self._fit_restorer(name, recipe, training.TrainData(x_clean=x_clean), ckpt)
        return model, {**record, "source": f"trained ({self.scale.name} scale)", "recipe": recipe.describe(),
                       "precision": self.precision, "training_images": "the first n_pairs of a seeded order, clean"}

    def restorer_config(self):
        from keras_restore import training

        return training.TrainConfig(epochs=self.scale.restorer_epochs, batch_size=self.scale.restorer_batch,
                                    learning_rate=self.scale.restorer_lr, seed=self.seed, precision=self.precision)

    def restorer_key(self, name: str, recipe, targets: dict, preprocessing=(), classifier: str | None = None) -> str:
        """Cache key of a trained restorer: its name, the targets' weights, the scale, seed, data,
        attack budgets and the recipe's fingerprint (its fields and training rules); ``classifier``:
        the label of the target a recipe's classifier loss uses (in the key only when given)."""
        fps = {label: io.fingerprint(m) for label, m in targets.items()}
        s = self.scale
        # Pair attacks and the preprocessing the restorer trains behind enter the key only when a
        # table sets them (keys of the tables that do not stay valid).
        # With pair_attacks, only those attacks' parameters make the pairs: tables that evaluate at other
        # strengths (papers/002 Tables 2 and 4) then share one restorer.
        overrides = s.attack_overrides
        extra = []
        if self.spec.pair_attacks:
            overrides = {ATTACK_OF_COLUMN[col]: {**s.attack_overrides.get(ATTACK_OF_COLUMN[col], {}), **params}
                         for col, params in self.spec.pair_attacks.items()}
            extra.append({"pair_attacks": self.spec.pair_attacks})
        extra += [{"preprocessing": [layer.get_config() for layer in preprocessing]}] if preprocessing else []
        extra += [{"classifier": classifier}] if classifier is not None else []
        extra += [{"clean_only": True}] if "x_adv" not in recipe.data_needs() else []
        return io.key(name, fps, s.n_pairs, s.restorer_epochs, s.restorer_batch, s.restorer_lr, self.seed,
                      self.source, overrides, recipe.fingerprint(), *self._precision_key(), *extra)

    def row_recipe(self, label: str):
        """Row ``label``'s training recipe: ``Row.recipe`` or its defense's, with ``Row.recipe_options``
        replaced (a ValueError naming the recipe's fields for an unknown option)."""
        from keras_restore import training
        from keras_restore.defenses import get_defense

        row = self.spec.rows[label]
        name = row.recipe or get_defense(row.defense).recipe
        recipe = training.get_recipe(name)
        if not row.recipe_options:
            return recipe
        fields = [f.name for f in dataclasses.fields(recipe)]
        unknown = sorted(set(row.recipe_options) - set(fields))
        if unknown:
            raise ValueError(f"Row {label!r}: `recipe_options` {unknown} are not fields of recipe {name!r} "
                             f"({type(recipe).__name__}: {', '.join(fields)}).")
        return dataclasses.replace(recipe, **row.recipe_options)

    def robust_config(self, base: str):
        """The :class:`~keras_restore.training.TrainConfig` of an adversarially trained copy of the target
        ``base`` (the scale's ``robust_*`` fields; the base target's training precision)."""
        from keras_restore import training

        s = self.scale
        precision = runtime.choose_precision(s.target_precision.get(base, self.precision))
        return training.TrainConfig(epochs=s.robust_epochs, batch_size=s.robust_batch, learning_rate=s.robust_lr,
                                    seed=self.seed, precision=precision, lr_schedule=s.robust_schedule)

    def robust(self, label: str, *, train: bool = True):
        """Row ``label``'s adversarially trained copy of its target (a defense with ``model_arg ==
        "robust"``; registry name ``Row.restorer``): shipped, cached, or *fine-tuned* here -- a fresh
        ``Row.restorer`` given the row's trained target's weights (Phase I), then trained by the row's
        :class:`~keras_restore.training.AdversarialTraining` recipe (the package's one loop:
        resumable from the cache's checkpoint directory) on the first ``robust_train_limit`` training
        images for ``robust_epochs`` (:attr:`Scale.robust_epochs` ff.), BatchNorm statistics then
        recomputed on ``robust_precise_bn`` training images. Cache key: the name, the base target's
        weight fingerprint, the recipe's fingerprint (attack and its parameters), the TrainConfig
        (epochs, batch, learning rate and schedule, seed, precision), the image count, PreciseBN and the
        data. ``(model, record)``; the record has ``test_accuracy``. ``train=False``: one neither shipped nor
        cached (nor its target) raises :class:`NotTrained`."""
        from keras_restore import models, training
        from keras_restore.metrics import accuracy

        row, name = self.spec.rows[label], self.spec.restorer_of(label)
        if name in self.models:
            return self.models[name]
        if name is None:
            raise ValueError(f"Row {label!r}: defense {row.defense!r} replaces the classifier by an adversarially "
                             "trained copy; `restorer` must name that copy's registry entry, got None.")
        if name in self.shipped:
            self.log(f"[IV] {label}: loaded shipped {name}.keras")
            model, record = models.load_model(name), models.shipped_record(name, self.shipped)
        else:
            if self.scale.pretrained:
                self.log(f"[IV] {name} is not shipped in saved_models/; fine-tuning it here")
            recipe = self.row_recipe(label)
            if not isinstance(recipe, training.AdversarialTraining):
                raise ValueError(f"Row {label!r}: the recipe of the adversarially trained copy {name!r} must be an "
                                 f"adversarial-training recipe, got {type(recipe).__name__} ({row.recipe!r}).")
            base_model, _ = self.target(label, row.target, train=train)
            s, cfg = self.scale, self.robust_config(row.target)
            limit, n_bn = s.robust_train_limit, int(s.robust_precise_bn)
            base_fp = io.fingerprint(base_model)
            key = io.key(name, base_fp, recipe.fingerprint(), cfg.as_dict(), limit, n_bn, self.source)

            def make(ckpt):
                runtime.seed_everything(self.seed)
                model = training.build_model(lambda: models.build(name), cfg)
                try:
                    model.set_weights(base_model.get_weights())
                except ValueError as e:
                    raise ValueError(f"Row {label!r}: `restorer` {name!r} must have the architecture of its target "
                                     f"{row.target!r} (it is fine-tuned from its weights): {e}") from None
                xt, yt = (self.x_train[:limit], self.y_train[:limit]) if limit else (self.x_train, self.y_train)
                self.log(f"[IV] {label}: fine-tuning {name} from {row.target} on the first {len(xt)} training images "
                         f"for {cfg.epochs} epoch(s) ({recipe.stages()[0]}, {recipe.attack_params()})")
                record = recipe.train(model, training.TrainData(x_clean=xt, labels=yt), cfg, checkpoint_dir=ckpt,
                                      verbose=self.verbose)
                model = training.float32_copy(model, lambda: models.build(name))
                if n_bn:
                    record["precise_bn"] = training.precise_batchnorm(model, self.x_train[np.sort(self._train_order(n_bn))])
                return model, {**record, "source": f"fine-tuned from {row.target} ({self.scale.name} scale)",
                               "initial_weights": {"target": row.target, "fingerprint": base_fp},
                               "recipe": recipe.describe(), "precision": cfg.precision,
                               "training_images": f"the first {len(xt)} training images"}

            model, record, hit = self._cached_model("Adversarially trained copy", name, f"{name}-{key}", make, train)
            if hit:
                self.log(f"[IV] {label}: cached {name}-{key}.keras")
            record = {**record, "cache_file": str(self.cache.path("models", f"{name}-{key}")), "cache_hit": hit}
        record["test_accuracy"] = accuracy(model, self.x_test, self.y_test, 256)
        self.log(f"[IV] {label}: {name} test accuracy {record['test_accuracy']:.2f}%")
        self.models[name] = model, record
        return model, record

    def restorer(self, label: str, restorer_file=None, *, train: bool = True):
        """Row ``label``'s restorer: from ``restorer_file``, shipped, cached, or trained with its
        defense's recipe on pairs of the targets it is trained for. ``(model, record)``. For a defense
        that replaces the classifier (``model_arg == "robust"``): :meth:`robust`. With ``train=False`` a
        restorer (or a target it is trained for) neither shipped nor cached raises :class:`NotTrained` instead of
        being trained (a script that reads the tables' models, e.g. ``reproduce/crunet_cifar10_eps_curves.py``)."""
        from keras_restore import models, training

        row, name = self.spec.rows[label], self.spec.restorer_of(label)
        if name in self.models:
            return self.models[name]
        if replaces_classifier(self.spec, label):   # an adversarially trained copy, not a restorer
            return self.robust(label, train=train)
        if row.trained_for is not None:
            self.log(f"[IV] row {label}: restorer {name} (trained for {', '.join(row.trained_for)})")
        if restorer_file is not None:
            path = Path(restorer_file)
            model = models.load_keras_file(path, models.get_spec(name))
            sidecar = path.with_suffix(".json")
            record = {**(json.loads(sidecar.read_text()) if sidecar.exists() else {}), "source": f"file {path.name}"}
            self.log(f"[IV] restorer from --restorer-file {path}")
        elif name in self.shipped:
            self.log(f"[IV] loaded shipped {name}.keras")
            model, record = models.load_model(name), models.shipped_record(name, self.shipped)
        else:
            if self.scale.pretrained:
                self.log(f"[IV] {name} is not shipped in saved_models/; training it here")
            wanted = self.spec.trained_for(label)
            if row.trained_for is not None:
                self.log(f"[IV] {name} is trained for {', '.join(wanted)}"
                         f"{'' if self.spec.owns_restorer(label) else self._not_own_targets()}")
            plan = self.restorer_plan(label, train=train)
            recipe, targets, steps, clf_label, key = plan.recipe, plan.targets, plan.steps, plan.classifier, plan.key

            def make(ckpt):
                if not plan.uses_pairs:   # a generative model of clean images (Defense-GAN)
                    return self._clean_only_restorer(name, recipe, ckpt)
                x_adv, x_clean, groups, pair_info, labels = self.training_pairs(plan)
                self.log(f"[IV] training {name} on {len(x_adv)} pairs for {self.scale.restorer_epochs} epoch(s) "
                         f"({recipe.stages()[0]})")
                data = training.TrainData(x_adv=x_adv, x_clean=x_clean, groups=groups, labels=labels)
                model, record = self._fit_restorer(name, recipe, data, ckpt,
                                                   None if clf_label is None else {"classifier": targets[clf_label]})
                return model, {**record, "source": f"trained ({self.scale.name} scale)", "pairs": pair_info,
                               "pair_recipe": PAIR_RECIPE, "recipe": recipe.describe(), "precision": self.precision,
                               **({"pair_attacks": self.spec.pair_attacks} if self.spec.pair_attacks else {}),
                               **({"trained_behind": [layer.name for layer in steps]} if steps else {}),
                               **({"classifier_loss_target": clf_label} if clf_label is not None else {})}

            model, record, hit = self._cached_model("Restorer", name, f"{name}-{key}", make, train)
            if hit:
                self.log(f"[IV] cached restorer {name}-{key}.keras")
        if row.trained_for is not None:
            record = {**record, "trained_for": self.spec.trained_for(label)}
        self.models[name] = model, record
        return model, record

    def restorer_plan(self, label: str, *, train: bool = True) -> "RestorerPlan":
        """What row ``label``'s restorer is trained on, and its cache key (:class:`RestorerPlan`): the targets
        it is trained for (loaded, cached or trained: ``train=False`` raises :class:`NotTrained` for one not
        there), its recipe, the preprocessing it trains behind and the target of a classifier loss. The one
        place :meth:`restorer` and ``reproduce/make_pairs.py`` (pairs exported for a GPU) take them from."""
        from keras_restore.defenses import get_defense

        row = self.spec.rows[label]
        if replaces_classifier(self.spec, label):
            raise ValueError(f"Row {label!r} of {self.spec.name!r} replaces the classifier by an adversarially trained "
                             "copy: it has no restorer and no training pairs.")
        name = self.spec.restorer_of(label)
        if name is None:
            raise ValueError(f"Row {label!r} of {self.spec.name!r} has no restorer (a training-free defense).")
        wanted = self.spec.trained_for(label)
        targets = {lab: self.target(lab, reg, train=train)[0] for lab, reg in wanted.items()}
        recipe = self.row_recipe(label)
        # A restorer behind preprocessing (papers/002: depth reduction) trains on what it will see.
        steps = tuple(get_defense(row.defense).preprocessing_steps(self.spec.dataset, **self.defense_options(label)))
        # A recipe with a classifier loss (papers/004) gets the first trained-for target, frozen, and
        # the pairs' labels; other recipes get neither (their keys and training are unchanged).
        clf_label = next(iter(targets)) if "classifier" in recipe.context_needs() else None
        return RestorerPlan(label=label, name=name, recipe=recipe, targets=targets, steps=steps, classifier=clf_label,
                            with_labels="labels" in recipe.data_needs(), uses_pairs="x_adv" in recipe.data_needs(),
                            key=self.restorer_key(name, recipe, targets, steps, clf_label))

    def training_pairs(self, plan: "RestorerPlan"):
        """The pairs ``plan``'s restorer trains on: ``(x_adv, x_clean, groups, pair_info, labels)`` from
        :meth:`pairs` of its targets, ``x_adv`` through its preprocessing (``labels`` None unless its recipe
        needs them)."""
        if not plan.uses_pairs:
            raise ValueError(f"Restorer {plan.name!r} (row {plan.label!r}) is trained on clean images alone "
                             f"(recipe {type(plan.recipe).__name__}): it has no (adversarial, clean) pairs.")
        x_adv, x_clean, groups, pair_info, *labels = self.pairs(plan.targets, with_labels=plan.with_labels)
        if plan.steps:
            from keras_restore.defenses import apply_preprocessing

            x_adv = apply_preprocessing(list(plan.steps), x_adv)
            self.log(f"[IV] training inputs through {', '.join(layer.name for layer in plan.steps)} first")
        return x_adv, x_clean, groups, pair_info, labels[0] if labels else None

    def _not_own_targets(self) -> str:
        """How a restorer trained for other targets than the rows' is logged."""
        if self.spec.partial_of:
            return f" (the targets of the whole table {self.spec.partial_of}: this is a partial run of it)"
        return " (not this table's targets)"

    def defense_options(self, label: str) -> dict:
        """Row ``label``'s defense options: the row's, then the scale's ``defense_options`` of its defense."""
        row = self.spec.rows[label]
        return {**row.options, **self.scale.defense_options.get(row.defense, {})}

    def defense(self, label: str, classifier, restorer, fast=True):
        """Row ``label``'s defense (:func:`keras_restore.defenses.build_defense`) around ``classifier``."""
        from keras_restore.defenses import build_defense, get_defense

        row = self.spec.rows[label]
        model_arg = get_defense(row.defense).model_arg   # "robust": the adversarially trained copy
        return build_defense(row.defense, classifier, dataset=self.spec.dataset, fast=fast,
                             **({model_arg: restorer} if restorer is not None else {}), **self.defense_options(label))

    def attacked_model(self, label: str, classifier, defense):
        """The model row ``label``'s adversarial test sets are made on (:attr:`Row.attack_on`): the bare
        ``classifier``, or the whole ``defense`` (white box; for adversarial training, the robust copy)."""
        return defense.model if self.spec.rows[label].attack_on == "defense" else classifier

    # ---------------------------------------------------------------- adaptive (beside Phase V)
    def adaptive(self, label: str, model, defense, x, y, x_pgd=None):
        """Row ``label`` under the papers' protocol and under an adaptive attack, on the same images.

        ``oblivious_accuracy``: PGD (the dataset's defaults: the paper's eps) made on ``model`` -- the
        bare classifier, or for a row attacked on its defense (``Row.attack_on == "defense"``, e.g.
        adversarial training) the defended model itself, where the two attacks coincide up to the
        algorithm (PGD vs APGD) -- then classified through the defense (``x_pgd``: those examples when
        the table already made them; else made here, cached). ``adaptive_accuracy``: APGD-CE then APGD-T
        (:func:`keras_restore.evaluation.adaptive`) through ``defense.model``, BPDA where a step
        declares it. Returns a JSON-serialisable dict."""
        from keras_restore import attacks
        from keras_restore.evaluation import adaptive
        from keras_restore.metrics import accuracy

        s = self.scale
        pgd = {**attacks.default_params("pgd", self.spec.dataset), **s.attack_overrides.get("pgd", {})}
        eps, norm = float(pgd["eps"]), pgd["norm"]
        if x_pgd is None:
            x_pgd, _ = self.attack(model, "pgd", x, y, tag=f"{label}-adaptive-oblivious")
        oblivious = accuracy(defense.classifier, defense.restore(x_pgd), y, 256)
        params = {"eps": eps, "norm": norm, "n_iter": s.adaptive_iter, "n_target_classes": s.adaptive_targets,
                  "attacks": ["apgd-ce", "apgd-t"]}
        seed = int(io.key(self.seed, label, "adaptive"), 16) % (2**31)
        key = io.key(io.fingerprint(defense.model), defense.describe(), params, self.source,
                     hashlib.sha256(x.tobytes()).hexdigest(), seed)
        start = time.time()

        def make(_ckpt):
            res = adaptive(defense, x, y, eps=eps, norm=norm, n_iter=s.adaptive_iter,
                           n_target_classes=s.adaptive_targets, seed=seed, dataset=self.spec.dataset)
            return ({"x_adv": res.x_adv, "robust": res.robust},
                    {"accuracy": res.accuracy, "clean_accuracy": res.clean_accuracy, "per_attack": res.per_attack,
                     "attack_of": res.attack_of, "record": res.record})

        _, record, hit = self.cache.cached("attacks", f"{label}-adaptive-{key}", make)
        paper, paper_metric = reporter(self.spec).paper_protocol_value(self.spec, label, "PGD")
        out = {"target": label, "defense": self.spec.rows[label].defense, "restorer": self.spec.restorer_of(label),
               "eps": eps, "norm": norm, "n_images": int(len(x)), "clean_defended_accuracy": record["clean_accuracy"],
               "oblivious_accuracy": oblivious, "paper_oblivious": paper,
               "oblivious_minus_paper": None if paper is None else oblivious - paper, "paper_oblivious_metric": paper_metric,
               "adaptive_accuracy": record["accuracy"],
               "paper_adaptive_note": "the paper reports no attack through the defense",
               "adaptive_minus_oblivious": record["accuracy"] - oblivious,
               "adaptive_per_attack": record["per_attack"], "adaptive_params": params, "adaptive_seed": seed,
               # compute time of the attack when it was made (a cached result costs ~0 s in this run)
               "adaptive_cached": hit, "adaptive_seconds": record["record"].get("seconds", round(time.time() - start, 1)),
               "oblivious_attack": {"attack": "pgd", **pgd, "made_on": (
                   "the defended model (white box: the row's attacks are made on its defense, so the oblivious "
                   "and the adaptive attack are made on the same model)" if self.spec.rows[label].attack_on == "defense"
                   else "the bare classifier")}}
        self.log(f"[adaptive] {label}: defended clean {out['clean_defended_accuracy']:.1f}% | oblivious PGD "
                 f"{oblivious:.1f}% | adaptive APGD-CE+T {out['adaptive_accuracy']:.1f}% (eps {eps:g}, "
                 f"{len(x)} images{', cached' if hit else ''})")
        return out

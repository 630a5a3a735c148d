"""Shared machinery of the papers/003 scripts (``bana_table1.py``, ``bana_table2.py``, ``bana_table3.py``):
scales, targets, generators (trained by the ``OnlineRecovery`` recipes), the FGSM test protocol, the
adaptive column, the paper-beside-ours CSV, the figures. Not a script; importing it runs nothing.

Why not a ``pipeline.tables.TableSpec``: the pipeline trains restorers on stored (adversarial,
clean) pairs (``Run.pairs``); papers/003 makes its training examples inside every training step
(``training.online``), so these scripts call the recipe directly with its context (the frozen
Inception-v3 and the three attacked models) and keep the pipeline's conventions: cached, resumable
models (``pipeline.cache.Cache``), ``--ship`` (``pipeline.ship.ship_model``), atomic CSV + meta.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from keras_restore.pipeline.cache import default_dir as cache_default_dir

REPO = Path(__file__).resolve().parents[1]
DATASET = "cifar10"
ATTACKED = ("inception_v3_cifar10", "resnet18_cifar10", "vgg13_cifar10")
CLASSIFIER = "inception_v3_cifar10"
# method -> (model-registry name, recipe, generator mode)
METHODS = {
    "noise": ("bana_noise_e16_cifar10", "bana_noise", "noise"),
    "image": ("bana_image_e16_cifar10", "bana_image", "image"),
    "image2": ("bana_image2_e16_cifar10", "bana_image2", "image"),
    "e128": ("bana_image_e128_cifar10", "bana_image_e128", "image"),
}
METHOD_LABEL = {"noise": "Noise Reconstruction", "image": "Image Reconstruction", "image2": "Image Reconstruction-2",
                "e128": "Image Reconstruction (E_max 128)"}
RETRAIN_TARGETS = ("python reproduce/cifar10_targets.py --retrain --models vgg13_cifar10 resnet18_cifar10 "
                   "inception_v3_cifar10 vgg11_cifar10 --data-dir ../shared/data --ship")
# Per scale (every value goes into the meta). n_train: clean training images of the generators (the
# last 5% held out for validation, attacked with a fixed seed); epochs / post_epochs: stage 1 / stage 2;
# per_cell: images per (model, attack) cell (16: the paper's batch of 96); n_eval: first test images
# (paper: 10,000); n_adaptive / adaptive_iter: the adaptive column (APGD-CE then APGD-T, 1 target class).
SCALES = {
    "quick": dict(note="CI smoke run: tiny targets (width 1/16, 1 epoch on 480 images; VGG-13 itself, tiny "
                       "VGG-11s standing in for the others), tiny generators (base width 4, depth 2), 240 training images, 1 + 1 "
                       "epochs; not a result.",
                  n_train=240, epochs=1, post_epochs=1, per_cell=4, n_eval=40, n_adaptive=8, adaptive_iter=5,
                  target_width=0.0625, target_train=480, generator_filters=4, generator_depth=2),
    "default": dict(note="shipped targets and generators (saved_models/), FGSM on the first 1,000 test images; "
                         "adaptive column on the first 50 images, 20 iterations.",
                    n_eval=1000, n_adaptive=50, adaptive_iter=20),
    "retrain": dict(note="this CPU's budget: the generators trained here on 8,000 training images (7,600 "
                         "trained on, 3 x 2 x 16 batches of 96: 79 steps per epoch), 4 epochs of stage 1 + 2 of "
                         "stage 2 each, mixed_bfloat16 recommended; image reconstruction-2 reuses image "
                         "reconstruction's stage 1; targets from reproduce/cifar10_targets.py --retrain "
                         "(cached, shared).",
                    n_train=8000, epochs=4, post_epochs=2, per_cell=16, n_eval=1000, n_adaptive=50,
                    adaptive_iter=20),
    "paper": dict(note="the paper's data: 50,000 training images, the paper's generator width (base 64), "
                       "30 + 10 epochs (the paper states none), all 10,000 test images; meant for a GPU.",
                  n_train=50000, epochs=30, post_epochs=10, per_cell=16, n_eval=10000, n_adaptive=1000,
                  adaptive_iter=100, generator_filters=64),
}
LEARNING_RATE = 2e-4   # Adam, beta_1 0.5 (pix2pix / DCGAN; the paper states none)


def parser(doc: str):
    import argparse

    from keras_restore.pipeline.script import add_scale_flags

    p = argparse.ArgumentParser(description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_flags(p, quick="CI smoke run: tiny models, a few images (not a reproduction)",
                    retrain="train the generators on this CPU (targets: reproduce/cifar10_targets.py --retrain)",
                    paper="the paper's scale (50,000 images, base width 64, 10,000 test images): for a GPU")
    p.add_argument("--out-dir", default=None, help="default: reproduce/results (or results/<scale>)")
    p.add_argument("--cache-dir", default=str(cache_default_dir()))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-eval", type=int, default=None, help="first N CIFAR-10 test images (default: the scale's)")
    p.add_argument("--precision", default="float32", choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"))
    p.add_argument("--ship", action="store_true", help="copy the trained generators into saved_models/")
    p.add_argument("--train-only", action="store_true",
                   help="train (or load) the targets and generators, ship them with --ship, then stop before "
                        "the evaluation (a default-scale run evaluates the shipped models)")
    p.add_argument("--quiet", action="store_true")
    return p


class Context:
    """One script run: data, cache, scale settings, loaded / trained models, and the meta record."""

    def __init__(self, args, script: str):
        from keras_restore import data, runtime
        from keras_restore.pipeline.cache import Cache

        self.args, self.script, self.scale = args, script, args.scale
        self.settings = dict(SCALES[args.scale])
        if args.n_eval is not None:
            self.settings["n_eval"] = args.n_eval
        self.out = Path(args.out_dir or REPO / "reproduce" / "results" / ("" if args.scale == "default" else args.scale))
        runtime.seed_everything(args.seed)
        self.precision = runtime.training_precision(args.precision)   # the generators'; targets: their own
        self.source = data.source_label(DATASET, args.data_dir)
        x, y = data.load_arrays(DATASET, "test", args.data_dir, limit=self.settings["n_eval"])
        self.x_test, self.y_test = x, y
        self.cache = Cache(args.cache_dir)
        self.targets, self.generators, self.records = {}, {}, {"targets": {}, "generators": {}}
        self._train = None
        self._fgsm = {}   # (id(model), eps) -> (model, examples): each set made once per run
        self.log(f"[scale] {args.scale}: {self.settings['note']}")

    def train_only(self) -> bool:
        """``--train-only``: the models are trained (and shipped); say so and skip the evaluation."""
        if self.args.train_only:
            self.log(f"[train-only] {self.script}: models ready ({', '.join(self.generators)}); evaluation "
                     f"skipped: run `python reproduce/{self.script}.py` to evaluate the shipped models")
        return bool(self.args.train_only)

    def log(self, msg):
        if not self.args.quiet or msg.startswith("[out]"):
            print(msg, flush=True)

    def log_row(self, row: dict):
        """One table row's measured values (the paper and difference columns left out)."""
        self.log(f"[eps {row['epsilon']}] " + ", ".join(f"{k} {v}" for k, v in row.items()
                                                       if k != "epsilon" and not k.endswith(("_paper", "_delta"))))

    # ------------------------------------------------------------------------------------ data
    def train_images(self, n):
        from keras_restore import data

        return data.load_arrays(DATASET, "train", self.args.data_dir, limit=n)

    # --------------------------------------------------------------------------------- targets
    def target(self, name: str):
        if name not in self.targets:
            self.targets[name] = self._target(name)
        return self.targets[name]

    def _target(self, name: str):
        from keras_restore import models

        if self.scale == "quick":
            return self._quick_target(name)
        if self.scale == "default":
            entry = models.shipped().get(name)
            if entry is None:
                raise FileNotFoundError(f"target {name!r} is not shipped in saved_models/; train the papers/003 "
                                        f"targets first: {RETRAIN_TARGETS}")
            self.records["targets"][name] = {"source": f"saved_models/{name}.keras", "sha256": entry.get("sha256")}
            return models.load_model(name)
        from keras_restore.pipeline import cifar_targets

        if self._train is None:
            self._train = self.train_images(None)
        epochs = cifar_targets.EPOCHS[self.scale][name]
        model, record, hit = cifar_targets.train_target(
            name, *self._train, epochs=epochs, seed=self.args.seed, precision=cifar_targets.target_precision(name),
            source=self.source, cache=self.cache, verbose=0 if self.args.quiet else 2)
        # A shipped target that is this recipe's own training of it is reused (cifar_targets.shipped_match).
        self.records["targets"][name] = {"source": cifar_targets.source_of(record, hit, self.scale), "epochs": epochs,
                                         "precision": record.get("precision"),
                                         **({"sha256": record["sha256"]} if record.get("reused") else {})}
        return model

    def _quick_target(self, name: str):
        from keras_restore import io, runtime, training
        from keras_restore.models import bana_targets

        # quick: tiny VGGs stand in for every target (tracing the online-attack step through Inception-v3
        # and ResNet-18 alone took minutes; their builders are tested in tests/models/test_bana_targets.py).
        builders = {"vgg13_cifar10": bana_targets.vgg13_cifar10}
        width, n = self.settings["target_width"], self.settings["target_train"]
        x, y = self.train_images(n)
        cfg = training.TrainConfig(epochs=1, batch_size=64, learning_rate=1e-3, seed=self.args.seed)
        key = io.key("bana-quick-target", name, width, n, self.source, cfg.as_dict())

        def make(ckpt):
            runtime.seed_everything(self.args.seed)
            model = builders.get(name, bana_targets.vgg11_cifar10)(width=width, name=name)
            return model, training.train_classifier(model, x, y, cfg, checkpoint_dir=ckpt, verbose=0)

        model, _, hit = self.cache.cached("models", f"{name}-quick-{key}", make)
        self.records["targets"][name] = {"source": "cached" if hit else "trained (quick)", "width": width,
                                         "stand_in": None if name in builders else "tiny vgg11 (quick only)"}
        return model

    # ------------------------------------------------------------------------------ generators
    def generator(self, method: str):
        if method not in self.generators:
            self.generators[method] = self._generator(method)
        return self.generators[method]

    def _generator(self, method: str):
        from keras_restore import io, models, runtime, training
        from keras_restore.models.attention_unet import attention_unet_generator

        name, recipe_name, mode = METHODS[method]
        if self.scale == "default":
            entry = models.shipped().get(name)
            if entry is None:
                raise FileNotFoundError(
                    f"generator {name!r} is not shipped in saved_models/; train it with `python reproduce/"
                    f"{self.script}.py --retrain --data-dir ../shared/data --ship` (after the targets: "
                    f"{RETRAIN_TARGETS})")
            self.records["generators"][method] = {"source": f"saved_models/{name}.keras",
                                                  "training": entry.get("training", {})}
            return models.load_model(name)
        s = self.settings
        recipe = dataclasses.replace(training.get_recipe(recipe_name), per_cell=s["per_cell"],
                                     post_epochs=s["post_epochs"])
        cfg = training.TrainConfig(epochs=s["epochs"], batch_size=recipe.batch_size, learning_rate=LEARNING_RATE,
                                   seed=self.args.seed, precision=self.precision)
        kwargs = {"input_shape": (32, 32, 3), "mode": mode, "name": name}
        if "generator_filters" in s:
            kwargs["base_filters"] = s["generator_filters"]
        if "generator_depth" in s:
            kwargs["depth"] = s["generator_depth"]
        build = (lambda: models.get_spec(name).build(**kwargs)) if self.scale == "retrain" else \
            (lambda: attention_unet_generator(**kwargs))
        attacked = [self.target(n) for n in ATTACKED]
        x, y = self.train_images(s["n_train"])
        key = io.key(name, len(x), self.source, recipe.fingerprint(), cfg.as_dict(), kwargs,
                     [io.fingerprint(m) for m in attacked])

        # Stage 1 is shared by the methods whose stage 1 is the same (image and image-2: same recipe
        # fields but post_weights, same generator, data, config, frozen models): trained once.
        stage1 = self.cache.root / "stage1" / io.key(
            recipe.stage1_fingerprint(), len(x), self.source, cfg.as_dict(),
            {k: v for k, v in kwargs.items() if k != "name"},
            [io.fingerprint(m) for m in attacked + [self.target(CLASSIFIER)]])

        def make(ckpt):
            runtime.seed_everything(self.args.seed)
            model = training.build_model(build, cfg)
            self.log(f"[{name}] training: {', '.join(recipe.stages())}; {len(x)} images, batch {cfg.batch_size}")
            record = recipe.train(model, training.TrainData(x_clean=x, labels=y), cfg, checkpoint_dir=ckpt,
                                  verbose=0 if self.args.quiet else 2, classifier=self.target(CLASSIFIER),
                                  attacked=attacked, stage1_dir=stage1)
            return training.float32_copy(model, build), {**record, "precision": self.precision,
                                                         "generator": kwargs, "n_train": len(x)}

        model, record, hit = self.cache.cached("models", f"{name}-{key}", make)
        self.records["generators"][method] = {"source": "cached" if hit else f"trained ({self.scale})",
                                              "params": model.count_params(), "training": record}
        if self.args.ship and self.scale == "retrain":
            from keras_restore.pipeline.ship import ship_model

            shipped = (models.shipped().get(name) or {}).get("training", {})
            if hit and shipped.get("seconds") == record.get("seconds") and \
                    (shipped.get("recipe") or {}).get("fingerprint") == (record.get("recipe") or {}).get("fingerprint"):
                # the cached model is the shipped one (same training run): not written again (a rewritten
                # .keras differs in bytes and would add a copy to the repository's history)
                self.log(f"[ship] {name}: the shipped file is this training run's; left as it is")
            else:
                ship_model(name, model, record, {}, scale=self.scale, seed=self.args.seed, source=self.source,
                           log=self.log)
        return model

    # ------------------------------------------------------------------------------ evaluation
    def fgsm(self, model, eps255: float):
        """FGSM at ``eps255``/255 made on ``model`` from the test images (made once per run, then reused)."""
        from keras_restore import attacks

        if eps255 == 0:
            return self.x_test
        key = (id(model), eps255)
        if key not in self._fgsm:   # the model is kept with its examples, so its id is never reused
            self._fgsm[key] = (model, attacks.generate("fgsm", model, self.x_test, self.y_test, dataset=DATASET,
                                                       progress=False, eps=eps255 / 255.0))
        return self._fgsm[key][1]

    def accuracy(self, classifier, x, generator=None, n=None):
        """Accuracy % of ``classifier`` on ``x`` (after ``generator``), the first ``n`` images (default all)."""
        from keras_restore.metrics import accuracy, predict

        n = len(x) if n is None else n
        x = x[:n]
        if generator is not None:
            x = predict(generator, x, 128)
        return round(accuracy(classifier, x, self.y_test[:n], 256), 2)

    def adaptive_row(self, labels: dict, classifier, generator, eps255: float, paper_oblivious: float | None,
                     paper_source: str, paper_clean: float | None = None) -> dict:
        """One row of an ``_adaptive.csv``: :meth:`adaptive` beside the oblivious FGSM accuracy on the
        same images, each next to the paper's value where it prints one (:func:`adaptive_cells`)."""
        res = self.adaptive(classifier, generator, eps255)
        oblivious = self.accuracy(classifier, self.fgsm(classifier, eps255), generator, n=res["n"])
        return adaptive_cells(labels, oblivious, res, paper_oblivious, paper_source, paper_clean)

    def adaptive(self, classifier, generator, eps255: float) -> dict:
        """The defense end to end (generator -> classifier) under APGD-CE then APGD-T (1 target class)."""
        from keras_restore.defenses import build_defense
        from keras_restore.evaluation import adaptive

        n = min(self.settings["n_adaptive"], len(self.x_test))
        defense = build_defense("bana_recovery", classifier, dataset=DATASET, restorer=generator)
        res = adaptive(defense, self.x_test[:n], self.y_test[:n], eps=eps255 / 255.0,
                       n_iter=self.settings["adaptive_iter"], n_target_classes=1, seed=self.args.seed,
                       dataset=DATASET, batch_size=50)
        return {"n": n, "eps": eps255, "n_iter": self.settings["adaptive_iter"], "n_target_classes": 1,
                "clean_accuracy": round(res.clean_accuracy, 2), "adaptive_accuracy": round(res.accuracy, 2)}

    # --------------------------------------------------------------------------------- outputs
    def write(self, name: str, rows: list, extra: dict, adaptive_rows: list | None = None) -> dict:
        from keras_restore import io

        self.out.mkdir(parents=True, exist_ok=True)
        io.write_csv(self.out / f"{name}.csv", rows)
        if adaptive_rows is not None:
            io.write_csv(self.out / f"{name}_adaptive.csv", adaptive_rows)
        meta = {"table": name, "paper": "Bana et al. 2021, Robust Recovery of Adversarial Examples (papers/003)",
                "scale": self.scale, "settings": self.settings, "seed": self.args.seed, "data": self.source,
                "n_eval": len(self.x_test), "test_protocol": "FGSM (the package's, L-inf, true labels) on the first "
                "n_eval CIFAR-10 test images, eps on the 0-255 scale (eps/255 on [0, 1] images)",
                "precision": self.precision, "models": self.records, **extra, "versions": io.versions()}
        io.write_json(self.out / f"{name}.meta.json", meta)
        self.log(f"[out] {self.out / f'{name}.csv'}")
        return meta


def cell(ours: float, paper: float | None) -> dict:
    return {"ours": ours, "paper": paper, "difference": None if paper is None else round(ours - paper, 2)}


def put(row: dict, column: str, ours: float, paper: float | None):
    """``column``, ``column_paper`` and ``column_delta`` of ``row`` (:func:`cell`; the package's CSV convention,
    which the results site shows as one cell ours / paper / difference)."""
    c = cell(ours, paper)
    row[column], row[f"{column}_paper"], row[f"{column}_delta"] = c["ours"], c["paper"], c["difference"]


ADAPTIVE_PAPER_NOTE = "papers/003 reports no attack through the generator (its tables attack the classifier alone)"


def adaptive_cells(labels: dict, oblivious: float, res: dict, paper_oblivious: float | None, paper_source: str,
                   paper_clean: float | None = None) -> dict:
    """``labels``, then the oblivious FGSM, adaptive and clean accuracy through the generator (``res``:
    :meth:`Context.adaptive`), each with ``_paper`` / ``_delta`` (:func:`put`) and where the paper's
    value comes from, then the attack's settings."""
    row = dict(labels)
    put(row, "FGSM_oblivious_acc", oblivious, paper_oblivious)
    row["FGSM_oblivious_acc_paper_source"] = paper_source
    put(row, "adaptive_accuracy", res["adaptive_accuracy"], None)
    row["adaptive_accuracy_paper_note"] = ADAPTIVE_PAPER_NOTE
    put(row, "clean_accuracy", res["clean_accuracy"], paper_clean)
    row.update({k: v for k, v in res.items() if k not in ("adaptive_accuracy", "clean_accuracy")})
    return row


def exposed_recovered_rows(ctx: Context, eps_values, columns: dict, generator, paper: dict) -> list[dict]:
    """Tables 2 and 3: per eps, per column key -> (attacked model, classifier), the classifier's
    accuracy on FGSM made on the attacked model ("Exposed <key>") and after ``generator``
    ("Recovered <key>"), each beside ``paper[key][eps]`` = (exposed, recovered)."""
    rows = []
    for eps in eps_values:
        row = {"epsilon": eps}
        for key, (source, classifier) in columns.items():
            x_adv = ctx.fgsm(source, eps)
            put(row, f"Exposed {key}", ctx.accuracy(classifier, x_adv), paper[key][eps][0])
            put(row, f"Recovered {key}", ctx.accuracy(classifier, x_adv, generator), paper[key][eps][1])
        rows.append(row)
        ctx.log_row(row)
    return rows


def loss_curves_figure(records: dict, path):
    """Stage-1 / stage-2 training curves (generator loss and validation MSE per epoch) of each trained generator."""
    from keras_restore import io
    from keras_restore.pipeline.figures import _plt

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for method, rec in records.items():
        stages = (rec.get("training") or {}).get("stages") or []
        for i, st in enumerate(stages[:2]):
            hist = st.get("history", {})
            for key, style in (("g_loss", "-"), ("val_loss", ":")):
                if hist.get(key):
                    axes[i].plot(range(1, len(hist[key]) + 1), hist[key], style, marker="o",
                                 label=f"{METHOD_LABEL[method]} {key}")
    for i, title in enumerate(("stage 1: L1 x 100 + adversarial + CE", "stage 2: post-training (feature matching)")):
        axes[i].set_title(title, fontsize=9)
        axes[i].set_xlabel("epoch")
        axes[i].set_yscale("log")
        axes[i].legend(fontsize=6)
    io.save_figure(fig, path)
    plt.close(fig)

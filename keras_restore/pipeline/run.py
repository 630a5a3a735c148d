"""The five phases of Ali et al. (2021), Section 3 / Fig. 1, for any :class:`TableSpec`.

I.   Targets: train (or load the shipped) target classifiers; test accuracy.
II.  Attacks: adversarial test sets from the first ``n_eval`` test images each target classifies
     correctly (or, for ``TableSpec.eval_images == "first"``, the first ``n_eval`` test images),
     one per attack (default parameters from :mod:`keras_restore.attacks.config`).
III. No defense: each target's accuracy on its adversarial sets.
IV.  Restorer: trained to map adversarial -> clean on pairs made from the *training* split:
     ``n_pairs`` training images, each attacked once by one of the (target x attack)
     combinations (round robin), mixed; MSE loss (CRU-Net Eq. 9-10).
V.   Restore the adversarial test sets, classify again: restored accuracy, success rate
     (Eq. 6-8), SSIM and PSNR of restored vs original images. Black-box tables
     (``TableSpec.row_restorers``) restore each row with its own restorer, trained on the pairs
     of other targets.

Everything expensive is cached under ``cache_dir`` and keyed by what determines it (model
weights fingerprint, attack and parameters, data source, image indices, seed), written atomically:
an interrupted run, re-run with the same arguments, resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from keras_restore import __version__, data, runtime
from keras_restore.pipeline import io
from keras_restore.pipeline.scales import Scale
from keras_restore.pipeline.tables import ATTACK_OF_COLUMN, TableSpec


PAIR_RECIPE = ("each of n_pairs training images (seeded order) attacked once by one (target, attack) "
               "combination, round robin, then mixed")


def fingerprint(model) -> str:
    """sha256 (12 hex digits) of a model's weights: identifies trained models in cache keys."""
    h = hashlib.sha256()
    for w in model.weights:
        h.update(np.ascontiguousarray(np.asarray(w)).tobytes())
    return h.hexdigest()[:12]


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def save_model_atomic(model, path) -> Path:
    """Save ``model`` as ``.keras`` atomically, without optimizer state (a compiled model's file
    would also hold Adam's two moment slots: 3x the size for no use at inference)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    if getattr(model, "optimizer", None) is not None:
        fresh = model.__class__.from_config(model.get_config())
        fresh.set_weights(model.get_weights())
        model = fresh
    model.save(tmp)
    os.replace(tmp, path)
    return path


class Run:
    """State of one table run (see :func:`run_table`)."""

    def __init__(self, spec: TableSpec, scale: Scale, *, data_dir, cache_dir, seed, columns, progress, log):
        from keras_restore import models

        self.spec, self.scale, self.seed = spec, scale, int(seed)
        self.data_dir, self.cache = data_dir, Path(cache_dir)
        self.columns = list(columns or spec.columns)
        unknown = [c for c in self.columns if c not in spec.columns]
        if unknown:
            raise ValueError(f"Unknown attack column(s) {unknown}; expected some of: {', '.join(spec.columns)}.")
        self.progress, self.log = progress, log
        self.shipped = models.shipped() if scale.pretrained else {}
        self.meta: dict = {"timings": {}}
        self.source = data.source_label(spec.dataset, data_dir)

    # ---------------------------------------------------------------- Phase I
    def target(self, label: str, name: str, x_train, y_train, x_test, y_test):
        from keras_restore import models, training
        from keras_restore.defense import accuracy

        if name in self.shipped:
            model = models.load_model(name)
            record = {"source": f"saved_models/{name}.keras", **self.shipped[name]}
            self.log(f"[I] {label}: loaded shipped {name}.keras")
        else:
            if self.scale.pretrained:
                self.log(f"[I] {label}: {name} is not shipped in saved_models/; training it here")
            if name not in self.scale.target_epochs:
                raise ValueError(f"Scale {self.scale.name!r} has no epochs for target {name!r} "
                                 f"(it knows {', '.join(sorted(self.scale.target_epochs))}).")
            epochs = self.scale.target_epochs[name]
            limit = self.scale.target_train_limit
            lr = self.scale.target_lr.get(name)
            key = _key(name, epochs, limit, self.seed, self.source, *([lr] if lr else []))
            path = self.cache / "models" / f"{name}-{key}.keras"
            cfg = training.TrainConfig(epochs=epochs, seed=self.seed, learning_rate=lr or 1e-3)
            record_path = path.with_suffix(".json")
            if path.exists() and record_path.exists():
                model = models.load_keras_file(path)
                record = json.loads(record_path.read_text())
                self.log(f"[I] {label}: cached {path.name}")
            else:
                self.log(f"[I] {label}: training {name} for {epochs} epoch(s) on "
                         f"{limit or len(x_train)} images")
                runtime.seed_everything(self.seed)
                model = models.build(name)
                xt, yt = (x_train[:limit], y_train[:limit]) if limit else (x_train, y_train)
                record = training.train_classifier(model, xt, yt, cfg, checkpoint_dir=self.cache / "ckpt" / f"{name}-{key}",
                                                   verbose=2 if self.progress else 0)
                record["source"] = f"trained ({self.scale.name} scale)"
                save_model_atomic(model, path)
                io.write_json(record_path, record)
            record["cache_file"] = str(path)
        record["test_accuracy"] = accuracy(model, x_test, y_test, 256)
        stated = self.spec.paper_accuracy.get(label)
        self.log(f"[I] {label}: test accuracy {record['test_accuracy']:.2f}% "
                 f"({'paper ' + str(stated) + '%' if stated is not None else 'the paper states none'})")
        return model, record

    # ---------------------------------------------------------------- Phase II
    def attack(self, model, attack: str, x, y, tag: str):
        from keras_restore import attacks

        params = {**attacks.default_params(attack, self.spec.dataset),
                  **self.scale.attack_overrides.get(attack, {})}
        seed = int(_key(self.seed, tag, attack), 16) % (2**31)
        key = _key(fingerprint(model), attack, params, self.source, tag, len(x),
                   hashlib.sha256(x.tobytes()).hexdigest(), seed)
        path = self.cache / "attacks" / f"{tag.replace('/', '_')}-{attack}-{key}.npz"
        cached = io.load_npz(path)
        start = time.time()
        if cached is not None and cached["x_adv"].shape == x.shape:
            x_adv, was_cached = cached["x_adv"], True
        else:
            x_adv = attacks.generate(attack, model, x, y, dataset=self.spec.dataset,
                                     progress=self.progress, seed=seed, **self.scale.attack_overrides.get(attack, {}))
            io.save_npz(path, x_adv=x_adv)
            was_cached = False
        return x_adv, {"params": params, "seed": seed, "cached": was_cached,
                       "seconds": round(time.time() - start, 1), "source": attacks.default_source(attack, self.spec.dataset)}

    # ---------------------------------------------------------------- Phase IV
    def pairs(self, targets: dict, x_train, y_train):
        """(adversarial, clean) training pairs: ``n_pairs`` training images, each attacked once
        by one (target, attack) combination (round robin over a seeded order), then mixed.
        Returns ``x_adv, x_clean, groups, info``: ``groups`` is each pair's attack column (for
        the restoration loss per attack)."""
        from keras_restore import training

        combos = [(label, col) for label in targets for col in self.spec.columns]
        order = np.random.default_rng(self.seed).permutation(len(x_train))[: self.scale.n_pairs]
        adv_parts, clean_parts, group_parts, pair_info = [], [], [], {}
        for i, (label, col) in enumerate(combos):
            idx = np.sort(order[i:: len(combos)])
            x_adv, info = self.attack(targets[label], ATTACK_OF_COLUMN[col], x_train[idx], y_train[idx],
                                      tag=f"{label}-train-pairs")
            adv_parts.append(x_adv)
            clean_parts.append(x_train[idx])
            group_parts.append(np.full(len(idx), col))
            pair_info[f"{label}/{col}"] = {"n": int(len(idx)), "seconds": info["seconds"], "cached": info["cached"]}
            took = "cached" if info["cached"] else f"{info['seconds']} s"
            self.log(f"[IV] pairs {label}/{col}: {len(idx)} ({took})")
        x_adv, x_clean, groups = training.shuffled_pairs(np.concatenate(adv_parts), np.concatenate(clean_parts),
                                                         self.seed, groups=np.concatenate(group_parts))
        return x_adv, x_clean, groups, pair_info

    def restorer_key(self, targets: dict, name: str | None = None) -> str:
        fps = {label: fingerprint(m) for label, m in targets.items()}
        return _key(name or self.spec.restorer, fps, self.scale.n_pairs, self.scale.restorer_epochs,
                    self.scale.restorer_batch, self.scale.restorer_lr, self.seed, self.source, self.scale.attack_overrides,
                    "keep-best-val", "clip-ste")   # training rules (training.train_restorer): part of what the model is

    def restorer(self, targets, x_train, y_train, restorer_file=None, name: str | None = None):
        """The restorer ``name`` (default: the table's): from ``restorer_file``, shipped, cached,
        or trained on pairs made on ``targets`` (a dict label -> model, or a callable returning
        one: transfer tables only build the restorer's own targets when it has to be trained)."""
        from keras_restore import models, training

        name = name or self.spec.restorer
        if restorer_file is not None:
            path = Path(restorer_file)
            model = models.load_keras_file(path, models.get_spec(name))
            sidecar = path.with_suffix(".json")
            record = json.loads(sidecar.read_text()) if sidecar.exists() else {}
            self.log(f"[IV] restorer from --restorer-file {path}")
            return model, {**record, "source": f"file {path.name}"}
        if name in self.shipped:
            self.log(f"[IV] loaded shipped {name}.keras")
            return models.load_model(name), {"source": f"saved_models/{name}.keras", **self.shipped[name]}
        if self.scale.pretrained:
            self.log(f"[IV] {name} is not shipped in saved_models/; training it here")
        if callable(targets):
            targets = targets()
        key = self.restorer_key(targets, name)
        path = self.cache / "models" / f"{name}-{key}.keras"
        record_path = path.with_suffix(".json")
        if path.exists() and record_path.exists():
            self.log(f"[IV] cached restorer {path.name}")
            return models.load_keras_file(path), json.loads(record_path.read_text())
        x_adv, x_clean, groups, pair_info = self.pairs(targets, x_train, y_train)
        cfg = training.TrainConfig(epochs=self.scale.restorer_epochs, batch_size=self.scale.restorer_batch,
                                   learning_rate=self.scale.restorer_lr, seed=self.seed)
        self.log(f"[IV] training {name} on {len(x_adv)} pairs for {cfg.epochs} epoch(s)")
        runtime.seed_everything(self.seed)
        model = models.build(name)
        record = training.train_restorer(model, x_adv, x_clean, cfg, checkpoint_dir=self.cache / "ckpt" / f"{name}-{key}",
                                         verbose=2 if self.progress else 0, groups=groups)
        record.update(source=f"trained ({self.scale.name} scale)", pairs=pair_info, pair_recipe=PAIR_RECIPE)
        save_model_atomic(model, path)
        io.write_json(record_path, record)
        return model, record

    # ---------------------------------------------------------------- shipping
    def ship_model(self, name: str, model, record: dict, metrics: dict):
        from keras_restore import models

        directory = models.models_dir()
        spec = models.get_spec(name)
        if spec.not_shipped:
            self.log(f"[ship] {name} not shipped: {spec.not_shipped}")
            return None
        dest = save_model_atomic(model, directory / f"{name}.keras")
        manifest = models.read_manifest(directory)
        manifest[name] = {
            "sha256": models.sha256(dest), "bytes": dest.stat().st_size,
            "builder": spec.builder.__name__, "kwargs": spec.kwargs, "paper": spec.paper, "table": spec.table,
            "scale": self.scale.name, "seed": self.seed, "data": self.source,
            "training": {k: v for k, v in record.items() if k not in ("history", "cache_file", "pairs")},
            "metrics": metrics, "keras": _versions()["keras"], "tensorflow": _versions()["tensorflow"],
            "package_version": __version__,
        }
        io.write_json(directory / "manifest.json", manifest)
        self.log(f"[ship] {dest} ({dest.stat().st_size / 1e6:.1f} MB)")


def _versions() -> dict:
    import keras
    import tensorflow as tf

    return {"keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "keras_restore": __version__}


def correctly_classified(model, x, y, n: int):
    """Indices of the first ``n`` images ``model`` classifies correctly."""
    from keras_restore.defense import predict

    pred = predict(model, x, 256).argmax(axis=1)
    idx = np.flatnonzero(pred == y)[:n]
    return idx


def eval_indices(spec: TableSpec, model, x, y, n: int) -> np.ndarray:
    """Indices of the test images attacked for one target: the first ``n`` it classifies
    correctly (``spec.eval_images == "correct"``) or simply the first ``n`` ("first")."""
    if spec.eval_images == "first":
        return np.arange(min(int(n), len(x)))
    return correctly_classified(model, x, y, n)


def attack_tag(spec: TableSpec, label: str) -> str:
    """Cache tag of a target's adversarial test sets. With ``eval_images == "first"`` the images
    do not depend on the table, so the tag is the target's registry name: a black-box table
    attacks exactly the images (and with the same seeds) as the white-box table of the same
    target, as papers/001 Tables 2 and 4 (equal "No defense" columns) do."""
    return f"{spec.targets[label]}-test-first" if spec.eval_images == "first" else f"{label}-test"


def _row_restorers(spec: TableSpec, run: Run, targets: dict, x_train, y_train, x_test, y_test,
                   restorer_file, log) -> tuple[dict, dict]:
    """Restorer and record per row. Each row's restorer is trained (if it has to be) on the pairs
    of its own targets: the table's targets (white-box tables), ``spec.restorer_targets``
    (transfer tables) or the row's ``RowRestorer.targets`` (``spec.row_restorers``). Models of
    this table are reused; others are trained/loaded as Phase I targets, only when needed."""
    loaded = {spec.targets[label]: model for label, model in targets.items()}
    restorers, records, done = {}, {}, {}
    for label in targets:
        if spec.row_restorers is not None:
            name, wanted = spec.row_restorers[label].restorer, spec.row_restorers[label].targets
            note = "only"
        else:
            name, wanted = spec.restorer, spec.restorer_targets or spec.targets
            note = "(not this table's targets)"
        if name not in done:
            if spec.row_restorers is not None:
                log(f"[IV] row {label}: restorer {name} (trained for {', '.join(wanted)})")
            def own_targets(name=name, wanted=wanted, note=note):
                if wanted is not spec.targets:
                    log(f"[IV] {name} is trained for {', '.join(wanted)} {note}")
                return {lab: loaded[reg] if reg in loaded else run.target(lab, reg, x_train, y_train, x_test, y_test)[0]
                        for lab, reg in wanted.items()}
            model, record = run.restorer(own_targets, x_train, y_train, restorer_file, name=name)
            if wanted is not spec.targets:
                record = {**record, "trained_for": dict(wanted)}
            done[name] = model, record
        restorers[label], records[label] = done[name]
    return restorers, records


def _loss_curves(spec: TableSpec, restorer_records: dict, out: Path, log):
    """``<table>_loss.png`` / ``_loss.csv``: the restoration loss per attack of the table's
    restorers (papers/001 Figs. 3-5), from their training records, for every column of ``spec``
    (a restorer trains on all of them, whatever columns a run evaluates). Restorers trained before this
    was recorded (or supplied as files without it) are named in the log and left out."""
    from keras_restore.pipeline import figures

    curves, missing = {}, []
    for label, record in restorer_records.items():
        name = spec.restorer_of(label)
        if name in curves or name in missing:
            continue
        # A shipped restorer's record is its manifest entry: the training record is under "training".
        trained = record if "loss_per_attack" in record else record.get("training", {})
        if isinstance(trained.get("loss_per_attack"), dict):
            curves[name] = {**trained, "trained_for": record.get("trained_for", trained.get("trained_for", {}))}
        else:
            missing.append(name)
    if missing:
        log(f"[V] no per-attack loss history for {', '.join(missing)} (trained before it was recorded, or "
            "given as a file): retrain to get its loss curves")
    if curves:
        io.write_csv(out / f"{spec.name}_loss.csv", figures.loss_rows(curves))
        figures.loss_curves_figure(curves, out / f"{spec.name}_loss.png", spec, spec.columns)


def run_table(spec: TableSpec, scale: Scale, *, data_dir=None, out_dir="reproduce/results",
              cache_dir="reproduce/cache", seed: int = 0, columns=None, ship: bool = False,
              restorer_file=None, progress: bool = True, log=print) -> dict:
    """Run all five phases for ``spec`` at ``scale``; write CSVs, metadata and figures.

    Returns a dict with ``rows`` (wide table), ``long`` (per target x attack) and ``meta``.
    """
    from keras_restore.defense import RestorerDefense, accuracy, psnr_paper_255
    from keras_restore.pipeline import figures, report

    t0 = time.time()
    runtime.configure()
    runtime.seed_everything(seed)
    run = Run(spec, scale, data_dir=data_dir, cache_dir=cache_dir, seed=seed, columns=columns,
              progress=progress, log=log)
    if spec.row_restorers is not None and restorer_file is not None:
        raise ValueError(f"--restorer-file gives one restorer, but {spec.name} needs one per row "
                         f"({', '.join(r.restorer for r in spec.row_restorers.values())}); ship them or let "
                         f"the table train them.")
    log(f"== {spec.title} | scale: {scale.name} ({scale.note}) | data: {run.source} | seed {seed}")
    x_train, y_train = data.load_arrays(spec.dataset, "train", data_dir)
    x_test, y_test = data.load_arrays(spec.dataset, "test", data_dir)

    t = time.time()
    targets, target_records = {}, {}
    for label, name in spec.targets.items():
        targets[label], target_records[label] = run.target(label, name, x_train, y_train, x_test, y_test)
    run.meta["timings"]["phase1_targets_s"] = round(time.time() - t, 1)

    t = time.time()
    eval_sets, adv_sets, attack_info = {}, {}, {}
    for label, model in targets.items():
        idx = eval_indices(spec, model, x_test, y_test, scale.n_eval)
        eval_sets[label] = idx
        for col in run.columns:
            attack = ATTACK_OF_COLUMN[col]
            adv_sets[label, col], attack_info[label, col] = run.attack(
                model, attack, x_test[idx], y_test[idx], tag=attack_tag(spec, label))
            log(f"[II] {label}/{col}: {len(idx)} images "
                f"({'cached' if attack_info[label, col]['cached'] else str(attack_info[label, col]['seconds']) + ' s'})")
    run.meta["timings"]["phase2_attacks_s"] = round(time.time() - t, 1)

    t = time.time()
    restorers, restorer_records = _row_restorers(spec, run, targets, x_train, y_train, x_test, y_test,
                                                 restorer_file, log)
    run.meta["timings"]["phase4_restorer_s"] = round(time.time() - t, 1)

    t = time.time()
    long_rows, examples = [], {}
    clean_restored = {}
    from keras_restore.fast import fast_inference

    fast_restorers = {}   # one inference clone per restorer, shared by the targets it restores
    for label, model in targets.items():
        idx = eval_sets[label]
        restorer = restorers[label]
        if id(restorer) not in fast_restorers:
            fast_restorers[id(restorer)] = fast_inference(restorer)
        defense = RestorerDefense(restorer, model, fast=fast_restorers[id(restorer)])
        x_clean, y = x_test[idx], y_test[idx]
        clean_restored[label] = accuracy(model, defense.restore(x_clean), y, 256)
        for col in run.columns:
            ts = time.time()
            metrics, restored = defense.evaluate(x_clean, adv_sets[label, col], y)
            info = attack_info[label, col]
            paper = spec.paper.get(label, {}).get(col)
            long_rows.append({
                "table": spec.name, "target": label, "target_model": spec.targets[label], "attack": col,
                "attack_fn": ATTACK_OF_COLUMN[col], **{k: metrics[k] for k in (
                    "n_images", "original_accuracy", "adversarial_accuracy", "restored_accuracy", "success_rate")},
                "success_rate_paper": paper,
                "success_rate_delta": None if paper is None else metrics["success_rate"] - paper,
                "clean_through_restorer_accuracy": clean_restored[label],
                **{k: metrics[k] for k in ("ssim_restored", "psnr_restored", "ssim_adversarial",
                                           "psnr_adversarial", "linf_adversarial", "l2_adversarial")},
                "attack_params": info["params"], "attack_seed": info["seed"], "attack_cached": info["cached"],
                "attack_seconds": info["seconds"], "restore_eval_seconds": round(time.time() - ts, 1),
                "restorer": spec.restorer_of(label), "scale": scale.name, "seed": seed, "data_source": run.source,
                "package_version": __version__,
            })
            if spec.report == "accuracy":   # papers/001 Tables 2-7 (Tables 4-7 of 000 keep their columns)
                long_rows[-1].update(report.accuracy_paper_columns(spec, label, col, metrics))
                long_rows[-1].update(
                    psnr_paper255_restored=psnr_paper_255(x_clean, restored),
                    restorer_trained_for=restorer_records[label].get("trained_for", dict(spec.targets)),
                    eval_images=spec.eval_images)
            examples[label, col] = (x_clean[:3], adv_sets[label, col][:3], restored[:3])
            if spec.report == "accuracy":
                log(f"[V] {label}/{col}: no attack {metrics['original_accuracy']:.2f}% | no defense "
                    f"{metrics['adversarial_accuracy']:.2f}% | restored {metrics['restored_accuracy']:.2f}% (paper "
                    f"{long_rows[-1]['no_attack_pct_paper']} / {long_rows[-1]['no_defense_pct_paper']} / "
                    f"{long_rows[-1]['crunet_defense_pct_paper']})")
            else:
                log(f"[V] {label}/{col}: adversarial {metrics['adversarial_accuracy']:.2f}% -> restored "
                    f"{metrics['restored_accuracy']:.2f}% | success {metrics['success_rate']:.2f}% (paper {paper})")
    run.meta["timings"]["phase5_evaluate_s"] = round(time.time() - t, 1)

    wall = round(time.time() - t0, 1)
    for row in long_rows:
        row["run_wall_seconds"] = wall
    wide = report.wide_rows(spec, long_rows, run.columns, target_records)
    if spec.eval_images == "first":
        run.meta["eval_selection"] = "the first n_eval test images (indices 0..n_eval-1), whatever the target predicts"
    if spec.report == "accuracy":
        run.meta["similarity"] = report.similarity_of(long_rows)
    run.meta.update({
        "table": spec.name, "title": spec.title, "paper": spec.source, "scale": scale.as_dict(), "seed": seed,
        "data_source": run.source, "columns": run.columns,
        "targets": target_records,
        "restorer": ({"name": spec.restorer, **restorer_records[next(iter(targets))]} if spec.row_restorers is None
                     else {"name": "one per row", "rows": {label: {"name": spec.restorer_of(label), **rec}
                                                           for label, rec in restorer_records.items()}}),
        "attacks": {f"{label}/{col}": v for (label, col), v in attack_info.items()},
        "eval_images": {label: int(len(idx)) for label, idx in eval_sets.items()},
        "clean_through_restorer_accuracy": clean_restored,
        "metric_definitions": report.metric_definitions(spec),
        "versions": _versions(), "machine": {"cpu": report.cpu_name(), "cores": os.cpu_count()},
        "wall_seconds": wall,
    })
    out = Path(out_dir)
    io.write_csv(out / f"{spec.name}.csv", wide)
    io.write_csv(out / f"{spec.name}_long.csv", long_rows)
    io.write_json(out / f"{spec.name}.meta.json", run.meta)
    figures.examples_figure(examples, out / f"{spec.name}_examples.png", spec)
    if spec.report == "accuracy":
        figures.accuracy_chart(long_rows, out / f"{spec.name}_bars.png", spec)
    else:
        figures.bar_chart(long_rows, out / f"{spec.name}_bars.png", spec)
    _loss_curves(spec, restorer_records, out, log)
    log(f"== wrote {out / spec.name}.csv (+ _long.csv, .meta.json, figures) in {wall:.0f} s")
    if ship:
        for label, name in spec.targets.items():
            if not target_records[label]["source"].startswith("saved_models"):
                run.ship_model(name, targets[label], target_records[label],
                               {"test_accuracy": target_records[label]["test_accuracy"]})
        shipped_restorers = set()
        for label in targets:
            name, record = spec.restorer_of(label), restorer_records[label]
            # A transfer table does not own its restorer: the table it was trained for ships it.
            if (name in shipped_restorers or spec.restorer_targets is not None
                    or record["source"].startswith("saved_models")):
                continue
            shipped_restorers.add(name)
            rows = [lab for lab in targets if spec.restorer_of(lab) == name]
            run.ship_model(name, restorers[label], record,
                           {"clean_through_restorer_accuracy": {lab: clean_restored[lab] for lab in rows}})
    return {"rows": wide, "long": long_rows, "meta": run.meta}

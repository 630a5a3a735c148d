"""A table run, end to end: :func:`run_table` (phases in :mod:`.phases`, caching in :mod:`.cache`,
reporting in :mod:`.report`, shipping in :mod:`.ship`).

Order: targets (I) -> each row's defense (IV; its restorer trained via the defense's recipe) ->
attacks on the targets (II) -> no defense (III) and through the defense (V) -> the reporter's CSV,
long CSV, ``.meta.json`` and figures -> optionally ship. Everything expensive is cached under
``cache_dir`` and keyed by what determines it, written atomically: an interrupted run, re-run with
the same arguments, resumes where it stopped.
"""

from __future__ import annotations

import time
from pathlib import Path

from keras_restore import __version__, io, runtime
from keras_restore.pipeline.phases import Run, attack_tag, eval_indices, replaces_classifier
from keras_restore.pipeline.scales import Scale
from keras_restore.pipeline.tables import ATTACK_OF_COLUMN, TableSpec


def _loss_curves(spec: TableSpec, restorer_records: dict, out: Path, log):
    """``<table>_loss.png`` / ``_loss.csv``: the restoration loss per attack of the table's
    restorers (papers/001 Figs. 3-5), from their training records, for every column of ``spec``
    (a restorer trains on all of them, whatever columns a run evaluates). Restorers trained before this
    was recorded (or supplied as files without it) are named in the log and left out."""
    from keras_restore.pipeline import figures, report

    curves, missing = {}, []
    for label, record in restorer_records.items():
        name = spec.restorer_of(label)
        if name is None or name in curves or name in missing or replaces_classifier(spec, label):   # a classifier: no such loss
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
        io.write_csv(out / f"{spec.name}_loss.csv", figures.loss_rows(curves, figures.loss_paper_note(spec.source)))
        figures.loss_curves_figure(curves, out / f"{spec.name}_loss.png", spec, spec.columns,
                                   like_papers001=report.reporter(spec).loss_figures_like_papers001)


def _restorer_meta(spec: TableSpec, records: dict) -> dict:
    names = {spec.restorer_of(label) for label in spec.rows}
    first = next(iter(spec.rows))
    if len(names) == 1:
        return {"name": spec.restorer_of(first), **records.get(first, {})}
    return {"name": "one per row", "rows": {label: {"name": spec.restorer_of(label), **records.get(label, {})}
                                            for label in spec.rows}}


def run_table(spec: TableSpec, scale: Scale, *, data_dir=None, out_dir="reproduce/results",
              cache_dir="reproduce/cache", seed: int = 0, columns=None, ship: bool = False,
              restorer_file=None, progress: bool = True, log=print, precision: str = "float32",
              rows=None) -> dict:
    """Run every phase for ``spec`` at ``scale``; write CSVs, metadata and figures.

    ``rows``: run only these row labels (:func:`~keras_restore.pipeline.tables.select_rows`: the same
    models, cache keys and images as the whole table; outputs under their own stem). Not with ``ship``:
    shipping is for a whole table's run.

    ``precision``: the Keras dtype policy models are *trained* in (``"auto"``:
    :func:`keras_restore.runtime.training_precision`); attacks and evaluation run in float32.

    Returns a dict with ``rows`` (wide table), ``long`` (per target x attack) and ``meta``.
    """
    from keras_restore.fast import fast_inference
    from keras_restore.metrics import accuracy
    from keras_restore.pipeline import figures, report
    from keras_restore.pipeline.ship import ship_table

    if rows is not None:
        from keras_restore.pipeline.tables import select_rows

        spec = select_rows(spec, rows)
        if ship and spec.partial_of:
            raise ValueError(f"--ship ships the models of a whole table's run; run {spec.partial_of} without --rows "
                             f"({', '.join(rows)}) to ship.")
    t0 = time.time()
    runtime.configure()
    runtime.seed_everything(seed)
    run = Run(spec, scale, data_dir=data_dir, cache_dir=cache_dir, seed=seed, columns=columns,
              progress=progress, log=log, precision=runtime.training_precision(precision))
    reporter = report.reporter(spec)
    restorer_names = {spec.restorer_of(label) for label in spec.rows} - {None}
    if restorer_file is not None and len(restorer_names) != 1:
        raise ValueError(f"--restorer-file gives one restorer, but {spec.name} needs "
                         f"{len(restorer_names)} ({', '.join(sorted(restorer_names)) or 'none: a training-free defense'})"
                         f"; ship them or let the table train them.")
    log(f"== {spec.title} | scale: {scale.name} ({scale.note}) | data: {run.source} | seed {seed} | "
        f"training precision {run.precision}")
    run.load_data()

    t = time.time()
    targets, target_records = {}, {}
    for label, name in spec.targets.items():
        targets[label], target_records[label] = run.target(label, name)
    run.meta["timings"]["phase1_targets_s"] = round(time.time() - t, 1)

    t = time.time()
    restorers, restorer_records, defenses, fast, attacked = {}, {}, {}, {}, {}
    for label in spec.rows:
        restorer = None
        if spec.restorer_of(label) is not None:
            restorer, restorer_records[label] = run.restorer(label, restorer_file)
            # one inference clone per restorer, shared by its rows (an adversarially trained copy is none)
            if id(restorer) not in fast and not replaces_classifier(spec, label):
                fast[id(restorer)] = fast_inference(restorer)
        restorers[label] = restorer
        defenses[label] = run.defense(label, targets[label], restorer, fast=fast.get(id(restorer), True))
        attacked[label] = run.attacked_model(label, targets[label], defenses[label])
    run.meta["timings"]["phase4_restorer_s"] = round(time.time() - t, 1)

    t = time.time()
    eval_sets, adv_sets, attack_info = {}, {}, {}
    for label in targets:
        model = attacked[label]   # the bare target, or the defense itself (Row.attack_on == "defense")
        idx = eval_indices(spec, model, run.x_test, run.y_test, scale.n_eval)
        eval_sets[label] = idx
        for col in run.columns:
            adv_sets[label, col], info = run.attack(model, ATTACK_OF_COLUMN[col], run.x_test[idx], run.y_test[idx],
                                                    tag=attack_tag(spec, label))
            info = {**info, "made_on": spec.rows[label].attack_on}
            attack_info[label, col] = info
            log(f"[II] {label}/{col}: {len(idx)} images ({'cached' if info['cached'] else str(info['seconds']) + ' s'})")
    run.meta["timings"]["phase2_attacks_s"] = round(time.time() - t, 1)

    t = time.time()
    long_rows, examples, clean_restored = [], {}, {}
    for label, model in targets.items():
        idx, defense = eval_sets[label], defenses[label]
        x_clean, y = run.x_test[idx], run.y_test[idx]
        # the defense's classifier: the target, or the adversarially trained copy that replaces it
        clean_restored[label] = accuracy(defense.classifier, defense.restore(x_clean), y, 256)
        for col in run.columns:
            ts = time.time()
            metrics, restored = defense.evaluate(x_clean, adv_sets[label, col], y)
            info = attack_info[label, col]
            paper = spec.paper.get(label, {}).get(col)
            row = {
                "table": spec.name, "target": label, "target_model": spec.targets[label], "attack": col,
                "attack_fn": ATTACK_OF_COLUMN[col], **{k: metrics[k] for k in (
                    "n_images", "original_accuracy", "adversarial_accuracy", "restored_accuracy", "success_rate")},
                "success_rate_paper": paper,
                "success_rate_delta": None if paper is None else metrics["success_rate"] - paper,
                "clean_through_restorer_accuracy": clean_restored[label],
                **{k: metrics[k] for k in ("ssim_restored", "psnr_restored", "ssim_adversarial",
                                           "psnr_adversarial", "linf_adversarial", "l2_adversarial")},
                "attack_params": info["params"], "attack_seed": info["seed"], "attack_cached": info["cached"],
                "attack_made_on": info["made_on"],
                "attack_seconds": info["seconds"], "restore_eval_seconds": round(time.time() - ts, 1),
                "defense": spec.rows[label].defense, "restorer": spec.restorer_of(label), "scale": scale.name, "seed": seed, "data_source": run.source,
                "package_version": __version__,
            }
            row.update(reporter.row_columns(spec, label, col, metrics, x_clean, restored,
                                            restorer_records.get(label, {}).get("trained_for", dict(spec.targets))))
            long_rows.append(row)
            examples[label, col] = (x_clean[:3], adv_sets[label, col][:3], restored[:3])
            log(reporter.log_line(label, col, metrics, row))
    run.meta["timings"]["phase5_evaluate_s"] = round(time.time() - t, 1)

    t = time.time()
    adaptive_rows = []
    if scale.n_adaptive > 0:   # the papers' protocol beside an adaptive attack, same images
        for label, model in targets.items():
            idx = eval_sets[label][: scale.n_adaptive]
            x_pgd = adv_sets[label, "PGD"][: len(idx)] if (label, "PGD") in adv_sets else None
            adaptive_rows.append(run.adaptive(label, attacked[label], defenses[label], run.x_test[idx], run.y_test[idx],
                                              x_pgd))
    run.meta["timings"]["adaptive_s"] = round(time.time() - t, 1)

    wall = round(time.time() - t0, 1)
    for row in long_rows:
        row["run_wall_seconds"] = wall
    wide = reporter.wide(spec, long_rows, run.columns, target_records)
    report.add_adaptive(wide, adaptive_rows)
    if spec.eval_images == "first":
        run.meta["eval_selection"] = "the first n_eval test images (indices 0..n_eval-1), whatever the target predicts"
    run.meta.update(reporter.meta(long_rows))
    run.meta.update({
        "table": spec.name, "title": spec.title, "paper": spec.source, "scale": scale.as_dict(), "seed": seed,
        "precision": {"training": run.precision, "attacks_and_evaluation": "float32"},
        "data_source": run.source, "columns": run.columns,
        "targets": target_records,
        "restorer": _restorer_meta(spec, restorer_records),
        "defenses": {label: d.describe() for label, d in defenses.items()},
        "attacks": {f"{label}/{col}": v for (label, col), v in attack_info.items()},
        "eval_images": {label: int(len(idx)) for label, idx in eval_sets.items()},
        "adaptive": {"definition": report.ADAPTIVE_DEFINITION, "rows": adaptive_rows},
        "clean_through_restorer_accuracy": clean_restored,
        "metric_definitions": report.metric_definitions(spec),
        "versions": io.versions(), "machine": report.machine(),
        "wall_seconds": wall,
        **({"not_run": dict(spec.not_run)} if spec.not_run else {}),
        **({"partial_of": spec.partial_of, "rows": list(spec.rows)} if spec.partial_of else {}),
    })
    out = Path(out_dir)
    io.write_csv(out / f"{spec.name}.csv", wide)
    io.write_csv(out / f"{spec.name}_long.csv", long_rows)
    if adaptive_rows:
        io.write_csv(out / f"{spec.name}_adaptive.csv", adaptive_rows)
    io.write_json(out / f"{spec.name}.meta.json", run.meta)
    figures.examples_figure(examples, out / f"{spec.name}_examples.png", spec)
    reporter.figure(long_rows, out / f"{spec.name}_bars.png", spec)
    _loss_curves(spec, restorer_records, out, log)
    log(f"== wrote {out / spec.name}.csv (+ _long.csv, .meta.json, figures) in {wall:.0f} s")
    if ship:
        ship_table(run, target_records, restorers, restorer_records, clean_restored)
    return {"rows": wide, "long": long_rows, "meta": run.meta}

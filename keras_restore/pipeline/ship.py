"""Shipping: a table run with ``--ship`` writes its trained models to ``saved_models/`` and their
manifest entries (sha256, size, builder, paper, scale, seed, data, training record, metrics,
versions). Only models a table owns are shipped: targets it trained, and restorers trained on its
own targets (a transfer table restores with a restorer another table owns)."""

from __future__ import annotations

from keras_restore import __version__, io


def ship_model(name: str, model, record: dict, metrics: dict, *, scale: str, seed: int, source: str, log=print):
    """Write ``model`` as ``saved_models/<name>.keras`` (atomic) and its manifest entry; returns the path
    (None for a model whose spec says it is not shipped, e.g. too large)."""
    from keras_restore import models

    directory = models.models_dir()
    spec = models.get_spec(name)
    if spec.not_shipped:
        log(f"[ship] {name} not shipped: {spec.not_shipped}")
        return None
    dest = io.save_model_atomic(model, directory / f"{name}.keras")
    manifest = models.read_manifest(directory)
    versions = io.versions()
    manifest[name] = {
        "sha256": models.sha256(dest), "bytes": dest.stat().st_size,
        "builder": spec.builder.__name__, "kwargs": spec.kwargs, "paper": spec.paper, "table": spec.table,
        "scale": scale, "seed": seed, "data": source,
        "training": {k: v for k, v in record.items() if k not in ("history", "cache_file", "pairs")},
        "metrics": metrics, "keras": versions["keras"], "tensorflow": versions["tensorflow"],
        "package_version": __version__,
    }
    io.write_json(directory / "manifest.json", manifest)
    log(f"[ship] {dest} ({dest.stat().st_size / 1e6:.1f} MB)")
    return dest


def ship_table(run, target_records: dict, restorers: dict, restorer_records: dict, clean_restored: dict):
    """Ship what ``run``'s table trained itself (see the module docstring)."""
    spec = run.spec
    kw = dict(scale=run.scale.name, seed=run.seed, source=run.source, log=run.log)
    for label, name in spec.targets.items():
        if not target_records[label]["source"].startswith("saved_models"):
            ship_model(name, run.models[name][0], target_records[label],
                       {"test_accuracy": target_records[label]["test_accuracy"]}, **kw)
    done = set()
    for label in spec.rows:
        name, record = spec.restorer_of(label), restorer_records.get(label)
        if (name is None or name in done or not spec.owns_restorer(label)
                or record["source"].startswith("saved_models")):
            continue
        done.add(name)
        rows = [lab for lab in spec.rows if spec.restorer_of(lab) == name]
        ship_model(name, restorers[label], record,
                   {"clean_through_restorer_accuracy": {lab: clean_restored[lab] for lab in rows}}, **kw)

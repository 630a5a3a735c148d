"""Shipping: a table run with ``--ship`` writes its trained models to ``saved_models/`` and their
manifest entries (sha256, size, builder, paper, scale, seed, data, training record, metrics,
versions). Only models a table owns are shipped: targets it trained, and restorers trained on its
own targets (a transfer table restores with a restorer another table owns)."""

from __future__ import annotations

from keras_restore import __version__, io


# The limits of one shipped file and of saved_models/ (a clone carries every version ever committed);
# tests/models/test_registry.py checks the folder against them too.
MAX_FILE_BYTES = 30e6
MAX_FOLDER_BYTES = 400e6


def _quantized(name: str, model, mode: str, check_inputs, log):
    """``model`` with its Dense kernels in ``mode`` (models/quantize.py) and the record of it: the layers and
    the largest output difference from the float32 model on ``check_inputs`` (the run's test images)."""
    import numpy as np

    from keras_restore.models import quantize

    shipped = quantize.quantized_copy(model, mode)
    info = {"mode": mode, "layers": sorted(quantize.quantized_layers(shipped)), "by": "keras Layer.quantize",
            "float32_parameters": int(model.count_params()),
            "note": "the entry's metrics were measured on the float32 model before quantization; results "
                    "made from this file are the quantized model's"}
    if check_inputs is not None and len(check_inputs):
        diff = np.abs(np.asarray(shipped.predict(check_inputs, verbose=0), "float64")
                      - np.asarray(model.predict(check_inputs, verbose=0), "float64"))
        info.update(max_abs_output_diff=float(diff.max()), mean_abs_output_diff=float(diff.mean()),
                    checked_on=f"{len(check_inputs)} test images")
    log(f"[ship] {name}: Dense kernels in {mode} ({', '.join(info['layers'])})"
        + (f"; largest output difference {info['max_abs_output_diff']:.2e} on {info['checked_on']}"
           if "checked_on" in info else ""))
    return shipped, info


def ship_model(name: str, model, record: dict, metrics: dict, *, scale: str, seed: int, source: str, log=print,
               check_inputs=None):
    """Write ``model`` as ``saved_models/<name>.keras`` (atomic) and its manifest entry; returns the path, or None
    (said in ``log``) for a model that is not shipped: its spec says so (``not_shipped``), or its file would be
    30 MB or more, or would take ``saved_models/`` to 400 MB or more -- checked on the staged file, before anything
    in ``saved_models/`` is replaced. A spec with ``ship_quantized`` ships the model with its Dense kernels quantized
    (``models/quantize.py``), recorded in the entry's ``quantized`` with its output difference on ``check_inputs``."""
    import tempfile
    from pathlib import Path

    from keras_restore import models

    directory = models.models_dir()
    spec = models.get_spec(name)
    if spec.not_shipped:
        log(f"[ship] {name} not shipped: {spec.not_shipped}")
        return None
    directory.mkdir(parents=True, exist_ok=True)
    extra = {}
    if spec.ship_quantized:
        model, extra["quantized"] = _quantized(name, model, spec.ship_quantized, check_inputs, log)
    dest = directory / f"{name}.keras"
    with tempfile.TemporaryDirectory(dir=directory, prefix=".ship-") as tmp:
        staged = io.save_model_atomic(model, Path(tmp) / f"{name}.keras")
        size = staged.stat().st_size
        folder = size + sum(p.stat().st_size for p in directory.glob("*.keras") if p.name != dest.name)
        if size >= MAX_FILE_BYTES or folder >= MAX_FOLDER_BYTES:
            why = (f"its .keras file is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit of a shipped "
                   f"file" if size >= MAX_FILE_BYTES else
                   f"saved_models/ would hold {folder / 1e6:.1f} MB, over its {MAX_FOLDER_BYTES / 1e6:.0f} MB limit")
            log(f"[ship] {name} not shipped: {why}; saved_models/ is unchanged")
            return None
        staged.replace(dest)
    manifest = models.read_manifest(directory)
    versions = io.versions()
    manifest[name] = {
        "sha256": models.sha256(dest), "bytes": dest.stat().st_size,
        "builder": spec.builder.__name__, "kwargs": spec.kwargs, "paper": spec.paper, "table": spec.table,
        "scale": scale, "seed": seed, "data": source,
        "training": {k: v for k, v in record.items() if k not in ("history", "history_epochs", "cache_file", "pairs")},
        "metrics": metrics, "keras": versions["keras"], "tensorflow": versions["tensorflow"],
        "package_version": __version__, **extra,
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
                   {"clean_through_restorer_accuracy": {lab: clean_restored[lab] for lab in rows}},
                   check_inputs=None if run.x_test is None else run.x_test[:256], **kw)

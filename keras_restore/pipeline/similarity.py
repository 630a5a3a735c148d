"""Tables 6-7 of the CRU-Net paper (papers/001, Sec. 5.4): SSIM and PSNR between original and
restored examples per attack, for A-Net / B-Net (MNIST) and D-Net / M-Net (CIFAR-10).

They are read off the white-box runs (Tables 2 and 3, :data:`tables.SIMILARITY_TABLES`): from
their ``.meta.json`` in ``out_dir`` when it was written at the same scale, seed, data source and
attacks (full precision, the CSVs round), otherwise by running the white-box table, which
resumes from ``cache_dir`` (trained models, adversarial sets) and trains only what is missing.

PSNR is reported three ways (see :data:`report.SIMILARITY_METRICS`): the paper's Eq. 16 exactly
on 8-bit 0-255 images (``PSNR_paper255_dB``), ``tf.image.psnr`` on [0, 1] images
(``PSNR_tf_unit_dB``; the two differ only by the 8-bit rounding, the 255 cancels), and
``PSNR_255sq_over_unit_mse_dB`` = ``(L-1)^2`` over the MSE of [0, 1] images, a reading of Eq. 16
that would explain the paper's 80-105 dB (a hypothesis, labelled as such).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from keras_restore import data
from keras_restore.pipeline import io, report
from keras_restore.pipeline.run import run_table
from keras_restore.pipeline.scales import get_scale
from keras_restore.pipeline.tables import GAN_DENOISER_DATASETS, PRETTY, SIMILARITY_TABLES, get_table
from keras_restore.validation import check_choice

NAME = "crunet_table6_7_similarity"
TITLE = "CRU-Net Tables 6-7: SSIM and PSNR between original and restored examples (MNIST, CIFAR-10)"


def _reusable(path: Path, scale, seed: int, columns, source: str) -> dict | None:
    """The white-box run's metadata at ``path`` if it matches this request, else None."""
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    same_scale = meta.get("scale") == json.loads(json.dumps(scale.as_dict(), default=str))
    if (same_scale and meta.get("seed") == seed and meta.get("data_source") == source
            and "similarity" in meta and set(columns) <= set(meta.get("columns", ()))):
        return meta
    return None


def meta_or_run(spec, scale, cols, source, *, out: Path, tag: str, log, **run_kwargs) -> tuple[dict, str]:
    """``spec``'s run metadata: from ``out/<name>.meta.json`` when written at this scale, seed, data
    and attacks (:func:`_reusable`), else from running the table (resuming from its cache).
    Returns ``(meta, how)``."""
    meta = _reusable(out / f"{spec.name}.meta.json", scale, run_kwargs["seed"], cols, source)
    if meta is not None:
        log(f"[{tag}] from {out / spec.name}.meta.json ({scale.name} scale)")
        return meta, f"results {out / spec.name}.meta.json"
    log(f"[{tag}] running {spec.name} ({scale.name} scale; resumes from {run_kwargs['cache_dir']})")
    meta = run_table(spec, scale, out_dir=out, columns=cols, log=log, **run_kwargs)["meta"]
    return meta, f"run of {spec.name}"


def similarity_table(scale, *, datasets=("mnist", "cifar10"), data_dir=None,
                     out_dir="reproduce/results", cache_dir="reproduce/cache", seed: int = 0, columns=None,
                     ship: bool = False, restorer_file=None, progress: bool = True, log=print) -> dict:
    """Write ``crunet_table6_7_similarity.csv`` (+ ``.meta.json``) for ``datasets``; returns
    ``{"rows": ..., "meta": ...}``. ``scale``: a scale name (each dataset's overrides applied) or a
    :class:`Scale` used as given."""
    datasets = list(dict.fromkeys(datasets))
    if not datasets:
        raise ValueError("`datasets` is empty; expected some of: mnist, cifar10.")
    for ds in datasets:
        check_choice(ds, "dataset", SIMILARITY_TABLES)
    if restorer_file is not None and len(datasets) != 1:
        raise ValueError("--restorer-file holds one CRU-Net: pick its dataset with --datasets mnist or cifar10.")
    out = Path(out_dir)
    definitions = {**report.SIMILARITY_METRICS,
                   "psnr_255sq_over_unit_mse_db": "psnr_tf_unit_db + 20 log10(255): (L-1)^2 over the MSE of "
                                                  "[0, 1] images (a hypothesis for the paper's values)"}
    rows, meta = [], {"table": NAME, "title": TITLE, "paper": "Ali et al. 2022, CRU-Net (papers/001), Tables 6-7",
                      "metric_definitions": definitions, "seed": seed, "sources": {}}
    for ds in datasets:
        spec = get_table(SIMILARITY_TABLES[ds])
        ds_scale = get_scale(scale, spec) if isinstance(scale, str) else scale
        cols = list(columns or spec.columns)
        unknown = [c for c in cols if c not in spec.columns]
        if unknown:
            raise ValueError(f"Unknown attack column(s) {unknown}; expected some of: {', '.join(spec.columns)}.")
        source = data.source_label(spec.dataset, data_dir)
        run_meta, how = meta_or_run(spec, ds_scale, cols, source, out=out, tag=f"6-7 {ds}", log=log,
                                    data_dir=data_dir, cache_dir=cache_dir, seed=seed, ship=ship,
                                    restorer_file=restorer_file, progress=progress)
        rows += report.similarity_rows(spec, run_meta["similarity"], cols)
        meta["sources"][ds] = {"table": spec.name, "from": how, "scale": run_meta["scale"],
                               "data_source": source, "eval_images": run_meta["eval_images"],
                               "restorer": run_meta["restorer"], "similarity": run_meta["similarity"]}
    # A run for some datasets keeps the other datasets' rows already written to out_dir (e.g.
    # `--datasets cifar10` after `--datasets mnist`): nothing already written is lost.
    try:
        previous = json.loads((out / f"{NAME}.meta.json").read_text()).get("sources", {})
    except (OSError, ValueError, AttributeError):
        previous = {}
    for ds, src in previous.items():
        if ds in datasets or ds not in SIMILARITY_TABLES or not isinstance(src, dict) or "similarity" not in src:
            continue
        spec = get_table(SIMILARITY_TABLES[ds])
        log(f"[6-7] {ds}: kept from the existing {out / NAME}.meta.json")
        rows += report.similarity_rows(spec, src["similarity"], spec.columns)
        meta["sources"][ds] = src
    order = list(SIMILARITY_TABLES)
    rows.sort(key=lambda r: order.index(r["dataset"]))   # stable: MNIST rows first, as the paper
    meta["sources"] = dict(sorted(meta["sources"].items(), key=lambda kv: order.index(kv[0])))
    meta["versions"] = io.versions()
    io.write_csv(out / f"{NAME}.csv", rows)
    io.write_json(out / f"{NAME}.meta.json", meta)
    log(f"== wrote {out / NAME}.csv (+ .meta.json)")
    return {"rows": rows, "meta": meta}


# ------------------------------------------------------------------ papers/004 Tables 3-4
GAN_DENOISER_SIMILARITY = {ds: f"gan_denoiser_table1_{ds}" for ds in GAN_DENOISER_DATASETS}


def base_vs_ours_rows(spec, similarity: dict, columns) -> list[dict]:
    """papers/004 Tables 3 (PSNR) and 4 (SSIM): per target, a "Base" row (the adversarial examples
    vs the clean images) and an "Ours" row (their denoised images vs the clean images), columns =
    attacks. ``similarity``: a run's ``meta["similarity"]`` (:func:`report.similarity_of`, full
    precision). PSNR is ``tf.image.psnr(max_val=1)`` on [0, 1] images (dB), SSIM ``tf.image.ssim``.
    The paper's values are lost from the text (no printed number survived)."""
    out = []
    for table, metric, adv_key, ours_key in (("Table 3", "PSNR_dB", "psnr_tf_unit_db_adversarial", "psnr_tf_unit_db"),
                                             ("Table 4", "SSIM", "ssim_adversarial", "ssim")):
        for label in spec.targets:
            by_attack = similarity.get(label, {})
            if not by_attack:
                continue
            for kind, key in (("Base", adv_key), ("Ours", ours_key)):
                row = {"paper_table": table, "metric": metric, "dataset": spec.dataset, "network": label,
                       "images": "adversarial vs clean" if kind == "Base" else "denoised vs clean", "row": kind}
                for col in columns:
                    if col in by_attack:
                        # strings: the CSV writer rounds floats to 2 decimals, SSIM is printed to 4
                        row[col] = f"{float(by_attack[col][key]):.{4 if metric == 'SSIM' else 2}f}"
                        row[f"{col}_paper"] = ""
                row["n_images"] = next(iter(by_attack.values()))["n_images"]
                row["paper_note"] = "papers/004's Tables 3-4 are lost from the text: no printed value"
                out.append(row)
    return out


def gan_denoiser_similarity(scale, *, dataset="mnist", data_dir=None, out_dir="reproduce/results",
                            cache_dir="reproduce/cache", seed: int = 0, columns=None, progress: bool = True,
                            log=print, precision: str = "float32") -> dict:
    """Write ``gan_denoiser_tables3_4_<dataset>.csv`` (+ ``.meta.json``) from papers/004 Table 1's run:
    its ``.meta.json`` in ``out_dir`` when that run has this scale, seed, data and attacks (and the
    full-precision similarity), else the Table 1 run here (resuming from ``cache_dir``)."""
    check_choice(dataset, "dataset", GAN_DENOISER_SIMILARITY)
    spec = get_table(GAN_DENOISER_SIMILARITY[dataset])
    ds_scale = get_scale(scale, spec) if isinstance(scale, str) else scale
    cols = list(columns or spec.columns)
    unknown = [c for c in cols if c not in spec.columns]
    if unknown:
        raise ValueError(f"Unknown attack column(s) {unknown}; expected some of: {', '.join(spec.columns)}.")
    out = Path(out_dir)
    start = time.time()
    source = data.source_label(spec.dataset, data_dir)
    meta, how = meta_or_run(spec, ds_scale, cols, source, out=out, tag="3-4", log=log, data_dir=data_dir,
                            cache_dir=cache_dir, seed=seed, progress=progress, precision=precision)
    rows = base_vs_ours_rows(spec, meta["similarity"], cols)
    name = f"gan_denoiser_tables3_4_{dataset}"
    io.write_csv(out / f"{name}.csv", rows)
    io.write_json(out / f"{name}.meta.json", {
        "table": name, "title": f"papers/004 Tables 3-4: PSNR and SSIM, adversarial (Base) and denoised (Ours) "
                                f"vs clean, {PRETTY.get(dataset, dataset)}",
        "paper": spec.source, "from": how, "scale": meta.get("scale"), "seed": seed, "data_source": source,
        "restorer": meta.get("restorer"), "eval_images": meta.get("eval_images"),
        "metric_definitions": {"PSNR_dB": "tf.image.psnr(max_val=1) on [0, 1] images, mean over the images",
                               "SSIM": "tf.image.ssim(max_val=1), mean over the images",
                               "Base": "the adversarial examples vs the clean test images",
                               "Ours": "the GAN denoiser's output on them vs the clean test images"},
        **({"not_run": dict(spec.not_run)} if spec.not_run else {}), "versions": io.versions(),
        # this script's time: ~0 when it read Table 1's metadata, else Table 1's whole run
        "wall_seconds": round(time.time() - start, 1)})
    log(f"== wrote {out / name}.csv (+ .meta.json)")
    return {"rows": rows}

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
from pathlib import Path

from keras_restore import data
from keras_restore.pipeline import io, report
from keras_restore.pipeline.run import run_table
from keras_restore.pipeline.scales import get_scale
from keras_restore.pipeline.tables import SIMILARITY_TABLES, get_table
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
        run_meta = _reusable(out / f"{spec.name}.meta.json", ds_scale, seed, cols, source)
        if run_meta is not None:
            log(f"[6-7] {ds}: from {out / spec.name}.meta.json ({ds_scale.name} scale)")
            how = f"results {out / spec.name}.meta.json"
        else:
            log(f"[6-7] {ds}: running {spec.name} ({ds_scale.name} scale; resumes from {cache_dir})")
            run_meta = run_table(spec, ds_scale, data_dir=data_dir, out_dir=out, cache_dir=cache_dir, seed=seed,
                                 columns=cols, ship=ship, restorer_file=restorer_file, progress=progress,
                                 log=log)["meta"]
            how = f"run of {spec.name}"
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

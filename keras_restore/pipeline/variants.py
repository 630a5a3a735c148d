"""A table beside its variants: the same targets, pairs, test images, budget and seed, one change each.

Issue 21's Table 5 gap (papers/000 on CIFAR-10): the paper's restorer recipe (the Table 2 layout, pooled
pixel MSE) beside the attack-balanced loss (``table5_cifar10_balanced``) and the CRU-Net layout
(``table5_cifar10_crunet_layout``). Each variant's run writes its own results (``reproduce/results/<scale>/
<table>.csv``, ``.meta.json``, ``_loss.csv``); :func:`compare` reads them back -- it trains and attacks
nothing -- and says, per target and attack, what each change moves against the paper's recipe and how far
each stays from the paper, with what the restorer costs clean images, the adaptive number, and each
restorer's held-out MSE against doing nothing (the identity).

Runs are only compared when they are comparable: the same scale, seed, targets, attack columns and
training pairs (their ``.meta.json`` says); a variant whose run is missing is listed with the command
that makes it, never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keras_restore import io
from keras_restore.site.build import CsvTable, loss_summary, parse_number   # the site's CSV readers


@dataclass(frozen=True)
class Variant:
    key: str          # column name in the comparison CSV
    table: str        # keras_restore.pipeline.TABLES name whose run it reads
    change: str       # what differs from the base (the first variant of a set)


# name -> (base, variants...): the base is the paper's recipe, each other entry changes one thing.
VARIANT_SETS = {
    "table5_cifar10_variants": (
        Variant("paper_recipe", "table5_cifar10", "the paper's: Table 2 restorer layout, pooled pixel MSE"),
        Variant("balanced_loss", "table5_cifar10_balanced",
                "loss: attack-balanced pixel MSE (recipe pixel_mse_balanced) instead of the pooled one"),
        Variant("crunet_layout", "table5_cifar10_crunet_layout",
                "layout: the CRU-Net (papers/001; skip connections, output = input + residual, 1.2 M "
                "parameters) instead of the Table 2 restorer (19.7 M, a 4096-wide Dense bottleneck)"),
    ),
}
CLEAN = "clean through restorer"
ADAPTIVE = "PGD adaptive"
# The fields of a run's .meta.json that must agree for two runs to be compared.
_SAME = ("seed", "columns")
# Scale fields that may differ between comparable runs (prose, not a setting).
_SCALE_FREE = ("note",)


def _need(value, what: str, path: Path):
    if value is None:
        raise ValueError(f"{path}: has no {what}; expected a table run's metadata (rerun the table's script).")
    return value


def read_run(results_dir: Path, table: str) -> dict | None:
    """One table run's wide CSV, metadata and loss curves (None: the run's CSV is not there)."""
    wide = results_dir / f"{table}.csv"
    if not wide.exists():
        return None
    meta_path = results_dir / f"{table}.meta.json"
    meta = io.load_json(meta_path)
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: missing or not a JSON object; it is written with {wide.name} by the same "
                         f"run (rerun reproduce/{table}.py).")
    loss_path = results_dir / f"{table}_loss.csv"
    rows = io.read_csv(wide)
    if not rows or "target" not in rows[0]:
        raise ValueError(f"{wide}: expected a table run's CSV with a 'target' column and one row per target, got "
                         f"columns {list(rows[0]) if rows else []} (rerun reproduce/{table}.py).")
    return {"rows": {r["target"]: r for r in rows}, "meta": meta,
            "loss": io.read_csv(loss_path) if loss_path.exists() else [], "path": wide, "meta_path": meta_path}


def _identity(run: dict) -> dict:
    """What must agree between the runs compared: scale (its settings, not its note), seed, columns, the
    targets (their files' sha256 where recorded), the training pairs per target and attack, and the
    restorer's training config (epochs, batch, learning rate, precision, seed). The restorer's layout and
    loss may differ: that is what the variants vary."""
    meta, path = run["meta"], run["meta_path"]
    scale = _need(meta.get("scale"), "'scale'", path)
    restorer = meta.get("restorer") if isinstance(meta.get("restorer"), dict) else {}
    pairs = {k: (v or {}).get("n") for k, v in (restorer.get("pairs") or {}).items()}
    targets = meta.get("targets") if isinstance(meta.get("targets"), dict) else {}
    return {"scale": ({k: v for k, v in scale.items() if k not in _SCALE_FREE} if isinstance(scale, dict)
                      else {"name": scale}),
            **{k: meta.get(k) for k in _SAME},
            "targets": {t: (targets.get(t) or {}).get("sha256") for t in sorted(run["rows"])},
            "pairs": pairs, "restorer_config": restorer.get("config") or {}}


def _mismatch(a: dict, b: dict) -> dict:
    """The fields of two identities that differ (``field`` or ``field.key`` -> the two values). The
    settings dicts (scale, restorer config) are compared on the keys both have (a field added to a
    config later does not make older runs incomparable); targets and pairs must match as wholes."""
    out = {}
    for k in a:
        x, y = a[k], b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            keys = x.keys() & y.keys() if k not in ("targets", "pairs") else x.keys() | y.keys()
            out.update({f"{k}.{f}": (x.get(f), y.get(f)) for f in sorted(keys, key=str) if x.get(f) != y.get(f)})
        elif x != y:
            out[k] = (x, y)
    return out


def held_out_mse(run: dict) -> tuple[int | None, dict]:
    """(epoch, attack -> (held-out MSE, the identity's MSE on the same pairs)) from ``_loss.csv``: the kept
    epoch (the weights the run evaluated), or the last one when the file does not record it -- the results
    site's :func:`~keras_restore.site.build.loss_summary` of the validation split."""
    rows = run["loss"]
    summary = loss_summary(CsvTable(run["path"], list(rows[0]) if rows else [], rows)) if rows else None
    val = [r for r in (summary.rows if summary else []) if r["split"] == "val"]
    epoch = int(val[0]["kept_epoch"]) if val else None
    return epoch, {r["attack"]: (parse_number(r["mse_kept"]), parse_number(r["no_restoration_mse"])) for r in val}


def _sig(x, digits=4):
    """A float to ``digits`` significant figures, as text (the CSV writer would round 0.0586 to 0.06)."""
    return None if x is None else f"{x:.{digits}g}"


def _diff(a, b):
    return None if a is None or b is None else round(a - b, 2)


def compare(results_dir, name: str = "table5_cifar10_variants") -> dict:
    """Read the runs of variant set ``name`` from ``results_dir``: ``{"rows", "mse_rows", "meta"}``.

    ``rows``: one per target and metric (each attack column's success rate, clean accuracy through the
    restorer, accuracy under the adaptive attack through the defense), with the paper's value, each
    variant's, each variant minus the paper and each non-base variant minus the base. ``mse_rows``: per
    variant and attack, the restorer's held-out MSE at its kept epoch, the identity's and their ratio
    (above 1: the restorer moves the image further from the clean one than the attack did).
    A ValueError names a missing base run, an unknown set, or runs that are not comparable."""
    if name not in VARIANT_SETS:
        raise ValueError(f"Unknown variant set {name!r}; expected one of: {', '.join(VARIANT_SETS)}.")
    results_dir = Path(results_dir)
    base, *others = VARIANT_SETS[name]
    runs, missing = {}, {}
    for v in (base, *others):
        run = read_run(results_dir, v.table)
        if run is None:
            missing[v.key] = f"{results_dir / (v.table + '.csv')} not found: run reproduce/{v.table}.py at that scale"
        else:
            runs[v.key] = run
    if base.key not in runs:
        raise ValueError(f"The base run of {name!r} is missing: {missing[base.key]}.")
    ident = _identity(runs[base.key])
    for key, run in runs.items():
        diff = _mismatch(ident, _identity(run))
        if diff:
            raise ValueError(f"{run['path']} is not comparable with {runs[base.key]['path']}: "
                             + "; ".join(f"{k} {a!r} vs {b!r}" for k, (a, b) in diff.items())
                             + ". Rerun both at the same scale and seed.")
    present = [v for v in (base, *others) if v.key in runs]
    columns = list(ident["columns"] or [])
    rows = []
    for target in sorted(ident["targets"]):
        base_row = runs[base.key]["rows"][target]
        metrics = [(c, c, parse_number(base_row.get(f"{c}_paper"))) for c in columns]
        metrics += [(CLEAN, None, None), (ADAPTIVE, "PGD_adaptive_acc", None)]
        for metric, column, paper in metrics:
            row = {"target": target, "metric": metric, "paper": paper}
            values = {}
            for v in present:
                run = runs[v.key]
                if column is None:
                    values[v.key] = parse_number((run["meta"].get("clean_through_restorer_accuracy") or {}).get(target))
                else:
                    values[v.key] = parse_number(run["rows"][target].get(column))
                row[v.key] = values[v.key]
            for v in present:
                row[f"{v.key}_minus_paper"] = _diff(values[v.key], paper)
            for v in present[1:]:
                row[f"{v.key}_minus_{base.key}"] = _diff(values[v.key], values[base.key])
            rows.append(row)
    mse_rows = []
    for v in present:
        epoch, per_attack = held_out_mse(runs[v.key])
        for attack, (mse, identity) in sorted(per_attack.items()):
            mse_rows.append({"variant": v.key, "attack": attack, "epoch": epoch, "held_out_mse": _sig(mse),
                             "identity_mse": _sig(identity),
                             "mse_over_identity": None if not mse or not identity else _sig(mse / identity)})
    meta = {
        "table": name, "title": f"{base.table} beside its variants (same targets, pairs, images, budget, seed)",
        "paper": runs[base.key]["meta"].get("paper"), "scale": ident["scale"].get("name"), "seed": ident["seed"],
        "variants": {v.key: {"table": v.table, "change": v.change,
                             **({"source": str(runs[v.key]["path"]),
                                 "restorer": (runs[v.key]["meta"].get("restorer") or {}).get("name"),
                                 "restorer_seconds": (runs[v.key]["meta"].get("restorer") or {}).get("seconds"),
                                 "restorer_resumed": (runs[v.key]["meta"].get("restorer") or {}).get("resumed"),
                                 "kept_epoch": (runs[v.key]["meta"].get("restorer") or {}).get("kept_epoch"),
                                 "precision": runs[v.key]["meta"].get("precision")}
                                if v.key in runs else {"missing": missing[v.key]})}
                     for v in (base, *others)},
        "metric_definitions": {
            "<attack>": "success rate % (restored / original accuracy), as in the table runs",
            CLEAN: "accuracy % of clean test images through the restorer (the paper prints none)",
            ADAPTIVE: "accuracy % under APGD-CE + APGD-T through restorer -> target (the paper prints none)",
            "<variant>_minus_paper": "ours - paper, points", f"<variant>_minus_{base.key}": "variant - base, points",
            "mse_over_identity": "held-out MSE to the clean image after restoration / before it (the attack's); "
                                 "above 1 the restorer is further from the clean image than its input"},
    }
    return {"rows": rows, "mse_rows": mse_rows, "meta": meta}


def write(results_dir, out_dir=None, name: str = "table5_cifar10_variants") -> dict:
    """:func:`compare`, written as ``<name>.csv``, ``<name>_mse.csv`` and ``<name>.meta.json`` (atomically)."""
    out_dir = Path(out_dir or results_dir)
    res = compare(results_dir, name)   # everything is read and checked before anything is written
    io.write_csv(out_dir / f"{name}.csv", res["rows"])
    io.write_json(out_dir / f"{name}.meta.json", res["meta"])
    if res["mse_rows"]:   # none when no run kept its _loss.csv
        io.write_csv(out_dir / f"{name}_mse.csv", res["mse_rows"])
        # its own metadata, so that the results site puts it on the same paper's page
        io.write_json(out_dir / f"{name}_mse.meta.json",
                      {**{k: res["meta"][k] for k in ("paper", "scale", "seed", "variants")}, "table": f"{name}_mse",
                       "title": f"{res['meta']['title']}: held-out restoration MSE against the identity's",
                       "metric_definitions": {k: res["meta"]["metric_definitions"][k] for k in ("mse_over_identity",)}})
    return res

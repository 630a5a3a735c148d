"""Result tables: the paper's shape (rows = targets, columns = attacks, each with ``_paper`` and
``_delta``) from the long per-(target, attack) rows; nothing here is typed by hand. CRU-Net tables
(``TableSpec.report == "accuracy"``, papers/001 Tables 2-5) have rows = (attack, target) and
columns No attack / No defense / CRU-Net defense; :func:`similarity_rows` gives its Tables 6-7."""

from __future__ import annotations

import math
from pathlib import Path

METRICS = {
    "original_accuracy": "Eq. 6: correctly classified clean test images / all, % (100 by construction: "
                         "the evaluation set holds images the target classifies correctly)",
    "adversarial_accuracy": "Eq. 7: accuracy of the target on the adversarial images, % ('no defense')",
    "restored_accuracy": "accuracy of the target on restorer(adversarial), %",
    "success_rate": "Eq. 8: restored accuracy / original accuracy x 100",
    "clean_through_restorer_accuracy": "accuracy on restorer(clean image), %",
    "ssim_restored": "mean tf.image.ssim(original, restored, max_val=1)",
    "psnr_restored": "mean tf.image.psnr(original, restored, max_val=1), dB, capped at 100",
    "linf_adversarial": "mean per-image L-inf norm of the perturbation",
    "l2_adversarial": "mean per-image L2 norm of the perturbation",
}


# papers/001 Tables 2-5: TableSpec.paper_accuracies keys -> our column prefix and long-row metric.
# Ours are percentages; the paper's fractions are converted to % (x 100) in the *_pct_paper columns.
ACCURACY_COLUMNS = {"no_attack": ("no_attack_pct", "original_accuracy"),
                    "no_defense": ("no_defense_pct", "adversarial_accuracy"),
                    "defense": ("crunet_defense_pct", "restored_accuracy")}

SIMILARITY_METRICS = {
    "ssim": "mean tf.image.ssim(original, restored, max_val=1) on [0, 1] images (papers/001 Eq. 15)",
    "psnr_paper255_db": "papers/001 Eq. 16 exactly: 10 log10((L-1)^2 / MSE), L = 256, on 8-bit 0-255 images "
                        "(round(255 x)), per image, averaged; identical images count as 100 dB "
                        "(keras_restore.defense.psnr_paper_255)",
    "psnr_tf_unit_db": "mean tf.image.psnr(original, restored, max_val=1) on [0, 1] float images, capped at "
                       "100 dB (keras_restore.defense.psnr)",
}


def metric_definitions(spec) -> dict:
    """``METRICS`` as they apply to ``spec`` (Tables 4-7 of papers/000: ``METRICS`` itself)."""
    defs = dict(METRICS)
    if spec.eval_images == "first":
        defs["original_accuracy"] = ("correctly classified clean test images / all, %, on the first n_eval test "
                                     "images (papers/001 'No attack', Eq. 12)")
        defs["success_rate"] = "restored accuracy / original accuracy x 100 (papers/001 Eq. 14)"
    return {**defs, **reporter(spec).definitions()}


def _pct(fraction):
    return None if fraction is None else round(fraction * 100.0, 6)


def accuracy_paper_columns(spec, label, col, metrics) -> dict:
    """papers/001 Tables 2-5 columns of one (target, attack): ours (%), the paper's (fraction x 100)
    and the difference."""
    paper = spec.paper_accuracies.get(label, {}).get(col, {})
    out = {}
    for key, (prefix, metric) in ACCURACY_COLUMNS.items():
        ours, theirs = metrics[metric], _pct(paper.get(key))
        out[prefix] = ours
        out[f"{prefix}_paper"] = theirs
        out[f"{prefix}_delta"] = None if theirs is None else ours - theirs
    return out


def accuracy_rows(spec, long_rows, columns, target_records) -> list[dict]:
    """papers/001 Tables 2-5 shape: one row per (attack, target), in the paper's order."""
    rows = []
    for col in columns:
        for label in spec.targets:
            match = [r for r in long_rows if r["target"] == label and r["attack"] == col]
            if not match:
                continue
            r = match[0]
            row = {"attack": col, "target": label, "target_model": spec.targets[label],
                   "restorer": r["restorer"], "restorer_trained_for": ", ".join(r["restorer_trained_for"]),
                   "n_images": r["n_images"]}
            for prefix, _ in ACCURACY_COLUMNS.values():
                row.update({k: r[k] for k in (prefix, f"{prefix}_paper", f"{prefix}_delta")})
            row["test_accuracy_pct"] = target_records[label]["test_accuracy"]
            row["test_accuracy_pct_paper"] = spec.paper_accuracy.get(label)
            rows.append(row)
    return rows


def similarity_of(long_rows) -> dict:
    """Full-precision SSIM / PSNR of restored vs original per target and attack (the CSVs round
    to 2 decimals): the source of papers/001 Tables 6-7."""
    out = {}
    for r in long_rows:
        out.setdefault(r["target"], {})[r["attack"]] = {
            "n_images": r["n_images"], "ssim": r["ssim_restored"],
            "psnr_paper255_db": r.get("psnr_paper255_restored"), "psnr_tf_unit_db": r["psnr_restored"],
            # the attacked images themselves vs the originals (papers/004 Tables 3-4's "Base")
            "ssim_adversarial": r["ssim_adversarial"], "psnr_tf_unit_db_adversarial": r["psnr_adversarial"]}
    return out


# 10 log10(255^2 / MSE) with the MSE of [0, 1] images = tf PSNR + 20 log10(255): a reading of
# Eq. 16 that would give values near the paper's 80-105 dB (reported beside, as a hypothesis).
UNIT_MSE_OFFSET_DB = 20.0 * math.log10(255.0)


def similarity_rows(spec, similarity, columns) -> list[dict]:
    """papers/001 Tables 6-7 shape: per target, one row per metric, columns = attacks with the
    paper's value (SSIM or PSNR) and ours - paper beside. Values are formatted strings (SSIM to
    4 decimals, PSNR to 2), as the paper prints them."""
    metrics = (("SSIM", "SSIM", lambda v: v["ssim"], 4),
               ("PSNR_paper255_dB", "PSNR", lambda v: v["psnr_paper255_db"], 2),
               ("PSNR_tf_unit_dB", "PSNR", lambda v: v["psnr_tf_unit_db"], 2),
               ("PSNR_255sq_over_unit_mse_dB", "PSNR", lambda v: v["psnr_tf_unit_db"] + UNIT_MSE_OFFSET_DB, 2))
    rows = []
    for label in spec.targets:
        if label not in similarity:
            continue
        for name, paper_key, value, digits in metrics:
            row = {"dataset": spec.dataset, "paper_table": spec.paper_similarity_table, "target": label,
                   "metric": name}
            for col in columns:
                if col not in similarity[label]:
                    continue
                ours = value(similarity[label][col])
                paper = spec.paper_similarity.get(label, {}).get(paper_key, {}).get(col)
                row[col] = f"{ours:.{digits}f}"
                row[f"{col}_paper"] = "" if paper is None else f"{paper:.{digits}f}"
                row[f"{col}_delta"] = "" if paper is None else f"{ours - paper:.{digits}f}"
            row["n_images"] = next(iter(similarity[label].values()))["n_images"]
            rows.append(row)
    return rows


def success_rate_rows(spec, long_rows, columns, target_records) -> list[dict]:
    """papers/000 Tables 4-7 shape: rows = targets, columns = attacks (success rate, paper, delta)."""
    rows = []
    for label in spec.targets:
        row = {"target": label,
               "clean_accuracy": target_records[label]["test_accuracy"],
               "clean_accuracy_paper": spec.paper_accuracy.get(label)}
        for col in columns:
            match = [r for r in long_rows if r["target"] == label and r["attack"] == col]
            if not match:
                continue
            r = match[0]
            row[col] = r["success_rate"]
            row[f"{col}_paper"] = r["success_rate_paper"]
            row[f"{col}_delta"] = r["success_rate_delta"]
        rows.append(row)
    return rows


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def machine() -> dict:
    """The machine a result was computed on, for its ``.meta.json``: CPU model, cores, and whether it has
    bfloat16 units (without them ``--precision auto`` trains in float32; ``runtime.cpu_supports_bf16``)."""
    import os

    from keras_restore import runtime

    return {"cpu": cpu_name(), "cores": os.cpu_count(), "bfloat16_units": runtime.cpu_supports_bf16()}


ADAPTIVE_DEFINITION = (
    "oblivious_accuracy: % of the first n_adaptive evaluation images classified correctly through the defense "
    "after PGD made on the bare classifier (the papers' protocol; the dataset's PGD defaults, eps as in the "
    "paper); adaptive_accuracy: % of the same images classified correctly through the defense after APGD-CE "
    "then APGD-T (Croce & Hein 2020) taken through the whole defense (keras_restore.evaluation.adaptive; BPDA "
    "where a preprocessing step declares it), per-image worst case; clean_defended_accuracy: clean images "
    "through the defense. In the table CSV: PGD_oblivious_acc / PGD_adaptive_acc beside the paper's columns. "
    "paper_oblivious: the paper's own PGD number for the row (its protocol; on its images and scale), "
    "oblivious_minus_paper = ours - paper; the papers report no adaptive attack (paper_adaptive_note).")


def add_adaptive(wide: list[dict], adaptive_rows: list[dict]):
    """Put each row's oblivious and adaptive accuracy beside the paper's columns: on the target's row
    (success-rate tables), on its PGD row (accuracy tables, rows = (attack, target)) or on its
    "defense" row (defended tables, papers/002 and 004: rows = (network, no defense | defense))."""
    by_target = {r["target"]: r for r in adaptive_rows}
    for row in wide:
        a = by_target.get(row.get("target", row.get("network")))
        if a is None or row.get("attack", "PGD") != "PGD" or row.get("defense") == "no defense":
            continue
        row.update({"PGD_oblivious_acc": a["oblivious_accuracy"], "PGD_adaptive_acc": a["adaptive_accuracy"],
                    "adaptive_n_images": a["n_images"], "adaptive_eps": a["eps"]})


# ------------------------------------------------------------------ reporters
class SuccessRateReporter:
    """papers/000 Tables 4-7: success rate per (target, attack); CSV rows = targets; bar chart (Figs. 4-7)."""

    name = "success_rate"
    loss_figures_like_papers001 = False
    rows = staticmethod(success_rate_rows)   # (spec, long_rows, columns, target_records) -> CSV rows
    chart = "bar_chart"                      # keras_restore.pipeline.figures function

    def definitions(self) -> dict:
        return {}

    def paper_protocol_value(self, spec, label: str, col: str):
        """The paper's number for row ``label`` under attack ``col`` with its defense (the oblivious
        protocol), and what it measures; ``(None, reason)`` where the paper prints none."""
        value = spec.paper.get(label, {}).get(col)
        if value is None:
            return None, f"{spec.source} prints no {col} value for this row"
        return value, f"success rate % (restored / original accuracy), {spec.source}"

    def row_columns(self, spec, label, col, metrics, x_clean, restored, trained_for) -> dict:
        """Columns of one long row beyond the common ones."""
        return {}

    def log_line(self, label, col, metrics, row) -> str:
        return (f"[V] {label}/{col}: adversarial {metrics['adversarial_accuracy']:.2f}% -> restored "
                f"{metrics['restored_accuracy']:.2f}% | success {metrics['success_rate']:.2f}% "
                f"(paper {row['success_rate_paper']})")

    def wide(self, spec, long_rows, columns, target_records) -> list[dict]:
        return self.rows(spec, long_rows, columns, target_records)

    def meta(self, long_rows) -> dict:
        return {}

    def figure(self, long_rows, path, spec):
        from keras_restore.pipeline import figures

        getattr(figures, self.chart)(long_rows, path, spec)


class AccuracyReporter(SuccessRateReporter):
    """papers/001 Tables 2-5: No attack / No defense / CRU-Net defense accuracies per (attack, target),
    paper's fractions as %; similarity (Tables 6-7) kept in the metadata; grouped bars (Figs. 8-11)."""

    name = "accuracy"
    loss_figures_like_papers001 = True
    rows = staticmethod(accuracy_rows)
    chart = "accuracy_chart"

    def paper_protocol_value(self, spec, label: str, col: str):
        value = _pct(spec.paper_accuracies.get(label, {}).get(col, {}).get("defense"))
        if value is None:
            return None, f"{spec.source} prints no {col} value for this row"
        return value, f"accuracy % with the defense (the paper's fraction x 100), {spec.source}"

    def definitions(self) -> dict:
        defs = {"psnr_paper255_restored": SIMILARITY_METRICS["psnr_paper255_db"]}
        for key, (prefix, metric) in ACCURACY_COLUMNS.items():
            defs[prefix] = f"= {metric}, %; {prefix}_paper: the paper's fraction x 100; {prefix}_delta: ours - paper"
        return defs

    def row_columns(self, spec, label, col, metrics, x_clean, restored, trained_for) -> dict:
        from keras_restore.metrics import psnr_paper_255

        return {**accuracy_paper_columns(spec, label, col, metrics),
                "psnr_paper255_restored": psnr_paper_255(x_clean, restored),
                "restorer_trained_for": trained_for, "eval_images": spec.eval_images}

    def log_line(self, label, col, metrics, row) -> str:
        return (f"[V] {label}/{col}: no attack {metrics['original_accuracy']:.2f}% | no defense "
                f"{metrics['adversarial_accuracy']:.2f}% | restored {metrics['restored_accuracy']:.2f}% (paper "
                f"{row['no_attack_pct_paper']} / {row['no_defense_pct_paper']} / {row['crunet_defense_pct_paper']})")

    def meta(self, long_rows) -> dict:
        return {"similarity": similarity_of(long_rows)}


def defended_rows(spec, long_rows, columns, target_records) -> list[dict]:
    """papers/002 Tables 1-3 shape: per target a "no defense" and a "defense" row; columns Clean and
    each attack, every cell ours / ``_paper`` (as printed, %) / ``_delta`` (ours - paper). A row whose
    attacks are made on its defense (``Row.attack_on == "defense"``: papers/002 Table 4's adversarially
    trained ResNet50s, attacked white box) has the "defense" row only: its examples are not made on the
    bare target, so it has no "no defense" measurement (the table's other rows give that)."""
    rows = []
    for label in spec.targets:
        by_attack = {r["attack"]: r for r in long_rows if r["target"] == label}
        if not by_attack:
            continue
        first = next(iter(by_attack.values()))
        kinds = (("no_defense", "original_accuracy", "adversarial_accuracy"),
                 ("defense", "clean_through_restorer_accuracy", "restored_accuracy"))
        for kind, clean_key, attack_key in kinds[1:] if spec.rows[label].attack_on == "defense" else kinds:
            paper = spec.paper_accuracies.get(label, {}).get(kind, {})
            row = {"network": label, "defense": kind.replace("_", " "), "target_model": spec.targets[label],
                   "restorer": first["restorer"] if kind == "defense" else "", "n_images": first["n_images"]}
            for col, value in (("Clean", first[clean_key]),
                               *((c, by_attack[c][attack_key]) for c in columns if c in by_attack)):
                theirs = paper.get(col)
                row[col], row[f"{col}_paper"] = value, theirs
                row[f"{col}_delta"] = None if theirs is None else value - theirs
            row["test_accuracy_pct"] = target_records[label]["test_accuracy"]
            rows.append(row)
    return rows


class DefendedReporter(SuccessRateReporter):
    """papers/002 Tables 1-4: accuracy without and with the defense, clean and per attack, on the
    first ``n_eval`` test images; the paper's percentages beside ours; grouped bars."""

    name = "defended"
    rows = staticmethod(defended_rows)
    chart = "defended_chart"

    def paper_protocol_value(self, spec, label: str, col: str):
        # papers/002 prints no PGD column: its iterative L-inf attack is BIM, at the table's eps.
        value = spec.paper_accuracies.get(label, {}).get("defense", {}).get("BIM" if col == "PGD" else col)
        if value is None:
            return None, f"{spec.source} prints no {col} value for this row"
        what = "BIM (the paper prints no PGD; BIM is its iterative L-inf attack, same eps)" if col == "PGD" else col
        return value, f"accuracy % with the defense against {what} made on the target alone, {spec.source}"

    def definitions(self) -> dict:
        return {"no_defense_pct": "= adversarial_accuracy (Clean: original_accuracy), %",
                "defense_pct": "= restored_accuracy (Clean: clean_through_restorer_accuracy), %",
                "*_paper": "the paper's printed %", "*_delta": "ours - paper, percentage points"}

    def row_columns(self, spec, label, col, metrics, x_clean, restored, trained_for) -> dict:
        paper = spec.paper_accuracies.get(label, {})
        out = {"restorer_trained_for": trained_for, "eval_images": spec.eval_images}
        for kind, metric in (("no_defense", "adversarial_accuracy"), ("defense", "restored_accuracy")):
            theirs = paper.get(kind, {}).get(col)
            out[f"{kind}_pct"], out[f"{kind}_pct_paper"] = metrics[metric], theirs
            out[f"{kind}_pct_delta"] = None if theirs is None else metrics[metric] - theirs
        return out

    def meta(self, long_rows) -> dict:
        return {"similarity": similarity_of(long_rows)}

    def log_line(self, label, col, metrics, row) -> str:
        return (f"[V] {label}/{col}: clean {metrics['original_accuracy']:.2f}% | no defense "
                f"{metrics['adversarial_accuracy']:.2f}% | defense {metrics['restored_accuracy']:.2f}% (paper "
                f"{row['no_defense_pct_paper']} / {row['defense_pct_paper']})")


REPORTERS = {r.name: r for r in (SuccessRateReporter(), AccuracyReporter(), DefendedReporter())}


def reporter(spec):
    """The reporter of ``spec.report`` (its CSV shape, log line, figure and metadata)."""
    return REPORTERS[spec.report]

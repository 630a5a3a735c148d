"""Result tables: the paper's shape (rows = targets, columns = attacks, each with ``_paper`` and
``_delta``) from the long per-(target, attack) rows; nothing here is typed by hand."""

from __future__ import annotations

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


def wide_rows(spec, long_rows, columns, target_records) -> list[dict]:
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

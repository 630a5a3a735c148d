"""pipeline/variants.py: a table beside its variants, read back from the runs' result files."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from keras_restore.pipeline import variants

REPO = Path(__file__).resolve().parents[2]
COLUMNS = ["FGSM", "SPA"]


def fake_run(d: Path, table: str, *, fgsm: float, clean: float, mse_fgsm: float, scale="retrain", seed=0,
             pairs_n=4167, adaptive: float = 2.0, sha="a1", epochs=20, note="x"):
    """The three files a table run writes, with the fields compare() reads."""
    d.mkdir(parents=True, exist_ok=True)
    rows = [{"target": "Dense-Net", "FGSM": fgsm, "FGSM_paper": 84.95, "SPA": 50.0, "SPA_paper": 81.31,
             "PGD_adaptive_acc": adaptive}]
    with open(d / f"{table}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    meta = {"paper": "Ali et al. 2021, Deep Image Restoration Model (papers/000)",
            "scale": {"name": scale, "n_pairs": 50000, "note": note},
            "seed": seed, "columns": COLUMNS, "precision": "mixed_bfloat16",
            "clean_through_restorer_accuracy": {"Dense-Net": clean},
            "targets": {"Dense-Net": {"sha256": sha, "test_accuracy": 79.26}},
            "restorer": {"name": f"r_{table}", "seconds": 100.0, "kept_epoch": 2,
                         "config": {"epochs": epochs, "batch_size": 32, "seed": seed},
                         "pairs": {"Dense-Net/FGSM": {"n": pairs_n}, "Dense-Net/SPA": {"n": pairs_n}}}}
    (d / f"{table}.meta.json").write_text(json.dumps(meta))
    with open(d / f"{table}_loss.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["restorer", "attack", "split", "epoch", "mse", "no_restoration_mse",
                                          "kept_epoch"])
        w.writeheader()
        for epoch, m in ((1, 9.0), (2, mse_fgsm), (3, 1.0)):   # the kept epoch (2) is read, not the last
            w.writerow({"restorer": f"r_{table}", "attack": "FGSM", "split": "val", "epoch": epoch, "mse": m, "no_restoration_mse": 0.001,
                        "kept_epoch": 2})
            w.writerow({"restorer": f"r_{table}", "attack": "FGSM", "split": "train", "epoch": epoch, "mse": 5.0, "no_restoration_mse": 0.001,
                        "kept_epoch": 2})


def test_compare_reads_each_variant_beside_the_paper_and_the_base(tmp_path):
    fake_run(tmp_path, "table5_cifar10", fgsm=48.0, clean=66.0, mse_fgsm=0.004)
    fake_run(tmp_path, "table5_cifar10_crunet_layout", fgsm=80.5, clean=90.0, mse_fgsm=0.0005, adaptive=0.0)
    res = variants.compare(tmp_path)
    by = {(r["target"], r["metric"]): r for r in res["rows"]}
    fgsm = by[("Dense-Net", "FGSM")]
    assert (fgsm["paper"], fgsm["paper_recipe"], fgsm["crunet_layout"]) == (84.95, 48.0, 80.5)
    assert fgsm["paper_recipe_minus_paper"] == -36.95 and fgsm["crunet_layout_minus_paper"] == -4.45
    assert fgsm["crunet_layout_minus_paper_recipe"] == 32.5
    clean = by[("Dense-Net", variants.CLEAN)]
    assert clean["paper"] is None and clean["crunet_layout_minus_paper_recipe"] == 24.0
    assert by[("Dense-Net", variants.ADAPTIVE)]["crunet_layout"] == 0.0
    # the balanced run is not there: listed with its command, no column made up for it
    assert "balanced_loss" not in fgsm and "table5_cifar10_balanced.py" in res["meta"]["variants"]["balanced_loss"]["missing"]
    mse = {(r["variant"], r["attack"]): r for r in res["mse_rows"]}
    assert mse[("paper_recipe", "FGSM")]["mse_over_identity"] == "4"       # kept epoch 2, validation split
    assert mse[("paper_recipe", "FGSM")]["epoch"] == 2 and mse[("paper_recipe", "FGSM")]["held_out_mse"] == "0.004"
    assert mse[("crunet_layout", "FGSM")]["mse_over_identity"] == "0.5"


def test_runs_at_other_scales_or_pairs_are_refused(tmp_path):
    fake_run(tmp_path / "a", "table5_cifar10", fgsm=48.0, clean=66.0, mse_fgsm=0.004)
    fake_run(tmp_path / "a", "table5_cifar10_balanced", fgsm=50.0, clean=60.0, mse_fgsm=0.004, scale="default")
    with pytest.raises(ValueError, match=r"table5_cifar10_balanced.csv is not comparable with .*: scale.name 'retrain' vs "
                                         r"'default'\. Rerun both at the same scale and seed"):
        variants.compare(tmp_path / "a")
    for case, change, field in (("b", {"pairs_n": 100}, r"pairs.Dense-Net/FGSM 4167 vs 100"),
                                ("c", {"sha": "b2"}, "targets.Dense-Net 'a1' vs 'b2'"),
                                ("d", {"epochs": 8}, "restorer_config.epochs 20 vs 8")):
        fake_run(tmp_path / case, "table5_cifar10", fgsm=48.0, clean=66.0, mse_fgsm=0.004)
        fake_run(tmp_path / case, "table5_cifar10_balanced", fgsm=50.0, clean=60.0, mse_fgsm=0.004, **change)
        with pytest.raises(ValueError, match=f"not comparable .*: {field}"):
            variants.compare(tmp_path / case)
    # the scale's note is prose, not a setting: runs differing only there are compared
    fake_run(tmp_path / "e", "table5_cifar10", fgsm=48.0, clean=66.0, mse_fgsm=0.004)
    fake_run(tmp_path / "e", "table5_cifar10_balanced", fgsm=50.0, clean=60.0, mse_fgsm=0.004, note="reworded")
    assert variants.compare(tmp_path / "e")["rows"][0]["balanced_loss"] == 50.0


def test_missing_base_unknown_set_and_corrupt_metadata_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=r"The base run of 'table5_cifar10_variants' is missing: .*table5_cifar10.csv "
                                         r"not found: run reproduce/table5_cifar10.py"):
        variants.compare(tmp_path)
    with pytest.raises(ValueError, match="Unknown variant set 'table9'; expected one of: table5_cifar10_variants"):
        variants.compare(tmp_path, "table9")
    fake_run(tmp_path, "table5_cifar10", fgsm=48.0, clean=66.0, mse_fgsm=0.004)
    (tmp_path / "table5_cifar10.meta.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"table5_cifar10.meta.json: missing or not a JSON object"):
        variants.compare(tmp_path)
    (tmp_path / "table5_cifar10.meta.json").write_text("{}")
    with pytest.raises(ValueError, match=r"table5_cifar10.meta.json: has no 'scale'"):
        variants.compare(tmp_path)
    (tmp_path / "table5_cifar10.csv").write_text("model,FGSM\nx,1\n")
    with pytest.raises(ValueError, match=r"table5_cifar10.csv: expected a table run's CSV with a 'target' column"):
        variants.compare(tmp_path)


def test_script_writes_the_comparison_and_its_metadata(tmp_path):
    fake_run(tmp_path, "table5_cifar10", fgsm=48.0, clean=66.0, mse_fgsm=0.004)
    fake_run(tmp_path, "table5_cifar10_balanced", fgsm=47.0, clean=65.0, mse_fgsm=0.003)
    out = subprocess.run([sys.executable, str(REPO / "reproduce" / "table5_cifar10_variants.py"),
                          "--results-dir", str(tmp_path), "--out-dir", str(tmp_path / "out")],
                         capture_output=True, text=True, check=True)
    assert "balanced_loss_minus_paper_recipe=-1.0" in out.stdout
    rows = list(csv.DictReader(open(tmp_path / "out" / "table5_cifar10_variants.csv")))
    assert [r["metric"] for r in rows] == [*COLUMNS, variants.CLEAN, variants.ADAPTIVE]
    for stem in ("table5_cifar10_variants", "table5_cifar10_variants_mse"):
        meta = json.loads((tmp_path / "out" / f"{stem}.meta.json").read_text())
        assert "papers/000" in meta["paper"] and meta["scale"] == "retrain"
    mse = list(csv.DictReader(open(tmp_path / "out" / "table5_cifar10_variants_mse.csv")))
    assert mse[0]["identity_mse"] == "0.001" and mse[0]["held_out_mse"] == "0.004"
    bad = subprocess.run([sys.executable, str(REPO / "reproduce" / "table5_cifar10_variants.py"),
                          "--results-dir", str(tmp_path / "nothing")], capture_output=True, text=True)
    assert bad.returncode == 2 and "The base run of 'table5_cifar10_variants' is missing" in bad.stderr

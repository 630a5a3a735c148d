"""reproduce/cifar10_targets.py: the CIFAR-10 targets' recipe run (issue 21) at --quick on one small model."""

import csv
import json

import pytest


def test_quick_run_trains_evaluates_and_resumes_from_cache(reproduce_script, data_dir, tmp_path):
    script = reproduce_script("cifar10_targets")
    argv = ["--quick", "--models", "resnet_cifar10", "--data-dir", str(data_dir), "--quiet",
            "--out-dir", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    rows = script.main(argv)
    assert [r["model"] for r in rows] == ["resnet_cifar10"]
    row = rows[0]
    assert 0 <= row["test_accuracy"] <= 100 and row["reference"] == 91.25
    assert row["delta"] == round(row["test_accuracy"] - 91.25, 2)
    assert "JPEG copy" in row["data"]
    with open(tmp_path / "out" / "cifar10_targets.csv") as f:
        assert next(csv.DictReader(f))["model"] == "resnet_cifar10"
    meta = json.loads((tmp_path / "out" / "cifar10_targets.meta.json").read_text())
    assert meta["scale"] == "quick" and meta["recipe"] == "classifier_cifar"
    again = script.main(argv)   # the trained model is cached: the same accuracy, not retrained
    assert again[0]["source"] == "cached" and again[0]["test_accuracy"] == row["test_accuracy"]


def test_unknown_model_is_an_error(reproduce_script, capsys):
    script = reproduce_script("cifar10_targets")
    with pytest.raises(SystemExit):
        script.main(["--quick", "--models", "alexnet_cifar10"])
    assert "unknown model(s) alexnet_cifar10" in capsys.readouterr().err

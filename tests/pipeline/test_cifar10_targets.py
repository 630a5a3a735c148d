"""reproduce/cifar10_targets.py: the CIFAR-10 targets' recipe run (issue 21) at --quick on one small model."""

import csv
import json

import pytest

from keras_restore.pipeline import cifar_targets


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
    # --precision recipe (the default): each target in its own dtype, ResNet-20's being mixed_bfloat16 (float32 on a
    # CPU without bfloat16 units: cifar_targets.target_precision)
    assert row["precision"] == cifar_targets.target_precision("resnet_cifar10")
    assert cifar_targets.PRECISION["resnet_cifar10"] == "mixed_bfloat16"
    with open(tmp_path / "out" / "cifar10_targets.csv") as f:
        assert next(csv.DictReader(f))["model"] == "resnet_cifar10"
    meta = json.loads((tmp_path / "out" / "cifar10_targets.meta.json").read_text())
    assert meta["scale"] == "quick" and meta["recipe"] == {"resnet_cifar10": "classifier_cifar_he"}
    # per model, from its own record: epochs, peak learning rate, schedule and batch of the run that made the row
    assert meta["epochs"] == {"resnet_cifar10": row["epochs"]} and meta["scale_of"] == {"resnet_cifar10": "quick"}
    assert meta["learning_rate"] == {"resnet_cifar10": row["peak_learning_rate"]}
    assert meta["lr_schedule"] == {"resnet_cifar10": row["lr_schedule"]} and meta["batch_size"] == {"resnet_cifar10": 128}
    again = script.main(argv)   # the trained model is cached: the same accuracy, not retrained
    assert again[0]["source"] == "cached" and again[0]["test_accuracy"] == row["test_accuracy"]


def test_unknown_model_is_an_error(reproduce_script, capsys):
    script = reproduce_script("cifar10_targets")
    with pytest.raises(SystemExit):
        script.main(["--quick", "--models", "alexnet_cifar10"])
    assert "unknown model(s) alexnet_cifar10" in capsys.readouterr().err


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One cache for both cases below: the quick target is trained once."""
    return tmp_path_factory.mktemp("cifar10_targets_cache")


@pytest.mark.parametrize("shipped_accuracy, replaced", [(100.0, False), (0.0, True)])
def test_ship_never_replaces_a_more_accurate_target(reproduce_script, data_dir, tmp_path, monkeypatch, capsys,
                                                    shared_cache, shipped_accuracy, replaced):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "resnet_cifar10.keras").write_bytes(b"the shipped file")
    (models_dir / "manifest.json").write_text(json.dumps(
        {"resnet_cifar10": {"sha256": "0" * 64, "metrics": {"test_accuracy": shipped_accuracy}}}))
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(models_dir))
    script = reproduce_script("cifar10_targets")
    row = script.main(["--quick", "--models", "resnet_cifar10", "--data-dir", str(data_dir), "--quiet", "--ship",
                       "--out-dir", str(tmp_path / "out"), "--cache-dir", str(shared_cache)])[0]
    manifest = json.loads((models_dir / "manifest.json").read_text())
    out = capsys.readouterr().out
    if replaced:
        assert (models_dir / "resnet_cifar10.keras").read_bytes() != b"the shipped file"
        assert manifest["resnet_cifar10"]["metrics"]["test_accuracy"] == row["test_accuracy"]
    else:
        assert (models_dir / "resnet_cifar10.keras").read_bytes() == b"the shipped file"
        assert manifest["resnet_cifar10"]["metrics"]["test_accuracy"] == 100.0
        assert f"not shipped: test accuracy {row['test_accuracy']:.2f}% is below the shipped model's 100.00%" in out

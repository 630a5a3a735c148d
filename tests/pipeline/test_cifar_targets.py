"""pipeline/cifar_targets.py: the CIFAR-10 targets' recipe settings, one per model, and its argument checks."""

import json
import pathlib

import pytest

from keras_restore.pipeline import cifar_targets


def test_settings_per_model():
    assert cifar_targets.learning_rate("densenet121_cifar10") == 0.05   # diverged at 0.1 (PEAK_LR's comment)
    assert cifar_targets.learning_rate("mobilenet_cifar10") == cifar_targets.LEARNING_RATE == 0.1
    assert cifar_targets.PRECISION["mobilenet_cifar10"] == "float32"    # benchmarks/precision.py: 0.56x in bf16
    assert cifar_targets.PRECISION["densenet121_cifar10"] == "float32"  # its bfloat16 runs collapsed (PEAK_LR)
    # the driver trains each target in the dtype recorded here (--precision recipe), never one it names itself
    driver = (pathlib.Path(__file__).parents[2] / "reproduce" / "cifar10_paper_scale.sh").read_text()
    lines = [line for line in driver.splitlines() if "cifar10_targets.py" in line and "step " in line]
    assert lines and all("--precision recipe" in line for line in lines), lines
    # step 1 trains every target; step 3 only ships the ResNet-20 that Table 7 trained (cached)
    assert any("--models" not in line for line in lines), lines
    assert all("--models resnet_cifar10 " in line and "--ship" in line for line in lines if "--models" in line), lines
    for name in cifar_targets.KNOWN:
        assert name in cifar_targets.SCHEDULE and name in cifar_targets.EPOCHS["retrain"]
        assert cifar_targets.PRECISION[name] in ("float32", "mixed_bfloat16"), name
        assert cifar_targets.LABEL[name], name


def test_precision_table_is_what_the_shipped_targets_trained_in():
    from keras_restore import models

    shipped = {n: e for n, e in models.shipped().items() if n in cifar_targets.KNOWN}
    assert set(cifar_targets.MODELS) <= set(shipped)
    for name, entry in shipped.items():
        # a bfloat16 target may have been trained in float32 on a CPU without bfloat16 units (target_precision)
        own = cifar_targets.PRECISION[name]
        assert entry["training"]["precision"] in ({own, "float32"} if own == "mixed_bfloat16" else {own}), name


def test_target_precision_per_choice(monkeypatch):
    from keras_restore import runtime

    monkeypatch.delenv("KERAS_RESTORE_PRECISION", raising=False)
    monkeypatch.setattr(runtime, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(runtime, "gpu_supports_bf16", lambda: False)
    assert cifar_targets.target_precision("densenet121_cifar10") == "float32"
    assert cifar_targets.target_precision("resnet_cifar10", "recipe") == "mixed_bfloat16"
    assert cifar_targets.target_precision("densenet121_cifar10", "mixed_bfloat16") == "mixed_bfloat16"
    assert cifar_targets.target_precision("resnet_cifar10", "float32") == "float32"
    assert cifar_targets.target_precision("resnet_cifar10", "auto") == runtime.training_precision("auto")
    monkeypatch.setenv("KERAS_RESTORE_PRECISION", "float32")
    assert cifar_targets.target_precision("resnet_cifar10", "auto") == "float32"
    assert cifar_targets.target_precision("resnet_cifar10") == "mixed_bfloat16"   # recipe: its own, whatever the env
    # bfloat16 is a speed choice: on a CPU without bfloat16 units (emulated, ~0.5x) the recipe trains in float32
    monkeypatch.setattr(runtime, "cpu_supports_bf16", lambda: False)
    monkeypatch.setattr(runtime, "gpu_supports_bf16", lambda: True)   # an Ampere+ GPU: the recipe's own kept
    assert cifar_targets.target_precision("resnet_cifar10") == "mixed_bfloat16"
    monkeypatch.setattr(runtime, "gpu_supports_bf16", lambda: False)
    assert cifar_targets.target_precision("resnet_cifar10") == "float32"
    assert cifar_targets.target_precision("densenet121_cifar10") == "float32"
    assert cifar_targets.target_precision("resnet_cifar10", "mixed_bfloat16") == "mixed_bfloat16"   # asked for: kept
    with pytest.raises(ValueError, match="Unknown CIFAR-10 target 'lenet5'"):
        cifar_targets.target_precision("lenet5")
    with pytest.raises(ValueError, match="must be one of float32, mixed_float16, mixed_bfloat16, got 'fp8'"):
        cifar_targets.target_precision("resnet_cifar10", "fp8")


def test_epochs_summary_reads_the_epochs_table():
    names = ("densenet121_cifar10", "resnet_cifar10")
    ep = cifar_targets.EPOCHS["retrain"]
    assert cifar_targets.epochs_summary(names) == (f"DenseNet121 {ep['densenet121_cifar10']}, "
                                                  f"ResNet-20 {ep['resnet_cifar10']} epochs")
    assert cifar_targets.epochs_summary(names, "quick") == "DenseNet121 1, ResNet-20 1 epochs"


def test_train_target_refuses_an_unknown_model(tmp_path):
    from keras_restore.pipeline.cache import Cache

    with pytest.raises(ValueError, match="Unknown CIFAR-10 target 'lenet5'"):
        cifar_targets.train_target("lenet5", [], [], epochs=1, seed=0, precision="float32", source="x",
                                   cache=Cache(tmp_path))


# the same images as the manifest's entry, from another folder
SOURCE = "CIFAR-10 (JPEG copy) from ../shared/data/cifar10"


def _manifest_entry(name, **config):
    cfg = {"epochs": 40, "batch_size": cifar_targets.BATCH, "learning_rate": cifar_targets.learning_rate(name),
           "seed": 0, "precision": "mixed_bfloat16", "lr_schedule": cifar_targets.SCHEDULE[name], **config}
    from keras_restore import models

    return {"scale": "retrain", "seed": 0, "kwargs": models.get_spec(name).kwargs, "data": "CIFAR-10 (JPEG copy) from /somewhere/cifar10",
            "training": {"config": cfg, "n_train": 9, "n_val": 1, "precision": "mixed_bfloat16",
                         "recipe": {"fingerprint": cifar_targets.recipe_fingerprint(name)}}}


@pytest.mark.parametrize("change, matches", [
    ({}, True), ({"epochs": 39}, False), ({"seed": 1}, False), ({"learning_rate": 0.05}, False),
    ({"lr_schedule": "cosine_warmup"}, False), ({"batch_size": 64}, False), ({"precision": "float32"}, True),
])
def test_shipped_match_is_this_recipes_training(tmp_path, monkeypatch, change, matches):
    import json

    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path))
    (tmp_path / "resnet_cifar10.keras").write_bytes(b"x")
    (tmp_path / "manifest.json").write_text(json.dumps({"resnet_cifar10": _manifest_entry("resnet_cifar10", **change)}))
    found = cifar_targets.shipped_match("resnet_cifar10", n_images=10, epochs=40, seed=0, source=SOURCE)
    assert (found is not None) is matches
    # another number of training images, or another recipe, is another training
    assert cifar_targets.shipped_match("resnet_cifar10", n_images=11, epochs=40, seed=0, source=SOURCE) is None
    for field, value in (("recipe", "0" * 12), ("data", "CIFAR-10 from tensorflow-datasets"), ("kwargs", {"depth": 56})):
        entry = _manifest_entry("resnet_cifar10")
        if field == "recipe":
            entry["training"]["recipe"]["fingerprint"] = value
        else:
            entry[field] = value
        (tmp_path / "manifest.json").write_text(json.dumps({"resnet_cifar10": entry}))
        assert cifar_targets.shipped_match("resnet_cifar10", n_images=10, epochs=40, seed=0, source=SOURCE) is None


def test_train_target_reuses_the_shipped_training(tmp_path, monkeypatch):
    """A shipped target that is this recipe's training is loaded (sha256-checked), never trained again."""
    import json

    import numpy as np

    from keras_restore import models
    from keras_restore.pipeline.cache import Cache

    shipped = tmp_path / "models"
    shipped.mkdir()
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(shipped))
    model = models.build("resnet_cifar10")
    model.save(shipped / "resnet_cifar10.keras")
    entry = {**_manifest_entry("resnet_cifar10"), "sha256": models.sha256(shipped / "resnet_cifar10.keras")}
    (shipped / "manifest.json").write_text(json.dumps({"resnet_cifar10": entry}))
    x, y = np.zeros((10, 32, 32, 3), "float32"), np.zeros(10, "int64")
    loaded, record, hit = cifar_targets.train_target("resnet_cifar10", x, y, epochs=40, seed=0, precision="float32",
                                                     source=SOURCE, cache=Cache(tmp_path / "cache"))
    assert hit and record["reused"].startswith("saved_models/resnet_cifar10.keras")
    assert record["sha256"] == entry["sha256"]
    assert cifar_targets.source_of(record, hit, "retrain") == record["reused"]
    assert cifar_targets.source_of({}, True, "retrain") == "cached"
    assert cifar_targets.source_of({}, False, "retrain") == "trained (retrain scale)"
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
    assert not (tmp_path / "cache").exists()


def test_resnet20_trains_by_he_et_al_weight_decay(tmp_path, monkeypatch):
    """ResNet-20's recipe is the CIFAR-10 one with He et al.'s regularisation (1e-4 L2 under momentum 0.9 is
    1e-3 as Keras's decoupled decay); the other targets keep RECIPE, so their shipped trainings still match."""
    from keras_restore import training

    assert cifar_targets.recipe_of("resnet_cifar10") == "classifier_cifar_he"
    assert cifar_targets.recipe_of("densenet121_cifar10") == cifar_targets.RECIPE == "classifier_cifar"
    he, base = training.get_recipe("classifier_cifar_he"), training.get_recipe("classifier_cifar")
    assert (he.weight_decay, base.weight_decay) == (1e-3, 5e-4)
    assert he.fingerprint() != base.fingerprint()
    assert cifar_targets.recipe_fingerprint("resnet_cifar10") == he.fingerprint()
    assert cifar_targets.recipe_fingerprint("mobilenet_cifar10") == cifar_targets.recipe_fingerprint() == base.fingerprint()
    assert cifar_targets.retrain_scale_fields(["resnet_cifar10", "vgg19_bn_cifar10"])["target_recipe"] == {
        "resnet_cifar10": "classifier_cifar_he", "vgg19_bn_cifar10": "classifier_cifar"}
    # a ResNet-20 shipped by the old recipe (the 85.76% one) is not this recipe's training: trained, not reused
    import json

    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path))
    (tmp_path / "resnet_cifar10.keras").write_bytes(b"x")
    entry = _manifest_entry("resnet_cifar10")
    entry["training"]["recipe"]["fingerprint"] = base.fingerprint()
    (tmp_path / "manifest.json").write_text(json.dumps({"resnet_cifar10": entry}))
    assert cifar_targets.shipped_match("resnet_cifar10", n_images=10, epochs=40, seed=0, source=SOURCE) is None


def test_recipe_name_of_reads_the_record_fingerprint():
    from keras_restore import training

    for name in cifar_targets.RECIPE_NAMES:
        record = {"recipe": {"fingerprint": training.get_recipe(name).fingerprint()}}
        assert cifar_targets.recipe_name_of(record) == name
    assert cifar_targets.recipe_name_of({"recipe": {"fingerprint": "000000000000"}}) is None
    assert cifar_targets.recipe_name_of({}) is None
    shipped = json.loads((pathlib.Path(__file__).parents[2] / "saved_models" / "manifest.json").read_text())
    assert cifar_targets.recipe_name_of(shipped["resnet_cifar10"]["training"]) == "classifier_cifar_he"

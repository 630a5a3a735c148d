"""pipeline/ship.py: a spec with ship_quantized ships its int8 copy and records it; a file over the 30 MB limit
is refused before anything in saved_models/ is replaced."""

import json
import re

import keras
import numpy as np

from keras_restore import models
from keras_restore.models import quantize
from keras_restore.pipeline.ship import ship_model


def test_ships_restorer_cifar10_quantized(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path))
    keras.utils.set_random_seed(0)
    model = models.build("restorer_cifar10")
    x = np.random.default_rng(0).random((16, 32, 32, 3)).astype("float32")
    logged = []
    dest = ship_model("restorer_cifar10", model, {"epochs": 1}, {"m": 1.0}, scale="quick", seed=0, source="s",
                      log=logged.append, check_inputs=x)
    entry = json.loads((tmp_path / "manifest.json").read_text())["restorer_cifar10"]
    assert entry["bytes"] == dest.stat().st_size < 30e6
    q = entry["quantized"]
    assert q["mode"] == "int8" and q["layers"] == ["bottleneck_dense"] and q["checked_on"] == "16 test images"
    assert 0 < q["mean_abs_output_diff"] <= q["max_abs_output_diff"] < 0.02
    assert "Dense kernels in int8 (bottleneck_dense)" in logged[0]
    loaded = models.load_model("restorer_cifar10", directory=tmp_path)
    assert quantize.quantized_layers(loaded) == {"bottleneck_dense": "int8"}
    assert not [p for p in tmp_path.iterdir() if p.name not in ("restorer_cifar10.keras", "manifest.json")]


def test_refuses_a_file_over_the_limit_and_keeps_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path))
    (tmp_path / "restorer_mnist.keras").write_bytes(b"old")
    logged = []
    assert ship_model("restorer_mnist", models.build("restorer_mnist"), {}, {}, scale="quick", seed=0, source="s",
                      log=logged.append) is None
    assert re.fullmatch(r"\[ship\] restorer_mnist not shipped: its .keras file is 6\d\.\d MB, over the 30 MB limit "
                        r"of a shipped file; saved_models/ is unchanged", logged[-1]), logged
    assert (tmp_path / "restorer_mnist.keras").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["restorer_mnist.keras"]


def test_refuses_what_would_take_the_folder_over_400_mb(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path))
    with open(tmp_path / "big.keras", "wb") as f:   # a sparse 399.9 MB file: no disk used
        f.truncate(int(399.9e6))
    logged = []
    assert ship_model("m2", models.build("m2"), {}, {}, scale="quick", seed=0, source="s", log=logged.append) is None
    assert re.search(r"m2 not shipped: saved_models/ would hold 400\.\d MB, over its 400 MB limit", logged[-1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.keras"]
    (tmp_path / "big.keras").unlink()
    assert ship_model("m2", models.build("m2"), {}, {}, scale="quick", seed=0, source="s", log=logged.append)
    assert "m2" in json.loads((tmp_path / "manifest.json").read_text())

"""reproduce/make_pairs.py (pairs exported for training a restorer elsewhere): it exports the pairs of one row's
restorer exactly as the table run trains it (the CRU-Net tables: one target's pairs per CRU-Net), with the cache
key a table run gives that restorer, and refuses a bad --row. Micro-sized on MNIST's CRU-Net Table 2."""

import dataclasses
import json

import numpy as np
import pytest

from keras_restore.pipeline import get_scale
from keras_restore.pipeline.phases import Run
from keras_restore.pipeline.tables import CRUNET_TABLE2

MICRO = {"target_epochs": {"anet": 1, "bnet": 1}, "target_train_limit": 300, "n_pairs": 48,
         "attack_overrides": {"cw": {"binary_search_steps": 1, "max_iterations": 5}, "deepfool": {"max_iter": 5},
                              "spa": {"n_angles": 3, "n_translations": 1}}}


def test_exports_one_rows_pairs_with_its_restorer_key(reproduce_script, data_dir, tmp_path, monkeypatch):
    script = reproduce_script("make_pairs")
    micro = dataclasses.replace(get_scale("quick", CRUNET_TABLE2), name="micro", **MICRO)
    monkeypatch.setattr(script, "get_scale", lambda name, spec: micro)
    out = tmp_path / "out"
    assert script.main(["--table", "crunet_table2_mnist_whitebox", "--row", "b-net", "--quick", "--data-dir",
                        str(data_dir), "--cache-dir", str(tmp_path / "cache"), "--out-dir", str(out), "--eval", "8",
                        "--quiet"]) == 0
    meta = json.loads((out / "pairs.json").read_text())
    assert (meta["row"], meta["restorer"], meta["trained_for"]) == ("B-Net", "crunet_mnist_bnet", {"B-net": "bnet"})
    with np.load(out / "pairs.npz") as f:
        x_adv, groups, names = f["x_adv"], f["groups"], set(f.files)
    assert len(x_adv) == 48 and set(groups) == {"FGSM", "R-FGSM", "PGD", "DFA", "CWA", "SPA"}
    # B-Net's CRU-Net only: its own target's pairs and evaluation sets, not A-Net's
    assert {n.split("__")[1] for n in names if n.startswith("eval__")} == {"bnet"}
    assert (out / "bnet.keras").exists() and not (out / "anet.keras").exists()
    # the key a table run gives that restorer, from the same cache (targets found, not retrained)
    run = Run(CRUNET_TABLE2, micro, data_dir=data_dir, cache_dir=tmp_path / "cache", seed=0, columns=None,
              progress=False, log=lambda s: None)
    run.load_data()
    plan = run.restorer_plan("B-Net", train=False)
    assert meta["restorer_key"] == plan.key and list(plan.targets) == ["B-net"]
    x_again, _, groups_again, _, _ = run.training_pairs(plan)   # the cached sets, in the same order
    np.testing.assert_array_equal(x_adv, x_again.astype(np.float16))
    np.testing.assert_array_equal(groups, groups_again.astype(str))


@pytest.mark.parametrize("argv,message", [
    (["--table", "crunet_table2_mnist_whitebox", "--row", "C-Net"], "--row 'C-Net' is not a row"),
    (["--table", "table4_mnist_feature_squeezing"], "has no row with a restorer"),
    (["--set", "n_pairs"], "bad --set 'n_pairs'"),
])
def test_bad_arguments(reproduce_script, argv, message, capsys):
    script = reproduce_script("make_pairs")
    with pytest.raises(SystemExit):
        script.main(argv)
    assert message in capsys.readouterr().err

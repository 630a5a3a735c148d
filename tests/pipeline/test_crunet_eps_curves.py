"""reproduce/crunet_cifar10_eps_curves.py (issue 21's eps ablation of the CIFAR-10 CRU-Nets): it reads the
table runs' restorers and trains none outside --quick, lists a variant not trained with the command that
trains it, and refuses bad arguments. Micro-sized on MNIST's CRU-Net Table 2 (the same phases as Table 3)."""

import dataclasses

import pytest

from keras_restore.pipeline import get_scale, run_table
from keras_restore.pipeline.tables import CRUNET_TABLE2, balanced_variant, select_rows

MICRO = dataclasses.replace(get_scale("quick", CRUNET_TABLE2), name="micro", target_epochs={"anet": 1, "bnet": 1},
                            target_train_limit=300, n_pairs=48, n_eval=24, restorer_epochs=1, n_adaptive=0,
                            attack_overrides={"cw": {"binary_search_steps": 1, "max_iterations": 5},
                                              "deepfool": {"max_iter": 5}, "spa": {"n_angles": 3, "n_translations": 1}})
QUIET = {"progress": False, "log": lambda s: None}


def test_reads_the_tables_restorers_and_trains_none_outside_quick(reproduce_script, data_dir, tmp_path):
    script = reproduce_script("crunet_cifar10_eps_curves")
    # the balanced variant of the same table: same restorer name, another recipe (another cache key)
    specs = {"pooled": CRUNET_TABLE2,
             "balanced": balanced_variant(CRUNET_TABLE2, "t2_balanced", "t", lambda row: row.restorer)}
    kw = {"labels": ["A-Net"], "settings": {"eps_255": (0, 25), "overrides": {"bim": {"nb_iter": 2}}},
          "data_dir": data_dir, "cache_dir": tmp_path / "cache", "seed": 0, "precision": "float32",
          "scale_of": lambda spec: MICRO, **QUIET}
    # nothing trained yet: both variants listed with their commands, no rows, and nothing trained (not even
    # the target)
    res = script.run(specs, "retrain", **kw)
    assert res["rows"] == [] and set(res["not_run"]) == {"A-Net / pooled", "A-Net / balanced"}
    assert res["not_run"]["A-Net / balanced"]["command"] == (
        "python reproduce/crunet_table3_cifar10_balanced.py --retrain --rows A-Net --data-dir ../shared/data")
    assert "Target 'anet' of table 'crunet_table2_mnist_whitebox' at scale 'micro' is neither shipped nor cached" in (
        res["not_run"]["A-Net / pooled"]["reason"])
    assert not list((tmp_path / "cache").rglob("*.keras")) and res["precision"] == "float32"
    # the pooled CRU-Net trained by its table's run is found (the same cache key); the balanced one is not
    run_table(select_rows(CRUNET_TABLE2, ["A-Net"]), MICRO, data_dir=data_dir, out_dir=tmp_path / "out",
              cache_dir=tmp_path / "cache", columns=["FGSM"], **QUIET)
    res = script.run(specs, "retrain", **kw)
    assert set(res["not_run"]) == {"A-Net / balanced"}
    assert "Restorer 'crunet_mnist_anet' of table 't2_balanced'" in res["not_run"]["A-Net / balanced"]["reason"]
    assert [(r["attack"], r["eps_255"]) for r in res["rows"]] == [("fgsm", 0), ("fgsm", 25), ("bim", 0), ("bim", 25)]
    assert {r["defense"] for r in res["rows"]} == {script.VARIANTS["pooled"][1]}
    assert all(r["n_images"] == MICRO.n_eval and r["target"] == "anet" for r in res["rows"])
    assert res["models"]["A-Net"]["restorers"]["pooled"]["record"]["source"] == "trained (micro scale)"
    # at --quick a missing restorer is trained
    res = script.run(specs, "quick", **kw)
    assert res["not_run"] == {} and len({r["defense"] for r in res["rows"]}) == 2
    lines = script.summary(res["rows"])
    assert len(lines) == 4 and lines[0].startswith("anet FGSM CRU-Net (pooled MSE")


def test_stems_and_commands(reproduce_script):
    script = reproduce_script("crunet_cifar10_eps_curves")
    whole = ["D-Net", "M-Net"]
    assert script._stem(whole, list(script.VARIANTS), whole) == "crunet_cifar10_eps_curves"
    assert script._stem(["M-Net"], ["pooled"], whole) == "crunet_cifar10_eps_curves_rows-m-net_variants-pooled"
    # the variants in any order are the whole run
    assert script.parse_args(["--variants", "feature_pixel", "anchored", "guided", "balanced", "pooled"]).variants == list(script.VARIANTS)
    assert script._stem(["M-Net"], ["pooled", "balanced"], whole) == (
        "crunet_cifar10_eps_curves_rows-m-net_variants-pooled-balanced")
    assert script.not_run_command("pooled", "default", "D-Net") == (
        "python reproduce/crunet_table3_cifar10_whitebox.py --rows D-Net --data-dir ../shared/data")
    assert script.not_run_command("balanced", "paper", "M-Net", "mixed_bfloat16") == (
        "python reproduce/crunet_table3_cifar10_balanced.py --paper --precision mixed_bfloat16 --rows M-Net "
        "--data-dir ../shared/data")


@pytest.mark.parametrize("argv,message", [
    (["--rows", "X-Net"], "Unknown row(s) ['X-Net']"),
    (["--variants", "weighted"], "invalid choice: 'weighted'"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--ship"], "unrecognized arguments: --ship"),
    (["--rows"], "expected at least one argument"),
])
def test_bad_arguments(reproduce_script, argv, message, capsys):
    script = reproduce_script("crunet_cifar10_eps_curves")
    with pytest.raises(SystemExit):
        script.main(argv)
    assert message in capsys.readouterr().err

"""Tables 5-7 of papers/000: printed values pinned, per-dataset scales, and the transfer tables'
restorer (trained for other targets than the table's rows) exercised at a micro scale."""

import csv
import dataclasses
import json

import pytest

from keras_restore.pipeline import TABLES, get_scale, run_table
from keras_restore.pipeline.tables import COLUMNS, TABLE4, TABLE6, paper000_table


def test_paper_values_pinned():
    # As printed in papers/000, Tables 5, 6, 7.
    assert TABLES["table5_cifar10"].paper["Dense-Net"] == {"FGSM": 84.95, "BIM": 87.38, "PGD": 85.56,
                                                          "DFA": 87.62, "CWA": 94.66, "SPA": 81.31}
    assert TABLES["table5_cifar10"].paper["Mobile-Net"]["SPA"] == 62.53
    assert TABLES["table6_transfer_mnist"].paper["LeNet"]["CWA"] == 100.0
    assert TABLES["table6_transfer_mnist"].paper["AlexNet"] == {"FGSM": 98.47, "BIM": 97.75, "PGD": 98.26,
                                                               "DFA": 99.28, "CWA": 98.26, "SPA": 97.51}
    assert TABLES["table7_transfer_cifar10"].paper["VGG19"]["SPA"] == 64.9
    assert TABLES["table7_transfer_cifar10"].paper["ResNet"]["PGD"] == 85.58


def test_transfer_tables_use_the_other_tables_restorer():
    t5, t6, t7 = (TABLES[n] for n in ("table5_cifar10", "table6_transfer_mnist", "table7_transfer_cifar10"))
    assert {t6.restorer_of(lab) for lab in t6.rows} == {"restorer_mnist"}
    assert all(t6.trained_for(lab) == {"M1": "m1", "M2": "m2"} for lab in t6.rows)
    assert t7.restorer_of("VGG19") == t5.restorer_of("Dense-Net") == "restorer_cifar10"
    assert t7.trained_for("ResNet") == t5.targets and t5.trained_for("Dense-Net") == t5.targets
    assert not set(t7.targets.values()) & set(t7.trained_for("VGG19").values())
    # Transfer tables do not own (ship) the restorer; Table 5 does.
    assert not any(t7.owns_restorer(lab) for lab in t7.rows) and all(t5.owns_restorer(lab) for lab in t5.rows)


@pytest.mark.parametrize("table", ["table5_cifar10", "table7_transfer_cifar10"])
def test_cifar_scales(table):
    spec = TABLES[table]
    quick, default, paper = (get_scale(s, spec) for s in ("quick", "default", "paper"))
    assert quick.n_eval < default.n_eval < paper.n_eval
    for name in spec.targets.values():
        assert quick.target_epochs[name] <= default.target_epochs[name] < paper.target_epochs[name]
    assert default.attack_overrides["cw"] == {"binary_search_steps": 3, "max_iterations": 50}
    assert "CIFAR" not in get_scale("default").note   # the MNIST scale itself is unchanged
    assert get_scale("default").n_eval == 1000


def test_missing_target_epochs_is_a_clear_error(data_dir, tmp_path):
    scale = dataclasses.replace(get_scale("quick"), target_epochs={})
    with pytest.raises(ValueError, match="has no epochs for target 'lenet5'"):
        run_table(TABLE6, scale, data_dir=data_dir, out_dir=tmp_path, cache_dir=tmp_path, progress=False,
                  log=lambda s: None)


def test_transfer_table_trains_restorer_on_its_own_targets(data_dir, tmp_path, monkeypatch):
    # Nothing shipped: the restorer must be trained on pairs from M1/M2, never LeNet/AlexNet. Table 6
    # with its LeNet row only (AlexNet-28 alone took ~2 of this test's 4 minutes; same phases).
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path / "no_models"))
    lenet_only = paper000_table(6, "mnist", {"LeNet": "lenet5"}, "restorer_mnist",
                                {"LeNet": tuple(TABLE6.paper["LeNet"][c] for c in COLUMNS)}, TABLE6.figure, transfer_of=TABLE4)
    assert lenet_only.name == TABLE6.name and lenet_only.rows["LeNet"] == TABLE6.rows["LeNet"]
    micro = dataclasses.replace(get_scale("quick", TABLE6), name="micro",
                                target_epochs={"lenet5": 1, "m1": 1, "m2": 1},
                                target_train_limit=1000, n_pairs=24, n_eval=12, n_adaptive=0)
    logs = []
    res = run_table(lenet_only, micro, data_dir=data_dir, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                    columns=["FGSM"], ship=True, progress=False, log=logs.append)
    restorer = res["meta"]["restorer"]
    assert restorer["trained_for"] == {"M1": "m1", "M2": "m2"}
    assert set(restorer["pairs"]) == {f"{t}/{c}" for t in ("M1", "M2") for c in TABLE6.columns}
    rows = list(csv.DictReader(open(tmp_path / "out" / "table6_transfer_mnist.csv")))
    assert [r["target"] for r in rows] == ["LeNet"]
    assert float(rows[0]["FGSM_paper"]) == 97.45
    assert any("trained for M1, M2" in line for line in logs)
    # --ship ships the table's own targets, never the restorer it borrowed (Table 4 owns it).
    manifest = json.loads((tmp_path / "no_models" / "manifest.json").read_text())
    assert set(manifest) == {"lenet5"}


def test_restorer_training_keeps_the_best_validation_epoch(tmp_path):
    import keras
    import numpy as np

    from keras_restore import models, training

    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1)).astype("float32")
    model = models.build("crunet_mnist")
    rec = training.train_restorer(model, x, x, training.TrainConfig(epochs=3, batch_size=16, val_fraction=0.25))
    val = rec["history"]["val_loss"]
    assert rec["kept_epoch"] == int(np.argmin(val)) + 1
    # the model holds the kept epoch's weights: its validation MSE equals the best one
    mse = float(keras.ops.mean((model.predict(x[48:], verbose=0) - x[48:]) ** 2))
    assert abs(mse - min(val)) < 1e-4


def test_balanced_variant_is_table5_with_its_own_restorer_and_recipe():
    t5, bal = TABLES["table5_cifar10"], TABLES["table5_cifar10_balanced"]
    assert (bal.targets, bal.columns, bal.paper, bal.dataset) == (t5.targets, t5.columns, t5.paper, t5.dataset)
    assert {(r.restorer, r.recipe) for r in bal.rows.values()} == {("restorer_cifar10_balanced", "pixel_mse_balanced")}
    assert all(bal.owns_restorer(label) for label in bal.rows)
    from keras_restore import models

    assert models.get_spec("restorer_cifar10_balanced").not_shipped   # 78.8 MB: trained by the script
    for scale in ("default", "retrain"):
        assert get_scale(scale, bal) == get_scale(scale, t5)


def test_crunet_layout_ablation_is_table5_with_only_the_restorer_layout_changed():
    t5, abl = TABLES["table5_cifar10"], TABLES["table5_cifar10_crunet_layout"]
    assert (abl.targets, abl.columns, abl.paper, abl.dataset, abl.eval_images) == \
        (t5.targets, t5.columns, t5.paper, t5.dataset, t5.eval_images)
    # same recipe as Table 5 (the defense's own: pixel MSE), only another restorer name -> another layout
    assert {(r.restorer, r.recipe, r.defense) for r in abl.rows.values()} == \
        {("restorer_cifar10_crunet_layout", None, "deep_image_restoration")}
    assert all(abl.owns_restorer(label) for label in abl.rows)
    for scale in ("quick", "default", "retrain", "paper"):
        assert get_scale(scale, abl) == get_scale(scale, t5)
    from keras_restore import models

    spec = models.get_spec("restorer_cifar10_crunet_layout")
    assert spec.kind == "restorer" and spec.dataset == "cifar10" and not spec.not_shipped
    assert spec.builder is models.get_spec("crunet_cifar10").builder is not models.get_spec("restorer_cifar10").builder
    assert models.build("restorer_cifar10_crunet_layout").count_params() == 1_233_619


def test_select_rows_keeps_each_restorers_training_targets():
    """A partial run of Table 5 (one row) trains/loads the very restorer of the whole table: its
    ``trained_for`` stays both targets, so its cache key is the same; the outputs get their own stem."""
    from keras_restore.pipeline.tables import select_rows

    t5 = TABLES["table5_cifar10"]
    one = select_rows(t5, ["Mobile-Net"])
    assert list(one.rows) == ["Mobile-Net"] and one.name == "table5_cifar10_rows-mobile-net"
    assert one.trained_for("Mobile-Net") == t5.trained_for("Mobile-Net") == t5.targets
    assert not one.owns_restorer("Mobile-Net")   # so it is never shipped from a partial run
    assert one.paper == {"Mobile-Net": t5.paper["Mobile-Net"]} and "partial run" in one.title
    assert one.partial_of == "table5_cifar10" and t5.partial_of == ""
    assert select_rows(t5, ["mobile-net"]) == one   # a label is matched ignoring case
    assert select_rows(t5, ["Mobile-Net", "Dense-Net"]) is t5   # every row: the table itself
    # an adversarially trained copy is trained on no pairs: its row's trained_for stays None
    from keras_restore.defenses import get_defense

    t9 = TABLES["table9_cifar10_baselines"]
    robust = next(label for label, row in t9.rows.items() if get_defense(row.defense).model_arg == "robust"
                  and row.restorer is not None)
    assert select_rows(t9, [robust]).rows[robust].trained_for is None
    assert get_scale("retrain", one) == get_scale("retrain", t5)
    with pytest.raises(ValueError, match=r"Unknown row\(s\) \['M-Net'\] for table 'table5_cifar10'; expected some "
                                         r"of: Dense-Net, Mobile-Net\."):
        select_rows(t5, ["M-Net"])
    with pytest.raises(ValueError, match="`rows` must name at least one row of 'table5_cifar10'"):
        select_rows(t5, [])


def test_rows_flag_is_refused_with_ship(data_dir, tmp_path):
    with pytest.raises(ValueError, match=r"--ship ships the models of a whole table's run; run table5_cifar10 "
                                         r"without --rows \(Mobile-Net\)"):
        run_table(TABLES["table5_cifar10"], get_scale("quick", TABLES["table5_cifar10"]), data_dir=data_dir,
                  out_dir=tmp_path, cache_dir=tmp_path, rows=["Mobile-Net"], ship=True, progress=False,
                  log=lambda s: None)
    assert list(tmp_path.iterdir()) == []


def test_rows_flag_on_the_command_line(data_dir, tmp_path, capsys):
    from keras_restore.pipeline.script import main_for

    with pytest.raises(SystemExit) as e:
        main_for("crunet_table5_cifar10_blackbox", ["--quick", "--data-dir", str(data_dir), "--out-dir",
                                                    str(tmp_path), "--cache-dir", str(tmp_path), "--rows", "M-Net"])
    assert e.value.code == 1
    assert "error: Unknown row(s) ['M-Net'] for table 'crunet_table5_cifar10_blackbox'; expected some of: " \
           "D-net/M-net, M-net/D-net." in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main_for("table5_cifar10", ["--help"])
    assert "--rows ROW [ROW ...]" in capsys.readouterr().out

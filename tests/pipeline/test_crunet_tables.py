"""CRU-Net paper (papers/001) Tables 2-7 on the shared pipeline: printed values pinned, the
"first n_eval test images" evaluation, per-row (black-box) restorers, the paper's 255-scale PSNR,
and bad input. Runs are micro-sized (a few hundred training images, 24 test images)."""

import csv
import dataclasses
import json
import math

import numpy as np
import pytest

from keras_restore import models
from keras_restore.defense import psnr, psnr_paper_255
from keras_restore.pipeline import TABLES, TableSpec, get_scale, run_table
from keras_restore.pipeline.phases import attack_tag, eval_indices
from keras_restore.pipeline.similarity import similarity_table
from keras_restore.pipeline.tables import (ATTACK_OF_COLUMN, CRUNET_COLUMNS, CRUNET_TABLE2, CRUNET_TABLE4,
                                           Row, get_table)

# Attacks cut down so that the restorer pairs (all six attacks) stay cheap.
MICRO_ATTACKS = {"cw": {"binary_search_steps": 1, "max_iterations": 5}, "deepfool": {"max_iter": 5},
                 "spa": {"n_angles": 3, "n_translations": 1}}
# 300 training images, 1 epoch: weak targets, so "the first n_eval test images" differs from
# "the first n_eval correctly classified".
MICRO = dataclasses.replace(get_scale("quick", CRUNET_TABLE2), name="micro", target_epochs={"anet": 1, "bnet": 1},
                            target_train_limit=300, n_pairs=48, n_eval=24, restorer_epochs=1,
                            attack_overrides=MICRO_ATTACKS, n_adaptive=0)   # adaptive: test_run_table
QUIET = {"progress": False, "log": lambda s: None}


@pytest.fixture(scope="module")
def runs(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("crunet")
    return {"dir": d, "cache": d / "cache", "out": d / "out"}


@pytest.fixture(scope="module")
def whitebox(runs, data_dir):
    res = run_table(CRUNET_TABLE2, MICRO, data_dir=data_dir, out_dir=runs["out"], cache_dir=runs["cache"],
                    columns=["FGSM", "R-FGSM"], **QUIET)
    return res


# ---------------------------------------------------------------- specs and paper values
def test_paper_values_pinned():
    t2, t3, t4, t5 = (TABLES[n] for n in ("crunet_table2_mnist_whitebox", "crunet_table3_cifar10_whitebox",
                                          "crunet_table4_mnist_blackbox", "crunet_table5_cifar10_blackbox"))
    # As printed in papers/001 Tables 2-5 (fractions).
    assert t2.paper_accuracies["A-Net"]["FGSM"] == {"no_attack": 0.9935, "no_defense": 0.2244, "defense": 0.9935}
    assert t2.paper_accuracies["B-Net"]["R-FGSM"] == {"no_attack": 0.9939, "no_defense": 0.1011, "defense": 0.9940}
    assert t2.paper_accuracies["B-Net"]["SPA"]["no_defense"] == 0.0732
    assert t3.paper_accuracies["D-Net"]["PGD"] == {"no_attack": 0.8330, "no_defense": 0.1260, "defense": 0.7990}
    assert t3.paper_accuracies["M-Net"]["CWA"]["no_defense"] == 0.6500
    assert t4.paper_accuracies["A-net/B-net"]["PGD"]["defense"] == 0.9799
    assert t4.paper_accuracies["B-net/A-net"]["CWA"] == {"no_attack": 0.9939, "no_defense": 0.5050, "defense": 0.9830}
    assert t5.paper_accuracies["D-net/M-net"]["DFA"]["defense"] == 0.8921
    assert t5.paper_accuracies["M-net/D-net"]["FGSM"]["defense"] == 0.7857
    # Tables 6-7 (SSIM / PSNR, "S.A." = SPA).
    assert t2.paper_similarity["A-Net"]["PSNR"] == {"FGSM": 94.31, "R-FGSM": 97.98, "PGD": 95.67, "DFA": 95.89,
                                                    "CWA": 94.89, "SPA": 94.31}
    assert t2.paper_similarity["B-Net"]["SSIM"]["CWA"] == 0.9990
    assert t3.paper_similarity["D-Net"]["SSIM"]["CWA"] == 0.947
    assert t3.paper_similarity["M-Net"]["PSNR"]["R-FGSM"] == 105.32
    for spec in (t2, t3, t4, t5):   # every row x attack has all three numbers
        assert set(spec.paper_accuracies) == set(spec.targets)
        for row in spec.paper_accuracies.values():
            assert list(row) == list(CRUNET_COLUMNS) and all(len(v) == 3 for v in row.values())
    # The black-box "No attack" / "No defense" columns are the white-box ones (same examples).
    for (wb, bb) in (("A-Net", "A-net/B-net"), ("B-Net", "B-net/A-net")):
        for col in CRUNET_COLUMNS:
            assert t4.paper_accuracies[bb][col]["no_defense"] == t2.paper_accuracies[wb][col]["no_defense"]


def test_specs():
    assert ATTACK_OF_COLUMN["R-FGSM"] == "rfgsm"
    for name in ("table4_mnist", "table5_cifar10", "table6_transfer_mnist", "table7_transfer_cifar10"):
        spec = TABLES[name]   # papers/000 tables keep their behaviour
        assert (spec.eval_images, spec.report) == ("correct", "success_rate")
        assert len({spec.restorer_of(label) for label in spec.rows}) == 1
        assert "BIM" in spec.columns
    for name in ("crunet_table2_mnist_whitebox", "crunet_table3_cifar10_whitebox",
                 "crunet_table4_mnist_blackbox", "crunet_table5_cifar10_blackbox"):
        spec = TABLES[name]
        assert spec.columns == CRUNET_COLUMNS and spec.eval_images == "first" and spec.report == "accuracy"
    t2, t4, t5 = CRUNET_TABLE2, CRUNET_TABLE4, TABLES["crunet_table5_cifar10_blackbox"]
    # White-box: each target restored by the CRU-Net trained for it (two per dataset, Sec. 5.3),
    # the same two restorers the black-box table swaps.
    assert t2.restorer_of("A-Net") == "crunet_mnist_anet" and t2.trained_for("A-Net") == {"A-net": "anet"}
    assert {r.restorer for r in t2.rows.values()} == {r.restorer for r in t4.rows.values()}
    # Each black-box row is restored by the CRU-Net trained for the *other* target only.
    assert t4.rows["A-net/B-net"] == Row("anet", "crunet", "crunet_mnist_bnet", {"B-net": "bnet"})
    assert t4.restorer_of("B-net/A-net") == "crunet_mnist_anet"
    assert t5.trained_for("D-net/M-net") == {"M-net": "mobilenet_cifar10"}
    assert t5.restorer_of("M-net/D-net") == "crunet_cifar10_dnet"
    for spec in (t4, t5):
        for label, row in spec.rows.items():
            assert spec.targets[label] not in row.trained_for.values()
            alias = models.get_spec(row.restorer)
            base = "crunet_mnist" if spec.dataset == "mnist" else "crunet_cifar10"
            assert alias.builder is models.get_spec(base).builder and alias.kind == "restorer"
            assert row.defense == "crunet" and spec.owns_restorer(label)
    # Same images and seeds for a target in its white-box and black-box table.
    assert attack_tag(t2, "A-Net") == attack_tag(t4, "A-net/B-net") == "anet-test-first"
    assert attack_tag(TABLES["table4_mnist"], "M1") == "M1-test"


def test_scales():
    t2, t3 = CRUNET_TABLE2, TABLES["crunet_table3_cifar10_whitebox"]
    default, retrain = get_scale("default", t2), get_scale("retrain", t2)
    for s in (default, retrain):
        assert (s.target_epochs["anet"], s.target_epochs["bnet"], s.target_train_limit) == (3, 3, None)
        assert (s.n_pairs, s.restorer_epochs, s.n_eval, s.restorer_lr) == (6000, 6, 500, 3e-4)
        assert s.attack_overrides == {"cw": {"binary_search_steps": 3, "max_iterations": 50}}
    quick, paper = get_scale("quick", t2), get_scale("paper", t2)
    assert quick.restorer_lr == paper.restorer_lr == 3e-4   # 1e-3 diverged on MNIST (tables.py)
    assert quick.n_eval < default.n_eval < paper.n_eval == 10000
    d3, d5 = get_scale("default", t3), get_scale("default", TABLES["table5_cifar10"])
    # the CRU-Net CIFAR-10 tables: Table 5's targets, attacks and evaluation size, but one CRU-Net
    # per target on 4,000 of its own pairs for 4 epochs
    assert (d3.target_epochs, d3.attack_overrides, d3.n_eval) == (d5.target_epochs, d5.attack_overrides, d5.n_eval)
    assert (d3.n_pairs, d3.restorer_epochs, d5.n_pairs, d5.restorer_epochs) == (4000, 4, 8000, 8)
    # the papers' budget per CRU-Net, at Adam 3e-4 (1e-3 went NaN in M-net's 2nd epoch, as on MNIST)
    r3, p3 = get_scale("retrain", t3), get_scale("paper", t3)
    assert (r3.n_pairs, r3.restorer_epochs, r3.restorer_lr, p3.restorer_lr) == (50000, 20, 3e-4, 3e-4)
    assert d3.restorer_lr == get_scale("retrain", TABLES["table5_cifar10"]).restorer_lr == 1e-3
    assert get_scale("default").n_eval == 1000   # the MNIST base scale is unchanged


# ---------------------------------------------------------------- PSNR on 0-255 images
def test_psnr_paper_255_by_hand():
    a = np.zeros((1, 2, 2, 1), np.float32)
    b = np.array([0, 10, 20, 30], np.float32).reshape(1, 2, 2, 1) / 255
    # MSE = (0 + 100 + 400 + 900) / 4 = 350 on 0-255; PSNR = 10 log10(255^2 / 350) = 22.6901 dB
    assert psnr_paper_255(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 350), abs=1e-9)
    assert psnr_paper_255(a, b) == pytest.approx(22.6901, abs=1e-4)
    assert psnr(a, b) == pytest.approx(22.6901, abs=1e-3)   # exact levels: the same as tf on [0, 1]
    # 8-bit rounding: 0.3/255 rounds to level 0 -> identical images -> the cap; tf sees a difference.
    c = np.full((1, 2, 2, 1), 0.3 / 255, np.float32)
    assert psnr_paper_255(a, c) == 100.0 and psnr(a, c) < 100
    # Per-image PSNR, averaged; one (h, w, c) image works too.
    two = psnr_paper_255(np.concatenate([a, a]), np.concatenate([b, b * 0 + 20 / 255]))
    assert two == pytest.approx((22.690123 + 10 * math.log10(255 ** 2 / 400)) / 2, abs=1e-5)
    assert psnr_paper_255(a[0], b[0]) == pytest.approx(22.690123, abs=1e-5)
    with pytest.raises(ValueError, match="must equal"):
        psnr_paper_255(a, np.zeros((1, 3, 3, 1)))


# ---------------------------------------------------------------- bad input
def test_bad_input(data_dir, tmp_path):
    with pytest.raises(ValueError, match="Unknown table 'crunet_table9'"):
        get_table("crunet_table9")
    with pytest.raises(ValueError, match=r"Unknown attack column\(s\) \['BIM'\]"):
        run_table(CRUNET_TABLE2, MICRO, data_dir=data_dir, out_dir=tmp_path, cache_dir=tmp_path, columns=["BIM"],
                  **QUIET)
    with pytest.raises(ValueError, match="--restorer-file gives one restorer, but crunet_table4_mnist_blackbox needs 2"):
        run_table(CRUNET_TABLE4, MICRO, data_dir=data_dir, out_dir=tmp_path, cache_dir=tmp_path,
                  restorer_file=tmp_path / "r.keras", **QUIET)
    with pytest.raises(ValueError, match="Unknown eval_images 'all'"):
        dataclasses.replace(CRUNET_TABLE2, eval_images="all")
    with pytest.raises(ValueError, match="Unknown attack column"):
        dataclasses.replace(CRUNET_TABLE2, columns=("FGSM", "XYZ"))
    with pytest.raises(ValueError, match=r"rows\['A-net/B-net'\] must be a Row"):
        dataclasses.replace(CRUNET_TABLE4, rows={"A-net/B-net": ("crunet_mnist_bnet", {"B-net": "bnet"})})
    with pytest.raises(ValueError, match="needs at least one row"):
        dataclasses.replace(CRUNET_TABLE4, rows={})
    with pytest.raises(ValueError, match=r"trained_for needs a restorer and at least one target"):
        dataclasses.replace(CRUNET_TABLE4, rows={"x": Row("anet", "crunet", "crunet_mnist_bnet", {})})
    with pytest.raises(ValueError, match="Unknown dataset 'svhn'"):
        similarity_table("quick", datasets=["svhn"], out_dir=tmp_path, cache_dir=tmp_path, **QUIET)
    assert isinstance(CRUNET_TABLE2, TableSpec)


# ---------------------------------------------------------------- evaluation set
def test_eval_indices_first_vs_correct(mnist_test):
    x, y = mnist_test
    model = models.build("anet")   # untrained: ~10% correct
    first = eval_indices(CRUNET_TABLE2, model, x[:200], y[:200], 30)
    correct = eval_indices(TABLES["table4_mnist"], model, x[:200], y[:200], 30)
    np.testing.assert_array_equal(first, np.arange(30))
    pred = model.predict(x[:200], verbose=0).argmax(1)
    np.testing.assert_array_equal(correct, np.flatnonzero(pred == y[:200])[:30])
    assert len(eval_indices(CRUNET_TABLE2, model, x[:10], y[:10], 30)) == 10


def test_whitebox_evaluates_the_first_test_images(whitebox, runs, mnist_test):
    x, y = mnist_test
    out = runs["out"]
    rows = list(csv.DictReader(open(out / "crunet_table2_mnist_whitebox.csv")))
    assert [(r["attack"], r["target"]) for r in rows] == [("FGSM", "A-Net"), ("FGSM", "B-Net"),
                                                         ("R-FGSM", "A-Net"), ("R-FGSM", "B-Net")]
    first = rows[0]
    assert float(first["no_attack_pct_paper"]) == 99.35 and float(first["no_defense_pct_paper"]) == 22.44
    assert float(rows[3]["crunet_defense_pct_paper"]) == 99.40
    for r in rows:
        assert int(r["n_images"]) == 24
        assert r["restorer"] == {"A-Net": "crunet_mnist_anet", "B-Net": "crunet_mnist_bnet"}[r["target"]]
        for prefix in ("no_attack_pct", "no_defense_pct", "crunet_defense_pct"):
            assert abs(float(r[prefix]) - float(r[f"{prefix}_paper"]) - float(r[f"{prefix}_delta"])) < 0.02
    # "No attack" is the target's accuracy on test images 0..23, not 100% by construction.
    meta = json.loads((out / "crunet_table2_mnist_whitebox.meta.json").read_text())
    for label, name in CRUNET_TABLE2.targets.items():
        model = models.load_keras_file(meta["targets"][label]["cache_file"])
        ours = float(np.mean(model.predict(x[:24], verbose=0).argmax(1) == y[:24]) * 100)
        for r in whitebox["long"]:
            if r["target"] == label:
                assert r["original_accuracy"] == pytest.approx(ours)
                assert 0 < r["psnr_paper255_restored"] <= 100 and 0 < r["ssim_restored"] <= 1
    assert any(r["original_accuracy"] < 100 for r in whitebox["long"])
    assert meta["similarity"]["A-Net"]["R-FGSM"]["psnr_paper255_db"] == whitebox["long"][1]["psnr_paper255_restored"]
    assert (out / "crunet_table2_mnist_whitebox_bars.png").stat().st_size > 1000


def test_loss_curves_per_attack(whitebox, runs):
    """papers/001 Figs. 3-5: each CRU-Net's MSE per attack, before training and after each epoch,
    for all six attacks it trains on (the table itself ran only two columns)."""
    out = runs["out"]
    rows = list(csv.DictReader(open(out / "crunet_table2_mnist_whitebox_loss.csv")))
    assert {r["restorer"] for r in rows} == {"crunet_mnist_anet", "crunet_mnist_bnet"}
    assert {r["attack"] for r in rows} == set(CRUNET_COLUMNS)
    assert {r["epoch"] for r in rows} == {"0", "1"}
    for r in rows:
        assert float(r["mse"]) >= 0 and float(r["no_restoration_mse"]) >= 0
        assert r["mse_paper"] == "" and "Figs. 3-5 print no values" in r["mse_paper_note"]
    lpa = whitebox["meta"]["restorer"]["rows"]["A-Net"]["loss_per_attack"]
    assert lpa["epochs"] == [0, 1] and sum(lpa["n"]["train"].values()) <= MICRO.n_pairs
    fgsm = [r for r in rows if r["restorer"] == "crunet_mnist_anet" and r["attack"] == "FGSM" and r["split"] == "train"]
    assert [float(r["mse"]) for r in fgsm] == pytest.approx(lpa["mse"]["train"]["FGSM"], rel=1e-5)
    assert (out / "crunet_table2_mnist_whitebox_loss.png").stat().st_size > 10_000


def test_loss_curves_missing_history_is_logged(tmp_path):
    from keras_restore.pipeline.run import _loss_curves

    logs = []
    _loss_curves(CRUNET_TABLE2, {"A-Net": {"source": "saved_models/old.keras"}}, tmp_path, logs.append)
    assert logs == ["[V] no per-attack loss history for crunet_mnist_anet (trained before it was recorded, or "
                    "given as a file): retrain to get its loss curves"]
    assert list(tmp_path.iterdir()) == []


def test_loss_curves_of_a_shipped_restorer(whitebox, tmp_path):
    """A shipped restorer's record is its manifest entry, with the training record nested."""
    from keras_restore.pipeline.run import _loss_curves

    trained = whitebox["meta"]["restorer"]["rows"]["A-Net"]
    entry = {"source": "saved_models/crunet_mnist_anet.keras", "sha256": "0" * 64,
             "training": {k: v for k, v in trained.items() if k not in ("history", "cache_file", "pairs")},
             "trained_for": {"A-net": "anet"}}
    _loss_curves(CRUNET_TABLE2, {"A-Net": entry}, tmp_path, lambda *_: None)
    rows = list(csv.DictReader(open(tmp_path / "crunet_table2_mnist_whitebox_loss.csv")))
    assert {r["restorer"] for r in rows} == {"crunet_mnist_anet"} and rows[0]["trained_for"] == "A-net"
    assert (tmp_path / "crunet_table2_mnist_whitebox_loss.png").exists()


def test_blackbox_rows_use_the_other_targets_restorer(whitebox, runs, data_dir):
    logs = []
    res = run_table(CRUNET_TABLE4, MICRO, data_dir=data_dir, out_dir=runs["out"], cache_dir=runs["cache"],
                    columns=["FGSM"], progress=False, log=logs.append)
    rows_meta = res["meta"]["restorer"]["rows"]
    assert rows_meta["A-net/B-net"]["name"] == "crunet_mnist_bnet"
    assert rows_meta["A-net/B-net"]["trained_for"] == {"B-net": "bnet"}
    assert set(rows_meta["A-net/B-net"]["pairs"]) == {f"B-net/{c}" for c in CRUNET_COLUMNS}   # B-net pairs only
    assert set(rows_meta["B-net/A-net"]["pairs"]) == {f"A-net/{c}" for c in CRUNET_COLUMNS}
    assert any("row A-net/B-net: restorer crunet_mnist_bnet (trained for B-net)" in line for line in logs)
    # One cache entry per alias: the black-box table reuses the white-box table's two CRU-Nets.
    names = sorted(p.name.split("-")[0] for p in (runs["cache"] / "models").glob("crunet_*.keras"))
    assert names == ["crunet_mnist_anet", "crunet_mnist_bnet"]
    assert sum("cached restorer crunet_mnist_" in line for line in logs) == 2
    # Targets and adversarial test sets are the white-box ones: same "No attack" / "No defense".
    assert any("cached anet-" in line for line in logs)
    wb = {r["target_model"]: r for r in whitebox["long"] if r["attack"] == "FGSM"}
    for r in res["long"]:
        assert r["attack_cached"]
        assert r["adversarial_accuracy"] == wb[r["target_model"]]["adversarial_accuracy"]
        assert r["original_accuracy"] == wb[r["target_model"]]["original_accuracy"]
    rows = list(csv.DictReader(open(runs["out"] / "crunet_table4_mnist_blackbox.csv")))
    assert [(r["target"], r["restorer"], r["restorer_trained_for"]) for r in rows] == [
        ("A-net/B-net", "crunet_mnist_bnet", "B-net"), ("B-net/A-net", "crunet_mnist_anet", "A-net")]
    assert float(rows[0]["crunet_defense_pct_paper"]) == 98.66


def test_partial_run_of_one_row_uses_the_whole_tables_models(whitebox, runs, data_dir):
    """``rows``: one black-box row, once its CRU-Net is trained, without the other row's. Same restorer
    (cache hit on the white-box table's file), same targets and attack sets; its own output stem, so
    the whole table's files are left alone."""
    logs = []
    res = run_table(CRUNET_TABLE4, MICRO, data_dir=data_dir, out_dir=runs["out"], cache_dir=runs["cache"],
                    columns=["FGSM"], rows=["B-net/A-net"], progress=False, log=logs.append)
    assert [r["target"] for r in res["long"]] == ["B-net/A-net"]
    assert sum("cached restorer crunet_mnist_" in line for line in logs) == 1
    assert not any("training crunet" in line for line in logs)
    assert res["meta"]["restorer"]["name"] == "crunet_mnist_anet"   # one restorer: the table-wide record
    hit = next(line for line in logs if "cached restorer crunet_mnist_" in line).split()[-1]
    assert [p.name for p in (runs["cache"] / "models").glob("crunet_mnist_anet-*.keras")] == [hit]
    assert res["meta"]["table"] == "crunet_table4_mnist_blackbox_rows-b-net-a-net"
    assert "partial run: row(s) B-net/A-net only" in res["meta"]["title"]
    wb = next(r for r in whitebox["long"] if r["attack"] == "FGSM" and r["target"] == "B-Net")
    assert res["long"][0]["adversarial_accuracy"] == wb["adversarial_accuracy"]
    rows = list(csv.DictReader(open(runs["out"] / "crunet_table4_mnist_blackbox_rows-b-net-a-net.csv")))
    assert [(r["target"], r["restorer"]) for r in rows] == [("B-net/A-net", "crunet_mnist_anet")]
    assert float(rows[0]["crunet_defense_pct_paper"]) == pytest.approx(
        CRUNET_TABLE4.paper_accuracies["B-net/A-net"]["FGSM"]["defense"] * 100)


def test_similarity_from_the_whitebox_results(whitebox, runs, data_dir):
    logs = []
    res = similarity_table(MICRO, datasets=["mnist"], data_dir=data_dir, out_dir=runs["out"],
                           cache_dir=runs["cache"], columns=["FGSM", "R-FGSM"], progress=False, log=logs.append)
    assert any("from" in line and "meta.json" in line for line in logs)   # read, not re-run
    rows = list(csv.DictReader(open(runs["out"] / "crunet_table6_7_similarity.csv")))
    assert [(r["target"], r["metric"]) for r in rows[:4]] == [
        ("A-Net", "SSIM"), ("A-Net", "PSNR_paper255_dB"), ("A-Net", "PSNR_tf_unit_dB"),
        ("A-Net", "PSNR_255sq_over_unit_mse_dB")]
    assert rows[0]["paper_table"] == "Table 6" and rows[0]["FGSM_paper"] == "0.9996"
    assert rows[1]["R-FGSM_paper"] == "97.98" and rows[5]["FGSM_paper"] == "94.31"
    sim = whitebox["meta"]["similarity"]["A-Net"]["FGSM"]
    assert float(rows[0]["FGSM"]) == pytest.approx(sim["ssim"], abs=1e-4)
    assert float(rows[1]["FGSM"]) == pytest.approx(sim["psnr_paper255_db"], abs=0.01)
    assert float(rows[3]["FGSM"]) == pytest.approx(sim["psnr_tf_unit_db"] + 20 * math.log10(255), abs=0.01)
    assert res["meta"]["sources"]["mnist"]["table"] == "crunet_table2_mnist_whitebox"


def test_similarity_keeps_other_datasets_rows(whitebox, runs, data_dir):
    """`--datasets mnist` after a CIFAR-10 run keeps the CIFAR-10 rows already written."""
    out = runs["out"]
    similarity_table(MICRO, datasets=["mnist"], data_dir=data_dir, out_dir=out, cache_dir=runs["cache"],
                     columns=["FGSM", "R-FGSM"], progress=False, log=lambda *_: None)
    meta_path = out / "crunet_table6_7_similarity.meta.json"
    meta = json.loads(meta_path.read_text())
    a_net = meta["sources"]["mnist"]["similarity"]["A-Net"]
    meta["sources"] = {"cifar10": {"table": "crunet_table3_cifar10_whitebox", "similarity": {"D-Net": a_net}},
                       **meta["sources"]}
    meta_path.write_text(json.dumps(meta))
    logs = []
    res = similarity_table(MICRO, datasets=["mnist"], data_dir=data_dir, out_dir=out, cache_dir=runs["cache"],
                           columns=["FGSM", "R-FGSM"], progress=False, log=logs.append)
    assert any("cifar10: kept from the existing" in line for line in logs)
    rows = list(csv.DictReader(open(out / "crunet_table6_7_similarity.csv")))
    assert [r["dataset"] for r in rows] == ["mnist"] * 8 + ["cifar10"] * 4   # MNIST first, as the paper
    assert rows[8]["target"] == "D-Net" and rows[8]["paper_table"] == "Table 7"
    assert float(rows[8]["FGSM"]) == pytest.approx(a_net["FGSM"]["ssim"], abs=1e-4)
    assert list(res["meta"]["sources"]) == ["mnist", "cifar10"]


def test_balanced_variant_is_table3_with_its_own_crunets_and_recipe():
    """Issue 21's variant: Table 3 (CIFAR-10, white-box) with each CRU-Net trained by the attack-balanced loss;
    the same targets, columns, images and scales, its own restorer names (the CRU-Net builder, not shipped yet)."""
    t3, bal = TABLES["crunet_table3_cifar10_whitebox"], TABLES["crunet_table3_cifar10_balanced"]
    assert (bal.targets, bal.columns, bal.dataset, bal.eval_images, bal.report, bal.paper_accuracies) == \
        (t3.targets, t3.columns, t3.dataset, t3.eval_images, t3.report, t3.paper_accuracies)
    assert {label: (r.restorer, r.recipe, r.defense) for label, r in bal.rows.items()} == {
        "D-Net": ("crunet_cifar10_dnet_balanced", "pixel_mse_balanced", "crunet"),
        "M-Net": ("crunet_cifar10_mnet_balanced", "pixel_mse_balanced", "crunet")}
    assert {label: r.trained_for for label, r in bal.rows.items()} == {label: r.trained_for for label, r in t3.rows.items()}
    assert attack_tag(bal, "D-Net") == attack_tag(t3, "D-Net")   # the same cached attacks on the test images
    for scale in ("quick", "default", "retrain", "paper"):
        assert get_scale(scale, bal) == get_scale(scale, t3)
    for label in bal.rows:
        spec = models.get_spec(bal.restorer_of(label))
        assert spec.builder is models.get_spec("crunet_cifar10").builder and spec.kind == "restorer"
        assert bal.owns_restorer(label)
    assert bal.paper_similarity == {} and bal.figure == "variant (ours)"   # Tables 6-7 are read off Table 3 only


@pytest.mark.parametrize("name,suffix,recipe,loss", [
    ("crunet_table3_cifar10_guided", "guided", "feature_guided", "feature-guided loss"),
    ("crunet_table3_cifar10_anchored", "anchored", "feature_guided_anchored", "feature-guided loss + 0.1 x pixel MSE"),
    ("crunet_table3_cifar10_feature_pixel", "feature_pixel", "feature_pixel", "feature-guided loss + pixel MSE (1:1)")])
def test_guided_variants_are_table3_with_feature_guided_crunets_and_fewer_retrain_epochs(name, suffix, recipe, loss):
    """Issue 21's feature-loss variants: Table 3 with each CRU-Net trained by recipe feature_guided (HGD's loss),
    feature_guided_anchored (+ 0.1 x pixel MSE) or feature_pixel (+ pixel MSE, 1:1) on the same pairs and images;
    their --retrain trains 3 epochs (GUIDED_RETRAIN_EPOCHS), every other setting as Table 3's."""

    from keras_restore.pipeline.tables import GUIDED_RETRAIN_EPOCHS

    t3, gd = TABLES["crunet_table3_cifar10_whitebox"], TABLES[name]
    assert (gd.targets, gd.columns, gd.eval_images, gd.paper_accuracies) == (t3.targets, t3.columns, t3.eval_images,
                                                                             t3.paper_accuracies)
    assert {label: (r.restorer, r.recipe) for label, r in gd.rows.items()} == {
        "D-Net": (f"crunet_cifar10_dnet_{suffix}", recipe), "M-Net": (f"crunet_cifar10_mnet_{suffix}", recipe)}
    assert attack_tag(gd, "M-Net") == attack_tag(t3, "M-Net")
    for scale in ("quick", "default", "paper"):
        assert get_scale(scale, gd) == get_scale(scale, t3)
    retrain = get_scale("retrain", gd)
    assert retrain.restorer_epochs == GUIDED_RETRAIN_EPOCHS == 3 and f"3 epochs of the {loss} (Adam 1e-4" in retrain.note
    assert dataclasses.replace(retrain, restorer_epochs=20, note="") == dataclasses.replace(get_scale("retrain", t3), note="")
    for label in gd.rows:
        assert models.get_spec(gd.restorer_of(label)).builder is models.get_spec("crunet_cifar10").builder


@pytest.mark.parametrize("suffix,recipe", [("guided", "feature_guided"), ("anchored", "feature_guided_anchored"),
                                           ("feature_pixel", "feature_pixel")])
def test_black_box_guided_variants_restore_with_the_other_targets_table3_variant_crunet(suffix, recipe):
    """CRU-Net Table 5's feature-loss variants: Table 5's rows (a target's examples, the other target's
    CRU-Net) with the Table 3 variant's CRU-Nets, at the same scales, so both tables share one trained CRU-Net."""
    t5, v5, v3 = (TABLES["crunet_table5_cifar10_blackbox"], TABLES[f"crunet_table5_cifar10_{suffix}"],
                  TABLES[f"crunet_table3_cifar10_{suffix}"])
    assert (v5.targets, v5.columns, v5.eval_images, v5.paper_accuracies) == (t5.targets, t5.columns, t5.eval_images,
                                                                             t5.paper_accuracies)
    assert {label: (r.restorer, r.recipe, r.trained_for) for label, r in v5.rows.items()} == {
        "D-net/M-net": (f"crunet_cifar10_mnet_{suffix}", recipe, {"M-net": "mobilenet_cifar10"}),
        "M-net/D-net": (f"crunet_cifar10_dnet_{suffix}", recipe, {"D-net": "densenet121_cifar10"})}
    assert {v3.rows["M-Net"].restorer, v3.rows["D-Net"].restorer} == {r.restorer for r in v5.rows.values()}
    for scale in ("quick", "default", "retrain", "paper"):
        assert get_scale(scale, v5) == get_scale(scale, v3)
    assert attack_tag(v5, "D-net/M-net") == attack_tag(t5, "D-net/M-net")   # the same cached test attacks

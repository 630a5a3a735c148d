"""The five-phase pipeline at a micro scale: outputs in the paper's shape, paper values beside
ours, and a second run that resumes entirely from the cache with identical results."""

import csv
import dataclasses
import json

import pytest

from keras_restore.pipeline import TABLES, get_scale, run_table
from keras_restore.pipeline.tables import TABLE4

MICRO = dataclasses.replace(get_scale("quick"), name="micro", target_epochs={"m1": 1, "m2": 1},
                            target_train_limit=2000, n_pairs=48, n_eval=24, n_adaptive=8, adaptive_iter=10,
                            adaptive_targets=1)


@pytest.fixture(scope="module")
def first_run(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    res = run_table(TABLE4, MICRO, data_dir=data_dir, out_dir=d / "out", cache_dir=d / "cache",
                    columns=["FGSM", "PGD"], progress=False, log=lambda s: None)
    return d, res


def test_paper_values_pinned():
    # Table 4 of papers/000, as printed.
    assert TABLES["table4_mnist"].paper["M1"] == {"FGSM": 98.96, "BIM": 99.31, "PGD": 99.54, "DFA": 99.3,
                                                  "CWA": 99.9, "SPA": 97.51}
    assert TABLES["table4_mnist"].paper["M2"]["CWA"] == 96.53


def test_outputs_in_paper_shape(first_run):
    d, res = first_run
    rows = list(csv.DictReader(open(d / "out" / "table4_mnist.csv")))
    assert [r["target"] for r in rows] == ["M1", "M2"]
    for r in rows:
        assert float(r["FGSM_paper"]) > 90
        assert abs(float(r["FGSM"]) - float(r["FGSM_paper"]) - float(r["FGSM_delta"])) < 0.02
    long = list(csv.DictReader(open(d / "out" / "table4_mnist_long.csv")))
    assert len(long) == 4 and {r["attack"] for r in long} == {"FGSM", "PGD"}
    for r in long:
        assert int(r["n_images"]) == 24
        assert float(r["original_accuracy"]) == 100.0  # evaluation sets hold correctly classified images
        assert json.loads(r["attack_params"])["eps"] == pytest.approx(0.3)
    meta = json.loads((d / "out" / "table4_mnist.meta.json").read_text())
    assert meta["scale"]["name"] == "micro" and meta["seed"] == 0 and "MNIST" in meta["data_source"]
    assert (d / "out" / "table4_mnist_examples.png").stat().st_size > 1000
    assert (d / "out" / "table4_mnist_bars.png").stat().st_size > 1000


def test_adaptive_beside_the_papers_protocol(first_run):
    """Each row gets the oblivious (PGD on the bare target, then restored) and the adaptive (APGD through
    the defense) accuracy on the same images; the adaptive attack is at least as strong here."""
    d, res = first_run
    rows = list(csv.DictReader(open(d / "out" / "table4_mnist.csv")))
    adaptive = {r["target"]: r for r in csv.DictReader(open(d / "out" / "table4_mnist_adaptive.csv"))}
    meta = json.loads((d / "out" / "table4_mnist.meta.json").read_text())
    for r in rows:
        a = adaptive[r["target"]]
        assert r["PGD_oblivious_acc"] == a["oblivious_accuracy"] and r["PGD_adaptive_acc"] == a["adaptive_accuracy"]
        assert int(a["n_images"]) == 8 and float(a["eps"]) == pytest.approx(0.3)
        assert float(a["adaptive_accuracy"]) <= float(a["oblivious_accuracy"])
        assert float(a["adaptive_accuracy"]) <= float(a["clean_defended_accuracy"])
        # the paper's PGD number (Table 4, success rate) beside ours, with the difference
        assert float(a["paper_oblivious"]) == TABLE4.paper[r["target"]]["PGD"]
        assert float(a["oblivious_minus_paper"]) == pytest.approx(
            float(a["oblivious_accuracy"]) - float(a["paper_oblivious"]), abs=0.02)
    assert meta["adaptive"]["rows"][0]["adaptive_params"]["attacks"] == ["apgd-ce", "apgd-t"]
    assert "oblivious_accuracy" in meta["adaptive"]["definition"]


def test_pgd_beats_the_undefended_target(first_run):
    _, res = first_run
    pgd = [r for r in res["long"] if r["attack"] == "PGD"]
    assert all(r["adversarial_accuracy"] < 30 for r in pgd)


def test_rerun_resumes_from_cache_with_identical_results(first_run, data_dir):
    d, res = first_run
    logs = []
    again = run_table(TABLE4, MICRO, data_dir=data_dir, out_dir=d / "out2", cache_dir=d / "cache",
                      columns=["FGSM", "PGD"], progress=False, log=logs.append)
    assert any("cached restorer" in line for line in logs)
    assert all(r["attack_cached"] for r in again["long"])
    for a, b in zip(res["long"], again["long"]):
        for key in ("adversarial_accuracy", "restored_accuracy", "success_rate", "ssim_restored"):
            assert a[key] == pytest.approx(b[key], abs=1e-9)


def test_partial_run_of_one_row_is_the_whole_tables_row(first_run, data_dir):
    """--rows M2 of Table 4, whose restorer is trained on pairs of both targets: the same restorer (one cache
    hit, no training), attack sets and images as the whole table's run, so the same numbers; own output stem."""
    d, res = first_run
    logs = []
    part = run_table(TABLE4, MICRO, data_dir=data_dir, out_dir=d / "out", cache_dir=d / "cache",
                     columns=["FGSM", "PGD"], rows=["M2"], progress=False, log=logs.append)
    assert sum("cached restorer restorer_mnist-" in line for line in logs) == 1
    assert not any("training restorer_mnist" in line for line in logs)
    assert any("the targets of the whole table table4_mnist: this is a partial run of it" in line for line in logs)
    whole = [r for r in res["long"] if r["target"] == "M2"]
    assert [r["attack"] for r in part["long"]] == [r["attack"] for r in whole] == ["FGSM", "PGD"]
    for a, b in zip(whole, part["long"]):
        assert a["attack_cached"] is False or b["attack_cached"]
        for key in ("n_images", "adversarial_accuracy", "restored_accuracy", "success_rate", "ssim_restored"):
            assert a[key] == pytest.approx(b[key], abs=1e-9)
    assert part["meta"]["partial_of"] == "table4_mnist" and part["meta"]["rows"] == ["M2"]
    assert part["meta"]["table"] == "table4_mnist_rows-m2"
    wide = list(csv.DictReader(open(d / "out" / "table4_mnist_rows-m2.csv")))
    assert [r["target"] for r in wide] == ["M2"]
    assert {r["target"] for r in csv.DictReader(open(d / "out" / "table4_mnist.csv"))} == {"M1", "M2"}


def test_unknown_column(data_dir, tmp_path):
    with pytest.raises(ValueError, match="Unknown attack column"):
        run_table(TABLE4, MICRO, data_dir=data_dir, out_dir=tmp_path, cache_dir=tmp_path, columns=["XYZ"],
                  progress=False, log=lambda s: None)


def test_unknown_scale():
    with pytest.raises(ValueError, match="Unknown scale 'huge'"):
        get_scale("huge")

"""papers/002 (Zhang et al.) Tables 1-2 on the shared pipeline: printed values pinned, the
"no defense / defense" table shape, FGSM-only training pairs at the largest eps, the restorer
trained behind the defense's depth reduction, per-target precision and learning-rate schedule,
and bad input. The run is micro-sized (M1 / LeNet-5 as stand-in targets, 300 training images)."""

import csv
import dataclasses

import keras
import numpy as np
import pytest

from keras_restore.defenses import BitDepthReduction, apply_preprocessing, get_defense
from keras_restore.pipeline import get_scale, run_table
from keras_restore.pipeline.report import DefendedReporter, defended_rows
from keras_restore.pipeline.tables import ZHANG_COLUMNS, ZHANG_TABLE1, ZHANG_TABLE2, Row, TableSpec, get_table
from keras_restore.training import TrainConfig

QUIET = {"progress": False, "log": lambda s: None}
MICRO_ATTACKS = {"cw": {"binary_search_steps": 1, "max_iterations": 5}, "deepfool": {"max_iter": 5},
                 "fgsm": {"eps": 0.15}, "bim": {"eps": 0.15, "eps_iter": 0.005, "nb_iter": 5},
                 "pgd": {"eps": 0.15, "eps_iter": 0.005, "nb_iter": 5}}
# Stand-in targets (cheap): "ResNet50" is M1, whose FGSM pairs train the EDSR; LeNet-5 only transfers.
MICRO_SPEC = dataclasses.replace(
    ZHANG_TABLE1, name="zhang_micro",
    rows={"ResNet50": Row("m1", "image_reconstruction", "edsr_mnist", {"ResNet50": "m1"}),
          "LeNet": Row("lenet5", "image_reconstruction", "edsr_mnist", {"ResNet50": "m1"})})
MICRO = dataclasses.replace(get_scale("quick", ZHANG_TABLE1), name="micro", target_epochs={"m1": 1, "lenet5": 1},
                            target_train_limit=300, n_pairs=32, n_eval=16, restorer_epochs=1,
                            attack_overrides=MICRO_ATTACKS, n_adaptive=4, adaptive_iter=2, adaptive_targets=1,
                            target_precision={}, target_schedule={"m1": "cosine"})


@pytest.fixture(scope="module")
def micro_run(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("zhang")
    res = run_table(MICRO_SPEC, MICRO, data_dir=data_dir, out_dir=d / "out", cache_dir=d / "cache", **QUIET)
    return res, d


# ---------------------------------------------------------------- specs and paper values
def test_paper_values_pinned():
    # As printed in papers/002 Tables 1 and 2 (%): Clean, FGSM, BIM, DeepFool, CW.
    t1, t2 = ZHANG_TABLE1.paper_accuracies, ZHANG_TABLE2.paper_accuracies
    assert t1["ResNet50"]["no_defense"] == {"Clean": 99, "FGSM": 48, "BIM": 9, "DFA": 18, "CWA": 3}
    assert t1["GoogLeNet"]["no_defense"]["BIM"] == 26 and t1["GoogLeNet"]["defense"]["BIM"] == 97
    assert t1["LeNet"]["defense"] == {"Clean": 99, "FGSM": 98, "BIM": 98, "DFA": 98, "CWA": 98}
    assert t2["ResNet50"]["defense"] == {"Clean": 89, "FGSM": 85, "BIM": 85, "DFA": 89, "CWA": 89}
    assert t2["GoogLeNet"]["no_defense"]["FGSM"] == 35 and t2["ResNet101"]["no_defense"]["FGSM"] == 20
    assert ZHANG_TABLE2.paper_accuracy == {"ResNet50": 93, "GoogLeNet": 90, "ResNet101": 93}


def test_specs_follow_the_paper():
    for spec, dataset, eps, pair_eps in ((ZHANG_TABLE1, "mnist", 0.15, 0.3), (ZHANG_TABLE2, "fashion_mnist", 0.05, 0.1)):
        assert get_table(spec.name) is spec
        assert (spec.dataset, spec.columns, spec.report, spec.eval_images) == (dataset, ZHANG_COLUMNS, "defended", "first")
        assert spec.pair_attacks == {"FGSM": {"eps": pair_eps}}   # "FGSM with the most perturbation"
        for label in spec.rows:   # one EDSR per dataset, trained on ResNet50's examples only
            assert spec.restorer_of(label) == f"edsr_{dataset}" and spec.trained_for(label) == {"ResNet50": spec.targets["ResNet50"]}
            assert spec.rows[label].defense == "image_reconstruction"
        for scale in ("quick", "default", "retrain", "paper"):
            s = get_scale(scale, spec)
            assert s.attack_overrides["fgsm"]["eps"] == eps and s.attack_overrides["pgd"]["eps"] == eps
            assert set(s.target_epochs) >= set(spec.targets.values())
            assert all(s.target_precision[n] == "float32" for n in spec.targets.values() if n.startswith("resnet"))
    assert get_defense("image_reconstruction").preprocessing_steps("fashion_mnist")[0].levels == 4


def test_unknown_pair_attack_column():
    with pytest.raises(ValueError, match=r"Unknown attack column\(s\) \['XYZ'\]"):
        dataclasses.replace(ZHANG_TABLE1, pair_attacks={"XYZ": {}})


def test_lr_schedule():
    cfg = TrainConfig(epochs=2, batch_size=10, learning_rate=1e-3, lr_schedule="cosine")
    lr = cfg.learning_rate_for(95)   # 10 steps per epoch, 20 in all
    assert isinstance(lr, keras.optimizers.schedules.CosineDecay)
    assert float(lr(0)) == pytest.approx(1e-3) and float(lr(20)) == pytest.approx(0.0, abs=1e-9)
    assert TrainConfig().learning_rate_for(95) == 1e-3
    with pytest.raises(ValueError, match="`lr_schedule` must be one of constant, cosine, cosine_warmup, got 'step'"):
        TrainConfig(lr_schedule="step")


def test_apply_preprocessing():
    x = np.random.default_rng(0).random((5, 28, 28, 1)).astype("float32")
    out = apply_preprocessing([BitDepthReduction(levels=2)], x)
    np.testing.assert_array_equal(out, np.round(x))
    np.testing.assert_array_equal(apply_preprocessing([], x), x)
    with pytest.raises(ValueError, match="x"):
        apply_preprocessing([BitDepthReduction(levels=2)], x[..., 0])


def test_defended_rows_shape():
    long = [{"target": "R", "attack": a, "n_images": 10, "restorer": "edsr_mnist", "original_accuracy": 90.0,
             "clean_through_restorer_accuracy": 80.0, "adversarial_accuracy": acc, "restored_accuracy": acc + 50}
            for a, acc in (("FGSM", 30.0), ("BIM", 10.0))]
    spec = dataclasses.replace(ZHANG_TABLE1, rows={"R": Row("m1", "image_reconstruction", "edsr_mnist")},
                               paper_accuracies={"R": {"no_defense": {"Clean": 99, "FGSM": 48},
                                                       "defense": {"Clean": 99, "FGSM": 98, "BIM": 97}}})
    none, defended = defended_rows(spec, long, ["FGSM", "BIM"], {"R": {"test_accuracy": 91.0}})
    assert (none["defense"], none["Clean"], none["FGSM"], none["BIM"]) == ("no defense", 90.0, 30.0, 10.0)
    assert (none["FGSM_paper"], none["FGSM_delta"], none["BIM_paper"], none["BIM_delta"]) == (48, -18.0, None, None)
    assert (defended["defense"], defended["Clean"], defended["Clean_delta"]) == ("defense", 80.0, -19.0)
    assert (defended["FGSM"], defended["BIM"], defended["BIM_delta"]) == (80.0, 60.0, -37.0)
    # The adaptive rows compare with the paper's BIM: it prints no PGD.
    value, metric = DefendedReporter().paper_protocol_value(spec, "R", "PGD")
    assert value == 97 and "BIM" in metric


# ---------------------------------------------------------------- a micro run
def test_micro_run_tables_and_training_record(micro_run):
    res, d = micro_run
    out = d / "out"
    with open(out / "zhang_micro.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["network"], r["defense"]) for r in rows] == [("ResNet50", "no defense"), ("ResNet50", "defense"),
                                                            ("LeNet", "no defense"), ("LeNet", "defense")]
    for r in rows:
        for col in ("Clean", *ZHANG_COLUMNS):
            assert 0.0 <= float(r[col]) <= 100.0 and r[f"{col}_paper"] != ""
    record = res["meta"]["restorer"]
    assert record["trained_behind"] == ["depth_levels2"]
    assert record["pair_attacks"] == {"FGSM": {"eps": 0.3}}
    assert set(record["pairs"]) == {"ResNet50/FGSM"} and record["pairs"]["ResNet50/FGSM"]["n"] == 32
    assert res["meta"]["targets"]["ResNet50"]["config"]["lr_schedule"] == "cosine"
    assert res["meta"]["targets"]["LeNet"]["config"]["lr_schedule"] == "constant"
    # The defense is depth reduction then the EDSR, with a declared BPDA gradient through the former.
    described = res["meta"]["defenses"]["LeNet"]
    assert described["gradients"]["depth_levels2"] == "bpda" and described["restorer"] == "edsr_mnist"
    # The adaptive rows sit beside the paper's BIM-with-defense value at the table's eps.
    adaptive = {a["target"]: a for a in res["meta"]["adaptive"]["rows"]}
    assert adaptive["ResNet50"]["eps"] == 0.15 and adaptive["ResNet50"]["paper_oblivious"] == 99
    assert adaptive["LeNet"]["adaptive_accuracy"] <= adaptive["LeNet"]["clean_defended_accuracy"]


def test_micro_run_clean_column_is_the_defended_clean_accuracy(micro_run, data_dir):
    from keras_restore import data
    from keras_restore.defenses import build_defense
    from keras_restore.metrics import accuracy
    from keras_restore.pipeline.phases import Run

    res, d = micro_run
    run = Run(MICRO_SPEC, MICRO, data_dir=data_dir, cache_dir=d / "cache", seed=0, columns=None, **QUIET)
    run.load_data()
    target, _ = run.target("LeNet", "lenet5")
    restorer, _ = run.restorer("LeNet")   # from the cache
    x, y = data.load_arrays("mnist", "test", data_dir)
    defense = build_defense("image_reconstruction", target, dataset="mnist", restorer=restorer)
    expected = accuracy(target, defense.restore(x[:16]), y[:16], 256)
    lenet = [r for r in res["rows"] if r["network"] == "LeNet" and r["defense"] == "defense"][0]
    assert lenet["Clean"] == pytest.approx(expected)


def test_bad_table_spec():
    with pytest.raises(ValueError, match="Unknown report 'zhang'"):
        TableSpec(name="t", title="t", dataset="mnist", rows={"a": Row("m1")}, paper={}, report="zhang")


def test_table4_specs_share_table2s_models():
    from keras_restore.pipeline.tables import ZHANG_TABLE4A, ZHANG_TABLE4B, ZHANG_TABLE4_STRENGTHS

    assert ZHANG_TABLE4_STRENGTHS == {"a": 0.03, "b": 0.05}
    for spec, eps in ((ZHANG_TABLE4A, 0.03), (ZHANG_TABLE4B, 0.05)):
        assert set(spec.targets.values()) == {"resnet50_fashion_mnist"}
        assert spec.rows["Our Method"].restorer == "edsr_fashion_mnist" and spec.rows["Feature Squeezing"].restorer is None
        s, t2 = get_scale("default", spec), get_scale("default", ZHANG_TABLE2)
        assert s.attack_overrides["fgsm"]["eps"] == eps
        # the same target training and the same restorer pairs as Table 2 (one cached model each)
        for field in ("n_pairs", "restorer_epochs", "restorer_batch", "restorer_lr"):
            assert getattr(s, field) == getattr(t2, field)
        assert s.target_epochs["resnet50_fashion_mnist"] == t2.target_epochs["resnet50_fashion_mnist"]
        assert spec.pair_attacks == ZHANG_TABLE2.pair_attacks
    assert ZHANG_TABLE4A.paper_accuracies["Our Method"]["defense"]["BIM"] == 87
    assert ZHANG_TABLE4B.paper_accuracies["Feature Squeezing"]["defense"]["FGSM"] == 28
    assert ZHANG_TABLE4B.paper_accuracies["Our Method"]["no_defense"]["FGSM"] == 24   # the Normal row


def test_table4_merge(reproduce_script):
    script = reproduce_script("zhang_table4_fashion_mnist")

    def rows(offset):
        out = []
        for label in ("Feature Squeezing", "Our Method"):
            for kind in ("no defense", "defense"):
                base = 10.0 if kind == "no defense" else (50.0 if label == "Feature Squeezing" else 80.0)
                out.append({"network": label, "defense": kind, "n_images": 7,
                            **{c: base + offset for c in ("Clean", *ZHANG_COLUMNS)}})
        return out

    merged = {r["method"]: r for r in script.merge({"a": {"rows": rows(1.0)}, "b": {"rows": rows(2.0)}})}
    assert list(merged) == ["Normal", "Adversarial FGSM", "Adversarial BIM", "Feature Squeezing", "Pixel Defend",
                            "ComDefend", "Our Method"]
    normal, ours, cited = merged["Normal"], merged["Our Method"], merged["ComDefend"]
    assert (normal["source"], normal["FGSM_a"], normal["FGSM_b"], normal["FGSM_a_paper"]) == ("measured", 11.0, 12.0, 38)
    assert (ours["BIM_b"], ours["BIM_b_paper"], ours["BIM_b_delta"]) == (82.0, 86, -4.0)
    assert merged["Feature Squeezing"]["Clean_a"] == 51.0 and merged["Feature Squeezing"]["n_images"] == 7
    assert cited["source"] == "not built (cited value)" and cited["BIM_a"] is None and cited["BIM_a_paper"] == 70
    assert "adversarial training" in merged["Adversarial BIM"]["source"].lower()

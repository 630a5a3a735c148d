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
from keras_restore.pipeline.phases import attack_tag
from keras_restore.pipeline.report import DefendedReporter, defended_rows
from keras_restore.pipeline.tables import (ZHANG_COLUMNS, ZHANG_TABLE1, ZHANG_TABLE2, ZHANG_TABLE4_PAPER, Row, TableSpec,
                                           get_table)
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
        # the adversarially trained rows have a "defense" row only (their attacks are made on the copy)
        out = [{"network": label, "defense": "defense", "n_images": 7,
                **{c: base + offset for c in ("Clean", *ZHANG_COLUMNS)}}
               for label, base in (("Adversarial FGSM", 60.0), ("Adversarial BIM", 70.0))]
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
    at = merged["Adversarial BIM"]
    assert (at["source"], at["BIM_a"], at["BIM_b"], at["BIM_b_paper"], at["BIM_b_delta"]) == ("measured", 71.0, 72.0, 63, 9.0)
    assert merged["Adversarial FGSM"]["Clean_a_delta"] == 61.0 - 93
    assert [m for m, r in merged.items() if r["source"] != "measured"] == ["Pixel Defend", "ComDefend"]


# ---------------------------------------------------------------- Table 4: the adversarially trained rows
def test_table4_adversarial_training_rows():
    from keras_restore import models
    from keras_restore.pipeline.phases import Run
    from keras_restore.pipeline.tables import ZHANG_TABLE4_CITED, ZHANG_TABLE4A, ZHANG_TABLE4B
    from keras_restore.training import AdversarialTraining

    for spec in (ZHANG_TABLE4A, ZHANG_TABLE4B):
        fgsm, bim = spec.rows["Adversarial FGSM"], spec.rows["Adversarial BIM"]
        assert (fgsm.target, fgsm.defense, fgsm.restorer, fgsm.recipe, fgsm.attack_on) == (
            "resnet50_fashion_mnist", "fgsm_adversarial_training", "resnet50_fashion_mnist_fgsm_at", "adversarial_fgsm",
            "defense")
        assert (bim.defense, bim.restorer, bim.recipe, bim.attack_on) == (
            "adversarial_training", "resnet50_fashion_mnist_bim_at", "adversarial_bim", "defense")
        # trained at the larger strength (b) for both tables; BIM 5 steps of eps / 4
        assert fgsm.recipe_options == {"dataset": "fashion_mnist", "params": {"eps": 0.05}}
        assert bim.recipe_options == {"dataset": "fashion_mnist", "params": {"eps": 0.05, "eps_iter": 0.0125, "nb_iter": 5}}
        assert spec.rows["Feature Squeezing"].attack_on == spec.rows["Our Method"].attack_on == "target"
        # the paper's values beside them (no "no defense" row: their attacks are made on the copy)
        assert "no_defense" not in spec.paper_accuracies["Adversarial FGSM"]
        run = Run(spec, get_scale("default", spec), data_dir=None, cache_dir="unused", seed=0, columns=None, **QUIET)
        for label, attack, clean_weight, params in (("Adversarial FGSM", "fgsm", 0.5, {"eps": 0.05}),
                                                    ("Adversarial BIM", "bim", 0.5,
                                                     {"eps": 0.05, "eps_iter": 0.0125, "nb_iter": 5})):
            recipe = run.row_recipe(label)
            assert isinstance(recipe, AdversarialTraining) and (recipe.attack, recipe.clean_weight) == (attack, clean_weight)
            assert {k: recipe.attack_params()[k] for k in params} == params
            assert models.get_spec(spec.rows[label].restorer).not_shipped   # ResNet50: ~94 MB
    assert ZHANG_TABLE4A.paper_accuracies["Adversarial BIM"]["defense"]["BIM"] == 76
    assert ZHANG_TABLE4B.paper_accuracies["Adversarial FGSM"]["defense"] == {"Clean": 93, "FGSM": 85, "BIM": 0, "DFA": 7,
                                                                             "CWA": 21}
    assert set(ZHANG_TABLE4_CITED) == {"Pixel Defend", "ComDefend"}
    # the two strengths share the copies' adversarial sets (DeepFool / CW once), apart from the Normal row's
    tags = {attack_tag(spec, label) for spec in (ZHANG_TABLE4A, ZHANG_TABLE4B) for label in spec.rows}
    assert tags == {"resnet50_fashion_mnist-test-first", "resnet50_fashion_mnist_fgsm_at-test-first",
                    "resnet50_fashion_mnist_bim_at-test-first"}
    for scale, limit, epochs in (("quick", 300, 1), ("default", 5000, 1), ("retrain", 5000, 1), ("paper", None, 10)):
        s = get_scale(scale, ZHANG_TABLE4B)
        assert (s.robust_train_limit, s.robust_epochs, s.robust_lr, s.robust_schedule) == (limit, epochs, 1e-3, "cosine")
        assert "Adversarial FGSM / BIM" in s.note and "white box" in s.note


def test_table4_bad_adversarial_training_rows(tmp_path):
    from keras_restore import models
    from keras_restore.pipeline.phases import Run

    with pytest.raises(ValueError, match=r"rows\['x'\].attack_on must be one of target, defense, got 'restorer'"):
        dataclasses.replace(MICRO_T4_SPEC, rows={"x": Row("m1", attack_on="restorer")})
    with pytest.raises(ValueError, match=r"rows\['x'\].recipe_options must be a dict and needs a restorer"):
        dataclasses.replace(MICRO_T4_SPEC, rows={"x": Row("m1", "feature_squeezing", recipe_options={"dataset": "mnist"})})

    def run_of(**row):
        spec = dataclasses.replace(MICRO_T4_SPEC, rows={"x": Row("m1_fashion_mnist", "fgsm_adversarial_training",
                                                                 **{"restorer": "m1_fgsm_at", **row})})
        return Run(spec, MICRO_T4, data_dir=None, cache_dir=tmp_path, seed=0, columns=None, **QUIET)

    with pytest.raises(ValueError, match=r"Row 'x': `recipe_options` \['epsilon'\] are not fields of recipe "
                                         r"'adversarial_fgsm' \(AdversarialTraining: attack, dataset, params"):
        run_of(recipe_options={"epsilon": 0.1}).row_recipe("x")
    with pytest.raises(ValueError, match=r"must be an adversarial-training recipe, got PixelLoss \('pixel_mse'\)"):
        run_of(recipe="pixel_mse").robust("x")
    with pytest.raises(ValueError, match=r"`restorer` must name that copy's registry entry, got None"):
        run_of(restorer=None).robust("x")
    run = run_of(restorer="m1_pgd_at")
    run.models["m1_fashion_mnist"] = models.build("m2"), {}   # a base of another architecture
    with pytest.raises(ValueError, match=r"`restorer` 'm1_pgd_at' must have the architecture of its target 'm1_fashion_mnist'"):
        run.robust("x")


# Micro Table 4 (strength b, FGSM and BIM columns): M1 on Fashion-MNIST stands in for ResNet50, and the
# registry's M1-architecture entries m1_fgsm_at / m1_pgd_at for its adversarially trained copies (one batch of
# 32 training images each); Feature Squeezing gives the Normal row.
def _micro_t4_spec():
    from keras_restore.pipeline.tables import ZHANG_TABLE4B

    standin = {"resnet50_fashion_mnist_fgsm_at": "m1_fgsm_at", "resnet50_fashion_mnist_bim_at": "m1_pgd_at"}
    rows = {label: dataclasses.replace(row, target="m1_fashion_mnist", restorer=standin.get(row.restorer))
            for label, row in ZHANG_TABLE4B.rows.items() if label != "Our Method"}
    return dataclasses.replace(ZHANG_TABLE4B, name="zhang_t4_micro", rows=rows)


MICRO_T4_SPEC = _micro_t4_spec()
MICRO_T4_COLUMNS = ("FGSM", "BIM")
MICRO_T4 = dataclasses.replace(
    get_scale("quick", MICRO_T4_SPEC), name="micro", target_epochs={"m1_fashion_mnist": 1}, target_train_limit=300,
    n_eval=16, n_adaptive=4, adaptive_iter=2, adaptive_targets=1, target_precision={}, target_schedule={},
    target_precise_bn={}, robust_train_limit=34, robust_batch=32, robust_precise_bn=32,
    attack_overrides={**MICRO_ATTACKS, "fgsm": {"eps": 0.05}, "bim": {"eps": 0.05, "eps_iter": 0.01, "nb_iter": 5},
                      "pgd": {"eps": 0.05, "eps_iter": 0.01, "nb_iter": 5}})


@pytest.fixture(scope="module")
def micro_t4_run(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("zhang_t4")
    res = run_table(MICRO_T4_SPEC, MICRO_T4, data_dir=data_dir, out_dir=d / "out", cache_dir=d / "cache",
                    columns=MICRO_T4_COLUMNS, **QUIET)
    return res, d


def test_micro_table4_trains_the_adversarial_copies_from_the_target(micro_t4_run, data_dir):
    from keras_restore import data, io, models
    from keras_restore.metrics import accuracy
    from keras_restore.pipeline.phases import Run

    res, d = micro_t4_run
    with open(d / "out" / "zhang_t4_micro.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["network"], r["defense"]) for r in rows] == [("Adversarial FGSM", "defense"), ("Adversarial BIM", "defense"),
                                                            ("Feature Squeezing", "no defense"), ("Feature Squeezing", "defense")]
    paper = {label: ZHANG_TABLE4_PAPER[label]["b"] for label in ZHANG_TABLE4_PAPER}
    for r in rows[:2]:
        assert r["restorer"] in ("m1_fgsm_at", "m1_pgd_at")
        for col in ("Clean", *MICRO_T4_COLUMNS):
            assert float(r[f"{col}_paper"]) == paper[r["network"]][col]
            assert float(r[f"{col}_delta"]) == pytest.approx(float(r[col]) - paper[r["network"]][col])
    records = res["meta"]["restorer"]["rows"]
    # the run (re)loads everything from the cache, so a second Run sees the same models
    run = Run(MICRO_T4_SPEC, MICRO_T4, data_dir=data_dir, cache_dir=d / "cache", seed=0, columns=None, **QUIET)
    run.load_data()
    base, _ = run.target("ResNet50 stand-in", "m1_fashion_mnist")
    fresh = models.build("m1_fgsm_at").get_weights()
    x, y = data.load_arrays("fashion_mnist", "test", data_dir)
    for label, name, attack in (("Adversarial FGSM", "m1_fgsm_at", "fgsm"), ("Adversarial BIM", "m1_pgd_at", "bim")):
        record = records[label]
        assert record["initial_weights"] == {"target": "m1_fashion_mnist", "fingerprint": io.fingerprint(base)}
        assert record["recipe"]["attack"] == attack and record["attack_params"]["eps"] == 0.05
        assert record["n_train"] == 32 and record["config"]["lr_schedule"] == "cosine"   # 34 images, 5% held out
        assert record["precise_bn"]["images"] == 32 and record["cache_hit"] is False
        copy, again = run.robust(label)   # the second run hits the cache
        assert again["cache_hit"] is True and again["cache_file"] == record["cache_file"]
        # fine-tuned: close to the target's weights, far from a fresh initialisation, yet trained
        w, w0 = copy.get_weights()[-2], base.get_weights()[-2]
        assert 0 < np.abs(w - w0).mean() < 0.1 * np.abs(fresh[-2] - w0).mean()
        # evaluated white box on the copy: Clean = the copy's accuracy, the attacks made on it
        row = [r for r in res["rows"] if r["network"] == label][0]
        assert row["Clean"] == pytest.approx(accuracy(copy, x[:16], y[:16], 256))
        assert all(res["meta"]["attacks"][f"{label}/{col}"]["made_on"] == "defense" for col in MICRO_T4_COLUMNS)
        assert res["meta"]["defenses"][label]["classifier"] == copy.name
    assert res["meta"]["attacks"]["Feature Squeezing/FGSM"]["made_on"] == "target"
    # the adaptive rows: the oblivious PGD made on the copy itself too
    adaptive = {a["target"]: a for a in res["meta"]["adaptive"]["rows"]}
    assert "the same model" in adaptive["Adversarial BIM"]["oblivious_attack"]["made_on"]
    assert adaptive["Feature Squeezing"]["oblivious_attack"]["made_on"] == "the bare classifier"
    assert rows[0]["PGD_adaptive_acc"] != ""


def test_micro_table4_merge_marks_the_adversarial_rows_measured(micro_t4_run, reproduce_script):
    res, _ = micro_t4_run
    merged = {r["method"]: r for r in reproduce_script("zhang_table4_fashion_mnist").merge({"b": res})}
    fgsm = merged["Adversarial FGSM"]
    ours = [r for r in res["rows"] if r["network"] == "Adversarial FGSM"][0]
    assert (fgsm["source"], fgsm["FGSM_b"], fgsm["FGSM_b_paper"]) == ("measured", ours["FGSM"], 85)
    assert fgsm["FGSM_b_delta"] == pytest.approx(ours["FGSM"] - 85) and fgsm["FGSM_a"] is None
    assert merged["Adversarial BIM"]["source"] == merged["Normal"]["source"] == "measured"
    assert merged["Normal"]["FGSM_b"] == [r for r in res["rows"] if r["defense"] == "no defense"][0]["FGSM"]
    assert merged["ComDefend"]["source"] == "not built (cited value)"

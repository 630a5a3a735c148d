"""papers/000 Table 9 (other defenses on CIFAR-10, DenseNet121): every row on Table 5's Dense-Net adversarial
sets, the values the paper prints, the rows' recipes (the run trains what is not shipped), the script's checks
on --ship and on what other tables must ship, and a micro run of the rows the run trains (MNIST stand-ins)."""

import dataclasses
import json

import pytest

from keras_restore.pipeline import get_scale, run_table
from keras_restore.pipeline.phases import Run, attack_tag, replaces_classifier
from keras_restore.pipeline.tables import (
    COLUMNS, TABLE5, TABLE9, TABLE9_AT_EPS, TABLE9_CITED_ONLY, get_table,
)

QUIET = {"progress": False, "log": lambda s: None}


def test_spec_rows_share_table5_densenet_attacks_and_carry_printed_values():
    assert get_table("table9_cifar10_baselines") is TABLE9
    assert (TABLE9.dataset, TABLE9.columns, TABLE9.report, TABLE9.eval_images) == ("cifar10", COLUMNS, "success_rate",
                                                                                   "correct")
    assert set(TABLE9.targets.values()) == {"densenet121_cifar10"}
    assert list(TABLE9.rows) == ["Our method", "Defense-GAN", "MagNet", "Adv. Tr", "feature squeezing", "APE-GAN",
                                 "GAN denoiser (papers/004)"]
    assert {attack_tag(TABLE9, label) for label in TABLE9.rows} == {attack_tag(TABLE5, "Dense-Net")}
    # As printed in papers/000 Table 9: "Our method" only (= its Table 5 Dense-Net row); "-" for Defense-GAN,
    # Mag-Net and Adversarial training; cGan-defence cited only.
    assert TABLE9.paper == {"Our method": {"FGSM": 84.95, "BIM": 87.38, "PGD": 85.56, "DFA": 87.62, "CWA": 94.66,
                                           "SPA": 81.31}}
    assert TABLE9.paper["Our method"] == TABLE5.paper["Dense-Net"]
    assert "cGan-defence" not in TABLE9.rows
    assert {k: TABLE9_CITED_ONLY["cGan-defence"][k] for k in ("FGSM", "DFA", "CWA")} == {"FGSM": 84.19, "DFA": 85.10,
                                                                                      "CWA": 81.63}
    assert "84.19" in TABLE9.not_run["cGan-defence"] and "81.63" in TABLE9.not_run["cGan-defence"]
    assert TABLE9.paper_accuracy == {label: 80.0 for label in TABLE9.rows}   # Table 5: "above 80%"


def test_rows_defenses_models_and_recipes():
    from keras_restore import attacks, models
    from keras_restore.training import AdversarialTraining, MagNetDenoising

    rows = TABLE9.rows
    assert {label: (row.defense, row.restorer) for label, row in rows.items()} == {
        "Our method": ("deep_image_restoration", "restorer_cifar10"),
        "Defense-GAN": ("defense_gan", "defense_gan_cifar10"),
        "MagNet": ("magnet", "magnet_cifar10_reformer"),
        "Adv. Tr": ("fgsm_adversarial_training", "densenet121_cifar10_fgsm_at"),
        "feature squeezing": ("feature_squeezing", None),
        "APE-GAN": ("ape_gan", "ape_gan_cifar10"),
        "GAN denoiser (papers/004)": ("gan_denoiser", "gan_denoiser_cifar10")}
    assert all(row.attack_on == "target" for row in rows.values())   # the paper's protocol, as Table 8's rows
    assert rows["feature squeezing"].options == {"bits": 5, "median": 2}   # Xu et al.'s CIFAR-10 squeezer
    assert rows["MagNet"].options == {"detector": False}                   # reformer only
    # Table 5's restorer (trained for both its targets) and papers/004's denoiser are owned by their tables;
    # what this run trains for DenseNet121 alone it owns (and ships).
    assert TABLE9.trained_for("Our method") == TABLE5.targets
    assert {label for label in rows if rows[label].restorer and TABLE9.owns_restorer(label)} == {
        "Defense-GAN", "MagNet", "Adv. Tr", "APE-GAN"}
    for name in ("magnet_cifar10_reformer", "densenet121_cifar10_fgsm_at", "defense_gan_cifar10", "ape_gan_cifar10"):
        spec = models.get_spec(name)
        assert spec.dataset == "cifar10" and bool(spec.not_shipped) == (name == "densenet121_cifar10_fgsm_at"), name
    run = Run(TABLE9, get_scale("default", TABLE9), data_dir=None, cache_dir="unused", seed=0, columns=None, **QUIET)
    at = run.row_recipe("Adv. Tr")
    assert replaces_classifier(TABLE9, "Adv. Tr") and isinstance(at, AdversarialTraining)
    assert (at.attack, at.clean_weight, at.dataset) == ("fgsm", 0.5, "cifar10")   # Goodfellow et al.'s mixed objective
    # eps: Table 5's FGSM column's (the package's CIFAR-10 default)
    assert at.attack_params()["eps"] == TABLE9_AT_EPS == attacks.default_params("fgsm", "cifar10")["eps"] == 8 / 255
    magnet = run.row_recipe("MagNet")
    assert isinstance(magnet, MagNetDenoising) and (magnet.noise_volume, magnet.batch_size) == (0.025, 256)
    assert magnet.data_needs() == ("x_clean",)   # trained on clean images: no adversarial pairs
    assert run.row_recipe("APE-GAN").g_learning_rate == 2e-4
    assert run.row_recipe("Defense-GAN").data_needs() == ("x_clean",)
    # the copy is DenseNet121 itself (fine-tuned from its weights)
    copy, base = models.build("densenet121_cifar10_fgsm_at"), models.build("densenet121_cifar10")
    assert copy.count_params() == base.count_params() and copy.name == "densenet121_cifar10_fgsm_at"


def test_scales_share_table5_budget_and_set_the_baselines():
    for scale in ("quick", "default", "retrain", "paper"):
        s, t5 = get_scale(scale, TABLE9), get_scale(scale, TABLE5)
        # the same images and attacks as Table 5 (its adversarial sets), the same training budget as its restorer
        for field in ("n_eval", "attack_overrides", "target_epochs", "target_train_limit", "n_pairs", "restorer_epochs",
                      "restorer_lr", "restorer_batch", "pretrained"):
            assert getattr(s, field) == getattr(t5, field), (scale, field)
        assert s.robust_epochs >= 1 and s.robust_schedule == "cosine" and s.robust_batch == 128
        assert "Adv. Tr" in s.note and "FGSM eps 8/255" in s.note
    assert get_scale("default", TABLE9).defense_options == {"defense_gan": {"L": 50, "R": 2}}
    assert get_scale("paper", TABLE9).defense_options == {"defense_gan": {"L": 200, "R": 10}}
    assert get_scale("quick", TABLE9).defense_options == {"defense_gan": {"L": 10, "R": 2}}
    default = get_scale("default", TABLE9)
    assert (default.n_eval, default.n_adaptive) == (200, 0)
    assert (default.robust_train_limit, default.robust_precise_bn, default.robust_epochs) == (10000, 5000, 1)
    assert (get_scale("quick", TABLE9).robust_train_limit, get_scale("paper", TABLE9).robust_train_limit) == (300, None)
    assert get_scale("paper", TABLE9).robust_epochs == 10


def test_script_refuses_ship_off_default_and_names_missing_models(reproduce_script, monkeypatch, capsys):
    from keras_restore import models

    script = reproduce_script("table9_cifar10_baselines")
    for flag in ("--retrain", "--quick", "--paper"):
        with pytest.raises(SystemExit):
            script.main([flag, "--ship"])
        assert "--ship is offered at the default scale only" in capsys.readouterr().err
    monkeypatch.setattr(models, "shipped", lambda: {"densenet121_cifar10": {}})
    with pytest.raises(SystemExit):
        script.main([])
    err = capsys.readouterr().err
    assert "restorer_cifar10 (train it with reproduce/table5_cifar10.py --retrain --ship)" in err
    assert "gan_denoiser_cifar10 (train it with reproduce/gan_denoiser_table1.py --dataset cifar10 --ship)" in err
    assert "densenet121_cifar10 (" not in err
    # what the run trains itself is never "missing"
    assert not any(name in err for name in script.TRAINED_HERE)
    assert set(script.TRAINED_HERE) == {"defense_gan_cifar10", "magnet_cifar10_reformer", "densenet121_cifar10_fgsm_at",
                                        "ape_gan_cifar10"}
    assert script.to_train_here([]) == list(script.TRAINED_HERE)
    assert script.missing_models(["--quick"]) == [] and script.missing_models(["--retrain"]) == []
    # with --rows, the kept rows' models only
    assert script.missing_models(["--rows", "feature squeezing"]) == []
    assert script.to_train_here(["--rows", "MagNet"]) == ["magnet_cifar10_reformer"]
    assert script.missing_models(["--rows", "GAN denoiser (papers/004)", "MagNet"]) == [
        "gan_denoiser_cifar10 (train it with reproduce/gan_denoiser_table1.py --dataset cifar10 --ship)"]
    # every model a row needs has its trainer named
    needed = {row.restorer for row in TABLE9.rows.values() if row.restorer} | set(TABLE9.targets.values())
    assert needed <= set(script.TRAINED_BY)


# Micro run of the rows the Table 9 run trains itself, on MNIST stand-ins (M1 for DenseNet121, the MNIST
# registry entries for the CIFAR-10 models): MagNet's reformer on clean images + noise through the
# clean-only path, APE-GAN at its own generator rate on the table's pairs, the FGSM copy fine-tuned from the
# target and attacked like the other rows (on the bare target), one adversarial set per attack for every row;
# --ship ships exactly what the run trained and owns.
STANDIN = {"magnet_cifar10_reformer": "magnet_mnist_reformer", "densenet121_cifar10_fgsm_at": "m1_fgsm_at",
           "ape_gan_cifar10": "ape_gan_mnist"}
MICRO_ROWS = ("MagNet", "Adv. Tr", "feature squeezing", "APE-GAN")


def _micro_spec():
    rows = {}
    for label in MICRO_ROWS:
        row = TABLE9.rows[label]
        options = {"bits": 1, "median": 2} if label == "feature squeezing" else row.options
        recipe_options = ({"dataset": "mnist", "params": {"eps": 0.3}} if label == "Adv. Tr" else row.recipe_options)
        rows[label] = dataclasses.replace(row, target="m1", restorer=STANDIN.get(row.restorer), options=options,
                                          recipe_options=recipe_options,
                                          trained_for={"M1": "m1"} if row.trained_for else None)
    return dataclasses.replace(TABLE9, name="table9_micro", dataset="mnist", rows=rows,
                               attack_labels={label: "M1" for label in rows}, paper={})


MICRO_SPEC = _micro_spec()
MICRO = dataclasses.replace(
    get_scale("quick", TABLE9), name="micro", target_epochs={"m1": 1}, target_train_limit=300, n_pairs=36, n_eval=12,
    restorer_epochs=1, n_adaptive=0, robust_train_limit=34, robust_batch=32, robust_precise_bn=32,
    attack_overrides={"cw": {"binary_search_steps": 1, "max_iterations": 5}, "deepfool": {"max_iter": 5},
                      "bim": {"nb_iter": 5, "eps_iter": 0.06}, "pgd": {"nb_iter": 5, "eps_iter": 0.06},
                      "spa": {"n_angles": 3, "n_translations": 1}}, defense_options={})


def test_micro_run_trains_the_baselines_and_ships_them(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path / "models"))
    res = run_table(MICRO_SPEC, MICRO, data_dir=data_dir, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                    columns=["FGSM"], ship=True, **QUIET)
    records = res["meta"]["restorer"]["rows"]
    magnet = records["MagNet"]
    assert magnet["recipe"]["recipe"] == "MagNetDenoising" and magnet["recipe"]["noise_volume"] == 0.025
    assert "clean" in magnet["training_images"] and "0.025" in magnet["noise"] and magnet["batch_size_used"] == 256
    assert "pairs" not in magnet   # no adversarial example made for it
    ape = records["APE-GAN"]
    assert ape["g_learning_rate_used"] == 2e-4 and set(ape["pairs"]) == {f"M1/{c}" for c in COLUMNS}
    at = records["Adv. Tr"]
    assert at["initial_weights"]["target"] == "m1" and at["recipe"]["attack"] == "fgsm"
    assert at["attack_params"]["eps"] == 0.3 and at["n_train"] == 32 and at["precise_bn"]["images"] == 32
    # one adversarial set for every row, made on the bare target (the paper's protocol)
    infos = [res["meta"]["attacks"][f"{label}/FGSM"] for label in MICRO_ROWS]
    assert {i["made_on"] for i in infos} == {"target"} and len({i["seed"] for i in infos}) == 1
    assert [i["cached"] for i in infos] == [False, True, True, True]
    assert res["meta"]["defenses"]["MagNet"]["detector"] is None
    assert res["meta"]["defenses"]["Adv. Tr"]["restorer"] is None   # the copy replaces the classifier
    assert "cGan-defence" in res["meta"]["not_run"]
    by_row = {r["target"]: r for r in res["rows"]}
    assert set(by_row) == set(MICRO_ROWS) and all(0 <= float(r["FGSM"]) <= 100 for r in by_row.values())
    # --ship: the target it trained and the three models it trained for it
    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text())
    assert set(manifest) == {"m1", "magnet_mnist_reformer", "m1_fgsm_at", "ape_gan_mnist"}

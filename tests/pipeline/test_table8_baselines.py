"""papers/000 Table 8 (other defenses on MNIST): every row on M1's shared adversarial sets, the
cited values where the paper prints them, and the script's checks on what must be shipped."""

import pytest

from keras_restore.pipeline import get_scale
from keras_restore.pipeline.phases import attack_tag
from keras_restore.pipeline.tables import TABLE4, TABLE8, TABLE8_CITED_ONLY, get_table


def test_spec_rows_share_m1_attacks_and_carry_cited_values():
    assert get_table("table8_mnist_baselines") is TABLE8
    assert set(TABLE8.targets.values()) == {"m1"}
    assert {attack_tag(TABLE8, label) for label in TABLE8.rows} == {attack_tag(TABLE4, "M1")}
    assert TABLE8.paper["Our method"] == TABLE4.paper["M1"]   # the paper's own row is its Table 4 M1 row
    assert TABLE8.paper["MagNet"] == {"FGSM": 67.0, "CWA": 38.2} and TABLE8.paper["Adv. Tr"]["CWA"] == 28.3
    assert TABLE8.paper["Defense-GAN"] == {"FGSM": 98.8, "CWA": 98.9}
    assert "cGan-defence" not in TABLE8.rows and TABLE8_CITED_ONLY["cGan-defence"]["FGSM"] == 98.7
    # the cited row's method (Goodfellow et al.'s FGSM adversarial training); PGD's beside it
    assert TABLE8.rows["Adv. Tr"].defense == "fgsm_adversarial_training" and TABLE8.rows["Adv. Tr"].restorer is None
    assert TABLE8.rows["Adv. Tr (PGD, Madry et al.)"].defense == "adversarial_training"
    assert "Adv. Tr (PGD, Madry et al.)" not in TABLE8.paper
    assert get_scale("default", TABLE8).defense_options["defense_gan"] == {"L": 50, "R": 2}
    assert get_scale("paper", TABLE8).defense_options["defense_gan"] == {"L": 200, "R": 10}
    # other tables keep their own tags
    assert attack_tag(TABLE4, "M2") == "M2-test"


def test_script_refuses_retrain_and_names_missing_models(reproduce_script, monkeypatch, capsys):
    from keras_restore import models

    script = reproduce_script("table8_mnist_baselines")
    with pytest.raises(SystemExit):
        script.main(["--retrain"])
    assert "--retrain is not offered" in capsys.readouterr().err
    monkeypatch.setattr(models, "shipped", lambda: {"m1": {}})
    with pytest.raises(SystemExit):
        script.main([])
    err = capsys.readouterr().err
    assert "defense_gan_mnist (train it with reproduce/gan_denoiser_table2.py --ship)" in err
    assert "m1 (" not in err
    assert "m1_fgsm_at (train it with reproduce/baseline_adversarial_training.py --retrain --methods fgsm --ship)" in err
    assert script.missing_models(["--quick"]) == []


def test_rows_need_only_their_own_models(reproduce_script, monkeypatch, capsys):
    """--rows checks the kept rows' models only: a row runs while another row's model is not shipped."""
    from keras_restore import models
    from keras_restore.pipeline.phases import row_models

    script = reproduce_script("table8_mnist_baselines")
    # every row's model, the adversarially trained copies (named by the defense registry) included
    assert row_models(TABLE8) == set(script.TRAINED_BY)
    monkeypatch.setattr(models, "shipped", lambda: {"m1": {}, "restorer_mnist": {}, "magnet_mnist_reformer": {}})
    assert script.missing_models(["--rows", "our method", "MagNet"]) == []
    assert script.missing_models(["--rows", "Adv. Tr"]) == [
        "m1_fgsm_at (train it with reproduce/baseline_adversarial_training.py --retrain --methods fgsm --ship)"]
    # a bad --rows needs no model here: the script's parser reports it
    assert script.missing_models(["--rows", "nope"]) == [] and script.missing_models(["--rows"]) == []
    with pytest.raises(SystemExit):
        script.main(["--rows", "nope"])
    assert "Unknown row(s) ['nope']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main(["--rows", "Defense-GAN"])
    assert "not shipped in saved_models/: defense_gan_mnist (" in capsys.readouterr().err

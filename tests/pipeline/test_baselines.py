"""reproduce/baseline_adversarial_training.py: Madry et al.'s numbers pinned, scales ordered, bad
arguments refused. (CI runs the script at --quick; training is tested in tests/training.)"""

import pytest


@pytest.fixture(scope="module")
def script(reproduce_script):
    return reproduce_script("baseline_adversarial_training")


def test_madry_numbers_pinned(script):
    # Madry et al. 2018, Table 1 (MNIST, white-box) and Sec. 5 (clean accuracy).
    assert script.MADRY == {"clean": 98.8, "fgsm": 95.6, "pgd40": 93.2, "pgd100": 91.8}
    assert script.ATTACKS["pgd40"] == ("pgd", {"nb_iter": 40, "eps_iter": 0.01})
    assert script.EPS == 0.3


def test_goodfellow_numbers_and_methods(script):
    # Goodfellow et al. 2015, Sec. 6: 0.782% clean error, 17.9% error on FGSM eps 0.25 examples.
    assert script.GOODFELLOW == {"clean": 99.22, "fgsm25": 82.1}
    assert script.ATTACKS["fgsm25"] == ("fgsm", {"eps": 0.25})
    pgd, fgsm = script.METHODS["pgd"], script.METHODS["fgsm"]
    assert (pgd.model, pgd.attack, pgd.clean_weight, pgd.reference) == ("m1_pgd_at", "pgd", 0.0, script.MADRY)
    assert (fgsm.model, fgsm.defense, fgsm.attack, fgsm.clean_weight) == \
        ("m1_fgsm_at", "fgsm_adversarial_training", "fgsm", 0.5)
    assert script.parse_args(["--methods", "fgsm, fgsm"]).methods == ("fgsm",)
    assert script.parse_args([]).methods == ("pgd", "fgsm")


def test_scales(script):
    quick, default, retrain, paper = (script.SCALES[k] for k in ("quick", "default", "retrain", "paper"))
    assert default.pretrained and not retrain.pretrained and not quick.pretrained
    # the default describes the shipped model: trained at --retrain scale
    assert (default.epochs, default.train_steps, default.train_step_size, default.learning_rate) == \
        (retrain.epochs, retrain.train_steps, retrain.train_step_size, retrain.learning_rate)
    assert quick.n_eval < default.n_eval < paper.n_eval
    assert paper.from_scratch and paper.train_steps == 40 and paper.train_step_size == 0.01


@pytest.mark.parametrize("argv,message", [(["--seed", "-1"], "--seed must be >= 0"),
                                          (["--epochs", "0"], "--epochs must be >= 1"),
                                          (["--quick", "--retrain"], "not allowed with argument"),
                                          (["--methods", "bim"], "--methods must name some of pgd, fgsm"),
                                          (["--methods", ","], "--methods must name some of pgd, fgsm")])
def test_bad_arguments(script, argv, message, capsys):
    with pytest.raises(SystemExit):
        script.parse_args(argv)
    assert message in capsys.readouterr().err

"""papers/002 figure sweeps (keras_restore.pipeline.sweeps; reproduce/zhang_figure3_depth.py and
zhang_figures6_8_curves.py): each point checked against an independent computation, the cache
resumes, the CSV has its rows, bad arguments are refused naming the argument. Untrained M1 on a
few real MNIST test images: seconds. (CI runs both scripts at --quick.)"""

import csv
import importlib.util
import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_restore import attacks, models
from keras_restore.metrics import accuracy, predict
from keras_restore.pipeline import sweeps

REPO = Path(__file__).resolve().parents[2]
N = 32


@pytest.fixture(scope="module")
def m1():
    keras.utils.set_random_seed(0)
    return models.build("m1")


@pytest.fixture(scope="module")
def images(mnist_test, m1):
    """The first N MNIST test images, labelled with the untrained M1's own predictions: its clean
    accuracy is 100%, so every prediction the reduction or an attack changes shows in the numbers."""
    x = mnist_test[0][:N]
    return x, predict(m1, x).argmax(axis=1)


@pytest.fixture(scope="module")
def identity_restorer():
    """An exact identity image-to-image model (1x1 convolution, weight 1, bias 0)."""
    inp = keras.Input((28, 28, 1))
    out = keras.layers.Conv2D(1, 1, kernel_initializer="ones", bias_initializer="zeros", name="identity")(inp)
    return keras.Model(inp, out, name="identity_restorer")


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "reproduce" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)   # importable without side effects: nothing runs
    return module


# ------------------------------------------------------------------------------------------ Fig. 3
def test_depth_sweep_points_match_independent_computation(m1, images, tmp_path):
    x, y = images
    rows = sweeps.depth_sweep(m1, x, y, dataset="mnist", eps_grid=(0.1, 0.0), levels=(None, 2, 256),
                              cache_dir=tmp_path)
    assert [(r["strength"], r["k"]) for r in rows] == [(0.0, "none"), (0.0, 2), (0.0, 256),
                                                       (0.1, "none"), (0.1, 2), (0.1, 256)]
    at = {(r["strength"], r["k"]): r for r in rows}
    clean = accuracy(m1, x, y)
    # eps 0 is the clean images; k = 256 on 8-bit images changes nothing
    assert at[0.0, "none"]["accuracy_undefended"] == clean == at[0.0, "none"]["accuracy_defended"]
    assert at[0.0, 256]["accuracy_defended"] == clean
    assert at[0.0, 2]["accuracy_defended"] == accuracy(m1, np.round(x), y)     # k = 2: binarised at 0.5
    # eps 0.1: FGSM made on the bare classifier, then reduced to 2 levels
    x_adv = attacks.generate("fgsm", m1, x, y, dataset="mnist", eps=0.1, progress=False)
    assert at[0.1, "none"]["accuracy_undefended"] == accuracy(m1, x_adv, y)
    assert at[0.1, 2]["accuracy_defended"] == accuracy(m1, np.round(x_adv), y)
    assert at[0.1, 2]["accuracy_undefended"] == at[0.1, "none"]["accuracy_undefended"]
    assert clean == 100.0 and at[0.0, 2]["accuracy_defended"] < 100.0 and at[0.1, "none"]["accuracy_undefended"] < 100.0
    assert all(r["n_images"] == N for r in rows)
    assert at[0.1, 2]["params"] == {**attacks.default_params("fgsm", "mnist"), "eps": 0.1}
    assert at[0.1, 2]["figure"] == "Fig. 3(a)" and at[0.1, 2]["target"] == m1.name


def test_depth_sweep_cache_resumes_and_is_keyed_by_weights(m1, images, tmp_path):
    x, y = images
    first = sweeps.depth_sweep(m1, x, y, dataset="mnist", eps_grid=(0.2,), levels=(None, 4), cache_dir=tmp_path,
                               target="m1")
    again = sweeps.depth_sweep(m1, x, y, dataset="mnist", eps_grid=(0.2,), levels=(None, 4), cache_dir=tmp_path,
                               target="m1")
    assert not any(r["cached"] for r in first) and all(r["cached"] for r in again)
    assert [r["accuracy_defended"] for r in first] == [r["accuracy_defended"] for r in again]
    assert len(list((tmp_path / "attacks").glob("sweep-m1-fgsm-*.npz"))) == 1
    other = models.build("m1")
    other.set_weights([w + 0.01 for w in m1.get_weights()])
    moved = sweeps.depth_sweep(other, x, y, dataset="mnist", eps_grid=(0.2,), levels=(None,), cache_dir=tmp_path,
                               target="m1")
    assert not moved[0]["cached"]
    assert len(list((tmp_path / "attacks").glob("sweep-m1-fgsm-*.npz"))) == 2


def test_n_images_takes_the_first(m1, images):
    x, y = images
    rows = sweeps.depth_sweep(m1, x, y, dataset="mnist", eps_grid=(0.0,), levels=(None,), n_images=5)
    assert rows[0]["n_images"] == 5 and rows[0]["accuracy_undefended"] == accuracy(m1, x[:5], y[:5])


# ------------------------------------------------------------------------------------------ Figs. 6-8
def test_strength_curves_rows_params_and_paper_values(m1, identity_restorer, images, tmp_path):
    x, y = images
    rows = sweeps.strength_curves(m1, identity_restorer, x, y, dataset="mnist", eps_grid=(0.0, 0.1),
                                  iteration_grids={"deepfool": (0, 1), "cw": (0, 2)}, cache_dir=tmp_path, fast=False)
    assert [(r["attack"], r["strength"]) for r in rows] == [("fgsm", 0.0), ("fgsm", 0.1), ("bim", 0.0), ("bim", 0.1),
                                                            ("deepfool", 0), ("deepfool", 1), ("cw", 0), ("cw", 2)]
    clean, binarised = accuracy(m1, x, y), accuracy(m1, np.round(x), y)
    for r in rows:
        assert r["levels"] == 2 and r["n_images"] == N and r["dataset"] == "mnist"
        if r["strength"] == 0:   # the clean images: clean accuracy, and through identity restorer = depth reduction
            assert (r["accuracy_undefended"], r["accuracy_defended"]) == (clean, binarised)
    by = {(r["attack"], r["strength"]): r for r in rows}
    # an identity restorer leaves the defense = depth reduction to 2 levels: the same as Fig. 3's k = 2
    depth = sweeps.depth_sweep(m1, x, y, dataset="mnist", eps_grid=(0.1,), levels=(2,), cache_dir=tmp_path)
    assert by["fgsm", 0.1]["accuracy_defended"] == depth[0]["accuracy_defended"]
    assert by["fgsm", 0.1]["accuracy_undefended"] == depth[0]["accuracy_undefended"]
    assert depth[0]["cached"]     # the same FGSM set, made once
    # strength parameters
    assert by["bim", 0.1]["params"]["eps_iter"] == pytest.approx(0.1 / 30) and by["bim", 0.1]["params"]["nb_iter"] == 40
    assert by["cw", 2]["params"]["max_iterations"] == 2 and by["cw", 2]["params"]["binary_search_steps"] == 3
    assert by["deepfool", 1]["params"]["max_iter"] == 1
    # the paper's Sec. 4.4 values beside the largest strength only
    assert (by["fgsm", 0.1]["accuracy_undefended_paper"], by["fgsm", 0.1]["accuracy_defended_paper"]) == (20.0, 97.0)
    assert (by["cw", 2]["accuracy_undefended_paper"], by["cw", 2]["accuracy_defended_paper"]) == (0.0, 98.0)
    assert by["fgsm", 0.0]["accuracy_defended_paper"] == "" and by["deepfool", 0]["accuracy_undefended_paper"] == ""
    comparison = sweeps.paper_comparison(rows)
    assert set(comparison) == {"fgsm", "bim", "deepfool", "cw"}
    assert comparison["bim"]["paper"] == {"without_defense": 5.0, "with_defense": 98.0}
    assert comparison["bim"]["difference_with_defense"] == by["bim", 0.1]["accuracy_defended"] - 98.0
    assert [r["figure"] for r in rows[::2]] == ["Fig. 6(a)", "Fig. 6(b)", "Fig. 6(c)", "Fig. 6(d)"]


def test_paper_values_pinned():
    # papers/002 Sec. 4.4 (text on Figs. 6-8), ResNet-50, without -> with the defense
    assert sweeps.PAPER_AT_HIGHEST == {
        "mnist": {"fgsm": (20, 97), "bim": (5, 98), "deepfool": (0, 98), "cw": (0, 98)},
        "fashion_mnist": {"fgsm": (13, 81), "bim": (1, 82), "deepfool": (0, 88), "cw": (0, 88)},
        "cifar10": {"fgsm": (23, 71), "bim": (2, 70), "deepfool": (18, 87), "cw": (0, 87)}}
    assert sweeps.EPS_GRIDS["mnist"][-1] == 0.3 and sweeps.EPS_GRIDS["fashion_mnist"][-1] == 0.1
    assert sweeps.EPS_GRIDS["cifar10"] == pytest.approx((0.0, 0.002, 0.004, 0.006, 0.008, 0.01))
    assert np.allclose(np.diff(sweeps.EPS_GRIDS["mnist"]), 0.05)
    assert np.allclose(np.diff(sweeps.EPS_GRIDS["fashion_mnist"]), 0.02)


def test_bim_step_on_cifar10_is_a_quarter_of_eps():
    assert sweeps.attack_overrides("bim", "cifar10", 0.008) == {"eps": 0.008, "eps_iter": pytest.approx(0.002)}


# ------------------------------------------------------------------------------------------ outputs
def test_csv_png_meta_written(m1, identity_restorer, images, tmp_path):
    x, y = images
    depth = sweeps.depth_sweep(m1, x, y, dataset="mnist", eps_grid=(0.0, 0.05), levels=(None, 2, 4))
    paths = sweeps.write_outputs(tmp_path, "fig3", depth, kind="depth", title="t", meta={"seed": 0})
    with open(paths["csv"]) as f:
        got = list(csv.DictReader(f))
    assert len(got) == 6 and list(got[0]) == list(sweeps.DEPTH_COLUMNS)
    assert [(g["strength"], g["k"]) for g in got] == [("0.00", "none"), ("0.00", "2"), ("0.00", "4"),
                                                      ("0.05", "none"), ("0.05", "2"), ("0.05", "4")]
    assert json.loads(got[3]["params"])["eps"] == 0.05
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads(paths["meta"].read_text())
    assert meta["seed"] == 0 and meta["metric_definitions"] == sweeps.DEPTH_COLUMNS
    curves = sweeps.strength_curves(m1, identity_restorer, x, y, dataset="mnist", attacks=("fgsm", "deepfool"),
                                    eps_grid=(0.0, 0.3), iteration_grids={"deepfool": (0, 1)}, fast=False)
    paths = sweeps.write_outputs(tmp_path, "fig6", curves, kind="curves", title="t", meta={})
    with open(paths["csv"]) as f:
        got = list(csv.DictReader(f))
    assert [(g["attack"], g["strength"], g["accuracy_defended_paper"]) for g in got] == [
        ("fgsm", "0.00", ""), ("fgsm", "0.30", "97.00"), ("deepfool", "0", ""), ("deepfool", "1", "98.00")]
    with pytest.raises(ValueError, match="rows"):
        sweeps.write_outputs(tmp_path, "empty", [], kind="depth", title="t", meta={})


# ------------------------------------------------------------------------------------------ defense curves
@pytest.fixture(scope="module")
def grey_restorer():
    """A restorer that outputs mid-grey whatever its input: it removes every perturbation (and the image)."""
    inp = keras.Input((28, 28, 1))
    out = keras.layers.Conv2D(1, 1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(0.5),
                              name="grey")(inp)
    return keras.Model(inp, out, name="grey_restorer")


def test_defense_curves_against_independent_computation(m1, identity_restorer, grey_restorer, images, tmp_path):
    from keras_restore.defenses import RestorerDefense

    x, y = images
    defenses = {"identity": RestorerDefense(identity_restorer, m1, fast=False),
                "grey": RestorerDefense(grey_restorer, m1, fast=False)}
    rows = sweeps.defense_curves(m1, defenses, x, y, dataset="mnist", eps_grid=(0.1, 0.0), cache_dir=tmp_path)
    assert [(r["attack"], r["eps"], r["defense"]) for r in rows] == [
        (a, e, d) for a in ("fgsm", "bim") for e in (0.0, 0.1) for d in ("identity", "grey")]
    by = {(r["attack"], r["eps"], r["defense"]): r for r in rows}
    x_adv = attacks.generate("fgsm", m1, x, y, dataset="mnist", eps=0.1, seed=by["fgsm", 0.1, "grey"]["seed"])
    grey = np.full_like(x, 0.5)
    for d in ("identity", "grey"):
        r = by["fgsm", 0.1, d]
        assert r["accuracy_undefended"] == accuracy(m1, x_adv, y)
        assert r["mse_attacked"] == pytest.approx(float(np.mean((x_adv - x) ** 2)), rel=1e-5)
        assert r["eps_255"] == pytest.approx(25.5) and r["n_images"] == N
        assert by["fgsm", 0.0, d]["perturbation_passed"] == "" and by["fgsm", 0.0, d]["mse_attacked"] == 0.0
        assert by["fgsm", 0.0, d]["accuracy_undefended"] == 100.0   # labels are M1's own predictions
    # the identity passes on the whole perturbation and changes no prediction; grey passes none of it
    ident, g = by["fgsm", 0.1, "identity"], by["fgsm", 0.1, "grey"]
    assert ident["perturbation_passed"] == pytest.approx(1.0, abs=1e-5)
    assert ident["accuracy_defended"] == ident["accuracy_undefended"]
    assert ident["mse_restored"] == pytest.approx(ident["mse_attacked"], rel=1e-5)
    assert ident["mse_restored_clean"] == pytest.approx(0.0, abs=1e-10)
    assert g["perturbation_passed"] == pytest.approx(0.0, abs=1e-10)
    assert g["mse_restored"] == pytest.approx(float(np.mean((grey - x) ** 2)), rel=1e-5)
    assert g["accuracy_defended"] == accuracy(m1, grey, y)
    # the identity is its own no-defense curve; grey passes nothing (shrunk to eps 0)
    assert ident["eps_shrunk_255"] == pytest.approx(25.5, abs=1e-3) and g["eps_shrunk_255"] == pytest.approx(0.0)
    if ident["accuracy_undefended"] < 100.0:
        assert ident["eps_equivalent_255"] == pytest.approx(25.5)
    assert by["fgsm", 0.0, "grey"]["eps_equivalent_255"] == "" == by["fgsm", 0.0, "grey"]["eps_shrunk_255"]
    assert by["bim", 0.1, "grey"]["params"]["nb_iter"] == 40 and not by["fgsm", 0.1, "grey"]["cached"]
    # the FGSM set is the one strength_curves / depth_sweep make of the same target and images
    again = sweeps.depth_sweep(m1, x, y, dataset="mnist", eps_grid=(0.1,), levels=(None,), cache_dir=tmp_path)
    assert again[0]["cached"] and again[0]["accuracy_undefended"] == ident["accuracy_undefended"]
    paths = sweeps.write_outputs(tmp_path / "out", "curves", rows, kind="defenses", title="t", meta={"scale": "x"})
    with open(paths["csv"]) as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    assert paths["png"].stat().st_size > 0
    assert "perturbation_passed" in json.loads(paths["meta"].read_text())["metric_definitions"]


def test_equivalent_eps_255_interpolates_the_undefended_curve():
    curve = [(0.0, 84.5), (1 / 255, 56.5), (2 / 255, 37.0), (4 / 255, 25.5), (8 / 255, 18.5), (16 / 255, 15.5)]
    f = sweeps.equivalent_eps_255
    assert f(curve, 84.5) == 0.0 and f(curve, 90.0) == 0.0          # the clean accuracy or more
    assert f(curve, 56.5) == pytest.approx(1.0) and f(curve, 18.5) == pytest.approx(8.0)
    assert f(curve, 28.5) == pytest.approx(2 + (37.0 - 28.5) / (37.0 - 25.5) * 2, abs=1e-4)   # inside the 2-4 step
    assert f(curve, 15.0) == ""                                      # below the largest eps's: off the grid
    # a noisy rise is flattened (running minimum): 30% is first reached at eps 2
    assert f([(0.0, 80.0), (1 / 255, 30.0), (2 / 255, 35.0), (4 / 255, 10.0)], 30.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="`curve` must hold eps 0"):
        f([(1 / 255, 50.0), (2 / 255, 40.0)], 45.0)


def test_defense_curves_refuses_a_defense_of_another_classifier_or_a_stochastic_one(m1, identity_restorer, images):
    from keras_restore.defenses import RestorerDefense

    x, y = images
    other = models.build("m1")
    with pytest.raises(ValueError, match=r"must defend `classifier`"):
        sweeps.defense_curves(m1, {"d": RestorerDefense(identity_restorer, other, fast=False)}, x, y, dataset="mnist",
                              eps_grid=(0.1,))
    noisy = RestorerDefense(identity_restorer, m1, fast=False)
    noisy.stochastic = True
    with pytest.raises(ValueError, match="is stochastic"):
        sweeps.defense_curves(m1, {"d": noisy}, x, y, dataset="mnist", eps_grid=(0.1,))


@pytest.mark.parametrize("kwargs,match", [
    ({"defenses": {}}, "defenses"),
    ({"defenses": {"m": "m1"}}, r"defenses\['m'\]"),
    ({"eps_grid": ()}, "eps_grid"),
    ({"eps_grid": (0.0, 2.0)}, "eps_grid"),
    ({"attacks": ("fgsm", "deepfool")}, "attack"),
    ({"attacks": ("fgsm", "fgsm")}, "duplicate"),
    ({"overrides": {"bim": {"eps_iter": 0.01}}}, "overrides"),
    ({"overrides": {"bim": {"nb_iter": 0}}}, "nb_iter"),
    ({"dataset": "svhn"}, "dataset"),
    ({"n_images": 0}, "n_images"),
])
def test_defense_curves_bad_arguments(m1, identity_restorer, images, kwargs, match):
    from keras_restore.defenses import RestorerDefense

    x, y = images
    args = {"defenses": {"identity": RestorerDefense(identity_restorer, m1, fast=False)}, "dataset": "mnist",
            "eps_grid": (0.0, 0.1), **kwargs}
    with pytest.raises(ValueError, match=match):
        sweeps.defense_curves(m1, x=x, y=y, **args)


# ------------------------------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize("kwargs,match", [
    ({"dataset": "svhn"}, "dataset"),
    ({"eps_grid": ()}, "eps_grid"),
    ({"eps_grid": (0.0, -0.1)}, "eps_grid"),
    ({"eps_grid": (0.0, 1.5)}, "eps_grid"),
    ({"eps_grid": (0.1, 0.1)}, "eps_grid"),
    ({"eps_grid": 0.1}, "eps_grid"),
    ({"eps_grid": (float("nan"),)}, "eps_grid"),
    ({"levels": ()}, "levels"),
    ({"levels": (None, 1)}, "levels"),
    ({"levels": (2.5,)}, "levels"),
    ({"n_images": 0}, "n_images"),
])
def test_depth_sweep_bad_arguments(m1, images, kwargs, match):
    x, y = images
    with pytest.raises(ValueError, match=match):
        sweeps.depth_sweep(m1, x, y, **{"dataset": "mnist", **kwargs})


@pytest.mark.parametrize("kwargs,match", [
    ({"dataset": "imagenet"}, "dataset"),
    ({"eps_grid": []}, "eps_grid"),
    ({"eps_grid": (-0.05,)}, "eps_grid"),
    ({"attacks": ("fgsm", "pgd")}, "attack"),
    ({"attacks": ()}, "attacks"),
    ({"iteration_grids": {"cw": (5, -1)}}, "iteration_grids"),
    ({"iteration_grids": {"cw": ()}}, "iteration_grids"),
    ({"iteration_grids": {"fgsm": (1,)}}, "iteration_grids"),
    ({"overrides": {"fgsm": {"eps": 0.2}}}, "overrides"),
    ({"overrides": {"cw": {"max_iterations": 3}}}, "overrides"),
    ({"levels": 1}, "levels"),
    ({"overrides": {"bim": {"nb_iter": 0}}}, "nb_iter"),
    ({"overrides": {"bim": {"eps_iter": 0.01}}}, "overrides"),
    ({"overrides": {"pgd": {}}}, "attack"),
])
def test_strength_curves_bad_arguments(m1, identity_restorer, images, kwargs, match):
    x, y = images
    with pytest.raises(ValueError, match=match):
        sweeps.strength_curves(m1, identity_restorer, x, y, **{"dataset": "mnist", "fast": False, **kwargs})


def test_bad_images_and_labels(m1, images):
    x, y = images
    with pytest.raises(ValueError, match="`x`"):
        sweeps.depth_sweep(m1, x * 2.0, y, dataset="mnist")
    with pytest.raises(ValueError, match="`y`"):
        sweeps.depth_sweep(m1, x, y[:-1], dataset="mnist")
    with pytest.raises(ValueError, match="`y`"):
        sweeps.depth_sweep(m1, x, y + 10, dataset="mnist")
    with pytest.raises(ValueError, match="classifier"):
        sweeps.depth_sweep("m1", x, y, dataset="mnist")


# ------------------------------------------------------------------------------------------ scripts
@pytest.mark.parametrize("name", ["zhang_figure3_depth", "zhang_figures6_8_curves"])
def test_scripts_scales_and_arguments(name, capsys):
    script = _script(name)
    s = script.scales()
    assert list(s) == ["quick", "default", "retrain", "paper"]
    assert s["quick"]["n_images"] == 30 and s["paper"]["n_images"] == 10000
    assert s["default"]["n_images"] == (500 if name == "zhang_figure3_depth" else 200)
    assert all(len(g) <= 3 for g in s["quick"]["eps_grid"].values())
    assert s["default"]["eps_grid"] == sweeps.EPS_GRIDS
    args = script.parse_args(["--quick", "--datasets", "mnist", "mnist", "--quiet"])
    assert (args.scale, args.datasets, args.seed, args.precision) == ("quick", ["mnist"], 0, "mixed_bfloat16")
    assert str(sweeps.out_dir(args)).endswith("reproduce/results/quick")
    assert script.parse_args([]).scale == "default" and str(sweeps.out_dir(script.parse_args([]))).endswith(
        "reproduce/results")
    for argv, message in ((["--seed", "-1"], "--seed must be >= 0"), (["--quick", "--paper"], "not allowed with"),
                          (["--datasets", "svhn"], "invalid choice")):
        with pytest.raises(SystemExit):
            script.parse_args(argv)
        assert message in capsys.readouterr().err


def test_figures6_8_use_the_tables_models_cifar10_included():
    # Fig. 8 (CIFAR-10) runs on papers/002 Table 3's ResNet-50 and EDSR, as Figs. 6-7 on Tables 1-2's
    # (running it trains a 32x32x3 ResNet-50: left to the script's --quick run, not the suite).
    from keras_restore.pipeline.tables import get_table

    script = _script("zhang_figures6_8_curves")
    assert script.SKIP == {}
    assert {ds: script.stem(ds) for ds in sweeps.DATASETS} == {
        "mnist": "zhang_figure6_mnist", "fashion_mnist": "zhang_figure7_fashion_mnist",
        "cifar10": "zhang_figure8_cifar10"}
    assert sweeps.ZHANG_TABLES["cifar10"] == ("zhang_table3_cifar10", "ResNet50")
    for ds, (table, label) in sweeps.ZHANG_TABLES.items():
        spec = get_table(table)
        assert spec.dataset == ds and spec.restorer_of(label) == f"edsr_{ds}"
    assert get_table("zhang_table3_cifar10").targets["ResNet50"] == "resnet50_zhang_cifar10"
    with pytest.raises(ValueError, match="dataset"):
        sweeps.zhang_run("svhn", "quick", data_dir=None, cache_dir=None, seed=0, progress=False, log=print)


def test_bim_with_fewer_iterations_keeps_the_total_step_length():
    # MNIST default 40 x eps/30 (total 4/3 eps): 10 iterations take steps of 2/15 eps; 1 iteration at most eps
    assert sweeps.attack_overrides("bim", "mnist", 0.3, {"nb_iter": 10}) == {
        "nb_iter": 10, "eps": 0.3, "eps_iter": pytest.approx(0.3 * 4 / 30)}
    assert sweeps.attack_overrides("bim", "mnist", 0.3, {"nb_iter": 1})["eps_iter"] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="nb_iter"):
        sweeps.attack_overrides("bim", "mnist", 0.3, {"nb_iter": 0})

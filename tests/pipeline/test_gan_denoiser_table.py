"""papers/004 Table 1 (GAN denoiser) on the shared pipeline: the spec, the paper's attacks as columns,
what Run.restorer passes a recipe with a classifier loss (the first trained-for target, frozen only
while it trains, and the pairs' labels) and what it passes the others (nothing new), and a micro run
(M1 / LeNet-5, 300 training images, 32 pairs, 16 test images)."""

import csv
import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from keras_restore import training
from keras_restore.defenses import get_defense
from keras_restore.pipeline import cifar_targets, get_scale, run_table
from keras_restore.pipeline.phases import Run
from keras_restore.pipeline.tables import (
    ATTACK_OF_COLUMN, GAN_DENOISER_COLUMNS, GAN_DENOISER_TABLE1_MNIST, Row, get_table,
)

QUIET = {"progress": False, "log": lambda s: None}
MICRO_ATTACKS = {"cw": {"binary_search_steps": 1, "max_iterations": 5}, "deepfool": {"max_iter": 5},
                 "pgd": {"nb_iter": 5, "eps_iter": 0.06}, "mim": {"nb_iter": 5, "eps_iter": 0.06},
                 "jsma": {"gamma": 0.05}}
MICRO_SPEC = dataclasses.replace(
    GAN_DENOISER_TABLE1_MNIST, name="gan_denoiser_micro",
    rows={"M1": Row("m1", "gan_denoiser", "gan_denoiser_mnist"),
          "LeNet-5": Row("lenet5", "gan_denoiser", "gan_denoiser_mnist")})
MICRO = dataclasses.replace(get_scale("quick", GAN_DENOISER_TABLE1_MNIST), name="micro",
                            target_epochs={"m1": 1, "lenet5": 1}, target_train_limit=300, n_pairs=32, n_eval=16,
                            restorer_epochs=1, attack_overrides=MICRO_ATTACKS, n_adaptive=4, adaptive_iter=2,
                            adaptive_targets=1)


@pytest.fixture(scope="module")
def micro_run(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("gan_denoiser")
    res = run_table(MICRO_SPEC, MICRO, data_dir=data_dir, out_dir=d / "out", cache_dir=d / "cache", **QUIET)
    return res, d


# ---------------------------------------------------------------- the spec
def test_spec_follows_the_paper():
    spec = GAN_DENOISER_TABLE1_MNIST
    assert get_table("gan_denoiser_table1_mnist") is spec
    assert spec.columns == GAN_DENOISER_COLUMNS == ("FGSM", "PGD", "MIM", "JSMA", "CWA", "DFA")
    assert [ATTACK_OF_COLUMN[c] for c in spec.columns] == ["fgsm", "pgd", "mim", "jsma", "cw", "deepfool"]
    assert spec.targets == {"M1": "m1", "LeNet-5": "lenet5", "A-Net": "anet"}   # three CNNs, all shipped
    assert (spec.report, spec.eval_images, spec.paper, spec.paper_accuracies) == ("defended", "first", {}, {})
    assert spec.pair_attacks == {"FGSM": {"eps": 0.3}}   # the paper's grayscale FGSM multiplier
    for label in spec.rows:
        assert spec.rows[label].defense == "gan_denoiser" and spec.restorer_of(label) == "gan_denoiser_mnist"
        assert spec.trained_for(label) == spec.targets
    for scale in ("quick", "default", "retrain", "paper"):
        s = get_scale(scale, spec)
        assert (s.restorer_lr, s.restorer_batch) == (2e-4, 32)   # the paper's Adam 2e-4, batch 32
        assert set(s.target_epochs) >= set(spec.targets.values())
        assert s.attack_overrides.get("fgsm", {}).get("eps", 0.3) == 0.3
    spec_d = get_defense("gan_denoiser")
    assert spec_d.recipe == "gan_repair" and spec_d.restorer_name("cifar10") == "gan_denoiser_cifar10"
    assert spec_d.reported["imagenet"]["value"] == 78.7 and spec_d.reported["imagenet"]["without_defense"] == 22.6
    rep = spec_d.reported["imagenet_comparison"]
    assert (rep["defense_gan_below"], rep["ape_gan_below"]) == (4.3, 7.4)


# ---------------------------------------------------------------- what Run.restorer passes a recipe
@dataclass(frozen=True)
class _Capture(training.Recipe):
    """Trains nothing; records the data and context it was given."""

    with_classifier: bool = True
    NEEDS: ClassVar[tuple] = ("x_adv", "x_clean")
    seen: ClassVar[dict] = {}

    def data_needs(self):
        return self.NEEDS + (("labels",) if self.with_classifier else ())

    def context_needs(self):
        return ("classifier",) if self.with_classifier else ()

    def train(self, model, data, config, *, checkpoint_dir=None, verbose=2, **context):
        clf = context.get("classifier")
        _Capture.seen.update(data=data, context=context, trainable=None if clf is None else clf.trainable)
        if clf is not None:
            clf.trainable = False   # as GANRestorer does
        return {"seconds": 0.0}


@pytest.mark.parametrize("with_classifier", [True, False])
def test_run_restorer_passes_classifier_and_labels(data_dir, tmp_path, monkeypatch, with_classifier):
    monkeypatch.setattr(training, "get_recipe", lambda name: _Capture(with_classifier))
    _Capture.seen.clear()
    run = Run(MICRO_SPEC, MICRO, data_dir=data_dir, cache_dir=tmp_path, seed=0, columns=None, **QUIET)
    run.load_data()
    _, record = run.restorer("LeNet-5")
    seen = _Capture.seen
    m1, _ = run.target("M1", "m1")
    if with_classifier:
        assert seen["context"]["classifier"] is m1 and record["classifier_loss_target"] == "M1"   # the first target
        assert seen["trainable"] is True and m1.trainable   # frozen while training only
        x_clean, labels = seen["data"].x_clean, seen["data"].labels
        assert labels.shape == (32,)
        # each label is the true class of its (shuffled) clean image
        index = {run.x_train[i].tobytes(): i for i in range(len(run.x_train))}
        np.testing.assert_array_equal(labels, run.y_train[[index[x.tobytes()] for x in x_clean]])
    else:
        assert seen["context"] == {} and seen["data"].labels is None and "classifier_loss_target" not in record


def test_pairs_without_labels_unchanged(data_dir, tmp_path):
    run = Run(MICRO_SPEC, MICRO, data_dir=data_dir, cache_dir=tmp_path, seed=0, columns=None, **QUIET)
    run.load_data()
    targets = {"M1": run.target("M1", "m1")[0]}
    plain = run.pairs(targets)
    labelled = run.pairs(targets, with_labels=True)
    assert len(plain) == 4 and len(labelled) == 5
    for a, b in zip(plain[:3], labelled[:3]):
        np.testing.assert_array_equal(a, b)
    recipe = training.get_recipe("pixel_mse")
    assert run.restorer_key("r", recipe, targets) == run.restorer_key("r", recipe, targets, (), None)
    assert run.restorer_key("r", recipe, targets, (), "M1") != run.restorer_key("r", recipe, targets)


# ---------------------------------------------------------------- a micro run
def test_micro_run(micro_run):
    res, d = micro_run
    with open(d / "out" / "gan_denoiser_micro.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["network"], r["defense"]) for r in rows] == [("M1", "no defense"), ("M1", "defense"),
                                                            ("LeNet-5", "no defense"), ("LeNet-5", "defense")]
    for r in rows:
        for col in ("Clean", *GAN_DENOISER_COLUMNS):
            assert 0.0 <= float(r[col]) <= 100.0 and r[f"{col}_paper"] == ""
    record = res["meta"]["restorer"]
    assert record["name"] == "gan_denoiser_mnist" and record["classifier_loss_target"] == "M1"
    assert record["pair_attacks"] == {"FGSM": {"eps": 0.3}}
    assert {k: v["n"] for k, v in record["pairs"].items()} == {"M1/FGSM": 16, "LeNet-5/FGSM": 16}
    assert record["recipe"]["weights"]["isomorphic"] == 0.7 and record["recipe"]["discriminator"] == "gan_denoiser"
    hist = record["history"]
    assert all(np.isfinite(hist[k][-1]) and hist[k][-1] > 0 for k in ("pixel", "adversarial", "classifier",
                                                                        "recovery", "isomorphic", "d_loss"))
    described = res["meta"]["defenses"]["LeNet-5"]
    assert described["restorer"] == "gan_denoiser_mnist" and set(described["gradients"].values()) == {"exact"}
    adaptive = {a["target"]: a for a in res["meta"]["adaptive"]["rows"]}
    assert set(adaptive) == {"M1", "LeNet-5"} and adaptive["M1"]["eps"] == 0.3
    # the adaptive accuracy sits on each network's "defense" row of the CSV, not on its "no defense" row
    for r in rows:
        if r["defense"] == "defense":
            assert float(r["PGD_adaptive_acc"]) == pytest.approx(adaptive[r["network"]]["adaptive_accuracy"], abs=0.01)
        else:
            assert r["PGD_adaptive_acc"] == ""
    assert adaptive["M1"]["paper_oblivious"] is None
    assert res["meta"]["scale"]["restorer_lr"] == 2e-4


# ---------------------------------------------------------------- Table 2, the ablation, Tables 3-4
def test_table2_and_ablation_specs():
    from keras_restore.pipeline.tables import GAN_DENOISER_ABLATION_MNIST, GAN_DENOISER_TABLE2_MNIST

    t2 = GAN_DENOISER_TABLE2_MNIST
    assert get_table("gan_denoiser_table2_mnist") is t2 and len(t2.rows) == 9
    assert {(r.target, r.defense, r.restorer) for r in t2.rows.values()} >= {
        ("m1", "gan_denoiser", "gan_denoiser_mnist"), ("lenet5", "ape_gan", "ape_gan_mnist"),
        ("anet", "defense_gan", "defense_gan_mnist")}
    # every restorer is trained on Table 1's pairs (all three targets, the same labels): Table 1's cache key
    for label in t2.rows:
        assert t2.trained_for(label) == GAN_DENOISER_TABLE1_MNIST.targets and t2.owns_restorer(label)
    assert get_scale("paper", t2).defense_options == {"defense_gan": {"L": 200, "R": 10}}   # Samangouei et al.
    assert get_scale("default", t2).defense_options == {"defense_gan": {"L": 50, "R": 2}}
    assert "first 100 test images" in get_scale("default", t2).note
    ab = GAN_DENOISER_ABLATION_MNIST
    assert {label: (r.restorer, r.recipe) for label, r in ab.rows.items() if label.startswith("M1")} == {
        "M1 / full": ("gan_denoiser_mnist", None),
        "M1 / no isomorphic": ("gan_denoiser_mnist_no_isomorphic", "gan_repair_no_isomorphic"),
        "M1 / no recovery": ("gan_denoiser_mnist_no_recovery", "gan_repair_no_recovery")}
    warm = get_table("gan_denoiser_warmup_cifar10")
    assert {label: (r.target, r.restorer, r.recipe) for label, r in warm.rows.items()
            if label.startswith("DenseNet121")} == {
        "DenseNet121 / full": ("densenet121_cifar10", "gan_denoiser_cifar10", None),
        "DenseNet121 / warm start": ("densenet121_cifar10", "gan_denoiser_cifar10_warm", "gan_repair_warm")}
    assert len(warm.rows) == 6 and get_scale("default", warm).n_pairs == get_scale("default", get_table(
        "gan_denoiser_table1_cifar10")).n_pairs   # the same budget as the denoiser it is compared with


def test_row_recipe_and_scale_defense_options_reach_the_run(data_dir, tmp_path, monkeypatch):
    asked = []

    def capture(name):
        asked.append(name)
        return _Capture(True)

    monkeypatch.setattr(training, "get_recipe", capture)
    spec = dataclasses.replace(MICRO_SPEC, rows={"M1": Row("m1", "gan_denoiser", "gan_denoiser_mnist_no_recovery",
                                                           recipe="gan_repair_no_recovery")})
    run = Run(spec, MICRO, data_dir=data_dir, cache_dir=tmp_path, seed=0, columns=None, **QUIET)
    run.load_data()
    run.restorer("M1")
    assert asked == ["gan_repair_no_recovery"]   # the row's recipe, not the defense's gan_repair
    scale = dataclasses.replace(MICRO, defense_options={"feature_squeezing": {"bits": 3}})
    fs = dataclasses.replace(MICRO_SPEC, rows={"M1": Row("m1", "feature_squeezing", options={"bits": 1, "median": 2})})
    assert Run(fs, scale, data_dir=data_dir, cache_dir=tmp_path, seed=0, columns=None,
               **QUIET).defense_options("M1") == {"bits": 3, "median": 2}


def test_tables3_4_from_the_table1_run(micro_run, data_dir, monkeypatch):
    from keras_restore.pipeline import similarity

    res, d = micro_run
    monkeypatch.setitem(similarity.GAN_DENOISER_SIMILARITY, "mnist", "gan_denoiser_micro")
    monkeypatch.setattr(similarity, "get_table", lambda name: MICRO_SPEC if name == "gan_denoiser_micro" else get_table(name))
    logs = []
    out = similarity.gan_denoiser_similarity(MICRO, data_dir=data_dir, out_dir=d / "out", cache_dir=d / "cache",
                                             progress=False, log=logs.append)
    assert logs[0].startswith("[3-4] from ")   # read off the micro run's .meta.json, not rerun
    rows = out["rows"]
    assert [(r["paper_table"], r["network"], r["row"]) for r in rows[:4]] == [
        ("Table 3", "M1", "Base"), ("Table 3", "M1", "Ours"), ("Table 3", "LeNet-5", "Base"), ("Table 3", "LeNet-5", "Ours")]
    long = {(r["target"], r["attack"]): r for r in res["long"]}
    m1_base = next(r for r in rows if (r["paper_table"], r["network"], r["row"]) == ("Table 4", "M1", "Base"))
    assert m1_base["FGSM"] == f'{long["M1", "FGSM"]["ssim_adversarial"]:.4f}'
    m1_ours = next(r for r in rows if (r["paper_table"], r["network"], r["row"]) == ("Table 3", "M1", "Ours"))
    assert m1_ours["PGD"] == f'{long["M1", "PGD"]["psnr_restored"]:.2f}'
    assert (d / "out" / "gan_denoiser_tables3_4_mnist.meta.json").exists()


def test_clean_only_recipe_trains_without_pairs(data_dir, tmp_path):
    # Defense-GAN's WGAN needs clean images only: Run.restorer makes no adversarial example for it.
    spec = dataclasses.replace(MICRO_SPEC, rows={"M1": Row("m1", "defense_gan", "defense_gan_mnist")})
    logs = []
    run = Run(spec, MICRO, data_dir=data_dir, cache_dir=tmp_path, seed=0, columns=None, progress=False,
              log=logs.append)
    run.load_data()
    model, record = run.restorer("M1")
    assert model.input_shape == (None, 128) and model.output_shape == (None, 28, 28, 1)
    assert record["training_images"].startswith("the first n_pairs") and record["recipe"]["recipe"] == "WGANGenerator"
    assert not any("pairs M1/" in line for line in logs)
    assert not (tmp_path / "attacks").exists() or not list((tmp_path / "attacks").iterdir())


# ---------------------------------------------------------------- Fashion-MNIST and CIFAR-10 (issue 20)
NOT_RUN = {"CIFAR-100": "not run: data not available offline", "ImageNet": "not run: data not available offline"}


@pytest.mark.parametrize("dataset,targets,eps", [
    ("fashion_mnist", {"M1": "m1_fashion_mnist", "LeNet-5": "lenet5_fashion_mnist", "A-Net": "anet_fashion_mnist"},
     0.3),
    ("cifar10", {"DenseNet121": "densenet121_cifar10", "MobileNet": "mobilenet_cifar10", "ResNet-20": "resnet_cifar10"},
     0.15)])
def test_specs_per_dataset(dataset, targets, eps):
    from keras_restore import attacks, models
    from keras_restore.pipeline.similarity import GAN_DENOISER_SIMILARITY

    t1, t2, ab = (get_table(f"gan_denoiser_{kind}_{dataset}") for kind in ("table1", "table2", "ablation"))
    assert (t1.dataset, t2.dataset, ab.dataset) == (dataset,) * 3 and t1.targets == targets
    assert t1.columns == GAN_DENOISER_COLUMNS and t1.pair_attacks == {"FGSM": {"eps": eps}}   # the paper's multiplier
    assert (len(t2.rows), len(ab.rows)) == (9, 9) and GAN_DENOISER_SIMILARITY[dataset] == t1.name
    assert {r.restorer for r in t2.rows.values()} == {f"gan_denoiser_{dataset}", f"ape_gan_{dataset}",
                                                      f"defense_gan_{dataset}"}
    assert {r.restorer for r in ab.rows.values()} == {f"gan_denoiser_{dataset}{part}" for part in (
        "", "_no_isomorphic", "_no_recovery")}
    for spec in (t1, t2, ab):
        assert spec.not_run == NOT_RUN
        for label, row in spec.rows.items():
            assert models.get_spec(row.target).dataset == dataset == models.get_spec(row.restorer).dataset
            assert spec.trained_for(label) == targets
    for scale in ("quick", "default", "retrain", "paper"):
        s = get_scale(scale, t1)
        assert (s.restorer_lr, s.restorer_batch) == (2e-4, 32) and set(s.target_epochs) >= set(targets.values())
        for attack in ("fgsm", "pgd", "mim"):   # evaluated at the paper's eps (defaults or overrides)
            assert {**attacks.default_params(attack, dataset), **s.attack_overrides.get(attack, {})}["eps"] == eps
    assert get_scale("paper", t2).defense_options == {"defense_gan": {"L": 200, "R": 10}}
    n_eval = 50 if dataset == "cifar10" else 100   # GAN_DENOISER_T2_BUDGET: Table 2's 10-minute default
    assert f"first {n_eval} test images" in get_scale("default", t2).note and get_scale("default", t2).n_eval == n_eval


def test_fashion_mnist_scales():
    t1, ab = get_table("gan_denoiser_table1_fashion_mnist"), get_table("gan_denoiser_ablation_fashion_mnist")
    for scale in ("default", "retrain"):   # the MNIST targets' epochs; the table trains them (not shipped)
        s = get_scale(scale, t1)
        assert {k: s.target_epochs[k] for k in t1.targets.values()} == {
            "m1_fashion_mnist": 5, "lenet5_fashion_mnist": 3, "anet_fashion_mnist": 3}
        assert (s.n_pairs, s.restorer_epochs, s.n_eval) == (12000, 10, 500)
        assert s.attack_overrides == get_scale(scale, GAN_DENOISER_TABLE1_MNIST).attack_overrides
    assert get_scale("default", t1).pretrained and "trained here on Fashion-MNIST" in get_scale("default", t1).note
    assert (get_scale("default", ab).n_adaptive, get_scale("default", ab).adaptive_iter) == (50, 30)


def test_cifar10_scales():
    t1, t2, ab = (get_table(f"gan_denoiser_{kind}_cifar10") for kind in ("table1", "table2", "ablation"))
    for scale in ("default", "retrain"):
        s = get_scale(scale, t1)
        # default: the epochs a target not shipped is trained for (the old Adam recipe); --retrain: the
        # CIFAR-10 recipe of reproduce/cifar10_targets.py (issue 21), shared with it through the cache
        expected = ({"densenet121_cifar10": 3, "mobilenet_cifar10": 5, "resnet_cifar10": 3} if scale == "default" else
                    {"densenet121_cifar10": 30, "mobilenet_cifar10": 50, "resnet_cifar10": 40})
        assert {k: s.target_epochs[k] for k in t1.targets.values()} == expected
        assert s.target_recipe == ({} if scale == "default" else
                                   {n: cifar_targets.recipe_of(n) for n in t1.targets.values()})
        assert (s.n_pairs, s.restorer_epochs, s.n_eval) == (6000, 5, 100)
        assert (s.n_adaptive, s.adaptive_iter, s.adaptive_targets) == (50, 20, 1)
        assert s.attack_overrides == {"fgsm": {"eps": 0.15}, "pgd": {"eps": 0.15, "eps_iter": 0.0375},
                                      "mim": {"eps": 0.15, "eps_iter": 0.015},
                                      "cw": {"binary_search_steps": 1, "max_iterations": 50}}
        assert "the first 100 test images, CW-L2 1 x 50" in s.note and "Adaptive: 50 images" in s.note
        assert "Adaptive: 50 images" not in get_scale(scale, t2).note   # Table 2: 10 images x 10 iterations
        s2 = get_scale(scale, t2)   # Table 2 on CIFAR-10: 50 images, 10 APGD iterations (its 10-minute budget)
        assert (s2.n_eval, s2.n_adaptive, s2.adaptive_iter) == (50, 10, 10)
        assert "the first 50 test images" in s2.note and "adaptive 10 images x 10 iterations" in s2.note
        assert (get_scale(scale, ab).n_adaptive, get_scale(scale, ab).adaptive_targets) == (50, 1)
    assert get_scale("default", t1).note.startswith("Shipped DenseNet121 / MobileNet / ResNet-20")
    paper = get_scale("paper", t1)
    assert paper.n_pairs == 50000 and set(paper.target_epochs[k] for k in t1.targets.values()) == {60}


# ---------------------------------------------------------------- the scripts' --dataset
SCRIPTS = ("gan_denoiser_table1", "gan_denoiser_table2", "gan_denoiser_ablation")


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_take_dataset(reproduce_script, monkeypatch, name):
    import keras_restore.pipeline as pipeline

    ran = []
    monkeypatch.setattr(pipeline, "run_table", lambda spec, scale, **kw: ran.append((spec.name, scale.name)) or {})
    script = reproduce_script(name)
    script.main(["--quick"])   # default: MNIST, as before
    script.main(["--dataset", "fashion_mnist"])
    script.main(["--dataset", "cifar10", "--retrain"])
    assert ran == [(f"{name}_mnist", "quick"), (f"{name}_fashion_mnist", "default"), (f"{name}_cifar10", "retrain")]


def test_tables3_4_script_takes_dataset(reproduce_script, monkeypatch):
    from keras_restore.pipeline import similarity

    seen = []
    monkeypatch.setattr(similarity, "gan_denoiser_similarity", lambda scale, **kw: seen.append((scale, kw["dataset"])))
    script = reproduce_script("gan_denoiser_tables3_4")
    script.main([])
    script.main(["--dataset", "cifar10", "--quick"])
    assert seen == [("default", "mnist"), ("quick", "cifar10")]


@pytest.mark.parametrize("name", (*SCRIPTS, "gan_denoiser_tables3_4"))
def test_unknown_or_unavailable_dataset_is_an_error(reproduce_script, capsys, name):
    script = reproduce_script(name)
    with pytest.raises(SystemExit) as e:
        script.main(["--dataset", "svhn"])
    assert e.value.code == 2
    assert ("argument --dataset: unknown dataset 'svhn'; expected one of: mnist, fashion_mnist, cifar10."
            in capsys.readouterr().err)
    with pytest.raises(SystemExit):
        script.main(["--dataset", "cifar100"])
    assert ("argument --dataset: CIFAR-100 is not run: data not available offline; expected one of: mnist, "
            "fashion_mnist, cifar10." in capsys.readouterr().err)


# ---------------------------------------------------------------- a micro run on Fashion-MNIST
def test_micro_run_fashion_mnist(data_dir, tmp_path):
    spec = dataclasses.replace(
        get_table("gan_denoiser_table1_fashion_mnist"), name="gan_denoiser_micro_fashion_mnist",
        rows={"M1": Row("m1_fashion_mnist", "gan_denoiser", "gan_denoiser_fashion_mnist")})
    scale = dataclasses.replace(MICRO, target_epochs={"m1_fashion_mnist": 1})
    res = run_table(spec, scale, data_dir=data_dir, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                    columns=["FGSM", "PGD"], **QUIET)   # one target, two attacks: the MNIST micro run covers the rest
    with open(tmp_path / "out" / "gan_denoiser_micro_fashion_mnist.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["network"], r["defense"]) for r in rows] == [("M1", "no defense"), ("M1", "defense")]
    assert all(0.0 <= float(r[col]) <= 100.0 for r in rows for col in ("Clean", "FGSM", "PGD"))
    meta = res["meta"]
    assert "Fashion-MNIST" in meta["data_source"] and meta["not_run"] == NOT_RUN
    assert meta["targets"]["M1"]["source"] == "trained (micro scale)"   # not shipped: trained by the run
    assert meta["restorer"]["name"] == "gan_denoiser_fashion_mnist" and meta["restorer"]["pair_attacks"] == {
        "FGSM": {"eps": 0.3}}

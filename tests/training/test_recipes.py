"""Each training recipe's loss falls on a tiny problem in a few steps; fingerprints change with
the rules; recipes refuse data they cannot use."""

import keras
import numpy as np
import pytest

from keras_restore import training
from keras_restore.models.layers import output_clip
from keras_restore.training import (
    GAN, AdversarialTraining, Classification, FeatureMatching, PixelLoss, Stages, TrainConfig, TrainData,
)

CFG = TrainConfig(epochs=4, batch_size=16, learning_rate=3e-3, val_fraction=0.2)


def _restorer():
    inp = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inp)
    x = keras.layers.Conv2D(1, 3, padding="same", name="c2")(x)
    x = keras.layers.Add(name="res")([inp, x])
    return keras.Model(inp, output_clip(x))


def _classifier(shape=(8, 8, 1)):
    inp = keras.Input(shape)
    x = keras.layers.Flatten()(inp)
    x = keras.layers.Dense(16, activation="relu", name="hidden")(x)
    return keras.Model(inp, keras.layers.Dense(2, name="logits")(x))


def _pairs(n=160, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    clean = np.where(labels[:, None, None, None] == 1, 0.8, 0.2) * np.ones((n, 8, 8, 1))
    clean = np.clip(clean + 0.05 * rng.standard_normal(clean.shape), 0, 1).astype("float32")
    adv = np.clip(clean + 0.15 * rng.standard_normal(clean.shape), 0, 1).astype("float32")
    return adv, clean, labels


def _mse(model, adv, clean):
    return float(np.mean((model.predict(adv, verbose=0) - clean) ** 2))


@pytest.mark.parametrize("recipe", [PixelLoss("mse"), PixelLoss("l1")], ids=["mse", "l1"])
def test_pixel_recipe_loss_falls(recipe):
    adv, clean, _ = _pairs()
    keras.utils.set_random_seed(0)
    model = _restorer()
    before = _mse(model, adv, clean)
    record = recipe.train(model, TrainData(x_adv=adv, x_clean=clean), CFG, verbose=0)
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]
    assert _mse(model, adv, clean) < before
    assert "clip_gradient" in record and "kept_epoch" in record


def test_gan_recipe_trains_generator_and_discriminator():
    adv, clean, labels = _pairs()
    keras.utils.set_random_seed(0)
    model = _restorer()
    before = _mse(model, adv, clean)
    recipe = GAN(weights={"pixel": 10.0, "adversarial": 1.0, "classifier": 0.1, "recovery": 1.0, "isomorphic": 1.0})
    clf = _classifier()
    record = recipe.train(model, TrainData(x_adv=adv, x_clean=clean, labels=labels), CFG, verbose=0, classifier=clf)
    hist = record["history"]
    assert hist["pixel"][-1] < hist["pixel"][0]
    assert all(v > 0 for v in hist["d_loss"]) and all(v > 0 for v in hist["adversarial"])
    assert _mse(model, adv, clean) < before
    assert "val_loss" in hist and "kept_epoch" in record


def test_noise_output_adds_the_generator_output_to_its_input():
    from keras_restore.training.gan import GANRestorer

    inp = keras.Input((8, 8, 1))
    zero = keras.Model(inp, keras.layers.Conv2D(1, 1, kernel_initializer="zeros", name="z")(inp))
    wrapper = GANRestorer(zero, output="noise", weights={"pixel": 1.0})
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(wrapper(x).numpy(), x, atol=1e-7)


def test_classifier_with_a_nested_backbone():
    # keras.applications targets (CIFAR-10 DenseNet121 / MobileNet) are input -> normalize -> backbone
    # (a nested Model) -> logits: their features are the logits layer's input, as for a flat network.
    from keras_restore.training.gan import GANRestorer

    inner_in = keras.Input((8, 8, 1))
    backbone = keras.Model(inner_in, keras.layers.GlobalAveragePooling2D(name="gap")(
        keras.layers.Conv2D(4, 3, name="c")(inner_in)), name="backbone")
    inp = keras.Input((8, 8, 1))
    clf = keras.Model(inp, keras.layers.Dense(3, name="logits")(backbone(keras.layers.Rescaling(1.0, name="n")(inp))))
    gen_in = keras.Input((8, 8, 1))
    gen = keras.Model(gen_in, keras.layers.Conv2D(1, 1, name="g")(gen_in))
    wrapper = GANRestorer(gen, classifier=clf, weights={"pixel": 1.0, "classifier": 0.1})
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(wrapper.features([x]).numpy(), backbone(x).numpy(), atol=1e-6)
    flat = _classifier()
    assert GANRestorer(gen, classifier=flat, weights={"pixel": 1.0}).features.output is flat.layers[-2].output


def test_feature_matching_stage_after_gan_stage():
    adv, clean, _ = _pairs()
    keras.utils.set_random_seed(0)
    model, clf = _restorer(), _classifier()
    Classification().train(clf, TrainData(x_clean=clean, labels=_pairs()[2]), CFG, verbose=0)
    recipe = Stages((GAN(weights={"pixel": 10.0, "adversarial": 1.0}), FeatureMatching()))
    record = recipe.train(model, TrainData(x_adv=adv, x_clean=clean), CFG, verbose=0, classifier=clf)
    assert len(record["stages"]) == 2
    fm = record["stages"][1]["history"]
    assert fm["feature"][-1] < fm["feature"][0]
    assert recipe.stages()[1].startswith("feature matching")


def test_feature_guided_recipe_trains_on_the_classifier_features_and_keeps_the_best_by_them():
    """Recipe feature_guided (HGD's loss): no pixel term, no discriminator; the validation loss keep-best monitors
    is the feature loss on held-out pairs, so it falls while the pixel error is free to move."""
    from keras_restore.training import RECIPES
    from keras_restore.training.gan import GANRestorer

    recipe = RECIPES["feature_guided"]
    assert recipe.context_needs() == ("classifier",) and recipe.data_needs() == ("x_adv", "x_clean")
    assert recipe.weights == {"feature": 1.0} and recipe.val_loss == "feature" and recipe.beta_1 == 0.9
    assert recipe.g_learning_rate == 1e-4 and recipe.g_clipnorm == 1.0   # 3e-4 and unclipped 1e-4 diverged (2026-12-07)
    adv, clean, labels = _pairs()
    keras.utils.set_random_seed(0)
    model, clf = _restorer(), _classifier()
    Classification().train(clf, TrainData(x_clean=clean, labels=labels), CFG, verbose=0)
    wrapper = GANRestorer(model, classifier=clf, weights={"feature": 1.0}, pixel="mse", val_loss="feature")
    x_val, y_val = adv[:16], clean[:16]
    feature_before = float(wrapper._feature_loss(wrapper(x_val), y_val))
    record = recipe.train(model, TrainData(x_adv=adv, x_clean=clean), CFG, verbose=0, classifier=clf)
    hist = record["history"]
    assert hist["pixel"][0] > 0 and hist["feature"][-1] < hist["feature"][0]
    assert all(v == 0 for v in hist["d_loss"]) and all(v == 0 for v in hist["adversarial"])
    # the validation "loss" is the feature loss of the held-out pairs, not their pixel MSE
    val = wrapper.test_step((x_val, y_val))["loss"]
    assert float(val) == pytest.approx(float(wrapper._feature_loss(wrapper(x_val), y_val)), rel=1e-5)
    assert float(val) != pytest.approx(float(np.mean((wrapper(x_val).numpy() - y_val) ** 2)), rel=1e-3)
    assert feature_before > 0 and "kept_epoch" in record


@pytest.mark.parametrize("name,pixel_weight", [("feature_guided_anchored", 0.1), ("feature_pixel", 1.0)])
def test_feature_guided_recipes_with_a_pixel_term_add_it_to_the_generator_loss(name, pixel_weight):
    """Recipes feature_guided_anchored / feature_pixel: feature_guided's loss plus 0.1 x / 1 x the pixel MSE in the
    generator's loss, everything else feature_guided's; distinct fingerprints, so their restorers never share a cache
    entry."""
    import dataclasses

    from keras_restore.training import RECIPES

    guided, variant = RECIPES["feature_guided"], RECIPES[name]
    assert variant.weights == {"feature": 1.0, "pixel": pixel_weight}
    assert dataclasses.replace(variant, weights=guided.weights) == guided
    assert variant.fingerprint() != guided.fingerprint()
    adv, clean, labels = _pairs()
    keras.utils.set_random_seed(0)
    model, clf = _restorer(), _classifier()
    Classification().train(clf, TrainData(x_clean=clean, labels=labels), CFG, verbose=0)
    record = variant.train(model, TrainData(x_adv=adv, x_clean=clean), CFG, verbose=0, classifier=clf)
    hist = record["history"]
    for g, f, p in zip(hist["g_loss"], hist["feature"], hist["pixel"]):
        assert g == pytest.approx(f + pixel_weight * p, rel=1e-4) and p > 0


def test_val_loss_is_checked():
    from keras_restore.training.gan import GANRestorer

    gen = _restorer()
    with pytest.raises(ValueError, match="`val_loss` must be one of pixel, feature, got 'ssim'"):
        GANRestorer(gen, weights={"pixel": 1.0}, val_loss="ssim")
    with pytest.raises(ValueError, match="`val_loss='feature'` needs a frozen `classifier`"):
        GANRestorer(gen, weights={"pixel": 1.0}, val_loss="feature")
    with pytest.raises(ValueError, match="give `weights\\['feature'\\]` > 0"):
        FeatureMatching(weights={"pixel": 1.0}, val_loss="feature")
    with pytest.raises(ValueError, match="`val_loss` must be one of"):
        GAN(val_loss="logits")
    # keyed only where set (the other GAN recipes keep their fingerprints: tests/training/test_gan_repair.py)
    assert FeatureMatching(val_loss="feature").fingerprint() != FeatureMatching().fingerprint()


@pytest.mark.parametrize("attack,clean_weight", [("fgsm", 0.5), ("pgd", 0.0)])
def test_adversarial_training_loss_falls_and_robustness_rises(attack, clean_weight):
    from keras_restore import attacks

    adv, clean, labels = _pairs(240)
    params = {"eps": 0.2, "eps_iter": 0.05, "nb_iter": 5} if attack == "pgd" else {"eps": 0.2}
    keras.utils.set_random_seed(0)
    plain, robust = _classifier(), _classifier()
    Classification().train(plain, TrainData(x_clean=clean, labels=labels), CFG, verbose=0)
    recipe = AdversarialTraining(attack, params=params, clean_weight=clean_weight)
    record = recipe.train(robust, TrainData(x_clean=clean, labels=labels), CFG, verbose=0)
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]
    x_adv_plain = attacks.generate(attack, plain, clean, labels, progress=False, seed=0, **params)
    x_adv_robust = attacks.generate(attack, robust, clean, labels, progress=False, seed=0, **params)
    acc = lambda m, x: float(np.mean(m.predict(x, verbose=0).argmax(1) == labels))  # noqa: E731
    assert acc(robust, x_adv_robust) >= acc(plain, x_adv_plain)
    assert record["attack_params"]["eps"] == 0.2


def test_adversarial_training_resumes_with_backup_and_restore(tmp_path):
    # checkpoint_dir = BackupAndRestore: the wrapper must count as built (Keras refuses an unbuilt model)
    _, clean, labels = _pairs(64)
    recipe = AdversarialTraining("pgd", params={"eps": 0.2, "eps_iter": 0.05, "nb_iter": 2})
    record = recipe.train(_classifier(), TrainData(x_clean=clean, labels=labels), CFG, checkpoint_dir=tmp_path / "bk",
                          verbose=0)
    assert len(record["history"]["loss"]) == CFG.epochs


def test_fingerprint_covers_fields_and_rules(monkeypatch):
    a, b = PixelLoss("mse"), PixelLoss("l1")
    assert a.fingerprint() != b.fingerprint()
    before = a.fingerprint()
    monkeypatch.setattr(PixelLoss, "RULES", PixelLoss.RULES + ("a new rule",))
    assert PixelLoss("mse").fingerprint() != before
    assert Stages((a,)).fingerprint() != Stages((b,)).fingerprint()


def test_recipes_refuse_bad_data_and_arguments():
    adv, clean, _ = _pairs(32)
    with pytest.raises(ValueError, match="needs x_adv"):
        PixelLoss().train(_restorer(), TrainData(x_clean=clean), CFG, verbose=0)
    with pytest.raises(ValueError, match="needs labels"):
        GAN(weights={"pixel": 1.0, "classifier": 1.0}).train(_restorer(), TrainData(x_adv=adv, x_clean=clean),
                                                           CFG, verbose=0, classifier=_classifier())
    with pytest.raises(ValueError, match="`loss` must be 'mse' or 'l1'"):
        PixelLoss("huber")
    with pytest.raises(ValueError, match="Unknown recipe 'nope'"):
        training.get_recipe("nope")
    with pytest.raises(ValueError, match="needs a frozen `classifier`"):
        FeatureMatching().train(_restorer(), TrainData(x_adv=adv, x_clean=clean), CFG, verbose=0)
    with pytest.raises(ValueError, match="`attack` must be one of"):
        AdversarialTraining("cw").train(_classifier(), TrainData(x_clean=clean, labels=np.zeros(32, int)), CFG,
                                        verbose=0)
    with pytest.raises(ValueError, match="Unknown loss weight"):
        GAN(weights={"pixle": 1.0}).train(_restorer(), TrainData(x_adv=adv, x_clean=clean), CFG, verbose=0)
    with pytest.raises(ValueError, match="`recipes` must hold at least one recipe"):
        Stages(())


def test_magnet_denoising_is_baseline_magnets_training(reproduce_script, monkeypatch):
    # The recipe makes MagNet's (noisy, clean) pairs from clean images itself: the noise of
    # reproduce/baseline_magnet.py (stream 0 = the reformer), MSE through PixelLoss, MagNet's batch 256.
    from keras_restore.training import MagNetDenoising, RECIPES
    from keras_restore.training import recipes as recipes_module

    recipe = RECIPES["magnet_denoising"]
    assert isinstance(recipe, MagNetDenoising) and isinstance(recipe, PixelLoss)
    assert (recipe.noise_volume, recipe.batch_size, recipe.loss) == (0.1, 256, "mse")
    assert recipe.data_needs() == ("x_clean",) and recipe.context_needs() == ()   # the pipeline's clean-only path
    _, clean, _ = _pairs(64)
    magnet_script = reproduce_script("baseline_magnet")
    np.testing.assert_array_equal(recipes_module.magnet_noisy(clean, 0.1, 3), magnet_script.noisy_pairs(clean, 3, 0)[0])
    seen = {}
    train = PixelLoss.train

    def spy(self, model, data, config, **kw):
        seen["batch"], seen["noisy"] = config.batch_size, data.x_adv
        return train(self, model, data, config, **kw)

    monkeypatch.setattr(PixelLoss, "train", spy)
    cifar = MagNetDenoising(noise_volume=0.025, batch_size=32)
    keras.utils.set_random_seed(0)
    model = _restorer()
    record = cifar.train(model, TrainData(x_clean=clean), CFG, verbose=0)
    assert seen["batch"] == 32 and record["batch_size_used"] == 32 and "0.025" in record["noise"]
    np.testing.assert_array_equal(seen["noisy"], recipes_module.magnet_noisy(clean, 0.025, CFG.seed))
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]
    MagNetDenoising(batch_size=None).train(_restorer(), TrainData(x_clean=clean), CFG, verbose=0)
    assert seen["batch"] == CFG.batch_size   # None: the config's
    assert len({r.fingerprint() for r in (recipe, cifar, PixelLoss("mse"))}) == 3
    with pytest.raises(ValueError, match=r"`noise_volume` must be a number in \(0, 1\) .*, got 0"):
        MagNetDenoising(noise_volume=0)
    with pytest.raises(ValueError, match="`batch_size` must be"):
        MagNetDenoising(batch_size=0)
    with pytest.raises(ValueError, match="`noise_stream` must be an integer >= 0, got -1"):
        MagNetDenoising(noise_stream=-1)
    with pytest.raises(ValueError, match="needs x_clean"):
        recipe.train(_restorer(), TrainData(), CFG, verbose=0)


def test_attack_balanced_weights_equalise_the_groups():
    from keras_restore.training.recipes import attack_balanced_weights

    rng = np.random.default_rng(0)
    clean = rng.random((30, 8, 8, 1), dtype=np.float32)
    adv = clean.copy()
    adv[:10] += 0.01                            # a small perturbation (10 pairs) ...
    adv[10:] += 0.3                             # ... and a large one (20 pairs)
    groups = np.array(["small"] * 10 + ["large"] * 20)
    w, record = attack_balanced_weights(adv, clean, groups)
    assert w.shape == (30,) and abs(w.mean() - 1) < 1e-5
    # Each group's weighted identity loss is the same: sum over its pairs of w_i * e_i.
    per_pair = ((adv - clean) ** 2).reshape(30, -1).mean(1)
    small, large = (float((w * per_pair)[groups == g].sum()) for g in ("small", "large"))
    assert small == pytest.approx(large, rel=1e-4)
    assert record["small"]["n"] == 10 and record["small"]["weight"] > record["large"]["weight"]
    with pytest.raises(ValueError, match="one label per pair"):
        attack_balanced_weights(adv, clean, groups[:5])


def test_balanced_pixel_recipe_trains_and_keeps_the_pooled_fingerprint():
    adv, clean, _ = _pairs()
    groups = np.array(["a", "b"] * (len(adv) // 2))
    adv[groups == "b"] = np.clip(adv[groups == "b"] + 0.2, 0, 1)
    keras.utils.set_random_seed(0)
    recipe = training.get_recipe("pixel_mse_balanced")
    record = recipe.train(_restorer(), TrainData(x_adv=adv, x_clean=clean, groups=groups), CFG, verbose=0)
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]
    assert set(record["balance"]) == {"a", "b"} and record["balance"]["a"]["weight"] > record["balance"]["b"]["weight"]
    assert recipe.fingerprint() != PixelLoss("mse").fingerprint()
    assert "attack-balanced" in recipe.stages()[0]
    with pytest.raises(ValueError, match="needs `groups`"):
        recipe.train(_restorer(), TrainData(x_adv=adv, x_clean=clean), CFG, verbose=0)
    with pytest.raises(ValueError, match="`balance` must be one of"):
        PixelLoss("mse", balance="per-class")


def test_fit_refuses_bad_sample_weights():
    adv, clean, _ = _pairs(32)
    model = _restorer()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="`sample_weight` must hold one finite weight"):
        training.fit(model, adv, clean, CFG, verbose=0, sample_weight=np.ones(5))

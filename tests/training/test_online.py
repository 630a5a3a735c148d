"""papers/003 on-the-fly adversarial training data (training/online.py) and the OnlineRecovery recipe."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore import training
from keras_restore.models.attention_unet import attention_unet_generator
from keras_restore.training.online import (OnlineAttackGAN, batch_layout, input_gradient_sign, online_adversarial,
                                          sample_eps)


def _linear(seed: int, name: str):
    """A small random logits model (different ``seed``: different input gradients)."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Flatten()(inputs)
    out = keras.layers.Dense(10, name="logits", kernel_initializer=keras.initializers.RandomNormal(seed=seed))(x)
    return keras.Model(inputs, out, name=name)


def _tiny_classifier(name="clf"):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(x), name=name)


def test_batch_layout_is_3_models_x_2_attacks_x_16():
    m, a = (t.numpy() for t in batch_layout(96, 3, 2, 16))
    assert [int((m == k).sum()) for k in range(3)] == [32, 32, 32]
    for k in range(3):
        assert [int(((m == k) & (a == j)).sum()) for j in range(2)] == [16, 16]
    assert (m[:32] == 0).all() and (a[:16] == 0).all() and (a[16:32] == 1).all() and (m[64:] == 2).all()


def test_per_image_eps_are_integers_in_1_to_e_max_and_differ():
    eps = sample_eps(4096, 16, tf.constant([0, 1])).numpy() * 255
    np.testing.assert_allclose(eps, np.round(eps), atol=1e-4)
    assert eps.min() >= 1 - 1e-4 and eps.max() <= 16 + 1e-4
    assert set(np.round(eps).astype(int)) == set(range(1, 17))          # uniform over every integer
    assert len(np.unique(eps[:16])) > 5                                   # images of one cell differ
    other = sample_eps(4096, 16, tf.constant([0, 2])).numpy()
    assert not np.allclose(other, eps / 255)                               # a new step, new eps


def test_online_adversarial_bounds_layout_and_models():
    rng = np.random.default_rng(0)
    x = (0.25 + 0.5 * rng.random((24, 8, 8, 3))).astype("float32")        # interior: no clipping at eps <= 64
    y = rng.integers(0, 10, 24)
    models = [_linear(1, "a"), _linear(2, "b"), _linear(3, "c")]
    x_adv, eps, m, a = (t.numpy() for t in online_adversarial(models, x, y, e_max=64, per_cell=4, seed=(1, 2)))
    assert x_adv.shape == x.shape and 0 <= x_adv.min() and x_adv.max() <= 1
    linf = np.abs(x_adv - x).reshape(24, -1).max(axis=1)
    assert (linf <= eps + 1e-6).all()
    fgsm = a == 0
    np.testing.assert_allclose(linf[fgsm], eps[fgsm], atol=1e-6)         # FGSM moves every pixel by eps
    # R-FGSM: random step of eps/2 then eps/2 along the gradient: each pixel moves by 0 or eps.
    d = np.abs(x_adv - x)[~fgsm].reshape((~fgsm).sum(), -1)
    e = eps[~fgsm][:, None]
    assert np.all(np.isclose(d, 0, atol=1e-6) | np.isclose(d, e, atol=1e-6))
    # Each image took the gradient of its own model: FGSM images equal a direct FGSM on that model.
    for k, model in enumerate(models):
        sel = (m == k) & fgsm
        expected = np.clip(x[sel] + eps[sel][:, None, None, None]
                           * input_gradient_sign(model, tf.constant(x[sel]), tf.constant(y[sel])).numpy(), 0, 1)
        np.testing.assert_allclose(x_adv[sel], expected, atol=1e-6)
        other = models[(k + 1) % 3]
        wrong = np.clip(x[sel] + eps[sel][:, None, None, None]
                        * input_gradient_sign(other, tf.constant(x[sel]), tf.constant(y[sel])).numpy(), 0, 1)
        assert not np.allclose(x_adv[sel], wrong)                          # the models' gradients differ


def test_short_batch_leaves_models_without_images():
    x = np.full((5, 8, 8, 3), 0.5, np.float32)
    x_adv, _, m, _ = online_adversarial([_linear(1, "a"), _linear(1, "b")], x, np.zeros(5), e_max=8, per_cell=4,
                                        seed=(0, 0))
    assert x_adv.shape == (5, 8, 8, 3) and set(m.numpy()) == {0}


@pytest.mark.parametrize("kwargs, match", [
    ({"e_max": 0}, r"`e_max` must be an integer in \[1, 255\]"),
    ({"e_max": 16.0}, "`e_max`"),
    ({"attacks": ("pgd",)}, "`attacks` must be distinct names among fgsm, rfgsm"),
    ({"per_cell": 0}, "`per_cell` must be an integer >= 1"),
    ({"rfgsm_alpha": 2.0}, r"`rfgsm_alpha` must be in \[0, 1\]"),
    ({"attacked": []}, "`attacked` must hold at least one"),
])
def test_online_gan_bad_arguments(kwargs, match):
    gen = attention_unet_generator((8, 8, 3), base_filters=4, depth=2)
    args = {"attacked": [_linear(1, "a")], **kwargs}
    with pytest.raises(ValueError, match=match):
        OnlineAttackGAN(gen, None, None, weights={"pixel": 1.0}, **args)


def test_recipe_fields_and_errors():
    r = training.get_recipe("bana_image2")
    assert r.batch_size == 96 and r.attacked == ("inception_v3_cifar10", "resnet18_cifar10", "vgg13_cifar10")
    assert r.weights == {"pixel": 100.0, "adversarial": 1.0, "classifier": 1.0}
    assert r.post_weights["adversarial"] > 0 and "adversarial" not in training.get_recipe("bana_image").post_weights
    assert training.get_recipe("bana_image_e128").e_max == 128
    assert r.context_needs() == ("classifier", "attacked") and r.data_needs() == ("x_clean", "labels")
    assert r.fingerprint() != training.get_recipe("bana_image").fingerprint()
    with pytest.raises(ValueError, match="`e_max` must be an integer"):
        dataclasses.replace(r, e_max=300)
    with pytest.raises(ValueError, match="needs the stage-1 discriminator"):
        dataclasses.replace(r, weights={"pixel": 1.0})
    gen = attention_unet_generator((8, 8, 3), base_filters=4, depth=2)
    data = training.TrainData(x_clean=np.zeros((8, 8, 8, 3), np.float32), labels=np.zeros(8, np.int64))
    with pytest.raises(ValueError, match=r"`batch_size` must be models x attacks x per_cell = 3 x 2 x 16 = 96"):
        r.train(gen, data, training.TrainConfig(batch_size=32), classifier=_tiny_classifier(),
                attacked=[_linear(i, n) for i, n in enumerate("abc")])
    with pytest.raises(ValueError, match="needs `attacked`"):
        r.train(gen, data, training.TrainConfig(batch_size=96), classifier=_tiny_classifier(), attacked=[])


def test_two_stage_training_runs_and_records_both_stages():
    rng = np.random.default_rng(0)
    x = rng.random((48, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 10, 48)
    recipe = dataclasses.replace(training.get_recipe("bana_image2"), per_cell=2, post_epochs=1,
                                 attacked=("a", "b", "c"))
    gen = attention_unet_generator((8, 8, 3), base_filters=4, depth=2)
    before = [w.copy() for w in gen.get_weights()]
    cfg = training.TrainConfig(epochs=2, batch_size=12, learning_rate=1e-3, val_fraction=0.25)
    record = recipe.train(gen, training.TrainData(x_clean=x, labels=y), cfg, verbose=0,
                          classifier=_tiny_classifier(), attacked=[_linear(i, n) for i, n in enumerate("abc")])
    s1, s2 = record["stages"]
    assert len(s1["history"]["pixel"]) == 2 and len(s2["history"]["feature"]) == 1
    assert s1["history"]["classifier"][0] > 0 and s2["history"]["classifier"][0] == 0
    assert s2["history"]["adversarial"][0] > 0                           # image-2: the discriminator stays
    assert any(not np.allclose(a, b) for a, b in zip(before, gen.get_weights()))


def test_stage1_dir_shares_stage_1_between_image_and_image2(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((24, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 10, 24)
    image = dataclasses.replace(training.get_recipe("bana_image"), per_cell=2, post_epochs=1, attacked=("a", "b", "c"))
    image2 = dataclasses.replace(training.get_recipe("bana_image2"), per_cell=2, post_epochs=1,
                                 attacked=("a", "b", "c"))
    assert image.stage1_fingerprint() == image2.stage1_fingerprint() != image.fingerprint()
    assert image.stage1_fingerprint() != dataclasses.replace(image, e_max=8).stage1_fingerprint()
    cfg = training.TrainConfig(epochs=1, batch_size=12, learning_rate=1e-3, val_fraction=0.25)
    ctx = dict(classifier=_tiny_classifier(), attacked=[_linear(i, n) for i, n in enumerate("abc")])
    data = training.TrainData(x_clean=x, labels=y)
    first = image.train(attention_unet_generator((8, 8, 3), base_filters=4, depth=2), data, cfg, verbose=0,
                        stage1_dir=tmp_path / "s1", **ctx)
    assert (tmp_path / "s1" / "stage1.json").is_file() and "shared_stage1" not in first["stages"][0]
    stored = np.load(tmp_path / "s1" / "stage1.npz")
    gen2 = attention_unet_generator((8, 8, 3), base_filters=4, depth=2)
    second = image2.train(gen2, data, cfg, verbose=0, stage1_dir=tmp_path / "s1", **ctx)
    s1, s2 = second["stages"]
    assert s1["shared_stage1"] == str(tmp_path / "s1") and s1["history"] == first["stages"][0]["history"]
    assert second["seconds"] == s2["seconds"]                     # stage 1 not counted twice
    assert s2["history"]["adversarial"][0] > 0                    # image-2's stage 2 ran with the discriminator
    assert not np.allclose(gen2.get_weights()[0], stored["g0"])   # ... from stage 1's weights, then trained
    with pytest.raises(ValueError, match="does not match this generator"):
        image.train(attention_unet_generator((8, 8, 3), base_filters=8, depth=2), data, cfg, verbose=0,
                    stage1_dir=tmp_path / "s1", **ctx)

"""Defense-GAN's projection and defense (defenses/defense_gan.py): it lowers the reconstruction error
below random starts', recovers an image its generator can make exactly, passes the classifier's
gradient straight through (BPDA identity), is deterministic per image with a seed (and stochastic
without), saves and loads, and refuses bad options with pinned messages."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore.defenses import build_defense, get_defense
from keras_restore.defenses.defense_gan import DefenseGAN, DefenseGANProjection, defense_gan
from keras_restore.models.defense_gan import defense_gan_generator

SHAPE = (28, 28, 1)


def _classifier():
    # Non-linear: its gradient at G(z*) differs from its gradient at x.
    inp = keras.Input(SHAPE)
    x = keras.layers.Dense(16, activation="tanh", name="hidden")(keras.layers.Flatten()(inp))
    return keras.Model(inp, keras.layers.Dense(10, name="logits")(x), name="tiny_classifier")


def _generator(seed=0):
    keras.utils.set_random_seed(seed)
    return defense_gan_generator(latent_dim=16, width=8, name="small_generator")


def _linear_generator(images, scale2):
    """z (k) -> z @ B with B's rows an orthonormal basis of the span of ``images`` times sqrt(scale2):
    every image in the span is exactly G(z) for one z."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    q, _ = np.linalg.qr(flat.T)                                  # (pixels, k), orthonormal columns
    z = keras.Input((len(images),))
    dense = keras.layers.Dense(flat.shape[1], use_bias=False, name="basis")
    out = keras.layers.Reshape(images.shape[1:], name="image")(dense(z))
    model = keras.Model(z, out, name="linear_generator")
    dense.set_weights([(np.sqrt(scale2) * q.T).astype(np.float32)])
    return model


@pytest.fixture(scope="module")
def x4(data_dir):
    from keras_restore import data

    return data.load_arrays("mnist", "test", data_dir, limit=4)[0]


@pytest.fixture(scope="module")
def pca_gen(data_dir):
    from keras_restore import data

    return _pca_generator(data.load_arrays("mnist", "train", data_dir, limit=256)[0])   # test images: not in it


def _pca_generator(images, k=16):
    """A non-linear generator that can make digits: z (k) -> sigmoid(logit(mean) + 16 z @ V_k), V_k the
    top-k principal directions of ``images``; z ~ N(0, I / 16) spans their variation."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    mean = np.clip(flat.mean(axis=0), 1e-3, 1 - 1e-3)
    vt = np.linalg.svd(flat - flat.mean(axis=0), full_matrices=False)[2][:k]
    z = keras.Input((k,))
    dense = keras.layers.Dense(flat.shape[1], activation="sigmoid", name="pca")
    model = keras.Model(z, keras.layers.Reshape(images.shape[1:], name="image")(dense(z)), name="pca_generator")
    dense.set_weights([(16 * vt).astype(np.float32), np.log(mean / (1 - mean)).astype(np.float32)])
    return model


def test_projection_beats_random_starts(x4, pca_gen):
    gen = pca_gen
    images, z, mse = (t.numpy() for t in DefenseGANProjection(gen, L=30, R=3).project(x4))
    assert images.shape == x4.shape and z.shape == (4, 16) and mse.shape == (4,)
    np.testing.assert_allclose(mse, np.mean((images - x4) ** 2, axis=(1, 2, 3)), rtol=1e-5)   # reported = actual
    np.testing.assert_allclose(gen.predict(z, verbose=0), images, atol=1e-6)                  # output = G(z*)
    # The best of 64 random starts from the same N(0, I / 16), without any step (measured: ~3x the error):
    zr = np.random.default_rng(0).normal(0, 1 / 4, (64, 16)).astype(np.float32)
    random_mse = np.mean((gen.predict(zr, verbose=0)[None] - x4[:, None]) ** 2, axis=(2, 3, 4)).min(axis=1)
    assert (mse < 0.6 * random_mse).all(), (mse, random_mse)
    assert (DefenseGANProjection(gen, L=2, R=3).project(x4)[2].numpy() > mse).all()   # more steps, lower error


def test_projection_recovers_an_image_the_generator_can_make(x4):
    # Least squares in z, Hessian 2 s^2 / pixels = 0.08 I: the paper's lr 10 and momentum 0.7 converge.
    gen = _linear_generator(x4, scale2=784 / 25)
    images, _, mse = (t.numpy() for t in DefenseGANProjection(gen, L=100, R=2).project(x4))
    assert np.abs(images - x4).max() < 1e-4 and mse.max() < 1e-9
    # an image outside the span is projected onto it, not reproduced
    other = np.flip(x4[:1], axis=1).copy()
    assert DefenseGANProjection(gen, L=100, R=2).project(other)[2].numpy()[0] > 1e-3


def test_bpda_gradient_is_the_classifiers_at_the_projection(x4):
    clf = _classifier()
    d = build_defense("defense_gan", clf, dataset="mnist", restorer=_generator(), L=5, R=2)
    assert isinstance(d, DefenseGAN) and d.restorer is None and not d.stochastic
    assert d.gradients() == {"defense_gan_projection": "bpda", "tiny_classifier": "exact"}
    x = tf.constant(x4)
    w = tf.constant(np.random.default_rng(0).standard_normal((4, 10)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = d.model(x)
        score = tf.reduce_sum(out * w)
    g_defense = tape.gradient(score, x).numpy()
    restored = tf.constant(d.restore(x4))
    np.testing.assert_allclose(out.numpy(), clf(restored).numpy(), atol=1e-5)   # forward: classifier(G(z*))
    with tf.GradientTape() as tape:
        tape.watch(restored)
        score = tf.reduce_sum(clf(restored) * w)
    np.testing.assert_allclose(g_defense, tape.gradient(score, restored).numpy(), atol=1e-6)   # identity backward
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.reduce_sum(clf(x) * w)
    assert not np.allclose(g_defense, tape.gradient(score, x).numpy(), atol=1e-4)   # not the bare classifier's


def test_seeded_starts_are_deterministic_per_image(x4, pca_gen):
    gen = pca_gen
    a = DefenseGANProjection(gen, L=10, R=2, seed=3).project(x4)[0].numpy()
    np.testing.assert_array_equal(a, DefenseGANProjection(gen, L=10, R=2, seed=3).project(x4)[0].numpy())
    # batch-independent: an image projects the same alone as inside a batch
    np.testing.assert_allclose(DefenseGANProjection(gen, L=10, R=2, seed=3).project(x4[2:3])[0].numpy(), a[2:3],
                               atol=1e-6)
    assert np.abs(DefenseGANProjection(gen, L=10, R=2, seed=4).project(x4)[0].numpy() - a).max() > 1e-2
    d = defense_gan(_classifier(), dataset="mnist", restorer=gen, L=10, R=2, seed=None)
    assert d.stochastic and d.describe()["stochastic"]
    assert np.abs(d.restore(x4) - d.restore(x4)).max() > 1e-2   # fresh starts at every call


def test_saves_and_loads_with_the_defended_model(x4, tmp_path):
    d = defense_gan(_classifier(), dataset="mnist", restorer=_generator(), L=3, R=2)
    path = tmp_path / "defended.keras"
    d.model.save(path)
    loaded = keras.saving.load_model(path)
    layer = loaded.get_layer("defense_gan_projection")
    assert isinstance(layer, DefenseGANProjection) and (layer.L, layer.R, layer.learning_rate, layer.momentum,
                                                        layer.seed) == (3, 2, 10.0, 0.7, 0)
    np.testing.assert_allclose(loaded.predict(x4, verbose=0), d.model.predict(x4, verbose=0), atol=1e-5)


def test_registry_entry_and_defaults():
    spec = get_defense("defense_gan")
    assert spec.recipe == "defense_gan_wgan" and not spec.stochastic
    assert spec.restorers == {"mnist": "defense_gan_mnist", "fashion_mnist": "defense_gan_fashion_mnist",
                              "cifar10": "defense_gan_cifar10"}
    assert spec.reported == {"imagenet": {"metric": spec.reported["imagenet"]["metric"], "value": 4.3,
                                          "source": "papers/004 Sec. 4"}}
    assert spec.defaults("mnist") == {"L": 200, "R": 10}
    d = defense_gan(_classifier(), dataset="mnist", restorer=_generator())   # built, not run
    p = d.projection
    assert (p.L, p.R, p.learning_rate, p.momentum, p.seed) == (200, 10, 10.0, 0.7, 0)   # their MNIST setting
    assert d.describe()["preprocessing"][0]["gradient"] == "bpda"


def test_bad_options(tmp_path, monkeypatch):
    clf, gen = _classifier(), _generator()
    with pytest.raises(ValueError, match=r"^`L` must be an integer >= 1, got 0\.$"):
        defense_gan(clf, dataset="mnist", restorer=gen, L=0)
    with pytest.raises(ValueError, match=r"^`R` must be an integer >= 1, got 2\.5\.$"):
        defense_gan(clf, dataset="mnist", restorer=gen, R=2.5)
    with pytest.raises(ValueError, match=r"^`learning_rate` must be in \(0, inf\), got -1\.0\.$"):
        defense_gan(clf, dataset="mnist", restorer=gen, learning_rate=-1.0)
    with pytest.raises(ValueError, match=r"^`momentum` must be in \[0, 1\), got 1\.0\.$"):
        defense_gan(clf, dataset="mnist", restorer=gen, momentum=1.0)
    with pytest.raises(ValueError, match=r"^`learning_rate` must be a finite number, got nan\.$"):
        defense_gan(clf, dataset="mnist", restorer=gen, learning_rate=float("nan"))
    with pytest.raises(ValueError, match=r"^`seed` must be an int >= 0 or None \(fresh random starts at every "
                                         r"call\), got -1\.$"):
        defense_gan(clf, dataset="mnist", restorer=gen, seed=-1)
    with pytest.raises(ValueError, match=r"^Defense 'defense_gan' takes no options bits; its options are L, R, "
                                         r"learning_rate, momentum, seed, batch_size\.$"):
        defense_gan(clf, dataset="mnist", restorer=gen, bits=3)
    with pytest.raises(ValueError, match=r"^`restorer` must be the trained Defense-GAN generator \(a keras.Model, "
                                         r"z -> image\), got str\.$"):
        defense_gan(clf, dataset="mnist", restorer="defense_gan_mnist")
    with pytest.raises(ValueError, match=r"^`restorer` \(the generator\) makes images of shape \(32, 32, 3\) but "
                                         r"`classifier` expects \(28, 28, 1\); they must match\.$"):
        defense_gan(clf, dataset="mnist", restorer=defense_gan_generator(image_shape=(32, 32, 3), width=4))
    with pytest.raises(ValueError, match=r"^`generator` must map latent vectors \(batch, latent_dim\) to images"):
        defense_gan(clf, dataset="mnist", restorer=clf)             # an image -> logits model
    with pytest.raises(ValueError, match="has no defaults for dataset 'svhn'"):
        defense_gan(clf, dataset="svhn", restorer=gen)
    with pytest.raises(ValueError, match=r"^`x` must be images of shape \(28, 28, 1\) \(the generator's\), got "
                                         r"\(32, 32, 3\)\.$"):
        DefenseGANProjection(gen, L=1, R=1).project(np.zeros((1, 32, 32, 3), np.float32))
    monkeypatch.setenv("KERAS_RESTORE_MODELS", str(tmp_path))   # an empty zoo: whatever saved_models/ ships
    with pytest.raises(FileNotFoundError, match="No trained 'defense_gan_mnist' is shipped"):
        defense_gan(clf, dataset="mnist")

"""WGAN-GP (training/wgan.py) and the `defense_gan_wgan` recipe: a few steps on 64 MNIST images
(finite losses that move, the n_critic rhythm), resume of an interrupted run with the optimizers'
state, mixed bfloat16, what the recipe asks for, bad arguments."""

import keras
import numpy as np
import pytest

from keras_restore import training
from keras_restore.models.defense_gan import defense_gan_critic, defense_gan_generator
from keras_restore.training import RECIPES, WGANGP, TrainConfig, TrainData, WGANGenerator
from keras_restore.training.wgan import ADAM

SMALL = {"width": 8, "latent_dim": 16}


def _small_generator():
    return defense_gan_generator(**SMALL)


@pytest.fixture(scope="module")
def x64(data_dir):
    from keras_restore import data

    return data.load_arrays("mnist", "train", data_dir, limit=64)[0]


def test_recipe_registered_with_wgan_gp_settings():
    r = RECIPES["defense_gan_wgan"]
    assert isinstance(r, WGANGenerator) and (r.latent_dim, r.gp_weight, r.n_critic, r.learning_rate) == (
        128, 10.0, 5, 1e-4)
    assert ADAM == {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9}
    assert r.data_needs() == ("x_clean",) and r.context_needs() == ()
    assert r.fingerprint() not in {RECIPES[k].fingerprint() for k in RECIPES if k != "defense_gan_wgan"}
    assert WGANGenerator(n_critic=2).fingerprint() != r.fingerprint()
    assert r.stages() == ["wgan-gp (gp x 10, 5 critic steps per generator step)"]


def test_a_few_steps_on_mnist(x64):
    keras.utils.set_random_seed(0)
    gen = _small_generator()
    before = [w.copy() for w in gen.get_weights()]
    cfg = TrainConfig(epochs=2, batch_size=8, val_fraction=0.25, seed=0)   # 6 critic steps per epoch
    record = WGANGenerator(latent_dim=16, n_critic=3, learning_rate=1e-3).train(gen, TrainData(x_clean=x64), cfg,
                                                                                verbose=0)
    hist = record["history"]
    for k in ("d_loss", "g_loss", "gp", "w_distance", "val_w_distance"):
        assert len(hist[k]) == 2 and np.isfinite(hist[k]).all(), (k, hist[k])
    assert hist["d_loss"][1] != hist["d_loss"][0] and hist["gp"][0] > 0
    assert hist["w_distance"][1] > 0      # the critic learns to score real images above generated ones
    assert record["learning_rate_used"] == 1e-3 and record["n_train"] == 48
    assert any(not np.array_equal(a, b) for a, b in zip(before, gen.get_weights()))   # the generator moved


def test_critic_every_step_generator_every_n_critic(x64):
    keras.utils.set_random_seed(0)
    gen, critic = _small_generator(), defense_gan_critic(width=8)
    wgan = WGANGP(gen, critic, gp_weight=10.0, n_critic=3)
    wgan.compile()
    assert wgan.built and wgan.g_optimizer.built and wgan.d_optimizer.built   # BackupAndRestore needs both
    assert float(wgan.d_optimizer.learning_rate) == pytest.approx(1e-4) and wgan.d_optimizer.beta_2 == 0.9
    wgan.fit(x64[:56], np.zeros(56, np.float32), batch_size=8, epochs=1, verbose=0)   # 7 steps
    assert int(wgan.d_optimizer.iterations) == 7 and int(wgan.g_optimizer.iterations) == 7 // 3


def test_resumes_an_interrupted_run(x64, tmp_path, monkeypatch, recwarn):
    # Cut after the first epoch; the second call resumes at epoch 2 with both networks' weights, both
    # optimizers' moments and the critic's update count (the generator's rhythm) back.
    cfg = TrainConfig(epochs=2, batch_size=8, val_fraction=0.25, seed=0)
    recipe = WGANGenerator(latent_dim=16, n_critic=2, learning_rate=1e-3)
    real_fit, kept, seen = training.loop.fit, {}, {}

    class Crash(keras.callbacks.Callback):   # runs before BackupAndRestore: it saves epoch 1, then the cut
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                kept["generator"] = [w.copy() for w in self.model.generator.get_weights()]
                kept["critic"] = [w.copy() for w in self.model.critic.get_weights()]
                kept["steps"] = (int(self.model.d_optimizer.iterations), int(self.model.g_optimizer.iterations))

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("power cut")

    class Peek(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if "generator" not in seen:
                seen["generator"] = [w.copy() for w in self.model.generator.get_weights()]
                seen["critic"] = [w.copy() for w in self.model.critic.get_weights()]
                seen["steps"] = (int(self.model.d_optimizer.iterations), int(self.model.g_optimizer.iterations))

    monkeypatch.setattr("keras_restore.training.recipes.fit",
                        lambda *a, **k: real_fit(*a, **{**k, "callbacks": (Crash(),)}))
    keras.utils.set_random_seed(0)
    with pytest.raises(RuntimeError, match="power cut"):
        recipe.train(_small_generator(), TrainData(x_clean=x64), cfg, checkpoint_dir=tmp_path / "ckpt", verbose=0)
    assert kept["steps"] == (6, 3)
    monkeypatch.setattr("keras_restore.training.recipes.fit",
                        lambda *a, **k: real_fit(*a, **{**k, "callbacks": (Peek(),)}))
    record = recipe.train(_small_generator(), TrainData(x_clean=x64), cfg, checkpoint_dir=tmp_path / "ckpt",
                          verbose=0)
    assert record["resumed"]["at_epoch"] == 2         # resumed at epoch 2; the record still has epoch 1
    assert len(record["history"]["d_loss"]) == 2 and record["history_epochs"] == [1, 2]
    assert seen["steps"] == kept["steps"]
    assert not [w for w in recwarn if "Skipping variable loading for optimizer" in str(w.message)]
    for part in ("generator", "critic"):
        for a, b in zip(seen[part], kept[part]):
            np.testing.assert_allclose(a, b, atol=1e-6)
    assert not (tmp_path / "ckpt").exists() or not any((tmp_path / "ckpt").iterdir())   # backup removed when done


def test_trains_under_mixed_bfloat16(x64):
    cfg = TrainConfig(epochs=1, batch_size=8, val_fraction=0.25, seed=0, precision="mixed_bfloat16")
    gen = training.build_model(_small_generator, cfg)
    assert gen.dtype_policy.name == "mixed_bfloat16"
    record = WGANGenerator(latent_dim=16, n_critic=2).train(gen, TrainData(x_clean=x64[:32]), cfg, verbose=0)
    for k in ("d_loss", "g_loss", "gp", "val_w_distance"):
        assert np.isfinite(record["history"][k]).all(), k
    assert training.float32_copy(gen, _small_generator).dtype_policy.name == "float32"


def test_bad_arguments():
    gen, critic = _small_generator(), defense_gan_critic(width=8)
    with pytest.raises(ValueError, match=r"^`latent_dim` is 32 but the generator takes z of size 16\.$"):
        WGANGP(gen, critic, 32)
    with pytest.raises(ValueError, match=r"^`n_critic` must be an int >= 1, got 0\.$"):
        WGANGP(gen, critic, n_critic=0)
    with pytest.raises(ValueError, match=r"^`gp_weight` must be a number >= 0, got -1\.$"):
        WGANGP(gen, critic, gp_weight=-1)
    with pytest.raises(ValueError, match=r"^`generator` makes images of shape \(28, 28, 1\) but `critic` takes "
                                         r"\(32, 32, 3\); they must match\.$"):
        WGANGP(gen, defense_gan_critic((32, 32, 3), width=8))
    with pytest.raises(ValueError, match=r"^`critic` must be a keras.Model, got str\.$"):
        WGANGP(gen, "critic")
    with pytest.raises(ValueError, match=r"^`generator` must take latent vectors of shape \(batch, latent_dim\)"):
        WGANGP(critic, critic)
    with pytest.raises(ValueError, match=r"^`g_optimizer` and `d_optimizer` must be two optimizers"):
        opt = keras.optimizers.Adam()
        WGANGP(gen, critic).compile(opt, opt)
    with pytest.raises(ValueError, match=r"^`n_critic` must be an integer >= 1, got 0\.$"):
        WGANGenerator(n_critic=0)
    with pytest.raises(ValueError, match=r"^`gp_weight` must be a number >= 0, got -2\.0\.$"):
        WGANGenerator(gp_weight=-2.0)
    x = np.zeros((8, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"^Recipe 'WGANGenerator' needs x_clean; the data has x_adv\.$"):
        RECIPES["defense_gan_wgan"].train(gen, TrainData(x_adv=x), TrainConfig(epochs=1), verbose=0)
    with pytest.raises(ValueError, match=r"^Recipe 'WGANGenerator' trains a generator of z with 128 values "
                                         r"\(`latent_dim`\); the model takes input shape \(None, 16\)\.$"):
        RECIPES["defense_gan_wgan"].train(gen, TrainData(x_clean=x), TrainConfig(epochs=1), verbose=0)
    with pytest.raises(ValueError, match="x_clean"):
        WGANGenerator(latent_dim=16).train(gen, TrainData(x_clean=np.zeros((8, 32, 32, 3), np.float32)),
                                           TrainConfig(epochs=1), verbose=0)

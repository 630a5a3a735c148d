"""keras_restore.training: the restoration loss per attack (papers/001 Figs. 3-5) recorded while a
restorer trains, its argument checks, and its survival of an interrupted (resumed) run."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_restore import training
from keras_restore.pipeline import figures
from keras_restore.pipeline.tables import CRUNET_COLUMNS, CRUNET_TABLE2


def _restorer():
    inp = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inp)
    out = keras.layers.Conv2D(1, 3, padding="same", name="c2")(x)
    return keras.Model(inp, out)


def _pairs(n=80, seed=0):
    """Clean images and two 'attacks' of different strength, labelled per pair."""
    rng = np.random.default_rng(seed)
    clean = rng.random((n, 8, 8, 1)).astype("float32")
    groups = np.array(["weak", "strong"] * (n // 2))
    noise = np.where(groups == "weak", 0.02, 0.2)[:, None, None, None]
    adv = np.clip(clean + noise * rng.standard_normal(clean.shape), 0, 1).astype("float32")
    return adv, clean, groups


CFG = training.TrainConfig(epochs=3, batch_size=16, val_fraction=0.25)


def test_loss_per_attack_is_recorded_per_epoch_and_matches_the_model():
    adv, clean, groups = _pairs()
    model = _restorer()
    rec = training.train_restorer(model, adv, clean, CFG, verbose=0, groups=groups, monitor_per_group=10)
    lpa = rec["loss_per_attack"]
    assert lpa["epochs"] == [0, 1, 2, 3]
    n_train = 60   # 80 pairs, the last 25% held out
    for split, idx in (("train", np.arange(n_train)), ("val", np.arange(n_train, 80))):
        for g in ("weak", "strong"):
            sel = idx[groups[idx] == g][: 10 if split == "train" else None]
            assert lpa["n"][split][g] == len(sel)
            assert len(lpa["mse"][split][g]) == 4
            assert lpa["identity_mse"][split][g] == pytest.approx(float(np.mean((adv[sel] - clean[sel]) ** 2)), rel=1e-6)
            # The model holds the kept epoch's weights: the recorded value at that epoch is its MSE.
            mse = float(np.mean((model.predict(adv[sel], verbose=0) - clean[sel]) ** 2))
            assert lpa["mse"][split][g][rec["kept_epoch"]] == pytest.approx(mse, rel=1e-4)
    assert lpa["identity_mse"]["val"]["strong"] > 10 * lpa["identity_mse"]["val"]["weak"]
    # the pooled validation loss Keras reports is the mean over the two (equal-sized) groups
    val = [(a + b) / 2 for a, b in zip(lpa["mse"]["val"]["weak"][1:], lpa["mse"]["val"]["strong"][1:])]
    np.testing.assert_allclose(val, rec["history"]["val_loss"], rtol=1e-3)


def test_no_groups_no_loss_per_attack():
    adv, clean, _ = _pairs(32)
    rec = training.train_restorer(_restorer(), adv, clean, training.TrainConfig(epochs=1, batch_size=16), verbose=0)
    assert "loss_per_attack" not in rec


@pytest.mark.parametrize("groups, match", [
    (np.array(["a"] * 79), r"one label per pair: expected shape \(80,\), got \(79,\)"),
    (np.zeros((80,)), "non-empty strings"),
    (np.array(["a"] * 79 + [""]), "non-empty strings"),
    (np.array([["a"]] * 80), r"expected shape \(80,\), got \(80, 1\)"),
])
def test_bad_groups(groups, match):
    adv, clean, _ = _pairs()
    with pytest.raises(ValueError, match=match):
        training.train_restorer(_restorer(), adv, clean, CFG, verbose=0, groups=groups)


def test_bad_monitor_per_group():
    adv, clean, groups = _pairs()
    with pytest.raises(ValueError, match="monitor_per_group"):
        training.train_restorer(_restorer(), adv, clean, CFG, verbose=0, groups=groups, monitor_per_group=0)


def test_interrupted_run_keeps_the_curves_of_its_finished_epochs(tmp_path, monkeypatch):
    adv, clean, groups = _pairs()
    ckpt = tmp_path / "ckpt"
    original = training.LossPerGroup.on_epoch_end

    def crash_after_first_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 0:
            raise RuntimeError("power cut")

    monkeypatch.setattr(training.LossPerGroup, "on_epoch_end", crash_after_first_epoch)
    keras.utils.set_random_seed(0)
    with pytest.raises(RuntimeError, match="power cut"):
        training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    saved = json.loads((ckpt / training.LossPerGroup.FILE).read_text())
    assert sorted(saved) == ["0", "1"]
    monkeypatch.setattr(training.LossPerGroup, "on_epoch_end", original)
    rec = training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    lpa = rec["loss_per_attack"]
    assert lpa["epochs"] == [0, 1, 2, 3]
    for split in ("train", "val"):                   # the epochs before the cut are kept
        for g in ("weak", "strong"):
            assert lpa["mse"][split][g][:2] == pytest.approx([saved["0"][split][g], saved["1"][split][g]])
    # Keras resumed at epoch 2; the record still covers epochs 1-3 and both attempts' wall time
    assert rec["resumed"]["attempts"] == 2 and rec["resumed"]["at_epoch"] == 2
    assert rec["history_epochs"] == [1, 2, 3] and len(rec["history"]["loss"]) == 3
    assert len(rec["history"]["val_loss"]) == 3
    assert rec["resumed"]["earlier_seconds"] > 0 and rec["seconds"] >= rec["resumed"]["earlier_seconds"]
    assert 1 <= rec["kept_epoch"] <= 3
    assert rec["history"]["val_loss"][rec["kept_epoch"] - 1] == min(rec["history"]["val_loss"])
    for f in (training.LossPerGroup.FILE, training.RunLog.FILE, training.KeepBest.FILE):
        assert not (ckpt / f).exists()   # removed with the backup


def test_resumed_from_a_backup_without_run_log_says_what_it_lacks(tmp_path, monkeypatch):
    adv, clean, groups = _pairs()
    ckpt = tmp_path / "ckpt"
    def crash_after_first_epoch(self, epoch, logs=None):   # after the backup has saved epoch 1
        if epoch == 0:
            raise RuntimeError("power cut")

    monkeypatch.setattr(training.RunLog, "on_epoch_end", lambda *a, **k: None)   # as if RunLog did not exist
    monkeypatch.setattr(training.LossPerGroup, "on_epoch_end", crash_after_first_epoch)
    with pytest.raises(RuntimeError, match="power cut"):
        training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    monkeypatch.undo()
    rec = training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    assert rec["resumed"]["at_epoch"] == 2 and rec["resumed"]["earlier_seconds"] is None
    assert "this attempt only" in rec["resumed"]["note"]
    assert rec["history_epochs"] == [2, 3] and len(rec["history"]["loss"]) == 2


def test_uninterrupted_record_has_every_epoch_and_no_resume():
    adv, clean, groups = _pairs()
    rec = training.train_restorer(_restorer(), adv, clean, CFG, verbose=0, groups=groups)
    assert rec["history_epochs"] == [1, 2, 3] and len(rec["history"]["val_loss"]) == 3
    assert "resumed" not in rec
    assert rec["history"]["val_loss"][rec["kept_epoch"] - 1] == min(rec["history"]["val_loss"])


def _keep_best(model, directory):
    cb = training.KeepBest(patience=5)
    cb.backup_dir = directory
    cb.set_model(model)
    cb.on_train_begin()
    return cb


def test_keep_best_restores_the_best_epoch_of_an_earlier_attempt(tmp_path):
    model = _restorer()
    first = [w.copy() for w in model.get_weights()]
    cb = _keep_best(model, tmp_path)
    cb.on_epoch_begin(0)
    cb.on_epoch_end(0, {"val_loss": 0.1})   # best so far: saved to the backup directory
    assert (tmp_path / training.KeepBest.FILE).exists()
    # the run is cut; the resumed attempt's epochs are worse than epoch 1
    model.set_weights([w + 1.0 for w in first])
    resumed = _keep_best(model, tmp_path)
    resumed.on_epoch_begin(1)
    resumed.on_epoch_end(1, {"val_loss": 0.5})
    resumed.on_train_end()
    assert resumed.best_epoch == 0 and resumed.best == pytest.approx(0.1)
    for w, w0 in zip(model.get_weights(), first):
        np.testing.assert_array_equal(w, w0)


def test_keep_best_drops_an_epoch_the_resumed_run_redoes(tmp_path):
    # cut after keep-best saved epoch 2 but before the backup counted it: the run redoes epoch 2,
    # so the best kept is epoch 1's (the previous best), not the lost epoch 2's
    model = _restorer()
    w1 = [w.copy() for w in model.get_weights()]
    cb = _keep_best(model, tmp_path)
    cb.on_epoch_begin(0)
    cb.on_epoch_end(0, {"val_loss": 0.3})
    model.set_weights([w + 1.0 for w in w1])
    cb.on_epoch_end(1, {"val_loss": 0.2})
    assert (tmp_path / training.KeepBest.PREVIOUS).exists()
    model.set_weights([w + 2.0 for w in w1])
    resumed = _keep_best(model, tmp_path)
    resumed.on_epoch_begin(1)   # epoch 2 again
    resumed.on_epoch_end(1, {"val_loss": 0.4})
    resumed.on_train_end()
    assert resumed.best_epoch == 0 and resumed.best == pytest.approx(0.3)
    for w, w0 in zip(model.get_weights(), w1):
        np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("content", [b"", b"not an npz", b"PK\x03\x04truncated"])
def test_keep_best_ignores_a_corrupt_file(tmp_path, content):
    (tmp_path / training.KeepBest.FILE).write_bytes(content)
    cb = _keep_best(_restorer(), tmp_path)
    cb.on_epoch_begin(3)
    assert cb.best is None and cb.best_weights is None
    cb.on_epoch_end(3, {"val_loss": 0.2})
    assert cb.best == pytest.approx(0.2)


def test_record_of_a_run_resumed_after_its_last_epoch(tmp_path, monkeypatch):
    # cut after the last epoch's backup, before training ended: the resumed call runs no epoch, and its
    # record still has every epoch, the earlier attempt's seconds and the kept epoch
    adv, clean, groups = _pairs()
    ckpt = tmp_path / "ckpt"

    def cut(self, logs=None):
        raise RuntimeError("power cut")

    monkeypatch.setattr(keras.callbacks.BackupAndRestore, "on_train_end", cut)
    with pytest.raises(RuntimeError, match="power cut"):
        training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    monkeypatch.undo()
    rec = training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    assert rec["history_epochs"] == [1, 2, 3] and rec["resumed"]["at_epoch"] == 4
    assert rec["resumed"]["earlier_seconds"] > 0
    assert rec["history"]["val_loss"][rec["kept_epoch"] - 1] == min(rec["history"]["val_loss"])


def test_a_cut_while_the_backup_is_written_keeps_the_previous_backup(tmp_path, monkeypatch):
    # Keras' BackupAndRestore writes latest.weights.h5 in place: killed mid-write, it left a truncated file that
    # the next attempt could not load. AtomicBackupAndRestore writes a temporary file and renames it.
    adv, clean, groups = _pairs()
    ckpt = tmp_path / "ckpt"
    save, calls = keras.Model.save_weights, []

    def cut_during_second_save(self, filepath, *args, **kwargs):
        calls.append(str(filepath))
        if len(calls) == 2:   # epoch 2's backup: half a file, then the power goes
            Path(filepath).write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
            raise KeyboardInterrupt("power cut")
        return save(self, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", cut_during_second_save)
    with pytest.raises(KeyboardInterrupt, match="power cut"):
        training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    monkeypatch.undo()
    assert json.loads((ckpt / "training_metadata.json").read_text())["epoch"] == 1
    assert not (ckpt / training.AtomicBackupAndRestore.TMP).exists()
    _restorer().load_weights(str(ckpt / "latest.weights.h5"))   # epoch 1's weights are whole: they load
    rec = training.train_restorer(_restorer(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, groups=groups)
    assert rec["resumed"]["at_epoch"] == 2 and rec["history_epochs"] == [1, 2, 3]
    assert not ckpt.exists()   # removed when training completed


def test_fit_twice_on_one_model_starts_at_epoch_one(tmp_path, monkeypatch):
    # Keras leaves Model._initial_epoch set after a resumed fit; fit() clears it
    adv, clean, groups = _pairs()
    model = _restorer()
    model._initial_epoch = 2
    rec = training.train_restorer(model, adv, clean, CFG, verbose=0)
    assert rec["history_epochs"] == [1, 2, 3] and "resumed" not in rec


def test_shuffled_pairs_keeps_groups_aligned():
    adv, clean, groups = _pairs(20)
    a, c, g = training.shuffled_pairs(adv, clean, 3, groups=groups)
    for i in range(20):
        j = int(np.flatnonzero((adv == a[i]).all(axis=(1, 2, 3)))[0])
        assert g[i] == groups[j] and (c[i] == clean[j]).all()


# ---------------------------------------------------------------- figure and CSV rows

def _record(name_for):
    epochs = [0, 1, 2]
    return {"trained_for": name_for, "kept_epoch": 2, "loss_per_attack": {
        "epochs": epochs,
        "mse": {"train": {c: [0.04, 0.02, 0.01] for c in CRUNET_COLUMNS},
                "val": {c: [0.05, 0.03, 0.02] for c in CRUNET_COLUMNS}},
        "identity_mse": {"train": {**{c: 0.04 for c in CRUNET_COLUMNS}, "CWA": 0.0},
                         "val": {c: 0.05 for c in CRUNET_COLUMNS}},
        "n": {"train": {c: 10 for c in CRUNET_COLUMNS}, "val": {c: 2 for c in CRUNET_COLUMNS}}}}


def test_loss_rows_and_figure(tmp_path):
    curves = {"crunet_mnist_anet": _record({"A-net": "anet"}), "crunet_mnist_bnet": _record({"B-net": "bnet"})}
    rows = figures.loss_rows(curves)
    assert len(rows) == 2 * 2 * 6 * 3
    first = rows[0]
    assert (first["restorer"], first["trained_for"], first["split"], first["epoch"]) == (
        "crunet_mnist_anet", "A-net", "train", 0)
    assert first["mse"] == "0.04" and first["mse_over_no_restoration"] == "1.0000"
    assert first["mse_paper"] == "" and first["mse_paper_note"] == figures.LOSS_PAPER_NOTE   # no printed value
    assert figures.loss_paper_note("Ali et al. 2022, CRU-Net (papers/001)") == figures.LOSS_PAPER_NOTE
    assert "papers/001" not in figures.loss_paper_note("A GAN denoiser (papers/004)")   # each table its own paper
    cwa = [r for r in rows if r["attack"] == "CWA" and r["split"] == "train"]
    assert all(r["mse_over_no_restoration"] == "" for r in cwa)   # no division by a zero no-restoration MSE
    figures.loss_curves_figure(curves, tmp_path / "loss.png", CRUNET_TABLE2, CRUNET_COLUMNS)
    assert (tmp_path / "loss.png").stat().st_size > 10_000


def test_loss_figure_without_any_of_the_columns(tmp_path):
    with pytest.raises(ValueError, match=r"No per-attack loss for any of the columns \['BIM'\]"):
        figures.loss_curves_figure({"r": _record({})}, tmp_path / "x.png", CRUNET_TABLE2, ["BIM"])
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------------- straight-through clip while training

def _dead_clipped_restorer():
    """Output below 0 everywhere: the plain clip passes no gradient to anything before it."""
    from keras_restore.models.layers import Clip

    inp = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(1, 1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(-0.5),
                            name="c")(inp)
    return keras.Model(inp, Clip(0.0, 1.0, name="out_clip")(x))


def test_clip_gradient_is_zero_outside_unless_straight_through():
    import tensorflow as tf

    from keras_restore.models.layers import Clip

    clip = Clip(0.0, 1.0)
    x = tf.constant([-0.5, 0.25, 1.5])
    for straight, expected in ((False, [0.0, 1.0, 0.0]), (True, [1.0, 1.0, 1.0])):
        clip.straight_through = straight
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = clip(x)
        np.testing.assert_allclose(y.numpy(), [0.0, 0.25, 1.0], atol=1e-7)   # same forward pass
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected)
    assert "straight_through" not in clip.get_config()


def test_a_dead_clipped_restorer_only_learns_with_the_straight_through_clip():
    adv, clean, _ = _pairs()
    plain = _dead_clipped_restorer()
    before = plain.get_weights()
    plain.compile(keras.optimizers.Adam(1e-2), "mse")
    plain.fit(adv, clean, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(before, plain.get_weights()):
        np.testing.assert_array_equal(a, b)          # zero gradient: nothing moves

    model = _dead_clipped_restorer()
    rec = training.train_restorer(model, adv, clean, training.TrainConfig(epochs=3, batch_size=4,
                                                                           learning_rate=0.05), verbose=0)
    assert rec["clip_gradient"].startswith("straight-through while training (out_clip)")
    assert rec["history"]["loss"][-1] < 0.5 * rec["history"]["loss"][0]
    assert model.get_layer("out_clip").straight_through is False   # back to the plain clip
    assert float(model.predict(adv[:4], verbose=0).min()) >= 0.0


def test_no_clip_no_clip_gradient_record():
    adv, clean, _ = _pairs(32)
    rec = training.train_restorer(_restorer(), adv, clean, training.TrainConfig(epochs=1, batch_size=16), verbose=0)
    assert "clip_gradient" not in rec


class _Scale(keras.layers.Layer):
    """Multiplies by a non-trainable factor a test callback can set to NaN (a diverged step, made on purpose)."""

    def build(self, input_shape):
        self.factor = self.add_weight(shape=(), initializer="ones", trainable=False, name="factor")

    def call(self, x):
        return x * self.factor


def test_a_diverged_epoch_raises_and_a_rerun_resumes_from_the_last_finished_one(tmp_path):
    """A NaN loss stops training with a FloatingPointError naming where and the learning rate; the diverged
    epoch reaches neither the run log nor the backup, so the same call resumes from the epoch before it."""
    adv, clean, _ = _pairs()
    ckpt = tmp_path / "ckpt"

    def model():
        inp = keras.Input((8, 8, 1))
        out = _Scale(name="scale")(keras.layers.Conv2D(1, 3, padding="same", name="c")(inp))
        m = keras.Model(inp, out)
        m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        return m

    class PoisonEpoch2(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.model.get_layer("scale").factor.assign(float("nan"))

    m = model()
    m.optimizer.learning_rate = 2e-3   # the optimizer's own rate is reported, not the config's (1e-3)
    with pytest.raises(FloatingPointError, match=r"Training diverged: loss = nan at batch 1 of epoch 2 "
                                                 r"\(learning rate optimizer 0.002; batch 16, float32\)\. .*holds "
                                                 r"epoch 1, from which a rerun resumes"):
        training.fit(m, adv, clean, CFG, checkpoint_dir=ckpt, verbose=0, callbacks=[PoisonEpoch2()])
    assert list(json.loads((ckpt / training.RunLog.FILE).read_text())["epochs"]) == ["1"]
    stopped = json.loads((ckpt / training.StopOnNonFinite.FILE).read_text())
    assert (stopped["epoch"], stopped["batch"], stopped["losses"]) == (2, 1, {"loss": "nan"})
    assert stopped["learning_rates"]["optimizer"] == pytest.approx(2e-3)
    rec = training.fit(model(), adv, clean, CFG, checkpoint_dir=ckpt, verbose=0)
    assert rec["resumed"]["at_epoch"] == 2 and rec["history_epochs"] == [1, 2, 3]
    assert all(np.isfinite(rec["history"]["loss"]))


def test_a_nan_validation_loss_raises_at_the_end_of_its_epoch():
    cfg = training.TrainConfig(epochs=1, batch_size=16)
    with pytest.raises(FloatingPointError, match="val_loss = nan at the end of epoch 1 .*learning rate "
                                                 "TrainConfig.learning_rate 0.001.*no epoch had finished"):
        training.StopOnNonFinite(cfg).on_epoch_end(0, {"loss": 0.1, "val_loss": float("nan")})
    training.StopOnNonFinite(cfg).on_epoch_end(0, {"loss": 0.1, "val_loss": 0.2, "lr": float("nan")})   # not a loss

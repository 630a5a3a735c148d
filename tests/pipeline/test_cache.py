"""pipeline/cache.py: every script's default cache folder."""

import json
from pathlib import Path

import numpy as np
import pytest

from keras_restore.pipeline import cache


def test_default_dir_is_the_repositorys_unless_the_environment_names_one(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.ENV, raising=False)
    assert cache.default_dir() == Path(cache.__file__).resolve().parents[2] / "reproduce" / "cache"
    monkeypatch.setenv(cache.ENV, str(tmp_path / "elsewhere"))
    assert cache.default_dir() == tmp_path / "elsewhere"


def test_scripts_take_the_default_from_the_environment(monkeypatch, tmp_path):
    from keras_restore.pipeline import script

    monkeypatch.setenv(cache.ENV, str(tmp_path))
    args = script.parser("x").parse_args([])
    assert args.cache_dir == str(tmp_path)


# ------------------------------------------------------------------------------------------ status


def _interrupted_training(ckpt, monkeypatch, epochs=3):
    """A restorer whose fit() is cut as its second epoch begins (the first finished and backed up)."""
    import keras

    from keras_restore import training

    inp = keras.Input((8, 8, 1))
    model = keras.Model(inp, keras.layers.Conv2D(1, 3, padding="same")(inp))
    x = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")
    original = training.RunLog.on_epoch_begin

    def cut(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("session ended")
        original(self, epoch, logs)

    monkeypatch.setattr(training.RunLog, "on_epoch_begin", cut)
    with pytest.raises(RuntimeError, match="session ended"):
        training.train_restorer(model, x, x, training.TrainConfig(epochs=epochs, batch_size=16),
                                checkpoint_dir=ckpt, verbose=0)
    monkeypatch.setattr(training.RunLog, "on_epoch_begin", original)


def test_status_lists_finished_models_runs_in_training_and_partial_attack_sets(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    for kind in ("models", "attacks"):
        (root / kind).mkdir(parents=True)
    (root / "models" / "m-abc.keras").write_bytes(b"x" * 2000)
    (root / "models" / "m-abc.json").write_text(json.dumps({"config": {"epochs": 5}, "seconds": 12.5,
                                                            "precision": "float32"}))
    (root / "models" / ".m-new.tmp.keras").write_bytes(b"half written")   # a save cut off: not a model
    c = cache.Cache(root)
    np.savez(c.path("attacks", "T-test-pgd-k1"), x_adv=np.zeros((7, 2, 2, 1), "float32"))
    for i in range(2):   # a paper-scale set being made: two chunks finished
        np.savez(c.path("attacks", f"T-train-pairs-cw-k2-chunk{i}"), x_adv=np.zeros((5, 2, 2, 1), "float32"))
    np.savez(c.path("attacks", "T-test-pgd-k1-chunk0"), x_adv=np.zeros((5, 2, 2, 1), "float32"))   # its set is done
    _interrupted_training(root / "ckpt" / "restorer-k3", monkeypatch)
    (root / "ckpt" / "m-abc").mkdir()   # a finished model's leftover folder is not "in training"
    (root / "ckpt" / "m-abc" / "run_log.json").write_text("{}")

    st = cache.status(root)
    assert st["models"] == [{"stem": "m-abc", "bytes": 2000, "epochs": 5, "seconds": 12.5, "precision": "float32"}]
    assert [s["stem"] for s in st["attack_sets"]] == ["T-test-pgd-k1"] and st["attack_sets"][0]["images"] == 7
    assert st["partial_attack_sets"] == [{"stem": "T-train-pairs-cw-k2", "kind": "attacks", "chunks": 2,
                                          "images": 10, "unreadable_chunks": 0}]
    (run,) = st["in_training"]
    assert run["stem"] == "restorer-k3" and run["stage"] is None
    assert run["epochs_done"] == 1 and run["epochs_planned"] == 3 and run["attempts"] == 1
    assert run["seconds"] > 0 and 0 <= run["age_seconds"] < 600
    assert set(run["last"]) >= {"loss", "val_loss"}

    text = cache.format_status(st)
    assert "models: 1 finished" in text and "m-abc  0.0 MB  (5 epochs, 12 s, float32)" in text
    assert "restorer-k3: epoch 1 of 3 finished" in text and "over 1 attempt," in text
    assert "h left at the median pace of the last 1 epoch (" in text and "(log written 0 min ago)" in text
    assert "T-train-pairs-cw-k2: 2 chunks, 10 images so far" in text
    assert "attack sets: 1 finished, 7 images" in text


def _run_log(path, log):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(log if isinstance(log, str) else json.dumps(log))


def test_status_reads_damaged_or_odd_files_without_failing(tmp_path):
    _run_log(tmp_path / "ckpt" / "r-corrupt" / "run_log.json", "{not json")
    _run_log(tmp_path / "ckpt" / "r-list" / "run_log.json", [1, 2])
    _run_log(tmp_path / "ckpt" / "r-odd" / "run_log.json",   # hand-edited values: read as unknown, not a crash
             {"attempts": "two", "epochs_planned": "10", "epochs": {"1": {"seconds": None, "loss": "x"},
                                                                     "2": {"seconds": 5.0, "loss": float("nan")}}})
    _run_log(tmp_path / "ckpt" / "r-done" / "run_log.json",   # more epochs in the log than planned: no ETA
             {"epochs_planned": 1, "epochs": {"1": {"seconds": 3.0}, "2": {"seconds": 3.0}}})
    (tmp_path / "ckpt" / "r-empty").mkdir()   # nothing started
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.keras").write_bytes(b"x")
    (tmp_path / "models" / "m.json").write_text("[1]")   # a record that is not a dict
    (tmp_path / "attacks").mkdir()
    (tmp_path / "attacks" / "S-chunk0.npz").write_bytes(b"PK\x03\x04 damaged")
    st = cache.status(tmp_path)
    runs = {r["stem"]: r for r in st["in_training"]}
    assert sorted(runs) == ["r-corrupt", "r-done", "r-list", "r-odd"]
    assert runs["r-corrupt"]["note"] == "run_log.json unreadable" and runs["r-list"]["note"] == "run_log.json unreadable"
    odd = runs["r-odd"]
    assert odd["epochs_done"] == 2 and odd["epochs_planned"] is None and odd["attempts"] is None
    assert odd["seconds"] == 5.0 and odd["last"] == {"loss": None}
    assert st["models"][0]["epochs"] is None and st["models"][0]["seconds"] is None
    assert st["partial_attack_sets"] == [{"stem": "S", "kind": "attacks", "chunks": 1, "images": 0,
                                          "unreadable_chunks": 1}]
    text = cache.format_status(st)
    assert "r-corrupt: run_log.json unreadable" in text and "S: 1 chunk (1 unreadable), 0 images so far" in text
    assert "r-done: epoch 2 of 1 finished" in text and "left at" not in text.split("r-done")[1].split("\n")[0]
    json.dumps(st, allow_nan=False)   # --json output is valid JSON (no NaN)


def test_status_finds_the_run_log_of_a_staged_recipe(tmp_path):
    _run_log(tmp_path / "ckpt" / "gan-k" / "warmup" / "run_log.json", {"epochs": {"1": {"seconds": 1.0}}})
    _run_log(tmp_path / "ckpt" / "gan-k" / "gan" / "run_log.json",
             {"epochs_planned": 3, "epochs": {"1": {"seconds": 2.0}, "2": {"seconds": 2.0}}})
    import os
    os.utime(tmp_path / "ckpt" / "gan-k" / "warmup" / "run_log.json", (1, 1))   # the older stage
    (run,) = cache.status(tmp_path)["in_training"]
    assert run["stage"] == "gan" and run["epochs_done"] == 2 and run["epochs_planned"] == 3
    assert "gan-k [gan]: epoch 2 of 3 finished, 4 s so far" in cache.format_status(cache.status(tmp_path))


def test_status_of_a_missing_directory_names_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"cache directory \(--cache-dir / `root`\) '.*nope' is not a directory"):
        cache.status(tmp_path / "nope")


def test_cli_cache_command(tmp_path, capsys):
    from keras_restore import cli

    assert cli.main(["cache", "--cache-dir", str(tmp_path)]) == 0   # an empty folder: every count 0
    out = capsys.readouterr().out
    assert "models: 0 finished" in out and "in training: 0" in out
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["root"] == str(tmp_path)
    assert cli.main(["cache", "--cache-dir", str(tmp_path / "missing")]) == 1
    assert "is not a directory" in capsys.readouterr().err


def test_eta_uses_the_median_pace_so_one_paused_epoch_does_not_move_it(tmp_path):
    seconds = {1: 100.0, 2: 110.0, 3: 2300.0, 4: 105.0, 5: 2265.0, 6: 108.0}   # epochs 3, 5: paused runs
    _run_log(tmp_path / "ckpt" / "resnet-k" / "run_log.json",
             {"epochs_planned": 100, "attempts": 2,
              "epochs": {str(e): {"seconds": s, "val_accuracy": 0.8} for e, s in seconds.items()}})
    (run,) = cache.status(tmp_path)["in_training"]
    assert run["median_epoch_seconds"] == 110.0 and run["pace_epochs"] == 5 and run["last_epoch_seconds"] == 108.0
    text = cache.format_status(cache.status(tmp_path))
    assert "~2.9 h left at the median pace of the last 5 epochs (110 s)" in text   # 94 x 110 s


def test_a_diverged_run_says_so_and_gets_no_eta(tmp_path):
    """A run log whose loss went NaN (Keras trains on after one: M-net's CRU-Net on 2026-12-07) is flagged with
    the first such epoch, not given an ETA as if it were progressing."""
    nan = float("nan")
    _run_log(tmp_path / "ckpt" / "crunet-k" / "run_log.json",
             {"epochs_planned": 20, "attempts": 1,
              "epochs": {"1": {"loss": 0.0056, "val_loss": 0.0044, "seconds": 469.0},
                         "2": {"loss": nan, "val_loss": nan, "seconds": 551.0},
                         "3": {"loss": nan, "val_loss": nan, "seconds": 397.0}}})
    (run,) = cache.status(tmp_path)["in_training"]
    assert run["diverged_at"] == 2 and run["epochs_done"] == 3
    text = cache.format_status(cache.status(tmp_path))
    assert "DIVERGED: a non-finite loss in epoch 2" in text and "left at the median pace" not in text
    # a run stopped by training.StopOnNonFinite: its run log is finite, its diverged.json says where
    _run_log(tmp_path / "ckpt" / "crunet-k" / "run_log.json",
             {"epochs_planned": 20, "epochs": {"1": {"loss": 0.0056, "seconds": 469.0}}})
    _run_log(tmp_path / "ckpt" / "crunet-k" / "diverged.json", {"epoch": 2, "batch": 7, "losses": {"loss": "nan"}})
    (run,) = cache.status(tmp_path)["in_training"]
    assert run["diverged_at"] == 2 and run["epochs_done"] == 1
    assert "DIVERGED: a non-finite loss in epoch 2" in cache.format_status(cache.status(tmp_path))


def test_a_run_in_training_shows_its_held_out_mse_per_attack(tmp_path):
    """The per-attack curves of training.LossPerGroup (beside the run log) are read back: after the last
    epoch, each as a multiple of its value before training (the identity's, for a residual restorer)."""
    from keras_restore.training import LossPerGroup

    assert cache.LOSS_PER_GROUP == LossPerGroup.FILE
    _run_log(tmp_path / "ckpt" / "crunet-k" / "run_log.json",
             {"epochs_planned": 20, "epochs": {"1": {"loss": 0.004, "seconds": 431.0},
                                               "2": {"loss": 0.003, "seconds": 523.0}}})
    _run_log(tmp_path / "ckpt" / "crunet-k" / "loss_per_group.json",
             {"0": {"train": {"FGSM": 0.5, "SPA": 0.9}, "val": {"FGSM": 0.001, "SPA": 0.05}},
              "1": {"train": {"FGSM": 0.5, "SPA": 0.9}, "val": {"FGSM": 0.0009, "SPA": 0.02}},
              "2": {"train": {"FGSM": 0.5, "SPA": 0.9}, "val": {"FGSM": 0.0011, "SPA": "nan"}},
              "notes": "ignored"})
    (run,) = cache.status(tmp_path)["in_training"]
    lpg = run["loss_per_group"]
    assert lpg["epochs"] == [0, 1, 2] and lpg["identity"] == {"FGSM": 0.001, "SPA": 0.05}
    assert lpg["last"] == {"FGSM": 0.0011}   # a non-number is left out, not printed as a value
    assert lpg["by_epoch"]["1"] == {"FGSM": 0.0009, "SPA": 0.02}
    text = cache.format_status(cache.status(tmp_path))
    assert "held-out MSE per attack after epoch 2 (x its value before training): FGSM 0.0011 (1.10x)" in text
    # no file, or a damaged one: no line, no failure
    (tmp_path / "ckpt" / "crunet-k" / "loss_per_group.json").write_text("[1, 2")
    (run,) = cache.status(tmp_path)["in_training"]
    assert run["loss_per_group"] is None and "held-out MSE" not in cache.format_status(cache.status(tmp_path))

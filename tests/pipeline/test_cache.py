"""pipeline/cache.py: every script's default cache folder."""

from pathlib import Path

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

import json   # noqa: E402

import numpy as np   # noqa: E402
import pytest   # noqa: E402


def _interrupted_training(ckpt, epochs=3):
    """A restorer whose fit() is cut after its first epoch, its backup in ``ckpt``."""
    import keras

    from keras_restore import training

    inp = keras.Input((8, 8, 1))
    model = keras.Model(inp, keras.layers.Conv2D(1, 3, padding="same")(inp))
    rng = np.random.default_rng(0)
    x = rng.random((32, 8, 8, 1)).astype("float32")
    original = training.RunLog.on_epoch_begin

    def cut(self, epoch, logs=None):   # the first epoch finished (and backed up), cut as the second begins
        if epoch == 1:
            raise RuntimeError("session ended")
        original(self, epoch, logs)

    training.RunLog.on_epoch_begin = cut
    try:
        with pytest.raises(RuntimeError, match="session ended"):
            training.train_restorer(model, x, x, training.TrainConfig(epochs=epochs, batch_size=16),
                                    checkpoint_dir=ckpt, verbose=0)
    finally:
        training.RunLog.on_epoch_begin = original


def test_status_lists_finished_models_runs_in_training_and_partial_attack_sets(tmp_path):
    root = tmp_path / "cache"
    for kind in ("models", "attacks"):
        (root / kind).mkdir(parents=True)
    (root / "models" / "m-abc.keras").write_bytes(b"x" * 2000)
    (root / "models" / "m-abc.json").write_text(json.dumps({"config": {"epochs": 5}, "seconds": 12.5,
                                                            "precision": "float32"}))
    c = cache.Cache(root)
    np.savez(c.path("attacks", "T-test-pgd-k1"), x_adv=np.zeros((7, 2, 2, 1), "float32"))
    for i in range(2):   # a paper-scale set being made: two chunks finished
        np.savez(c.path("attacks", f"T-train-pairs-cw-k2-chunk{i}"), x_adv=np.zeros((5, 2, 2, 1), "float32"))
    np.savez(c.path("attacks", "T-test-pgd-k1-chunk0"), x_adv=np.zeros((5, 2, 2, 1), "float32"))   # its set is done
    _interrupted_training(root / "ckpt" / "restorer-k3")
    (root / "ckpt" / "m-abc").mkdir()   # a finished model's leftover folder is not "in training"
    (root / "ckpt" / "m-abc" / "run_log.json").write_text("{}")

    st = cache.status(root)
    assert [m["stem"] for m in st["models"]] == ["m-abc"]
    assert st["models"][0] == {"stem": "m-abc", "bytes": 2000, "epochs": 5, "seconds": 12.5, "precision": "float32"}
    assert [s["stem"] for s in st["attack_sets"]] == ["T-test-pgd-k1"] and st["attack_sets"][0]["images"] == 7
    assert st["partial_attack_sets"] == [{"stem": "T-train-pairs-cw-k2", "chunks": 2, "images": 10}]
    (run,) = st["in_training"]
    assert run["stem"] == "restorer-k3" and run["epochs_done"] == 1 and run["epochs_planned"] == 3
    assert run["attempts"] == 1 and run["seconds"] > 0 and run["backup"] is True
    assert set(run["last"]) >= {"loss", "val_loss"}

    text = cache.format_status(st)
    assert "models: 1 finished" in text and "m-abc  0.0 MB  (5 epochs, 12 s, float32)" in text
    assert "restorer-k3: epoch 1 of 3 finished" in text and "h left at the last epoch's pace" in text
    assert "T-train-pairs-cw-k2: 2 chunk(s), 10 images so far" in text
    assert "attack sets: 1 finished, 7 images" in text


def test_status_of_a_run_log_that_is_corrupt_or_missing(tmp_path):
    (tmp_path / "ckpt" / "r-1").mkdir(parents=True)
    (tmp_path / "ckpt" / "r-1" / "run_log.json").write_text("{not json")
    (tmp_path / "ckpt" / "r-2").mkdir()   # empty: nothing started
    (run,) = cache.status(tmp_path)["in_training"]
    assert run["stem"] == "r-1" and run["epochs_done"] == 0 and "no run_log.json" in run["note"]


def test_status_of_a_missing_directory_names_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"`cache_dir` '.*nope' is not a directory"):
        cache.status(tmp_path / "nope")


def test_cli_cache_command(tmp_path, capsys):
    from keras_restore import cli

    (tmp_path / "models").mkdir()
    assert cli.main(["cache", "--cache-dir", str(tmp_path)]) == 0
    assert "models: 0 finished" in capsys.readouterr().out
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["root"] == str(tmp_path)
    assert cli.main(["cache", "--cache-dir", str(tmp_path / "missing")]) == 1
    assert "is not a directory" in capsys.readouterr().err

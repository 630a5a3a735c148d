"""The keras-restore CLI: an end-to-end flow on tiny models, and one-line errors for bad input."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_restore import cli, models
from keras_restore.io import save_model_atomic


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    clf = models.build("m2")
    save_model_atomic(clf, d / "m2.keras")
    inp = keras.Input((28, 28, 1))
    restorer = keras.Model(inp, models.Clip()(keras.layers.Conv2D(1, 3, padding="same")(inp)))
    save_model_atomic(restorer, d / "tiny_restorer.keras")
    rng = np.random.default_rng(0)
    np.savez(d / "clean.npz", x=rng.random((16, 28, 28, 1), dtype=np.float32), y=rng.integers(0, 10, 16))
    return d


def run(*argv):
    return cli.main([str(a) for a in argv])


def test_help_of_every_subcommand():
    for sub in ("models", "train", "attack", "restore", "evaluate", "reproduce", "export"):
        with pytest.raises(SystemExit) as e:
            cli.main([sub, "--help"])
        assert e.value.code == 0


def test_models_lists_registry(capsys):
    assert run("models") == 0
    out = capsys.readouterr().out
    assert "restorer_mnist" in out and "m1" in out


def test_attack_restore_evaluate_export(files, tmp_path, capsys):
    assert run("attack", "fgsm", "--model", files / "m2.keras", "--input", files / "clean.npz",
               "--param", "eps=0.1", "--quiet", "--out", tmp_path / "adv.npz") == 0
    with np.load(tmp_path / "adv.npz") as f:
        adv = f["x"]
    with np.load(files / "clean.npz") as f:
        clean = f["x"]
    assert adv.shape == clean.shape and np.abs(adv - clean).max() <= 0.1 + 1e-6
    assert run("restore", "--restorer", files / "tiny_restorer.keras", "--input", tmp_path / "adv.npz",
               "--out", tmp_path / "restored.npz") == 0
    assert run("evaluate", "--classifier", files / "m2.keras", "--restorer", files / "tiny_restorer.keras",
               "--clean", files / "clean.npz", "--adversarial", tmp_path / "adv.npz", "--out", tmp_path / "m.csv") == 0
    assert "success_rate" in (tmp_path / "m.csv").read_text()
    assert run("export", "--restorer", files / "tiny_restorer.keras", "--classifier", files / "m2.keras",
               "--out", tmp_path / "served") == 0
    assert (tmp_path / "served" / "saved_model.pb").exists()


BAD = [
    (["attack", "fgsm", "--model", "nope_model", "--out", "o.npz"], "Unknown model 'nope_model'"),
    (["attack", "fgsm", "--model", "{d}/missing.keras", "--out", "o.npz"], "does not exist"),
    (["attack", "fgsm", "--model", "{d}/clean.npz.keras", "--out", "o.npz"], "does not exist"),
    (["attack", "warp", "--model", "{d}/m2.keras", "--input", "{d}/clean.npz", "--out", "{t}/o.npz"], "warp"),
    (["attack", "fgsm", "--model", "{d}/m2.keras", "--input", "{d}/clean.npz", "--param", "eps", "--out", "{t}/o.npz"], "NAME=VALUE"),
    (["attack", "fgsm", "--model", "{d}/m2.keras", "--input", "{d}/clean.npz", "--param", "eps=-1", "--out", "{t}/o.npz"], "eps"),
    (["attack", "fgsm", "--model", "{d}/m2.keras", "--input", "{d}/clean.npz", "--param", "bogus=1", "--out", "{t}/o.npz"], "bogus"),
    (["restore", "--restorer", "{d}/tiny_restorer.keras", "--input", "{t}/none.npz", "--out", "{t}/o.npz"], "does not exist"),
    (["restore", "--restorer", "{d}/tiny_restorer.keras", "--input", "{t}/nox.npz", "--out", "{t}/o.npz"], "lacks the array `x`"),
    (["restore", "--restorer", "{d}/tiny_restorer.keras", "--input", "{t}/nan.npz", "--out", "{t}/o.npz"], "NaN/Inf"),
    (["restore", "--restorer", "{d}/tiny_restorer.keras", "--input", "{t}/big.npz", "--out", "{t}/o.npz"], r"values must lie in \[0, 1\]"),
    (["restore", "--restorer", "{d}/tiny_restorer.keras", "--input", "{t}/rgb.npz", "--out", "{t}/o.npz"], r"image shape \(28, 28, 1\)"),
    (["restore", "--restorer", "{d}/tiny_restorer.keras", "--input", "{t}/empty.npz", "--out", "{t}/o.npz"], "empty batch"),
    (["restore", "--restorer", "{d}/tiny_restorer.keras", "--input", "{t}/text.npz", "--out", "{t}/o.npz"], "not an .npz archive"),
    (["evaluate", "--classifier", "{d}/m2.keras", "--restorer", "{d}/tiny_restorer.keras", "--clean", "{t}/nox.npz",
      "--adversarial", "{d}/clean.npz"], "lacks the array `x`"),
    (["evaluate", "--classifier", "{d}/m2.keras", "--restorer", "{d}/tiny_restorer.keras", "--clean", "{t}/noy.npz",
      "--adversarial", "{d}/clean.npz"], "lacks the labels array `y`"),
    (["evaluate", "--classifier", "{d}/m2.keras", "--restorer", "{d}/tiny_restorer.keras", "--clean", "{t}/badlen.npz",
      "--adversarial", "{d}/clean.npz"], "labels for"),
    (["reproduce", "table99"], "unknown table 'table99'"),
    (["train", "nope", "--out", "{t}/x.keras"], "Unknown model 'nope'"),
    (["train", "restorer_mnist", "--out", "{t}/x.keras"], "needs --pairs"),
    (["train", "m1", "--data-dir", "{t}/nowhere", "--out", "{t}/x.keras"], "does not exist"),
    (["attack", "fgsm", "--model", "{d}/m2.keras", "--dataset", "svhn", "--data-dir", "{t}", "--out", "{t}/o.npz"], "Unknown dataset 'svhn'"),
]


@pytest.fixture
def bad_files(tmp_path):
    np.savez(tmp_path / "nox.npz", images=np.zeros((1, 28, 28, 1), np.float32))
    np.savez(tmp_path / "nan.npz", x=np.full((1, 28, 28, 1), np.nan, np.float32))
    np.savez(tmp_path / "big.npz", x=np.full((1, 28, 28, 1), 2.0, np.float32))
    np.savez(tmp_path / "rgb.npz", x=np.zeros((1, 28, 28, 3), np.float32))
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 28, 28, 1), np.float32))
    np.savez(tmp_path / "noy.npz", x=np.zeros((2, 28, 28, 1), np.float32))
    np.savez(tmp_path / "badlen.npz", x=np.zeros((2, 28, 28, 1), np.float32), y=np.zeros(3, np.int64))
    (tmp_path / "text.npz").write_text("hello")
    return tmp_path


@pytest.mark.parametrize("argv,match", BAD, ids=[f"{a[0]}-{i}" for i, (a, _) in enumerate(BAD)])
def test_bad_input_is_one_line_error(files, bad_files, argv, match, capsys):
    argv = [a.format(d=files, t=bad_files) for a in argv]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("keras-restore: error:")
    assert len(err.splitlines()) == 1
    assert __import__("re").search(match, err), err


def test_console_script_exit_code_and_debug(files, tmp_path):
    cmd = [sys.executable, "-m", "keras_restore.cli", "restore", "--restorer", str(files / "tiny_restorer.keras"),
           "--input", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "o.npz")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "does not exist" in r.stderr
    r = subprocess.run(cmd[:3] + ["--debug"] + cmd[3:], capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" in r.stderr

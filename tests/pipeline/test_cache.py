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

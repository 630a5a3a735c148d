import csv

import numpy as np
import pytest

from keras_restore.pipeline import io


def test_csv_atomic_and_readable(tmp_path):
    path = io.write_csv(tmp_path / "t.csv", [{"a": 1.23456, "b": "x"}, {"a": 2.0, "b": "y"}])
    rows = list(csv.DictReader(open(path)))
    assert rows[0] == {"a": "1.23", "b": "x"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_failed_write_keeps_old_file(tmp_path):
    path = io.write_text(tmp_path / "r.txt", "old")

    class Boom(Exception):
        pass

    def bad(f):
        f.write(b"half")
        raise Boom()

    with pytest.raises(Boom):
        io._replace(path, bad)
    assert path.read_text() == "old"
    assert len(list(tmp_path.iterdir())) == 1


def test_empty_rows_refused(tmp_path):
    with pytest.raises(ValueError, match="No rows to write"):
        io.write_csv(tmp_path / "e.csv", [])


def test_path_under_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="cannot be created"):
        io.write_text(tmp_path / "f" / "out.csv", "x")


def test_corrupt_cache_reads_as_absent(tmp_path):
    (tmp_path / "c.npz").write_bytes(b"garbage")
    assert io.load_npz(tmp_path / "c.npz") is None
    io.save_npz(tmp_path / "ok.npz", a=np.arange(3))
    assert io.load_npz(tmp_path / "ok.npz")["a"].tolist() == [0, 1, 2]


def test_merge_csv_keeps_rows_of_earlier_runs(tmp_path):
    path = io.merge_csv(tmp_path / "m.csv", [{"model": "a", "acc": 1.0}, {"model": "b", "acc": 2.0}], key="model")
    io.merge_csv(path, [{"model": "b", "acc": 3.0}, {"model": "c", "acc": 4.0}], key="model")
    rows = list(csv.DictReader(open(path)))
    assert [(r["model"], r["acc"]) for r in rows] == [("a", "1.00"), ("b", "3.00"), ("c", "4.00")]


def test_merge_csv_needs_the_key(tmp_path):
    with pytest.raises(ValueError, match="key column 'model'"):
        io.merge_csv(tmp_path / "m.csv", [{"acc": 1.0}], key="model")
    io.write_csv(tmp_path / "n.csv", [{"name": "a"}])
    with pytest.raises(ValueError, match="has no 'model' column"):
        io.merge_csv(tmp_path / "n.csv", [{"model": "a"}], key="model")


def test_load_json_treats_missing_and_corrupt_files_as_absent(tmp_path):
    from keras_restore import io as base_io

    assert base_io.load_json(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert base_io.load_json(tmp_path / "bad.json") is None
    (tmp_path / "ok.json").write_text('{"a": [1, 2]}')
    assert base_io.load_json(tmp_path / "ok.json") == {"a": [1, 2]}

"""reproduce/adaptive_robustness.py --update: rows run now replace their previous version, the rest
are kept as written, in the leaderboard's row order; a missing previous file is a clear error."""

import json

import pytest

from keras_restore import io


@pytest.fixture(scope="module")
def board(reproduce_script):
    return reproduce_script("adaptive_robustness")


def _row(defense, classifier, acc):
    return {"defense": defense, "dataset": "mnist", "classifier": classifier, "adaptive_accuracy": acc}


def test_update_replaces_and_keeps(board, tmp_path):
    previous = [_row("none", "m1", 0.0), _row("feature_squeezing", "m1", 75.8), _row("magnet", "m1", 1.0)]
    io.write_csv(tmp_path / "adaptive_robustness.csv", previous)
    io.write_json(tmp_path / "adaptive_robustness.meta.json",
                  {"rows": [{"row": f"{r['defense']}/mnist/{r['classifier']}", "old": True} for r in previous]})
    now = [_row("magnet", "m1", 2.5), _row("image_reconstruction", "m1", 9.0)]
    details = [{"row": "magnet/mnist/m1"}, {"row": "image_reconstruction/mnist/m1"}]
    kept = board.merge_previous(tmp_path, now, details)
    assert kept == 2
    assert [r["defense"] for r in now] == ["none", "feature_squeezing", "image_reconstruction", "magnet"]   # ROWS order
    assert now[1]["adaptive_accuracy"] == "75.80"   # kept exactly as written
    assert now[3]["adaptive_accuracy"] == 2.5 and details[3] == {"row": "magnet/mnist/m1"}
    assert details[0]["old"] is True


def test_update_needs_the_previous_files(board, tmp_path):
    with pytest.raises(ValueError, match="--update needs a readable previous .*adaptive_robustness.csv"):
        board.merge_previous(tmp_path, [_row("none", "m1", 0.0)], [{"row": "none/mnist/m1"}])
    io.write_csv(tmp_path / "adaptive_robustness.csv", [_row("none", "m1", 0.0)])
    (tmp_path / "adaptive_robustness.meta.json").write_text(json.dumps({"rows": []}))
    with pytest.raises(ValueError, match="has no details for row\\(s\\) none/mnist/m1"):
        board.merge_previous(tmp_path, [_row("magnet", "m1", 0.0)], [{"row": "magnet/mnist/m1"}])


def test_every_defense_has_a_leaderboard_row(board):
    from keras_restore.defenses import DEFENSES

    on_board = {r.defense for r in board.ROWS}
    assert on_board - {"none"} <= set(DEFENSES)
    # every registered defense is on the board (papers/002-004 and the baselines), none left out silently
    assert set(DEFENSES) - on_board == set(), sorted(set(DEFENSES) - on_board)


def test_defense_gan_row_options_reach_the_builder(board):
    from keras_restore import models
    from keras_restore.defenses import build_defense

    row = next(r for r in board.ROWS if r.defense == "defense_gan")
    assert (row.dataset, row.classifier, row.restorer) == ("mnist", "m1", "defense_gan_mnist")
    for scale, (L, R) in (("quick", (5, 1)), ("default", (50, 2))):
        s = board.settings(scale, row)
        assert s["defense_options"] == {"L": L, "R": R}
        defense = build_defense("defense_gan", models.build("m1"), dataset="mnist",
                                restorer=models.build("defense_gan_mnist"), fast=False, **s["defense_options"])
        config = defense.describe()["preprocessing"][0]["config"]
        assert (config["L"], config["R"]) == (L, R) and defense.gradients()["defense_gan_projection"] == "bpda"
    assert "defense_options" not in board.settings("default", board.ROWS[0])


def test_every_table9_defense_has_a_leaderboard_row_with_its_cut(board):
    # papers/000 Table 9's CIFAR-10 comparison: each of its defenses (with the same model) is attacked
    # adaptively in the leaderboard, in front of the same DenseNet121.
    from keras_restore.pipeline import TABLES

    rows = {(r.defense, r.restorer) for r in board.ROWS if r.dataset == "cifar10" and r.classifier == "densenet121_cifar10"}
    table9 = {(r.defense, r.restorer) for r in TABLES["table9_cifar10_baselines"].rows.values()}
    assert table9 <= rows, table9 - rows
    cuts = board.SCALES["default"]["rows"]
    assert cuts[("deep_image_restoration", "cifar10")] == {"n_images": 100, "n_iter": 50, "check_images": 50}
    assert cuts[("magnet", "cifar10")] == {**cuts[("deep_image_restoration", "cifar10")],
                                           "defense_options": {"detector": False}}   # Table 9's MagNet: reformer only
    assert cuts[("defense_gan", "cifar10")]["defense_options"] == {"L": 50, "R": 2}
    assert board.SCALES["quick"]["rows"][("defense_gan", "cifar10")]["defense_options"] == {"L": 5, "R": 1}


@pytest.mark.parametrize("scale", ["quick", "default"])
def test_every_row_builds_its_defense_with_its_settings(board, scale):
    # A row whose builder refuses its options would stop the whole leaderboard run (CI's --quick too):
    # build each row's defense as run_row does, with an untrained model of each name and a tiny classifier.
    import keras

    from keras_restore import models
    from keras_restore.defenses import DEFENSES, build_defense

    shapes = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
    built = {}
    for row in board.ROWS:
        if row.defense == "none":
            continue
        inputs = keras.Input(shapes[row.dataset])
        classifier = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
        kwargs = {}
        if row.restorer:
            if row.restorer not in built:
                built[row.restorer] = models.build(row.restorer)
            kwargs[DEFENSES[row.defense].model_arg] = built[row.restorer]
        options = board.settings(scale, row).get("defense_options", {})
        defense = build_defense(row.defense, classifier, dataset=row.dataset, fast=False, **kwargs, **options)
        assert defense.model.output_shape == (None, 10), row.label

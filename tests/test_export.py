"""TF Serving export (keras_restore.export): signatures, in-graph input checks, argument checks.

Most tests use a tiny restorer-shaped model (Conv2D -> Clip, input 28x28x1) and the small M2
classifier, exported once per module; one test exports the real 16 M-parameter Table 1 restorer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore import export as ex
from keras_restore import models
from keras_restore.models.layers import Clip

VENV_BIN = Path(sys.executable).parent
SUBPROCESS_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
SHAPE_MSG = "assertion failed: [images must have shape [batch, 28, 28, 1]; got shape:]"
RANGE_MSG = "assertion failed: [images values must lie in [0, 1] (nothing is clipped); got min:]"


def tiny_restorer(shape=(28, 28, 1), seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape, name="adversarial")
    x = keras.layers.Conv2D(shape[-1], 3, padding="same", name="conv")(inputs)
    return keras.Model(inputs, Clip(0.0, 1.0, name="clip")(x), name="tiny_restorer")


def images(n=4, seed=1):
    return np.random.default_rng(seed).random((n, 28, 28, 1), dtype=np.float32)


def leftovers(parent: Path, keep: str):
    """Anything in ``parent`` but ``keep``: temporary or backup directories of a write."""
    return sorted(p.name for p in parent.iterdir() if p.name != keep)


@pytest.fixture(scope="module")
def defended(tmp_path_factory):
    restorer, classifier = tiny_restorer(), models.build("m2")
    path = ex.export_defended(restorer, classifier, tmp_path_factory.mktemp("serving") / "defended" / "1")
    return restorer, classifier, path


@pytest.fixture(scope="module")
def served(defended):
    return tf.saved_model.load(str(defended[2]))


def reference(restorer, classifier, x):
    restored = restorer(x, training=False).numpy()
    logits = classifier(restored, training=False).numpy()
    return restored, tf.nn.softmax(logits).numpy(), logits.argmax(axis=1)


# ------------------------------------------------------------------ the SavedModel, served


def test_export_returns_absolute_path_and_leaves_no_temporaries(defended):
    _, _, path = defended
    assert path.is_absolute() and (path / "saved_model.pb").is_file()
    assert leftovers(path.parent, "1") == []


def test_fresh_process_serves_both_signatures_like_keras(defended, tmp_path):
    restorer, classifier, path = defended
    x = images(5)
    x_u8 = np.random.default_rng(2).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "x_u8.npy", x_u8)
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({str(path)!r})
        out = {{}}
        for sig, arg, f in (("serving_default", "images", "x.npy"), ("serving_uint8", "images_uint8", "x_u8.npy")):
            res = m.signatures[sig](**{{arg: tf.constant(np.load({str(tmp_path)!r} + "/" + f))}})
            for k, v in res.items():
                out[sig + "." + k] = v.numpy()
                out[sig + "." + k + ".dtype"] = np.array(v.dtype.name)
        np.savez({str(tmp_path / "out.npz")!r}, **out)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=SUBPROCESS_ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    for sig, inputs in (("serving_default", x), ("serving_uint8", x_u8.astype(np.float32) / 255.0)):
        restored, probabilities, classes = reference(restorer, classifier, inputs)
        assert str(out[f"{sig}.restored.dtype"]) == "float32"
        assert str(out[f"{sig}.probabilities.dtype"]) == "float32"
        assert str(out[f"{sig}.predicted_class.dtype"]) == "int64"
        np.testing.assert_allclose(out[f"{sig}.restored"], restored, atol=1e-5)
        np.testing.assert_allclose(out[f"{sig}.probabilities"], probabilities, atol=1e-5)
        np.testing.assert_allclose(out[f"{sig}.probabilities"].sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_array_equal(out[f"{sig}.predicted_class"], classes)
        np.testing.assert_array_equal(out[f"{sig}.predicted_class"],
                                      out[f"{sig}.probabilities"].argmax(axis=1))


def test_saved_model_cli_lists_documented_signatures(defended):
    cli = VENV_BIN / "saved_model_cli"
    if not cli.exists():
        pytest.skip(f"saved_model_cli not found beside {sys.executable}")
    proc = subprocess.run([str(cli), "show", "--all", "--dir", str(defended[2])],
                          capture_output=True, text=True, env=SUBPROCESS_ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    default = text.split("signature_def['serving_default']")[1].split("signature_def[")[0]
    uint8 = text.split("signature_def['serving_uint8']")[1].split("signature_def[")[0]
    for block, name, dtype in ((default, "images", "DT_FLOAT"), (uint8, "images_uint8", "DT_UINT8")):
        assert f"inputs['{name}'] tensor_info:\n        dtype: {dtype}\n        shape: (-1, 28, 28, 1)" in block
        assert "outputs['restored'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 28, 28, 1)" in block
        assert "outputs['probabilities'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 10)" in block
        assert "outputs['predicted_class'] tensor_info:\n        dtype: DT_INT64\n        shape: (-1)" in block


def test_tfsmlayer_brings_it_back_into_keras(defended):
    restorer, classifier, path = defended
    layer = keras.layers.TFSMLayer(str(path), call_endpoint="serving_default")
    inputs = keras.Input((28, 28, 1))
    outputs = layer(inputs)
    assert set(outputs) == {"restored", "probabilities", "predicted_class"}
    model = keras.Model(inputs, outputs["probabilities"])
    x = images(3)
    np.testing.assert_allclose(model(x).numpy(), reference(restorer, classifier, x)[1], atol=1e-5)


# Bad inputs: (array, pinned message). Each is called several times: the first failing check is
# always the same one (the checks are chained by control dependencies), never the convolution.
_ok = images(2)
BAD_INPUTS = {
    "nan": (np.where(np.arange(_ok.size).reshape(_ok.shape) == 7, np.nan, _ok),
            "assertion failed: [images must be finite; got NaN or Inf values]"),
    "plus_inf": (np.where(np.arange(_ok.size).reshape(_ok.shape) == 7, np.inf, _ok),
                 "assertion failed: [images must be finite; got NaN or Inf values]"),
    "above_one": (np.full((2, 28, 28, 1), 1.5, np.float32),
                  f"{RANGE_MSG} [1.5] [max:] [1.5]"),
    "below_zero": (np.concatenate([np.full((1, 28, 28, 1), -0.25), np.full((1, 28, 28, 1), 0.5)]),
                   f"{RANGE_MSG} [-0.25] [max:] [0.5]"),
    "empty_batch": (np.zeros((0, 28, 28, 1)),
                    "assertion failed: [images must hold at least one image; got an empty batch]"),
    "wrong_spatial_size": (np.zeros((2, 32, 32, 1)), f"{SHAPE_MSG} [2 32 32 1]"),
    "wrong_channels": (np.zeros((2, 28, 28, 3)), f"{SHAPE_MSG} [2 28 28 3]"),
    "rank_3": (np.zeros((28, 28, 1)), f"{SHAPE_MSG} [28 28 1]"),
    "rank_5": (np.zeros((2, 28, 28, 1, 1)), f"{SHAPE_MSG} [2 28 28 1 1]"),
    # several faults at once: the earliest check in the documented order wins.
    "nan_and_wrong_channels": (np.full((2, 28, 28, 3), np.nan), f"{SHAPE_MSG} [2 28 28 3]"),
    "empty_and_wrong_channels": (np.zeros((0, 28, 28, 3)), f"{SHAPE_MSG} [0 28 28 3]"),
    "nan_and_above_one": (np.where(np.arange(_ok.size).reshape(_ok.shape) == 7, np.nan, 2.0),
                          "assertion failed: [images must be finite; got NaN or Inf values]"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_served_model_refuses_bad_images(served, case):
    x, message = BAD_INPUTS[case]
    fn = served.signatures["serving_default"]
    for _ in range(3):
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            fn(images=tf.constant(x, tf.float32))
        assert message in info.value.message
        assert "convolution" not in info.value.message


@pytest.mark.parametrize("shape, got", [((2, 28, 28, 3), "[2 28 28 3]"), ((0, 28, 28, 1), None)])
def test_uint8_signature_refuses_bad_shapes(served, shape, got):
    fn = served.signatures["serving_uint8"]
    message = (f"assertion failed: [images_uint8 must have shape [batch, 28, 28, 1]; got shape:] {got}" if got
               else "assertion failed: [images_uint8 must hold at least one image; got an empty batch]")
    for _ in range(3):
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            fn(images_uint8=tf.zeros(shape, tf.uint8))
        assert message in info.value.message


def _ancestors(op):
    """Every op ``op`` depends on, through data inputs and control inputs."""
    seen, todo = set(), [op]
    while todo:
        current = todo.pop()
        for parent in [t.op for t in current.inputs] + list(current.control_inputs):
            if parent.name not in seen:
                seen.add(parent.name)
                todo.append(parent)
    return seen


@pytest.mark.parametrize("signature", ["serving_default", "serving_uint8"])
def test_model_only_sees_checked_images_and_checks_are_chained(signature):
    """Graph structure: every model op depends on every check, and each check on the one before.

    (The runtime tests above cannot tell: an assert also wins when it merely runs first.)
    """
    restorer, classifier = tiny_restorer(), models.build("m2")
    fn, spec = ex._serving_functions(ex._defended_forward(restorer, classifier), (28, 28, 1))[signature]
    graph = tf.function(fn, autograph=False).get_concrete_function(spec).graph
    scopes = ["check_shape", "check_nonempty"]
    if signature == "serving_default":
        scopes += ["check_finite", "check_range"]
    asserts = {}
    for scope in scopes:
        ops = [op for op in graph.get_operations()
               if op.name.startswith(scope + "/") and op.type in ("Assert", "If", "StatelessIf")]
        assert len(ops) == 1, (scope, [op.name for op in ops])
        asserts[scope] = ops[0].name
    for earlier, later in zip(scopes, scopes[1:]):
        later_op = graph.get_operation_by_name(asserts[later])
        assert asserts[earlier] in _ancestors(later_op), f"{later} does not wait for {earlier}"
    model_ops = [op for op in graph.get_operations() if op.type in ("Conv2D", "MatMul")]
    assert len(model_ops) >= 4  # the restorer's convolution and M2's three Dense layers
    for op in model_ops:
        missing = set(asserts.values()) - _ancestors(op)
        assert not missing, f"{op.name} can run before {missing}"


def test_values_at_the_range_limits_are_accepted(served):
    x = np.zeros((2, 28, 28, 1), np.float32)
    x[1] = 1.0
    out = served.signatures["serving_default"](images=tf.constant(x))
    assert out["probabilities"].shape == (2, 10)


# ------------------------------------------------------------------ other exports


def test_classifier_ending_in_softmax_is_not_softmaxed_twice(tmp_path):
    restorer, classifier = tiny_restorer(), models.build("m2", classifier_activation="softmax")
    assert ex.ends_in_softmax(classifier)
    served = tf.saved_model.load(str(ex.export_defended(restorer, classifier, tmp_path / "m")))
    x = images(3)
    out = served.signatures["serving_default"](images=tf.constant(x))
    expected = classifier(restorer(x)).numpy()
    np.testing.assert_allclose(out["probabilities"].numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(out["predicted_class"].numpy(), expected.argmax(axis=1))


def test_ends_in_softmax_detection():
    inputs = keras.Input((4,))
    dense = keras.layers.Dense(3)(inputs)
    assert not ex.ends_in_softmax(keras.Model(inputs, dense))
    assert ex.ends_in_softmax(keras.Model(inputs, keras.layers.Softmax()(dense)))
    assert ex.ends_in_softmax(keras.Model(inputs, keras.layers.Activation("softmax")(dense)))
    assert ex.ends_in_softmax(keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs)))
    assert not ex.ends_in_softmax(keras.Model(inputs, keras.layers.Dense(3, activation="relu")(inputs)))
    assert ex.ends_in_softmax(keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Softmax()]))
    assert not ex.ends_in_softmax(models.build("m1"))


def test_export_restorer_alone(tmp_path):
    restorer = tiny_restorer()
    served = tf.saved_model.load(str(ex.export_restorer(restorer, tmp_path / "r")))
    assert set(served.signatures) == {"serving_default", "serving_uint8"}
    x = images(2)
    out = served.signatures["serving_default"](images=tf.constant(x))
    assert set(out) == {"restored"}
    np.testing.assert_allclose(out["restored"].numpy(), restorer(x).numpy(), atol=1e-5)
    x_u8 = (x * 255).astype(np.uint8)
    out = served.signatures["serving_uint8"](images_uint8=tf.constant(x_u8))
    np.testing.assert_allclose(out["restored"].numpy(), restorer(x_u8 / np.float32(255)).numpy(), atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"images must be finite"):
        served.signatures["serving_default"](images=tf.constant(np.full((1, 28, 28, 1), np.nan, np.float32)))


def test_real_table1_restorer_with_clip_layer_exports(tmp_path):
    """The registry's restorer_mnist (16 M parameters, ends in the built-in ReLU(max_value=1) clip) + M1."""
    from keras_restore.models.layers import is_unit_clip

    restorer, classifier = models.build("restorer_mnist"), models.build("m1")
    assert is_unit_clip(restorer.layers[-1]) and type(restorer.layers[-1]) is keras.layers.ReLU
    path = ex.export_defended(restorer, classifier, tmp_path / "defended")
    served = tf.saved_model.load(str(path))
    x = images(2)
    out = served.signatures["serving_default"](images=tf.constant(x))
    restored, probabilities, classes = reference(restorer, classifier, x)
    np.testing.assert_allclose(out["restored"].numpy(), restored, atol=1e-5)
    np.testing.assert_allclose(out["probabilities"].numpy(), probabilities, atol=1e-5)
    np.testing.assert_array_equal(out["predicted_class"].numpy(), classes)


# ------------------------------------------------------------------ Python-side argument checks


def test_mismatched_restorer_and_classifier(tmp_path):
    inputs = keras.Input((14, 14, 1))
    classifier = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError) as info:
        ex.export_defended(tiny_restorer(), classifier, tmp_path / "m")
    message = str(info.value)
    assert "`restorer`" in message and "`classifier`" in message
    assert "(28, 28, 1)" in message and "(14, 14, 1)" in message
    assert not (tmp_path / "m").exists() and leftovers(tmp_path, "") == []


@pytest.mark.parametrize("which", ["restorer", "classifier"])
@pytest.mark.parametrize("bad", [np.zeros((1, 28, 28, 1)), keras.layers.Dense(3), "m2"],
                         ids=["array", "layer", "str"])
def test_non_model_argument(tmp_path, which, bad):
    kwargs = {"restorer": tiny_restorer(), "classifier": models.build("m2"), which: bad}
    with pytest.raises(TypeError, match=f"`{which}` must be a keras.Model"):
        ex.export_defended(kwargs["restorer"], kwargs["classifier"], tmp_path / "m")
    if which == "restorer":
        with pytest.raises(TypeError, match="`restorer` must be a keras.Model"):
            ex.export_restorer(bad, tmp_path / "m")
    assert leftovers(tmp_path, "") == []


def test_classifier_must_output_class_scores(tmp_path):
    with pytest.raises(ValueError, match=r"`classifier` must output \(batch, classes\)"):
        ex.export_defended(tiny_restorer(), tiny_restorer(), tmp_path / "m")


def test_existing_path_needs_overwrite_and_is_replaced_atomically(tmp_path):
    restorer = tiny_restorer()
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    with pytest.raises(ex.ExportPathExistsError) as info:
        ex.export_restorer(restorer, target)
    assert isinstance(info.value, ValueError) and isinstance(info.value, FileExistsError)
    assert str(target) in str(info.value) and "overwrite=True" in str(info.value)
    assert (target / "keep.txt").read_text() == "old"
    # a file at the path counts as non-empty too
    (tmp_path / "keep_file.txt").write_text("x")
    with pytest.raises(ValueError, match="already exists"):
        ex.export_restorer(restorer, tmp_path / "keep_file.txt")

    assert ex.export_restorer(restorer, target, overwrite=True) == target
    assert (target / "saved_model.pb").is_file() and not (target / "keep.txt").exists()
    assert leftovers(tmp_path, "model") == ["keep_file.txt"]


def test_empty_existing_directory_is_used(tmp_path):
    (tmp_path / "m").mkdir()
    assert (ex.export_restorer(tiny_restorer(), tmp_path / "m") / "saved_model.pb").is_file()


def test_failed_write_leaves_the_old_model_and_no_temporaries(tmp_path, monkeypatch):
    target = tmp_path / "model"
    ex.export_restorer(tiny_restorer(), target)
    before = sorted(p.name for p in target.rglob("*"))
    archive_class = type(keras.export.ExportArchive())

    def failing_write_out(self, filepath, options=None, verbose=True):
        Path(filepath, "saved_model.pb").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(archive_class, "write_out", failing_write_out)
    with pytest.raises(OSError, match="disk full"):
        ex.export_restorer(tiny_restorer(), target, overwrite=True)
    assert sorted(p.name for p in target.rglob("*")) == before
    assert leftovers(tmp_path, "model") == []


@pytest.mark.parametrize("path, overwrite", [(None, False), ("", False), (3, False), ("x", "yes")])
def test_bad_path_or_overwrite_arguments(path, overwrite):
    with pytest.raises(ValueError, match="`path`|`overwrite`"):
        ex.export_restorer(tiny_restorer(), path, overwrite=overwrite)


def test_restorer_needs_a_fixed_image_shape(tmp_path):
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(inputs))
    with pytest.raises(ValueError, match=r"`restorer` must take images of a fixed shape"):
        ex.export_restorer(model, tmp_path / "m")

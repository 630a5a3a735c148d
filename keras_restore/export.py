"""TensorFlow Serving export: a SavedModel of restorer -> classifier (or of a restorer alone).

Written with Keras 3's :class:`keras.export.ExportArchive`. Every exported SavedModel has two
signatures, both over a batch of images of the model's fixed height, width and channels:

``serving_default``
    input ``images``: float32 ``[batch, H, W, C]``, values in ``[0, 1]``.
``serving_uint8``
    input ``images_uint8``: uint8 ``[batch, H, W, C]``, values 0-255 (divided by 255 inside).

Outputs of :func:`export_defended`: ``restored`` (float32 images), ``probabilities`` (float32
``[batch, classes]``: softmax of the classifier's logits, or its own output when it already ends
in a softmax) and ``predicted_class`` (int64 ``[batch]``). :func:`export_restorer` outputs
``restored`` only.

Input checks inside the graph
-----------------------------
A loaded SavedModel does not enforce its signature's static shape: TF Serving (and
``tf.saved_model.load``) feed whatever arrives, so a 3-channel batch would reach the first
convolution and fail with an opaque "grouped convolutions" error, and a rank-3 tensor can even
abort the server process. Each served function therefore checks its input with
``tf.debugging.Assert`` ops chained by control dependencies, in this order:

1. rank 4 and ``(H, W, C)`` equal to the model's,
2. a non-empty batch,
3. all values finite (no NaN / Inf) -- float signature only,
4. all values in ``[0, 1]`` -- float signature only (uint8 is in range by construction).

The model only sees ``tf.identity`` of the input taken under the last check, so nothing runs on
unchecked data and nothing is silently clipped. A failed check is a
``tf.errors.InvalidArgumentError`` (HTTP 400 from TF Serving) whose message starts
``assertion failed: [images must ...]``.

The shape check deliberately uses no ``Rank`` op: the signature declares rank 4, so graph
optimisation (Grappler) would fold ``tf.rank`` to the constant 4 and drop the check. It pads the
runtime shape with ``-1`` sentinels instead and compares five entries, which no static shape
information can decide.

Writes are atomic: the SavedModel is written to a temporary directory beside ``path`` and renamed
into place, so a reader (or TF Serving polling its model directory) never sees half a model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable

import keras
import tensorflow as tf

__all__ = [
    "SIGNATURES",
    "ExportPathExistsError",
    "export_defended",
    "export_restorer",
    "ends_in_softmax",
]

#: signature name -> its input name.
SIGNATURES = {"serving_default": "images", "serving_uint8": "images_uint8"}


class ExportPathExistsError(FileExistsError, ValueError):
    """The export path already exists and is not empty (and ``overwrite`` was not set).

    Both a ``FileExistsError`` and a ``ValueError``, like every other argument error here.
    """


# --------------------------------------------------------------------------- argument checks


def _check_model(model, name: str) -> keras.Model:
    if not isinstance(model, keras.Model):
        raise TypeError(f"`{name}` must be a keras.Model, got {type(model).__name__}.")
    try:
        shape = model.input_shape
    except (AttributeError, ValueError) as err:
        raise ValueError(
            f"`{name}` must be built with a known input shape (a functional or Sequential "
            f"model with an Input); reading its input shape failed: {err}"
        ) from None
    if not (isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape)):
        raise ValueError(f"`{name}` must have a single image input, got input shape {shape!r}.")
    return model


def _image_shape(model: keras.Model, name: str) -> tuple[int, int, int]:
    """The fixed ``(H, W, C)`` of a model taking ``(batch, H, W, C)`` images."""
    shape = tuple(model.input_shape)
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise ValueError(
            f"`{name}` must take images of a fixed shape (batch, height, width, channels), "
            f"got input shape {shape}."
        )
    return tuple(int(d) for d in shape[1:])


def _output_shape(model: keras.Model, name: str) -> tuple:
    shape = model.output_shape
    if not (isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape)):
        raise ValueError(f"`{name}` must have a single output, got output shape {shape!r}.")
    return tuple(shape)


def _check_path(path, overwrite: bool) -> Path:
    if not isinstance(overwrite, bool):
        raise ValueError(f"`overwrite` must be True or False, got {overwrite!r}.")
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise ValueError(f"`path` must be a non-empty str or os.PathLike, got {path!r}.")
    p = Path(path).expanduser().absolute()
    if _occupied(p) and not overwrite:
        raise ExportPathExistsError(
            f"`path` {str(p)!r} already exists and is not empty; pass overwrite=True to "
            "replace it."
        )
    return p


def _occupied(p: Path) -> bool:
    """True when ``p`` is anything but absent or an empty directory."""
    if p.is_symlink() or (p.exists() and not p.is_dir()):
        return True
    return p.is_dir() and any(p.iterdir())


def ends_in_softmax(model: keras.Model) -> bool:
    """Whether ``model``'s output layer is a softmax (a ``Softmax`` layer, or a layer whose
    ``activation`` is softmax), looking inside a nested model that produces the output."""
    layer = None
    outputs = getattr(model, "outputs", None)
    if outputs and len(outputs) == 1:
        history = getattr(outputs[0], "_keras_history", None)
        layer = getattr(history, "operation", None)
    if layer is None and model.layers:
        layer = model.layers[-1]
    if layer is None:
        return False
    if isinstance(layer, keras.Model):
        return ends_in_softmax(layer)
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return activation is keras.activations.softmax or getattr(activation, "__name__", None) == "softmax"


# --------------------------------------------------------------------------- in-graph checks


def _checked_images(images: tf.Tensor, name: str, image_shape, *, check_values: bool) -> tf.Tensor:
    """``images`` after runtime checks chained by control dependencies (see module docstring).

    The checks live in the name scopes ``check_shape``, ``check_nonempty``, ``check_finite`` and
    ``check_range`` (the tests walk the graph to prove each one precedes the next and the model).
    """
    h, w, c = image_shape
    with tf.name_scope("check_shape"):
        shape = tf.shape(images, out_type=tf.int32)
        # Pad with -1 (never a real dimension) and compare 5 entries: catches rank < 4 (entry 3
        # is -1, not C) and rank > 4 (entry 4 is a real size, not -1) without a foldable Rank op.
        padded = tf.concat([shape, tf.constant([-1] * 5, tf.int32)], axis=0)[:5]
        shape_ok = tf.reduce_all(tf.equal(padded[1:], tf.constant([h, w, c, -1], tf.int32)))
        check = tf.debugging.Assert(
            shape_ok, [f"{name} must have shape [batch, {h}, {w}, {c}]; got shape:", shape],
            summarize=8,
        )
    with tf.control_dependencies([check]), tf.name_scope("check_nonempty"):
        check = tf.debugging.Assert(
            tf.greater(shape[0], 0), [f"{name} must hold at least one image; got an empty batch"]
        )
    if check_values:
        with tf.control_dependencies([check]), tf.name_scope("check_finite"):
            check = tf.debugging.Assert(
                tf.reduce_all(tf.math.is_finite(images)),
                [f"{name} must be finite; got NaN or Inf values"],
            )
        with tf.control_dependencies([check]), tf.name_scope("check_range"):
            lo, hi = tf.reduce_min(images), tf.reduce_max(images)
            check = tf.debugging.Assert(
                tf.logical_and(tf.greater_equal(lo, 0.0), tf.less_equal(hi, 1.0)),
                [f"{name} values must lie in [0, 1] (nothing is clipped); got min:", lo, "max:", hi],
            )
    with tf.control_dependencies([check]):
        return tf.identity(images, name="checked_images")


# --------------------------------------------------------------------------- the archive writer


def _serving_functions(forward: Callable, image_shape) -> dict:
    """Signature name -> (function, input TensorSpec): the checked entry points of ``forward``."""
    spec = [None, *image_shape]

    def serving_default(images):
        return forward(_checked_images(images, "images", image_shape, check_values=True))

    def serving_uint8(images_uint8):
        x = _checked_images(images_uint8, "images_uint8", image_shape, check_values=False)
        return forward(tf.cast(x, tf.float32) / 255.0)

    return {
        "serving_default": (serving_default, tf.TensorSpec(spec, tf.float32, name="images")),
        "serving_uint8": (serving_uint8, tf.TensorSpec(spec, tf.uint8, name="images_uint8")),
    }


def _write_archive(models, forward: Callable, image_shape, path: Path, overwrite: bool) -> Path:
    """Export ``forward`` (float32 images in [0, 1] -> dict of outputs) under both signatures,
    atomically, to ``path``. ``models`` are the Keras models whose variables ``forward`` uses."""
    archive = keras.export.ExportArchive()
    for model in models:
        archive.track(model)
    for name, (fn, spec) in _serving_functions(forward, image_shape).items():
        archive.add_endpoint(name, fn, input_signature=[spec])

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = None
    try:
        archive.write_out(str(tmp), verbose=False)
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700; a server running as another user reads it.
        if path.exists() or path.is_symlink():
            if _occupied(path) and not overwrite:  # appeared while we were writing
                raise ExportPathExistsError(
                    f"`path` {str(path)!r} already exists and is not empty; pass "
                    "overwrite=True to replace it."
                )
            old = path.parent / f".{path.name}.{uuid.uuid4().hex}.old"
            os.rename(path, old)
        try:
            os.rename(tmp, path)
        except OSError:
            if old is not None:
                os.rename(old, path)
                old = None
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- forward passes


def _restorer_forward(restorer: keras.Model) -> Callable:
    """Checked float32 images -> ``{"restored"}``."""

    def forward(x):
        return {"restored": tf.cast(restorer(x, training=False), tf.float32)}

    return forward


def _defended_forward(restorer: keras.Model, classifier: keras.Model) -> Callable:
    """Checked float32 images -> ``{"restored", "probabilities", "predicted_class"}``."""
    softmax_inside = ends_in_softmax(classifier)

    def forward(x):
        restored = tf.cast(restorer(x, training=False), tf.float32)
        scores = tf.cast(classifier(restored, training=False), tf.float32)
        probabilities = scores if softmax_inside else tf.nn.softmax(scores, axis=-1)
        return {
            "restored": restored,
            "probabilities": probabilities,
            # argmax of the classifier's own scores (logits when it has them): softmax can tie
            # saturated logits, the logits themselves rarely do.
            "predicted_class": tf.argmax(scores, axis=-1, output_type=tf.int64),
        }

    return forward


# --------------------------------------------------------------------------- public API


def export_defended(restorer: keras.Model, classifier: keras.Model, path, *, overwrite: bool = False) -> Path:
    """Write a TF Serving SavedModel of ``classifier(restorer(images))`` to ``path``.

    Args:
        restorer: Keras model mapping ``(batch, H, W, C)`` images in [0, 1] to restored images.
        classifier: Keras model taking the restorer's output shape and returning
            ``(batch, classes)`` logits (or probabilities, if it ends in a softmax).
        path: the SavedModel directory to create (for TF Serving, a numbered version directory
            such as ``models/defended/1``).
        overwrite: replace an existing non-empty ``path``.

    Returns:
        The absolute ``Path`` written.

    Raises:
        TypeError: ``restorer`` or ``classifier`` is not a ``keras.Model``.
        ValueError: shapes do not fit (restorer output vs classifier input, non-image input,
            classifier output not ``(batch, classes)``), or a bad ``path``/``overwrite``.
        ExportPathExistsError (a ``ValueError``): ``path`` exists, is not empty, and
            ``overwrite`` is False.
    """
    _check_model(restorer, "restorer")
    _check_model(classifier, "classifier")
    image_shape = _image_shape(restorer, "restorer")
    restored_shape = _output_shape(restorer, "restorer")[1:]
    classifier_shape = tuple(classifier.input_shape[1:])
    if restored_shape != classifier_shape:
        raise ValueError(
            f"`restorer` outputs images of shape {restored_shape} but `classifier` expects "
            f"inputs of shape {classifier_shape}; they must match."
        )
    scores_shape = _output_shape(classifier, "classifier")
    if len(scores_shape) != 2 or scores_shape[1] is None:
        raise ValueError(
            f"`classifier` must output (batch, classes) scores, got output shape {scores_shape}."
        )
    path = _check_path(path, overwrite)
    forward = _defended_forward(restorer, classifier)
    return _write_archive([restorer, classifier], forward, image_shape, path, overwrite)


def export_restorer(restorer: keras.Model, path, *, overwrite: bool = False) -> Path:
    """Write a TF Serving SavedModel of the restorer alone (output ``restored``).

    Same signatures, input checks, arguments and errors as :func:`export_defended`.
    """
    _check_model(restorer, "restorer")
    image_shape = _image_shape(restorer, "restorer")
    _output_shape(restorer, "restorer")
    path = _check_path(path, overwrite)
    return _write_archive([restorer], _restorer_forward(restorer), image_shape, path, overwrite)

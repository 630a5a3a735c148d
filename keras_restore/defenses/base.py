"""The :class:`Defense` abstraction: optional preprocessing -> optional restorer -> classifier.

Like an ART preprocessor chain in front of an ART classifier, but as one Keras functional model:

* ``preprocessing``: training-free layers (bit-depth reduction, median smoothing, ...), each
  declaring its gradient for attacks (:mod:`keras_restore.defenses.preprocessing`: exact, or
  straight-through / BPDA);
* ``restorer``: a trained image-to-image network (papers/000 restorers, CRU-Net, ...);
* ``classifier``: the target, returning logits.

``defense.model`` is their differentiable composition: an adaptive attack takes gradients through
the whole defense with it, and it is what :mod:`keras_restore.export` ships. ``restore``,
``predict`` and ``evaluate`` run the same steps for inference (the restorer through a faster,
exact clone, :func:`keras_restore.fast.fast_inference`).

Metrics follow Ali et al. (2021), Eq. 6-8 (:mod:`keras_restore.metrics`).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_restore.defenses.preprocessing import declared_gradient
from keras_restore.metrics import accuracy, predict, psnr, ssim, success_rate
from keras_restore.validation import check_images, check_labels, check_positive_int


def compose(restorer: keras.Model, classifier: keras.Model, name: str = "defended") -> keras.Model:
    """The functional model ``classifier(restorer(x))``; gradients flow through both."""
    _check_shapes(restorer, classifier)
    return _chain(tuple(restorer.input_shape[1:]), [restorer, classifier], name)


def _check_shapes(restorer, classifier):
    c_shape = tuple(classifier.input_shape[1:])
    if restorer is not None and tuple(restorer.output_shape[1:]) != c_shape:
        raise ValueError(
            f"`restorer` outputs images of shape {tuple(restorer.output_shape[1:])} but "
            f"`classifier` expects {c_shape}; they must match."
        )


def _chain(shape, steps, name) -> keras.Model:
    """A functional model applying ``steps`` (layers / models) in order to an image input of ``shape``."""
    inputs = keras.Input(shape, name="image")
    x = inputs
    for step in steps:
        x = step(x)
    return keras.Model(inputs, x, name=name)


def apply_preprocessing(steps, x, batch_size: int = 256) -> np.ndarray:
    """``x`` through the preprocessing layers ``steps`` in order (no restorer, no classifier)."""
    x = check_images(x, "x")
    if not steps:
        return x
    return predict(_chain(tuple(x.shape[1:]), list(steps), "preprocessing"), x, batch_size)


class Defense:
    """Preprocessing -> restorer -> classifier, each part optional except the classifier.

    Args:
        classifier: Keras model returning class scores (logits).
        restorer: image-to-image Keras model (input shape = output shape = the classifier's input), or None.
        preprocessing: Keras layers applied first, in order; each must declare ``gradient``
            (``"exact"`` or ``"bpda"``), else a ValueError.
        name: the defense's name (registry name, or any label), used in metadata.
        stochastic: True when the defense draws randomness at inference (attacks then need EOT).
        batch_size: inference batch size.
        fast: use :func:`keras_restore.fast.fast_inference` for the restorer at inference (exact to
            ~1e-6); or a clone made once by the caller (shared by several defenses); False: the
            restorer itself.

    Attributes:
        model: the differentiable composition for attacks and export.
        input_shape: the image shape it takes.
    """

    def __init__(self, classifier: keras.Model, restorer: keras.Model | None = None, preprocessing=(), *,
                 name: str = "defense", stochastic: bool = False, batch_size: int = 128,
                 fast: bool | keras.Model = True):
        if not isinstance(classifier, keras.Model):
            raise ValueError(f"`classifier` must be a keras.Model, got {type(classifier).__name__}.")
        if restorer is not None and not isinstance(restorer, keras.Model):
            raise ValueError(f"`restorer` must be a keras.Model or None, got {type(restorer).__name__}.")
        preprocessing = list(preprocessing)
        for layer in preprocessing:
            if not isinstance(layer, keras.layers.Layer):
                raise ValueError(f"`preprocessing` must hold Keras layers, got {type(layer).__name__}.")
            declared_gradient(layer)
        if not isinstance(stochastic, bool):
            raise ValueError(f"`stochastic` must be True or False, got {stochastic!r}.")
        self.name = str(name)
        self.classifier, self.restorer, self.preprocessing = classifier, restorer, preprocessing
        self.stochastic = stochastic
        _check_shapes(restorer, classifier)
        self.input_shape = tuple((restorer if restorer is not None else classifier).input_shape[1:])
        self.model = _chain(self.input_shape, [*preprocessing, *([restorer] if restorer is not None else []), classifier],
                            name=f"{self.name}_defended")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if restorer is None:
            inference = None
        elif isinstance(fast, keras.Model):
            inference = fast
        elif fast:
            from keras_restore.fast import fast_inference

            inference = fast_inference(restorer)
        else:
            inference = restorer
        self._inference_restorer = inference
        self._front = _chain(self.input_shape, preprocessing, f"{self.name}_preprocessing") if preprocessing else None

    # ------------------------------------------------------------------ description
    def gradients(self) -> dict:
        """Step name -> how attacks differentiate through it (``exact`` / ``bpda``)."""
        steps = {layer.name: declared_gradient(layer) for layer in self.preprocessing}
        if self.restorer is not None:
            steps[self.restorer.name] = "exact"
        steps[self.classifier.name] = "exact"
        return steps

    def describe(self) -> dict:
        """JSON-serialisable description for result metadata."""
        return {
            "name": self.name,
            "preprocessing": [{"layer": type(layer).__name__, "name": layer.name,
                               "config": {k: v for k, v in layer.get_config().items()
                                          if k not in ("name", "trainable", "dtype")},
                               "gradient": declared_gradient(layer)} for layer in self.preprocessing],
            "restorer": None if self.restorer is None else self.restorer.name,
            "classifier": self.classifier.name,
            "stochastic": self.stochastic,
            "gradients": self.gradients(),
        }

    # ------------------------------------------------------------------ inference
    def restore(self, x) -> np.ndarray:
        """The image the classifier sees: preprocessing, then the restorer."""
        x = check_images(x, "x", shape=self.input_shape)
        if self._front is not None:
            x = predict(self._front, x, self.batch_size)
        if self._inference_restorer is not None:
            x = predict(self._inference_restorer, x, self.batch_size)
        return x

    def predict(self, x) -> np.ndarray:
        """Class scores of the classifier on the defended (restored) images."""
        return predict(self.classifier, self.restore(x), self.batch_size)

    def evaluate(self, x_clean, x_adv, y) -> tuple[dict, np.ndarray]:
        """Eq. 6-8 metrics plus SSIM/PSNR of restored (and adversarial) vs original images.

        Returns ``(metrics, restored)``: ``original_accuracy`` (clean images, no defense),
        ``adversarial_accuracy`` (no defense), ``restored_accuracy`` (through the defense),
        ``success_rate`` and the similarity metrics.
        """
        x_clean = check_images(x_clean, "x_clean", shape=self.input_shape)
        x_adv = check_images(x_adv, "x_adv", shape=self.input_shape)
        if x_clean.shape != x_adv.shape:
            raise ValueError(f"`x_adv` shape {x_adv.shape} must equal `x_clean` shape {x_clean.shape}.")
        classes = int(self.classifier.output_shape[-1])
        y = check_labels(y, len(x_clean), classes)
        restored = self.restore(x_adv)
        original = accuracy(self.classifier, x_clean, y, self.batch_size)
        adversarial = accuracy(self.classifier, x_adv, y, self.batch_size)
        restored_acc = accuracy(self.classifier, restored, y, self.batch_size)
        return {
            "n_images": int(len(y)),
            "original_accuracy": original,
            "adversarial_accuracy": adversarial,
            "restored_accuracy": restored_acc,
            "success_rate": success_rate(restored_acc, original) if original > 0 else float("nan"),
            "ssim_restored": ssim(x_clean, restored),
            "psnr_restored": psnr(x_clean, restored),
            "ssim_adversarial": ssim(x_clean, x_adv),
            "psnr_adversarial": psnr(x_clean, x_adv),
            "linf_adversarial": float(np.abs(x_adv - x_clean).reshape(len(y), -1).max(axis=1).mean()),
            "l2_adversarial": float(np.linalg.norm((x_adv - x_clean).reshape(len(y), -1), axis=1).mean()),
        }, restored


class RestorerDefense(Defense):
    """Restorer -> classifier (Phase IV-V of Ali et al. 2021): a :class:`Defense` without preprocessing."""

    def __init__(self, restorer: keras.Model, classifier: keras.Model, batch_size: int = 128,
                 fast: bool | keras.Model = True, name: str = "restorer"):
        super().__init__(classifier, restorer, name=name, batch_size=batch_size, fast=fast)

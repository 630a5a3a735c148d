"""Adversarial attacks (FGSM, BIM, PGD, MIM, R-FGSM, CW-L2, DeepFool, spatial, JSMA, APGD) for Keras 3.

One module per attack, one public function each, with CleverHans tf2 argument names. FGSM, BIM,
PGD and MIM run CleverHans 4.0.0's implementations; CW-L2, DeepFool, spatial, JSMA, R-FGSM and
Auto-PGD are TF2 ``tf.function``\\ s vectorised over the batch (see each module). ``apgd`` is
APGD-CE and ``apgd_t`` APGD-T (targeted DLR over the top-9 other classes), both the
:mod:`keras_restore.attacks.apgd` module with different defaults. :func:`generate` runs any attack
batched over a NumPy array or a ``tf.data.Dataset``, with the defaults of
:func:`keras_restore.attacks.config.default_params`.

Models may return logits or probabilities: a final softmax (``Softmax`` layer, softmax
``Activation`` or ``Dense``, also inside a nested model) is detected and the pre-softmax logits are
attacked; ``logits=True/False`` overrides the detection.
"""

from __future__ import annotations

import numpy as np

from keras_restore.attacks import _common, apgd, bim, cw, deepfool, fgsm, jsma, mim, pgd, rfgsm, spa
from keras_restore.attacks._common import logits_fn, reset_compiled
from keras_restore.attacks.apgd import (auto_projected_gradient_descent,
                                        auto_projected_gradient_descent_targeted)
from keras_restore.attacks.bim import basic_iterative_method
from keras_restore.attacks.cw import carlini_wagner_l2
from keras_restore.attacks.deepfool import deepfool as deepfool_attack
from keras_restore.attacks.fgsm import fast_gradient_method
from keras_restore.attacks.jsma import jsma as jsma_attack
from keras_restore.attacks.mim import momentum_iterative_method
from keras_restore.attacks.pgd import projected_gradient_descent
from keras_restore.attacks.rfgsm import rfgsm as rfgsm_attack
from keras_restore.attacks.spa import spatial_transformation

_MODULES = {"fgsm": fgsm, "bim": bim, "pgd": pgd, "cw": cw, "deepfool": deepfool, "spa": spa,
            "rfgsm": rfgsm, "mim": mim, "jsma": jsma, "apgd": apgd, "apgd_t": apgd}

ATTACKS = {
    "fgsm": fast_gradient_method,
    "bim": basic_iterative_method,
    "pgd": projected_gradient_descent,
    "cw": carlini_wagner_l2,
    "deepfool": deepfool_attack,
    "spa": spatial_transformation,
    "rfgsm": rfgsm_attack,
    "mim": momentum_iterative_method,
    "jsma": jsma_attack,
    "apgd": auto_projected_gradient_descent,
    "apgd_t": auto_projected_gradient_descent_targeted,
}

# column names of the papers' tables -> attack names
PAPER_NAMES = {"FGSM": "fgsm", "BIM": "bim", "PGD": "pgd", "DFA": "deepfool", "CWA": "cw",
               "SPA": "spa", "MIM": "mim", "R-FGSM": "rfgsm", "JSMA": "jsma", "APGD-CE": "apgd",
               "APGD-T": "apgd_t"}

from keras_restore.attacks.config import CW_NOTE, default_params, default_source  # noqa: E402


def _resolve_name(name) -> str:
    if not isinstance(name, str):
        raise ValueError(f"Unknown attack {name!r}; expected one of: {', '.join(ATTACKS)}.")
    key = PAPER_NAMES.get(name, PAPER_NAMES.get(name.upper(), name.lower()))
    if key not in ATTACKS:
        raise ValueError(
            f"Unknown attack {name!r}; expected one of: {', '.join(ATTACKS)} "
            f"(or the papers' names {', '.join(PAPER_NAMES)})."
        )
    return key


def generate(name, model, x, y=None, *, dataset="mnist", batch_size=256, progress=True,
             logits=None, seed=None, **params) -> np.ndarray:
    """Adversarial examples of ``x`` against ``model`` with attack ``name``.

    Args:
        name: one of :data:`ATTACKS` (or a paper column name of :data:`PAPER_NAMES`).
        model: Keras model (logits or softmax output) or a callable returning logits.
        x: float images ``(n, h, w, c)`` in ``[clip_min, clip_max]``, or a ``tf.data.Dataset`` of
            ``(image, label)`` batches (then ``y`` must be None).
        y: true labels (default: the model's predictions, avoiding label leaking); the *target*
            classes when ``targeted=True``. For ``jsma`` ``y`` stays the true label and targets go
            in ``y_target=`` (random, different from ``y``, when absent). For ``apgd``/``apgd_t``
            ``y`` is always the true label (``targeted=True`` is AutoAttack's APGD-T, which picks
            its own target classes).
        dataset: picks the defaults (:func:`default_params`): mnist, fashion_mnist, cifar10.
        batch_size: images per compiled batch (the last batch is padded; capped at ``len(x)``,
            and for jsma at :func:`keras_restore.attacks.jsma.max_batch`: 26 MNIST images with
            ``exact=True``, no cap in practice otherwise).
        progress: show a tqdm progress bar.
        logits: True/False overrides the softmax detection (see :func:`logits_fn`).
        seed: makes the random parts (PGD/APGD starts, R-FGSM noise, JSMA targets) reproducible.
        **params: override the defaults; unknown names raise ``ValueError``.

    Returns: float32 NumPy array shaped like ``x``, clipped to ``[clip_min, clip_max]``.
    """
    key = _resolve_name(name)
    module = _MODULES[key]
    merged = default_params(key, dataset)
    _common.reject_unknown(params, module.PARAMS, key)
    y_target = params.pop("y_target", None) if key == "jsma" else None
    merged.update(params)
    p = module._validate(merged)
    max_batch = None
    if key == "jsma":
        shape = getattr(x, "element_spec", None)
        img_shape = tuple(shape[0].shape[1:]) if shape is not None else np.shape(x)[1:]
        if len(img_shape) == 3 and all(d is not None for d in img_shape):
            max_batch = jsma.max_batch(img_shape, p["exact"], p["top_k"])
    if not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"`progress` must be True or False, got {progress!r}.")
    return _common.execute(key, module._graph, p, model, x, y, y_target, seed=seed,
                           batch_size=batch_size, max_batch=max_batch, progress=bool(progress),
                           logits=logits,
                           require_y=bool(p.get("targeted", False))
                           and getattr(module, "TARGETED_Y_IS_TARGET", True))


__all__ = [
    "ATTACKS", "PAPER_NAMES", "CW_NOTE", "generate", "default_params", "default_source",
    "reset_compiled", "logits_fn", "fast_gradient_method", "basic_iterative_method",
    "projected_gradient_descent", "momentum_iterative_method", "carlini_wagner_l2",
    "deepfool_attack", "spatial_transformation", "rfgsm_attack", "jsma_attack",
    "auto_projected_gradient_descent", "auto_projected_gradient_descent_targeted",
]

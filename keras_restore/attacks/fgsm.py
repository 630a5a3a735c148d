"""Fast Gradient (Sign) Method, Goodfellow et al. 2015 -- CleverHans 4.0.0 ``fast_gradient_method``."""

from __future__ import annotations

from keras_restore.attacks import _common

NAME = "fgsm"
PARAMS = ("eps", "norm", "clip_min", "clip_max", "targeted")


def _validate(params: dict) -> dict:
    _common.reject_unknown(params, PARAMS, NAME)
    lo, hi = _common.check_clip(params)
    return {
        "eps": _common.check_float(params["eps"], "eps", minimum=0.0),
        "norm": _common.check_norm(params.get("norm", "inf"), ("inf", "2", "1")),
        "clip_min": lo,
        "clip_max": hi,
        "targeted": _common.check_bool(params.get("targeted", False), "targeted"),
    }


def _graph(model_fn, p):
    from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method as ch_fgm

    norm = _common.norm_value(p["norm"])

    def attack(x, y, t, seed):
        labels = _common.resolve_labels(model_fn, x, y)
        return ch_fgm(model_fn, x, p["eps"], norm, clip_min=p["clip_min"], clip_max=p["clip_max"],
                      y=labels, targeted=p["targeted"], sanity_checks=False)

    return attack


def fast_gradient_method(model_fn, x, eps, norm, *, y=None, clip_min=0.0, clip_max=1.0,
                         targeted=False):
    """FGSM/FGM: one step of size ``eps`` along the (sign of the) loss gradient.

    Args (CleverHans tf2 names and order):
        model_fn: Keras model or callable returning logits (a final softmax is detected and skipped).
        x: images ``(batch, h, w, c)`` in ``[clip_min, clip_max]``.
        eps: step size / L-norm budget, >= 0.
        norm: ``np.inf`` (or ``"inf"``), ``2`` or ``1``.
        y: true labels (default: the model's predictions), or the targets when ``targeted``.
    Returns: adversarial images, same type (NumPy / tf.Tensor) and shape as ``x``.
    """
    p = _validate(dict(eps=eps, norm=norm, clip_min=clip_min, clip_max=clip_max, targeted=targeted))
    return _common.execute(NAME, _graph, p, model_fn, x, y, require_y=p["targeted"])

"""R-FGSM, Tramer et al. 2018 (ICLR, "Ensemble Adversarial Training", Eq. 7):
``x' = x + alpha * sign(N(0, I))``, then an FGSM step of size ``eps - alpha`` from ``x'`` (the
step is CleverHans 4.0.0's ``fast_gradient_method``). The total L-inf change stays <= ``eps``."""

from __future__ import annotations

from keras_restore.attacks import _common

NAME = "rfgsm"
PARAMS = ("eps", "alpha", "norm", "clip_min", "clip_max", "targeted")


def _validate(params: dict) -> dict:
    _common.reject_unknown(params, PARAMS, NAME)
    lo, hi = _common.check_clip(params)
    eps = _common.check_float(params["eps"], "eps", minimum=0.0)
    alpha = _common.check_float(params["alpha"], "alpha", minimum=0.0)
    if alpha > eps:
        raise ValueError(f"`alpha` ({alpha:g}) must be <= `eps` ({eps:g}).")
    return {
        "eps": eps,
        "alpha": alpha,
        "norm": _common.check_norm(params.get("norm", "inf")),
        "clip_min": lo,
        "clip_max": hi,
        "targeted": _common.check_bool(params.get("targeted", False), "targeted"),
    }


def _graph(model_fn, p):
    import tensorflow as tf
    from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method as ch_fgm

    norm = _common.norm_value(p["norm"])
    lo, hi = p["clip_min"], p["clip_max"]

    def attack(x, y, t, seed):
        labels = _common.resolve_labels(model_fn, x, y)
        noise = tf.random.stateless_normal(tf.shape(x), seed)
        if p["norm"] == "inf":
            step = tf.sign(noise)
        else:
            flat = tf.reshape(noise, [tf.shape(x)[0], -1])
            step = tf.reshape(flat / tf.maximum(tf.norm(flat, axis=1, keepdims=True), 1e-12),
                              tf.shape(x))
        x_rand = tf.clip_by_value(x + p["alpha"] * step, lo, hi)
        return ch_fgm(model_fn, x_rand, p["eps"] - p["alpha"], norm, clip_min=lo, clip_max=hi,
                      y=labels, targeted=p["targeted"], sanity_checks=False)

    return attack


def rfgsm(model_fn, x, eps, alpha, norm, *, y=None, clip_min=0.0, clip_max=1.0, targeted=False,
          seed=None):
    """R-FGSM: random sign step of ``alpha`` then FGSM of ``eps - alpha`` (``0 <= alpha <= eps``).
    ``seed`` makes the noise reproducible."""
    p = _validate(dict(eps=eps, alpha=alpha, norm=norm, clip_min=clip_min, clip_max=clip_max,
                       targeted=targeted))
    return _common.execute(NAME, _graph, p, model_fn, x, y, seed=seed, require_y=p["targeted"])

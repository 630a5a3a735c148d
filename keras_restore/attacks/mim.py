"""Momentum Iterative Method, Dong et al. 2018 -- CleverHans 4.0.0 ``momentum_iterative_method``."""

from __future__ import annotations

from keras_restore.attacks import _common

NAME = "mim"
PARAMS = ("eps", "eps_iter", "nb_iter", "norm", "clip_min", "clip_max", "targeted", "decay_factor")


def _validate(params: dict) -> dict:
    common = _common.validate_iterative(params, PARAMS, NAME)
    return {
        **common,
        "decay_factor": _common.check_float(params.get("decay_factor", 1.0), "decay_factor",
                                            minimum=0.0),
    }


def _graph(model_fn, p):
    from cleverhans.tf2.attacks.momentum_iterative_method import momentum_iterative_method as ch_mim

    norm = _common.norm_value(p["norm"])

    def attack(x, y, t, seed):
        labels = _common.resolve_labels(model_fn, x, y)
        return ch_mim(model_fn, x, eps=p["eps"], eps_iter=p["eps_iter"], nb_iter=p["nb_iter"],
                      norm=norm, clip_min=p["clip_min"], clip_max=p["clip_max"], y=labels,
                      targeted=p["targeted"], decay_factor=p["decay_factor"], sanity_checks=False)

    return attack


def momentum_iterative_method(model_fn, x, eps=0.3, eps_iter=0.06, nb_iter=10, norm="inf", *,
                              y=None, clip_min=0.0, clip_max=1.0, targeted=False,
                              decay_factor=1.0):
    """MI-FGSM: iterative FGSM on an L1-normalised gradient accumulated with ``decay_factor``."""
    p = _validate(dict(eps=eps, eps_iter=eps_iter, nb_iter=nb_iter, norm=norm, clip_min=clip_min,
                       clip_max=clip_max, targeted=targeted, decay_factor=decay_factor))
    return _common.execute(NAME, _graph, p, model_fn, x, y, require_y=p["targeted"])

"""Projected Gradient Descent, Madry et al. 2018.

The iteration is CleverHans 4.0.0's ``projected_gradient_descent`` loop (its
``fast_gradient_method`` step + ``clip_eta`` projection + clipping). The random start is drawn
here with a *stateless* seeded op instead of CleverHans' unseeded ``random_lp_vector``: a stateful
random op inside a cached ``tf.function`` cannot be re-seeded, so ``seed=`` would not make runs
reproducible. With ``rand_init=False`` the result equals BIM (checked in the tests).
"""

from __future__ import annotations

from keras_restore.attacks import _common

NAME = "pgd"
PARAMS = ("eps", "eps_iter", "nb_iter", "norm", "clip_min", "clip_max", "targeted", "rand_init",
          "rand_minmax")


def _validate(params: dict) -> dict:
    common = _common.validate_iterative(params, PARAMS, NAME)
    rmm = params.get("rand_minmax")
    return {
        **common,
        "rand_init": _common.check_bool(params.get("rand_init", True), "rand_init"),
        "rand_minmax": None if rmm is None else _common.check_float(rmm, "rand_minmax", minimum=0.0),
    }


def _graph(model_fn, p):
    import tensorflow as tf
    from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method as ch_fgm
    from cleverhans.tf2.utils import clip_eta

    norm = _common.norm_value(p["norm"])
    eps, lo, hi = p["eps"], p["clip_min"], p["clip_max"]
    radius = eps if p["rand_minmax"] is None else p["rand_minmax"]

    def attack(x, y, t, seed):
        labels = _common.resolve_labels(model_fn, x, y)
        if p["rand_init"]:
            eta = clip_eta(_common.random_lp(tf.shape(x), p["norm"], radius, seed), norm, eps)
            adv = tf.clip_by_value(x + eta, lo, hi)
        else:
            adv = x
        for _ in tf.range(p["nb_iter"]):
            adv = ch_fgm(model_fn, adv, p["eps_iter"], norm, clip_min=lo, clip_max=hi, y=labels,
                         targeted=p["targeted"], sanity_checks=False)
            adv = tf.clip_by_value(x + clip_eta(adv - x, norm, eps), lo, hi)
        return adv

    return attack


def projected_gradient_descent(model_fn, x, eps, eps_iter, nb_iter, norm, *, y=None, clip_min=0.0,
                               clip_max=1.0, targeted=False, rand_init=True, rand_minmax=None,
                               seed=None):
    """PGD: BIM from a uniform random start in the ``rand_minmax`` (default ``eps``) ball.

    ``seed`` makes the random start reproducible. Other arguments as in
    :func:`keras_restore.attacks.basic_iterative_method`.
    """
    p = _validate(dict(eps=eps, eps_iter=eps_iter, nb_iter=nb_iter, norm=norm, clip_min=clip_min,
                       clip_max=clip_max, targeted=targeted, rand_init=rand_init,
                       rand_minmax=rand_minmax))
    return _common.execute(NAME, _graph, p, model_fn, x, y, seed=seed, require_y=p["targeted"])

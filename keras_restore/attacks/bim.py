"""Basic Iterative Method, Kurakin et al. 2017 -- CleverHans 4.0.0 ``basic_iterative_method``
(PGD without random start)."""

from __future__ import annotations

from keras_restore.attacks import _common

NAME = "bim"
PARAMS = ("eps", "eps_iter", "nb_iter", "norm", "clip_min", "clip_max", "targeted")


def _validate(params: dict) -> dict:
    return _common.validate_iterative(params, PARAMS, NAME)


def _graph(model_fn, p):
    from cleverhans.tf2.attacks.basic_iterative_method import basic_iterative_method as ch_bim

    norm = _common.norm_value(p["norm"])

    def attack(x, y, t, seed):
        labels = _common.resolve_labels(model_fn, x, y)
        return ch_bim(model_fn, x, p["eps"], p["eps_iter"], p["nb_iter"], norm,
                      clip_min=p["clip_min"], clip_max=p["clip_max"], y=labels,
                      targeted=p["targeted"], sanity_checks=False)

    return attack


def basic_iterative_method(model_fn, x, eps, eps_iter, nb_iter, norm, *, y=None, clip_min=0.0,
                           clip_max=1.0, targeted=False):
    """BIM / I-FGSM: ``nb_iter`` FGM steps of ``eps_iter``, projected onto the ``eps`` ball.

    ``eps_iter`` must be <= ``eps``; ``norm`` is ``np.inf`` or ``2``. Other arguments as in
    :func:`keras_restore.attacks.fast_gradient_method`.
    """
    p = _validate(dict(eps=eps, eps_iter=eps_iter, nb_iter=nb_iter, norm=norm, clip_min=clip_min,
                       clip_max=clip_max, targeted=targeted))
    return _common.execute(NAME, _graph, p, model_fn, x, y, require_y=p["targeted"])

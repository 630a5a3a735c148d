"""Auto-PGD (APGD), Croce & Hein 2020 (ICML), "Reliable evaluation of adversarial robustness with
an ensemble of diverse parameter-free attacks", Algorithm 1; written in TF2 and vectorised over the
batch: every image has its own step size, checkpoints state and best points.

What runs, following the authors' reference code (``fra31/auto-attack``, ``autopgd_base.py``;
L-inf and L2):

* start: ``x + eps * u / ||u||`` (L-inf: ``u`` uniform in ``[-1, 1]``, scaled so that its largest
  entry is ``eps``; L2: ``u`` Gaussian, on the ``eps`` sphere), clipped to ``[clip_min, clip_max]``;
* step size ``eta = 2 eps`` per image; the first step is plain projected gradient ascent (sign of
  the gradient for L-inf, the L2-normalised gradient for L2), every later step adds momentum
  ``alpha = 0.75``: ``x' = P(x + alpha (z - x) + (1 - alpha)(x - x_prev))`` with ``z`` the projected
  gradient step;
* checkpoints ``w_j = ceil(p_j N)`` with ``p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1}
  - 0.03, 0.06)`` (the reference's integer form: first after ``max(int(0.22 N), 1)`` iterations,
  then intervals shortened by ``max(int(0.03 N), 1)`` down to ``max(int(0.06 N), 1)``); at a
  checkpoint an image's step size is halved and it restarts from its best point (and that point's
  gradient) when condition 1 (at most ``rho`` = 75% of the steps since the last checkpoint raised
  the loss; ``<=`` as in the reference code) or condition 2 (its step size was not halved at the
  previous checkpoint and its best loss did not improve since) holds;
* losses: cross-entropy (``loss="ce"``), DLR ``-(z_y - max_{i!=y} z_i) / (z_pi1 - z_pi3)``
  (``loss="dlr"``), and for ``targeted=True`` (APGD-T) the targeted DLR
  ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)`` (or ``-CE(z, t)`` with ``loss="ce"``), run once
  per target ``t`` = the 2nd, 3rd, ... ``(n_target_classes + 1)``-th most likely class of the clean
  image;
* restarts (``n_restarts`` per target) attack only the images not yet misclassified; the returned
  image is the last misclassified iterate of the run that fooled it (the clean image where no run
  did), i.e. ``perturb(best_loss=False)`` of the reference code. A run stops early once every
  image of its batch still to be attacked is misclassified (that changes which misclassified
  iterate is returned, not which images are fooled).

One deliberate difference from the reference code: condition 1 counts ``f(x^(i+1)) > f(x^(i))`` for
the iterations since the last checkpoint as the paper writes it, which for the first checkpoint
includes ``f(x^(1)) > f(x^(0))``; the reference code compares ``f(x^(1))`` with a not-yet-written
(zero) entry of its loss history there (a negative index wrapping round).

``targeted=True`` is AutoAttack's APGD-T: ``y`` stays the *true* label (default: the model's
prediction) and success is any misclassification; this differs from ``targeted`` of the other
attacks, where ``y`` holds the target classes. ``eot_iter > 1`` averages the gradient over that
many forward/backward passes (Expectation over Transformation, Athalye et al. 2018) for models
whose randomness is their own (called with ``training=False``); the loss and prediction of a step
are those of its last pass, as in the reference code.

Random starts use stateless seeded ops (``seed=`` makes runs reproducible); randomness inside the
model is the model's own.
"""

from __future__ import annotations

from keras_restore.attacks import _common

NAME = "apgd"
PARAMS = ("eps", "norm", "loss", "targeted", "n_iter", "n_restarts", "n_target_classes", "rho",
          "eot_iter", "clip_min", "clip_max")
LOSSES = ("ce", "dlr")
# ``targeted=True`` keeps ``y`` the true label (AutoAttack's APGD-T): ``generate`` must not ask
# for target classes.
TARGETED_Y_IS_TARGET = False

MOMENTUM = 0.75  # alpha of the paper


def _check_loss(loss):
    s = loss.strip().lower() if isinstance(loss, str) else None
    if s not in LOSSES:
        raise ValueError(f"`loss` must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}.")
    return s


def _validate(params: dict) -> dict:
    _common.reject_unknown(params, PARAMS, NAME)
    lo, hi = _common.check_clip(params)
    if "eps" not in params:
        raise ValueError("`eps` is required (the radius of the L-inf or L2 ball).")
    return {
        "eps": _common.check_float(params["eps"], "eps", minimum=0.0),
        "norm": _common.check_norm(params.get("norm", "inf"), allowed=("inf", "2")),
        "loss": _check_loss(params.get("loss", "ce")),
        "targeted": _common.check_bool(params.get("targeted", False), "targeted"),
        "n_iter": _common.check_int(params.get("n_iter", 100), "n_iter"),
        "n_restarts": _common.check_int(params.get("n_restarts", 1), "n_restarts"),
        "n_target_classes": _common.check_int(params.get("n_target_classes", 9),
                                              "n_target_classes"),
        "rho": _common.check_float(params.get("rho", 0.75), "rho", minimum=0.0, maximum=1.0),
        "eot_iter": _common.check_int(params.get("eot_iter", 1), "eot_iter"),
        "clip_min": lo,
        "clip_max": hi,
    }


def checkpoints(n_iter: int) -> list[int]:
    """The iterations (1-based counts) after which APGD checks its step size, as the reference
    code schedules them (see the module docstring)."""
    first = max(int(0.22 * n_iter), 1)
    shrink, shortest = max(int(0.03 * n_iter), 1), max(int(0.06 * n_iter), 1)
    out, at, k = [], 0, first
    while at + k <= n_iter:
        at += k
        out.append(at)
        k = max(k - shrink, shortest)
    return out


def _graph(model_fn, p):
    import tensorflow as tf

    eps, lo, hi = p["eps"], p["clip_min"], p["clip_max"]
    norm, loss_name, targeted = p["norm"], p["loss"], p["targeted"]
    n_iter, eot_iter, rho = p["n_iter"], p["eot_iter"], p["rho"]
    n_iter_2 = max(int(0.22 * n_iter), 1)
    n_iter_min = max(int(0.06 * n_iter), 1)
    size_decr = max(int(0.03 * n_iter), 1)

    def per_image(v, ndim):
        return tf.reshape(v, [-1] + [1] * (ndim - 1))

    def normalize(v):
        axes = list(range(1, len(v.shape)))
        if norm == "inf":
            t = tf.reduce_max(tf.abs(v), axis=axes)
        else:
            t = tf.sqrt(tf.reduce_sum(tf.square(v), axis=axes))
        return v / (per_image(t, len(v.shape)) + 1e-12)

    def project(x, z):
        """``z`` projected onto the eps-ball around ``x``, then clipped to [lo, hi]."""
        if norm == "inf":
            return tf.clip_by_value(tf.minimum(tf.maximum(z, x - eps), x + eps), lo, hi)
        d = z - x
        axes = list(range(1, len(d.shape)))
        length = per_image(tf.sqrt(tf.reduce_sum(tf.square(d), axis=axes)), len(d.shape))
        return tf.clip_by_value(x + normalize(d) * tf.minimum(eps, length), lo, hi)

    def loss_fn(z, y, t):
        """Per-image loss to *maximise*."""
        if loss_name == "ce":
            if targeted:
                return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=z)
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=z)
        top = tf.math.top_k(z, k=4 if targeted else 3, sorted=True)
        zs = top.values
        z_y = tf.gather(z, y, axis=1, batch_dims=1)
        if targeted:
            z_t = tf.gather(z, t, axis=1, batch_dims=1)
            return -(z_y - z_t) / (zs[:, 0] - 0.5 * (zs[:, 2] + zs[:, 3]) + 1e-12)
        other = tf.where(tf.cast(top.indices[:, 0], y.dtype) == y, zs[:, 1], zs[:, 0])
        return -(z_y - other) / (zs[:, 0] - zs[:, 2] + 1e-12)

    def one_pass(x_adv, y, t):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            z = model_fn(x_adv)
            losses = loss_fn(z, y, t)
            total = tf.reduce_sum(losses)
        return z, losses, tape.gradient(total, x_adv)

    def loss_grad(x_adv, y, t):
        """Logits and per-image loss of the last pass; gradient averaged over ``eot_iter``."""
        z, losses, g = one_pass(x_adv, y, t)
        if eot_iter == 1:
            return z, losses, g

        def body(i, z_, l_, g_):
            z2, l2, g2 = one_pass(x_adv, y, t)
            return i + 1, z2, l2, g_ + g2

        _, z, losses, g = tf.while_loop(lambda i, *_: i < eot_iter, body,
                                        (tf.constant(1), z, losses, g))
        return z, losses, g / float(eot_iter)

    def predicted(z):
        return tf.argmax(z, axis=1, output_type=tf.int64)

    def single_run(x, y, t, seed, active):
        """One APGD run from a random start; returns (still classified as ``y``, last
        misclassified iterate or the start). ``active``: the images whose result is used (the
        run stops once all of them are misclassified)."""
        shape = tf.shape(x)
        nd = len(x.shape)
        if norm == "inf":
            u = tf.random.stateless_uniform(shape, seed, -1.0, 1.0)
        else:
            u = tf.random.stateless_normal(shape, seed)
        x_adv = tf.clip_by_value(x + eps * normalize(u), lo, hi)
        z, losses, g = loss_grad(x_adv, y, t)
        ok = tf.equal(predicted(z), y)
        step = tf.fill(tf.stack([shape[0]] + [1] * (nd - 1)), 2.0 * eps)
        state = dict(
            i=tf.constant(0), x_adv=x_adv, x_old=x_adv, g=g, ok=ok, x_best_adv=x_adv,
            x_best=x_adv, g_best=g, loss_best=losses, loss_prev=losses,
            n_up=tf.zeros_like(losses), step=step, counter=tf.constant(0), k=tf.constant(n_iter_2),
            loss_best_last=losses, reduced_last=tf.ones_like(ok),
        )

        def body(s):
            x_adv = s["x_adv"]
            grad2 = x_adv - s["x_old"]
            a = tf.where(s["i"] > 0, MOMENTUM, 1.0)
            direction = tf.sign(s["g"]) if norm == "inf" else normalize(s["g"])
            z1 = project(x, x_adv + s["step"] * direction)
            x_new = project(x, x_adv + (z1 - x_adv) * a + grad2 * (1.0 - a))
            z, losses, g = loss_grad(x_new, y, t)
            pred_ok = tf.equal(predicted(z), y)
            bshape = [-1] + [1] * (nd - 1)
            fooled = tf.reshape(tf.logical_not(pred_ok), bshape)
            x_best_adv = tf.where(fooled, x_new, s["x_best_adv"])
            n_up = s["n_up"] + tf.cast(losses > s["loss_prev"], losses.dtype)
            better = losses > s["loss_best"]
            better_b = tf.reshape(better, bshape)
            x_best = tf.where(better_b, x_new, s["x_best"])
            g_best = tf.where(better_b, g, s["g_best"])
            loss_best = tf.where(better, losses, s["loss_best"])
            counter = s["counter"] + 1
            k = s["k"]
            at_check = tf.equal(counter, k)
            cond1 = n_up <= tf.cast(k, losses.dtype) * rho
            cond2 = tf.logical_and(tf.logical_not(s["reduced_last"]),
                                   s["loss_best_last"] >= loss_best)
            halve = tf.logical_and(at_check, tf.logical_or(cond1, cond2))
            halve_b = tf.reshape(halve, bshape)
            return (dict(
                i=s["i"] + 1, x_adv=tf.where(halve_b, x_best, x_new), x_old=x_adv,
                g=tf.where(halve_b, g_best, g), ok=tf.logical_and(s["ok"], pred_ok),
                x_best_adv=x_best_adv, x_best=x_best, g_best=g_best, loss_best=loss_best,
                loss_prev=losses, n_up=tf.where(at_check, tf.zeros_like(n_up), n_up),
                step=tf.where(halve_b, s["step"] / 2.0, s["step"]),
                counter=tf.where(at_check, 0, counter),
                k=tf.where(at_check, tf.maximum(k - size_decr, n_iter_min), k),
                loss_best_last=tf.where(at_check, loss_best, s["loss_best_last"]),
                reduced_last=tf.where(at_check, tf.logical_or(cond1, cond2), s["reduced_last"]),
            ),)

        # stops early once every active image is misclassified (nothing left to change but which
        # misclassified iterate is returned)
        out = tf.while_loop(
            lambda s: tf.logical_and(s["i"] < n_iter,
                                     tf.reduce_any(tf.logical_and(s["ok"], active))),
            body, (state,), maximum_iterations=n_iter)
        out = out[0] if isinstance(out, (tuple, list)) else out
        return out["ok"], out["x_best_adv"]

    def attack(x, y, t, seed):
        z0 = model_fn(x)
        n_classes = z0.shape[-1]
        need = (4 if targeted else 3) if loss_name == "dlr" else 2
        if n_classes is not None and n_classes < need:
            raise ValueError(
                f"`loss='dlr'`{' with targeted=True' if targeted else ''} needs a model with at "
                f"least {need} classes, got {n_classes}."
            )
        labels = tf.where(y >= 0, y, predicted(z0))
        ok = tf.equal(predicted(z0), labels)
        if targeted:
            n_targets = p["n_target_classes"]
            if n_classes is not None:
                n_targets = min(n_targets, n_classes - 1)
            # classes by decreasing clean logit; target j (0-based) is the (j + 2)-th most likely
            order = tf.cast(tf.argsort(z0, axis=1, direction="DESCENDING", stable=True), tf.int64)
        else:
            n_targets, order = 1, None
        n_runs = n_targets * p["n_restarts"]

        def run_body(r, ok, adv):
            if targeted:
                tgt = order[:, 1 + r // p["n_restarts"]]
            else:
                tgt = labels
            ok_r, adv_r = single_run(x, labels, tgt, _common.seed_pair(seed, tf.cast(r, tf.int64)),
                                     ok)
            newly = tf.reshape(tf.logical_and(ok, tf.logical_not(ok_r)),
                               [-1] + [1] * (len(x.shape) - 1))
            return r + 1, tf.logical_and(ok, ok_r), tf.where(newly, adv_r, adv)

        _, _, adv = tf.while_loop(
            lambda r, ok, adv: tf.logical_and(r < n_runs, tf.reduce_any(ok)), run_body,
            (tf.constant(0), ok, x))
        return adv

    return attack


def auto_projected_gradient_descent(model, x, y=None, *, eps, norm="inf", loss="ce",
                                    targeted=False, n_iter=100, n_restarts=1, n_target_classes=9,
                                    rho=0.75, eot_iter=1, clip_min=0.0, clip_max=1.0, seed=None,
                                    batch_size=None, logits=None):
    """APGD (Croce & Hein 2020) against ``model``; see the module docstring.

    Args:
        model: Keras model (logits or softmax output; see :func:`keras_restore.attacks.logits_fn`)
            or a callable returning logits.
        x: float images ``(n, h, w, c)`` in ``[clip_min, clip_max]``.
        y: *true* labels (default: the model's predictions), also with ``targeted=True``.
        eps: radius of the L-inf / L2 ball.
        norm: ``"inf"`` (or ``np.inf``) or ``"2"``.
        loss: ``"ce"`` (APGD-CE) or ``"dlr"`` (APGD-DLR; with ``targeted=True``, APGD-T).
        targeted: APGD-T: one run per target class, the ``n_target_classes`` most likely classes
            other than the top one on the clean image; success = misclassification.
        n_iter: iterations per run (AutoAttack: 100).
        n_restarts: random restarts (per target class when targeted); later restarts only change
            images not yet misclassified.
        n_target_classes: target classes tried by APGD-T (capped at the number of classes - 1).
        rho: condition-1 threshold of the step-size schedule (0.75 in the paper).
        eot_iter: gradients averaged per step (EOT, for models with internal randomness).
        seed: makes the random starts reproducible.
        batch_size: images per compiled batch (default: all of ``x``).
        logits: True/False overrides the softmax detection.

    Returns: float32 NumPy array shaped like ``x``; images no run misclassified are returned
    unchanged (as are images the model already misclassifies).
    """
    p = _validate(dict(eps=eps, norm=norm, loss=loss, targeted=targeted, n_iter=n_iter,
                       n_restarts=n_restarts, n_target_classes=n_target_classes, rho=rho,
                       eot_iter=eot_iter, clip_min=clip_min, clip_max=clip_max))
    return _common.execute(NAME, _graph, p, model, x, y, seed=seed, batch_size=batch_size,
                           logits=logits)


def auto_projected_gradient_descent_targeted(model, x, y=None, *, eps, loss="dlr", **kwargs):
    """APGD-T: :func:`auto_projected_gradient_descent` with ``targeted=True`` and the targeted DLR
    loss (AutoAttack's ``apgd-t``)."""
    return auto_projected_gradient_descent(model, x, y, eps=eps, loss=loss, targeted=True, **kwargs)

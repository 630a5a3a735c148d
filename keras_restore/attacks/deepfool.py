"""DeepFool, Moosavi-Dezfooli et al. 2016 (CVPR), L2 version, vectorised over the batch in TF2.

Per iteration and image: linearise the ``nb_candidate - 1`` most likely other classes around the
current point, step to the nearest linearised decision boundary (``|f_k| / ||w_k||_2``), and stop
when the label changes. As in the authors' code the accumulated perturbation is scaled by
``1 + overshoot`` and clipped to the valid range.
"""

from __future__ import annotations

from keras_restore.attacks import _common

NAME = "deepfool"
PARAMS = ("nb_candidate", "overshoot", "max_iter", "clip_min", "clip_max")


def _validate(params: dict) -> dict:
    _common.reject_unknown(params, PARAMS, NAME)
    lo, hi = _common.check_clip(params)
    return {
        "nb_candidate": _common.check_int(params.get("nb_candidate", 10), "nb_candidate", minimum=2),
        "overshoot": _common.check_float(params.get("overshoot", 0.02), "overshoot", minimum=0.0),
        "max_iter": _common.check_int(params.get("max_iter", 50), "max_iter"),
        "clip_min": lo,
        "clip_max": hi,
    }


def _graph(model_fn, p):
    import tensorflow as tf

    lo, hi = p["clip_min"], p["clip_max"]
    overshoot = p["overshoot"]

    def attack(x, y, t, seed):
        logits0 = model_fn(x)
        n_classes = logits0.shape[-1]
        k = min(p["nb_candidate"], n_classes)
        labels = tf.where(y >= 0, y, tf.argmax(logits0, axis=1, output_type=tf.int64))
        # candidates: the label first, then the k-1 most likely other classes
        onehot = tf.one_hot(labels, n_classes)
        others = tf.math.top_k(logits0 - 1e9 * onehot, k=k - 1).indices
        cand = tf.concat([tf.cast(labels[:, None], tf.int32), others], axis=1)  # (n, k)

        bshape = [-1] + [1] * (len(x.shape) - 1)
        axes = list(range(1, len(x.shape)))

        r_tot = tf.zeros_like(x)
        adv = x
        active = tf.equal(tf.argmax(logits0, axis=1, output_type=tf.int64), labels)
        i = tf.constant(0)
        while i < p["max_iter"] and tf.reduce_any(active):
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(adv)
                logits = model_fn(adv)
                sel = tf.gather(logits, cand, batch_dims=1)  # (n, k)
                cols = [tf.reduce_sum(sel[:, j]) for j in range(k)]
            grads = tf.stack([tape.gradient(c, adv) for c in cols], axis=1)  # (n, k, ...)
            w = grads[:, 1:] - grads[:, :1]
            f = sel[:, 1:] - sel[:, :1]
            w_norm = tf.sqrt(tf.reduce_sum(tf.square(w), axis=[a + 1 for a in axes])) + 1e-8
            pert = tf.abs(f) / w_norm  # (n, k-1)
            best = tf.argmin(pert, axis=1, output_type=tf.int32)
            pert_b = tf.gather(pert, best, batch_dims=1)
            w_b = tf.gather(w, best, batch_dims=1)
            wn_b = tf.gather(w_norm, best, batch_dims=1)
            r_i = tf.reshape((pert_b + 1e-4) / wn_b, bshape) * w_b
            r_tot = r_tot + tf.where(tf.reshape(active, bshape), r_i, tf.zeros_like(r_i))
            adv = tf.clip_by_value(x + (1.0 + overshoot) * r_tot, lo, hi)
            pred = tf.argmax(model_fn(adv), axis=1, output_type=tf.int64)
            active = active & tf.equal(pred, labels)
            i += 1
        return adv

    return attack


def deepfool(model_fn, x, *, y=None, nb_candidate=10, overshoot=0.02, max_iter=50, clip_min=0.0,
             clip_max=1.0):
    """DeepFool (untargeted, L2). ``y``: the labels to move away from (default: predictions)."""
    p = _validate(dict(nb_candidate=nb_candidate, overshoot=overshoot, max_iter=max_iter,
                       clip_min=clip_min, clip_max=clip_max))
    return _common.execute(NAME, _graph, p, model_fn, x, y)

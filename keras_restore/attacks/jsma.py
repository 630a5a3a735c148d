"""Jacobian-based Saliency Map Attack, Papernot et al. 2016 (EuroS&P), vectorised over the batch.

Targeted, L0: each iteration picks the pair of still-modifiable pixels ``(p, q)`` maximising
``-alpha * beta`` with ``alpha = dZ_t/dx_p + dZ_t/dx_q > 0`` and ``beta = sum_{j != t} (dZ_j/dx_p +
dZ_j/dx_q) < 0`` (for ``theta > 0``; signs reversed for ``theta < 0``) on the logits ``Z``, as in
CleverHans' ``jsma_symbolic``, and changes both by ``theta * (clip_max - clip_min)``. An image stops
when it reaches the target, when ``floor(gamma * n_features / 2)`` pairs are spent, or when no
admissible pair is left. The target is random (different from the true/predicted label) unless
``y_target`` is given. The pair map is ``batch x n_features^2``, so batches are capped at
:func:`max_batch` images (26 on MNIST, 1 on CIFAR-10) to bound memory.
"""

from __future__ import annotations

import numpy as np

from keras_restore.attacks import _common

NAME = "jsma"
PARAMS = ("theta", "gamma", "clip_min", "clip_max", "y_target")
_PAIR_BUDGET = 16_000_000  # floats in one batch x features x features pair map


def max_batch(image_shape) -> int:
    f = int(np.prod(image_shape))
    return max(1, _PAIR_BUDGET // (f * f))


def _validate(params: dict) -> dict:
    _common.reject_unknown(params, PARAMS, NAME)
    lo, hi = _common.check_clip(params)
    theta = _common.check_float(params.get("theta", 1.0), "theta", minimum=-1.0, maximum=1.0)
    if theta == 0:
        raise ValueError("`theta` must be non-zero (+1 increases pixels, -1 decreases them).")
    return {
        "theta": theta,
        "gamma": _common.check_float(params.get("gamma", 0.145), "gamma", minimum=0.0,
                                     maximum=1.0, strict_min=True),
        "clip_min": lo,
        "clip_max": hi,
    }


def _graph(model_fn, p):
    import tensorflow as tf

    lo, hi, theta = p["clip_min"], p["clip_max"], p["theta"]
    increase = theta > 0

    def attack(x, y, t, seed):
        shape = tf.shape(x)
        n = x.shape[0]
        nf = int(np.prod(x.shape[1:]))
        max_pairs = int(np.floor(nf * p["gamma"] / 2))
        logits0 = model_fn(x)
        n_classes = logits0.shape[-1]
        labels = tf.where(y >= 0, y, tf.argmax(logits0, axis=1, output_type=tf.int64))
        r = tf.random.stateless_uniform([n], seed, 0, n_classes - 1, dtype=tf.int64)
        target = tf.where(t >= 0, t, (labels + 1 + r) % n_classes)
        t_onehot = tf.one_hot(target, n_classes)

        flat = tf.reshape(x, [n, nf])
        domain = flat < hi if increase else flat > lo
        offdiag = tf.logical_not(tf.eye(nf, dtype=tf.bool))[None]
        pred = tf.argmax(logits0, axis=1, output_type=tf.int64)
        active = tf.not_equal(pred, target)
        i = tf.constant(0)
        while i < max_pairs and tf.reduce_any(active):
            with tf.GradientTape(persistent=True) as tape:
                xin = tf.reshape(flat, shape)
                tape.watch(xin)
                logits = model_fn(xin)
                zt = tf.reduce_sum(logits * t_onehot)
                zall = tf.reduce_sum(logits)
            gt = tf.reshape(tape.gradient(zt, xin), [n, nf])
            go = tf.reshape(tape.gradient(zall, xin), [n, nf]) - gt
            alpha = gt[:, :, None] + gt[:, None, :]
            beta = go[:, :, None] + go[:, None, :]
            ok = domain[:, :, None] & domain[:, None, :] & offdiag
            if increase:
                ok = ok & (alpha > 0) & (beta < 0)
            else:
                ok = ok & (alpha < 0) & (beta > 0)
            score = tf.where(ok, -alpha * beta, -1.0)
            best = tf.argmax(tf.reshape(score, [n, nf * nf]), axis=1, output_type=tf.int32)
            found = tf.reduce_max(tf.reshape(score, [n, nf * nf]), axis=1) > 0
            go_on = active & found
            pq = tf.one_hot(best // nf, nf) + tf.one_hot(best % nf, nf)  # (n, nf)
            pq = pq * tf.cast(go_on, tf.float32)[:, None]
            flat = tf.clip_by_value(flat + theta * (hi - lo) * pq, lo, hi)
            domain = domain & (pq == 0)
            pred = tf.argmax(model_fn(tf.reshape(flat, shape)), axis=1, output_type=tf.int64)
            active = go_on & tf.not_equal(pred, target)
            i += 1
        return tf.reshape(flat, shape)

    return attack


def jsma(model_fn, x, *, y=None, y_target=None, theta=1.0, gamma=0.145, clip_min=0.0, clip_max=1.0,
         seed=None):
    """JSMA (targeted). ``y``: true labels (default: predictions), used to draw random targets
    different from them when ``y_target`` is None; ``seed`` makes those targets reproducible."""
    p = _validate(dict(theta=theta, gamma=gamma, clip_min=clip_min, clip_max=clip_max))
    xs = np.shape(x)
    mb = max_batch(xs[1:]) if len(xs) == 4 else None
    return _common.execute(NAME, _graph, p, model_fn, x, y, y_target, seed=seed, max_batch=mb)

"""Spatial transformation attack, Engstrom et al. 2019 (ICML, "Exploring the Landscape of Spatial
Robustness"): exhaustive grid search over rotations and translations.

Grid: ``n_angles`` angles evenly spaced over ``[-max_angle, +max_angle]`` degrees, times
``n_translations`` x ``n_translations`` shifts evenly spaced over ``[-max_translation,
+max_translation]`` pixels (Engstrom et al.: 31 angles over +-30 deg, 5 x 5 shifts over +-3 px).
Each image's result is the *first* grid point (grid ordered by transformation size, smallest
first, see :func:`grid`) that makes the model misclassify it, else the grid point with the lowest true-class margin (worst case).
Rotation is about the image centre, then the shift; bilinear interpolation, zero fill
(``tf.raw_ops.ImageProjectiveTransformV3``). :func:`transform` applies one grid point.
"""

from __future__ import annotations

import numpy as np

from keras_restore.attacks import _common

NAME = "spa"
PARAMS = ("n_angles", "max_angle", "n_translations", "max_translation", "clip_min", "clip_max")


def _validate(params: dict) -> dict:
    _common.reject_unknown(params, PARAMS, NAME)
    lo, hi = _common.check_clip(params)
    return {
        "n_angles": _common.check_int(params.get("n_angles", 31), "n_angles"),
        "max_angle": _common.check_float(params.get("max_angle", 30.0), "max_angle", minimum=0.0,
                                         maximum=180.0),
        "n_translations": _common.check_int(params.get("n_translations", 5), "n_translations"),
        "max_translation": _common.check_float(params.get("max_translation", 3.0),
                                               "max_translation", minimum=0.0),
        "clip_min": lo,
        "clip_max": hi,
    }


def grid(n_angles=31, max_angle=30.0, n_translations=5, max_translation=3.0) -> np.ndarray:
    """The search grid as a ``(n_points, 3)`` float32 array of (angle in degrees, dx, dy)."""
    angles = np.linspace(-max_angle, max_angle, n_angles) if n_angles > 1 else np.zeros(1)
    shifts = (np.linspace(-max_translation, max_translation, n_translations)
              if n_translations > 1 else np.zeros(1))
    a, dx, dy = np.meshgrid(angles, shifts, shifts, indexing="ij")
    pts = np.stack([a.ravel(), dx.ravel(), dy.ravel()], axis=1)
    # smallest transformations first (identity first when on the grid); stable, so ties keep
    # the (angle, dx, dy) lexicographic order
    size = np.abs(pts[:, 0]) / max(max_angle, 1e-9) + (np.abs(pts[:, 1]) + np.abs(pts[:, 2])) / (
        2 * max(max_translation, 1e-9))
    return pts[np.argsort(size, kind="stable")].astype(np.float32)


def _transforms(angle_deg, dx, dy, height, width):
    """Projective transforms (output -> input coordinates) for rotation about the centre by
    ``angle_deg`` (matrix [[cos, -sin], [sin, cos]] in x-right/y-down pixel coordinates, i.e.
    clockwise on screen for a positive angle) followed by a shift of ``(dx, dy)`` pixels."""
    import tensorflow as tf

    theta = angle_deg * (np.pi / 180.0)
    c, s = tf.cos(theta), tf.sin(theta)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    # forward: p_out = R (p_in - c) + c + d  =>  p_in = R^T (p_out - c - d) + c
    ux, uy = cx + dx, cy + dy
    a0, a1 = c, s
    b0, b1 = -s, c
    a2 = cx - (c * ux + s * uy)
    b2 = cy - (-s * ux + c * uy)
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=-1)


def transform(images, angle_deg, dx, dy):
    """Rotate ``images`` (NHWC) by ``angle_deg`` about the centre, then shift by ``(dx, dy)`` px.

    ``angle_deg``, ``dx``, ``dy``: scalars or per-image vectors. Bilinear, zero fill.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    n = tf.shape(images)[0]
    h, w = images.shape[1], images.shape[2]

    def vec(v):
        v = tf.cast(tf.convert_to_tensor(v), tf.float32)
        return tf.broadcast_to(v, [n])

    tr = _transforms(vec(angle_deg), vec(dx), vec(dy), h, w)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=tr, output_shape=tf.constant([h, w], tf.int32),
        fill_value=tf.constant(0.0), interpolation="BILINEAR", fill_mode="CONSTANT")


def _graph(model_fn, p):
    import tensorflow as tf

    pts = tf.constant(grid(p["n_angles"], p["max_angle"], p["n_translations"],
                           p["max_translation"]))
    n_pts = int(pts.shape[0])
    lo, hi = p["clip_min"], p["clip_max"]

    def attack(x, y, t, seed):
        labels = _common.resolve_labels(model_fn, x, y)
        n = tf.shape(x)[0]
        bshape = [-1] + [1] * (len(x.shape) - 1)
        best = x
        best_margin = tf.fill([n], np.inf)
        fooled = tf.zeros([n], tf.bool)
        i = tf.constant(0)
        while i < n_pts and not tf.reduce_all(fooled):
            pt = pts[i]
            cand = tf.clip_by_value(transform(x, pt[0], pt[1], pt[2]), lo, hi)
            m = _common.margins(model_fn(cand), labels)
            take = tf.logical_not(fooled) & (m < best_margin)
            best = tf.where(tf.reshape(take, bshape), cand, best)
            best_margin = tf.where(take, m, best_margin)
            fooled = fooled | (best_margin < 0)
            i += 1
        return best

    return attack


def spatial_transformation(model_fn, x, y=None, *, n_angles=31, max_angle=30.0, n_translations=5,
                           max_translation=3.0, clip_min=0.0, clip_max=1.0):
    """Worst-of-grid rotation + translation attack (see the module docstring)."""
    p = _validate(dict(n_angles=n_angles, max_angle=max_angle, n_translations=n_translations,
                       max_translation=max_translation, clip_min=clip_min, clip_max=clip_max))
    return _common.execute(NAME, _graph, p, model_fn, x, y)

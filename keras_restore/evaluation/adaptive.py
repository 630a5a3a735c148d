"""Adaptive (end-to-end) attacks on a :class:`~keras_restore.defenses.Defense` and the
gradient-masking checks of Carlini et al. (2019).

:func:`adaptive` is the standard sequence of AutoAttack's attacks that need gradients (Croce &
Hein, ICML 2020): APGD-CE on every image the defended model classifies correctly, then APGD-T
(targeted DLR, ``n_target_classes`` targets) on the images APGD-CE did not fool; an image counts
as robust only if no attack fooled it (per-image worst case). Every attack runs on
``defense.model``, the one differentiable Keras model preprocessing -> restorer -> classifier:

* BPDA comes from each preprocessing step's declared gradient (``gradient = "bpda"`` layers
  compute ``stop_gradient(f(x)) + x - stop_gradient(x)``, Athalye et al. 2018), nothing here;
* a stochastic defense (``defense.stochastic``) is attacked with EOT: the gradient of every APGD
  step is the mean over ``eot_iter`` draws (default 20, as AutoAttack's ``rand`` version), and
  its prediction of an image is the class it outputs most often over ``eot_iter`` draws;
* before attacking, the gradient of ``defense.model`` w.r.t. its input is probed on a few images:
  if it is None or zero everywhere, a step has no gradient and declared none (a ValueError says
  which steps declare what), since an attack on such a model proves nothing.

Which images are robust is decided by classifying the returned images again through
``defense.model`` (not by the attack's own bookkeeping); returned images lie in the eps-ball and
in [0, 1]. Images no attack fooled are returned unchanged, as AutoAttack does.

:func:`masking_checks` runs the four checks of Carlini et al. 2019 ("On evaluating adversarial
robustness", Sec. 5.2 and the checklist of Appendix) that this setting can test, each recorded as
``{"passed", "values", "check", "seconds"}``:

* ``iterative_beats_single_step``: FGSM through the defense (gradient averaged over the same EOT
  draws) must not leave a lower accuracy than the adaptive sequence;
* ``accuracy_falls_with_eps``: adaptive accuracy over an eps grid reaching perturbations that make
  the images unrecognisable (MNIST L-inf 0.5, CIFAR-10 32/255) must fall to at most 10%;
* ``adaptive_beats_oblivious``: the white-box attack must be at least as strong as the oblivious
  (transfer) attack made on the classifier alone;
* ``more_iterations_do_not_help``: APGD with 2x the iterations and 2x the restarts must not lower
  accuracy by more than 2 percentage points.

Cost controls of the checks (all recorded in ``values``): the eps curve reuses the adaptive result
at its eps and walks the grid outwards from it: at a larger eps only the images still robust at
the next smaller one are attacked (exact: an image fooled inside a smaller ball is fooled inside
the larger one), at a smaller eps only the images fooled at the next larger one (an image the
attack could not fool inside the larger ball is counted robust inside the smaller one); the curve
points use ``curve_attacks`` (default APGD-CE only) with ``curve_n_iter`` iterations (default
``n_iter // 2``, at least 10). The convergence check attacks only the images the default run left
robust (the others stay fooled), with ``convergence_attacks`` (default APGD-CE). Both can be
limited to the first ``curve_max_images`` / ``convergence_max_images`` images.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from keras_restore import attacks as _attacks
from keras_restore.defenses import Defense
from keras_restore.metrics import predict as _predict
from keras_restore.validation import check_images, check_labels

#: attack name -> (name in keras_restore.attacks, fixed parameters)
ATTACKS = {
    "apgd-ce": ("apgd", {"loss": "ce", "targeted": False}),
    "apgd-t": ("apgd_t", {"loss": "dlr", "targeted": True}),
    "apgd-dlr": ("apgd", {"loss": "dlr", "targeted": False}),
}
_ALIASES = {"apgd": "apgd-ce", "apgd_t": "apgd-t", "apgd-targeted": "apgd-t"}

#: check name -> what it tests, in plain words
CHECKS = {
    "iterative_beats_single_step":
        "An iterative attack is at least as strong as a single step: the adaptive APGD sequence leaves "
        "at most the accuracy that FGSM through the defense (same eps, gradient averaged over the same "
        "EOT draws) leaves. Failing means the gradient the iterations follow is misleading.",
    "accuracy_falls_with_eps":
        "Accuracy under the adaptive attack falls to at most {max_acc:g}% at the largest eps of the curve, "
        "where the images are no longer recognisable. A defense still accurate there is hiding its "
        "gradient, not robust.",
    "adaptive_beats_oblivious":
        "The white-box attack through the whole defense is at least as strong as the oblivious (transfer) "
        "attack made on the classifier alone and then passed through the defense. Failing means the "
        "defense's gradient is worse than no gradient of it at all.",
    "more_iterations_do_not_help":
        "APGD with twice the iterations and twice the restarts lowers accuracy by at most {tol:g} "
        "percentage points: the default attack has converged.",
}

#: default eps grids per (dataset family, norm); L-inf ends where images are unrecognisable
_GRIDS = {
    ("mnist", "inf"): (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    ("cifar10", "inf"): (0.0, 2 / 255, 4 / 255, 8 / 255, 16 / 255, 32 / 255),
    ("mnist", "2"): (0.0, 1.0, 2.0, 3.0, 4.0, 6.0),
    ("cifar10", "2"): (0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
}
_FAMILY = {"mnist": "mnist", "fashion_mnist": "mnist", "cifar10": "cifar10"}
_SHAPES = {(28, 28, 1): "mnist", (32, 32, 3): "cifar10"}


@dataclass
class AdaptiveResult:
    """What :func:`adaptive` found.

    Attributes:
        x_adv: float32 images shaped like ``x``: the adversarial image where an attack fooled the
            defense, the clean image elsewhere.
        robust: bool per image: classified correctly on the clean image and on every attack's output.
        attack_of: per image ``"clean"`` (misclassified without attack), the name of the first attack
            that fooled it, or None (robust).
        clean_accuracy: % of clean images the defended model classifies correctly.
        accuracy: % robust (the adaptive robust accuracy).
        per_attack: attack -> cumulative robust accuracy (%) after it.
        record: JSON-serialisable parameters, timings and the defense's declared gradients.
    """

    x_adv: np.ndarray
    robust: np.ndarray
    attack_of: list
    clean_accuracy: float
    accuracy: float
    per_attack: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------ checks of input
def _check_defense(defense) -> Defense:
    if not isinstance(defense, Defense):
        raise ValueError(f"`defense` must be a keras_restore.defenses.Defense (build one with build_defense(...) "
                         f"or Defense(classifier, restorer, preprocessing)), got {type(defense).__name__}.")
    return defense


def _check_norm(norm) -> str:
    s = None
    if isinstance(norm, str):
        s = norm.strip().lower()
        s = {"linf": "inf", "l_inf": "inf", "np.inf": "inf", "l2": "2"}.get(s, s)
    elif isinstance(norm, (int, float, np.integer, np.floating)) and not isinstance(norm, bool):
        s = "inf" if math.isinf(norm) and norm > 0 else "2" if norm == 2 else None
    if s not in ("inf", "2"):
        raise ValueError(f"`norm` must be 'inf' (L-inf; np.inf also accepted) or '2' (L2), got {norm!r}.")
    return s


def _check_number(value, name: str, *, minimum: float = 0.0, maximum: float | None = None) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"`{name}` must be a number >= {minimum:g}, got {value!r}.")
    v = float(value)
    if not math.isfinite(v) or v < minimum or (maximum is not None and v > maximum):
        rng = f">= {minimum:g}" if maximum is None else f"in [{minimum:g}, {maximum:g}]"
        raise ValueError(f"`{name}` must be a finite number {rng}, got {value!r}.")
    return v


def _check_int(value, name: str, minimum: int = 1, why: str = "") -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}{why}, got {value!r}.")
    return int(value)


def _check_attacks(names, name: str = "attacks") -> tuple[str, ...]:
    if isinstance(names, str):
        names = (names,)
    try:
        names = tuple(names)
    except TypeError:
        raise ValueError(f"`{name}` must be a sequence of attack names ({', '.join(ATTACKS)}), "
                         f"got {names!r}.") from None
    out = []
    for a in names:
        key = a.strip().lower().replace("_", "-") if isinstance(a, str) else None
        key = _ALIASES.get(a, _ALIASES.get(key, key)) if key is not None else None
        if key not in ATTACKS:
            raise ValueError(f"`{name}`: unknown attack {a!r}; expected some of {', '.join(ATTACKS)}.")
        if key in out:
            raise ValueError(f"`{name}`: attack {a!r} is listed twice.")
        out.append(key)
    if not out:
        raise ValueError(f"`{name}` must name at least one attack ({', '.join(ATTACKS)}).")
    return tuple(out)


def _check_eot(eot_iter, stochastic: bool) -> int:
    if eot_iter is None:
        return 20 if stochastic else 1
    why = " (gradient draws averaged per step, EOT)" + ("; the defense is stochastic" if stochastic else "")
    return _check_int(eot_iter, "eot_iter", 1, why)


def _check_data(defense: Defense, x, y):
    try:
        x = check_images(x, "x", shape=defense.input_shape)
    except TypeError as e:  # integer dtype etc.: one exception type for every bad argument
        raise ValueError(str(e)) from None
    if y is None:
        raise ValueError("`y` (the true labels of `x`) is required.")
    y = check_labels(np.asarray(y), len(x), _classes(defense), "y")
    return x, y


def _check_dataset(dataset):
    if dataset is not None and dataset not in _FAMILY:
        raise ValueError(f"`dataset` must be None or one of {', '.join(_FAMILY)}, got {dataset!r}.")
    return dataset


def _classes(defense: Defense) -> int:
    return int(defense.classifier.output_shape[-1])


# ------------------------------------------------------------------------------------ helpers
def _even_batch(n: int, batch_size: int) -> int:
    """The batch size that splits ``n`` images into ``ceil(n / batch_size)`` nearly equal batches
    (the attacks pad the last batch: 150 images at 100 would attack 200)."""
    k = -(-n // batch_size)
    return -(-n // k)


def _bucket(n: int, batch_size: int) -> int:
    """Inference batch: the power of two >= ``n``, at most ``batch_size`` (few traced shapes)."""
    return min(batch_size, 1 << max(0, int(n - 1).bit_length()))


def _labels(defense: Defense, x: np.ndarray, draws: int, batch_size: int) -> np.ndarray:
    """The defended model's class per image; for a stochastic defense the most frequent class over
    ``draws`` forward passes (ties: the lowest class index)."""
    bs = _bucket(len(x), batch_size)
    if not defense.stochastic or draws <= 1:
        return _predict(defense.model, x, bs).argmax(axis=1)
    votes = np.zeros((len(x), _classes(defense)), np.int64)
    for _ in range(draws):
        votes[np.arange(len(x)), _predict(defense.model, x, bs).argmax(axis=1)] += 1
    return votes.argmax(axis=1)


def _gradients(defense: Defense, x: np.ndarray, y: np.ndarray, batch_size: int, draws: int) -> np.ndarray:
    """Gradient of the cross-entropy of ``defense.model``'s logits w.r.t. ``x``, mean over ``draws``."""
    import tensorflow as tf

    fn = _attacks.logits_fn(defense.model)
    bs = _even_batch(len(x), batch_size)

    @tf.function(input_signature=[tf.TensorSpec((bs, *x.shape[1:]), tf.float32), tf.TensorSpec((bs,), tf.int64)])
    def grad(xb, yb):
        with tf.GradientTape() as tape:
            tape.watch(xb)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=fn(xb)))
        return tape.gradient(loss, xb)

    out = np.zeros_like(x)
    for s in range(0, len(x), bs):
        xb, yb = x[s:s + bs], y[s:s + bs]
        n = len(xb)
        if n < bs:
            xb = np.concatenate([xb, np.repeat(xb[-1:], bs - n, axis=0)])
            yb = np.concatenate([yb, np.repeat(yb[-1:], bs - n)])
        for _ in range(draws):
            out[s:s + n] += grad(tf.constant(xb), tf.constant(yb)).numpy()[:n]
    return out / float(draws)


def _project(x_adv: np.ndarray, x: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """``x_adv`` in the eps-ball around ``x`` and in [0, 1] (guards against float drift)."""
    if norm == "inf":
        out = np.clip(x_adv, x - eps, x + eps)
    else:
        d = (x_adv - x).reshape(len(x), -1)
        n = np.linalg.norm(d, axis=1)
        scale = np.where(n > eps, eps / np.maximum(n, 1e-12), 1.0).astype(np.float32)
        out = x + (d * scale[:, None]).reshape(x.shape)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _probe_gradient(defense: Defense, x: np.ndarray, k: int = 8) -> dict:
    """Raise a ValueError when ``defense.model`` passes no gradient to its input."""
    import tensorflow as tf

    fn = _attacks.logits_fn(defense.model)
    xp = tf.constant(x[:k])
    w = tf.constant(np.random.default_rng(0).standard_normal((len(xp), _classes(defense))), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(xp)
        score = tf.reduce_sum(fn(xp) * w)
    g = tape.gradient(score, xp)
    declared = ", ".join(f"{k_}: {v}" for k_, v in defense.gradients().items())
    fix = ("A step without a useful gradient (rounding, quantisation, a non-differentiable library call) "
           "must declare `gradient = \"bpda\"` (straight-through: exact forward pass, identity gradient; see "
           "keras_restore.defenses.preprocessing). Declared gradients: " + declared + ".")
    if g is None:
        raise ValueError(f"`defense` {defense.name!r} has no differentiable path from its input to its class "
                         f"scores: the gradient of defense.model w.r.t. the input is None. {fix}")
    g = g.numpy()
    if not np.all(np.isfinite(g)):
        raise ValueError(f"`defense` {defense.name!r}: the gradient of defense.model w.r.t. the input is NaN/Inf "
                         f"on a probe batch of {len(g)} images; attacks cannot use it. {fix}")
    if not np.any(g != 0):
        raise ValueError(f"`defense` {defense.name!r} has no differentiable path from its input to its class "
                         f"scores: the gradient of defense.model w.r.t. the input is zero on a probe batch of "
                         f"{len(g)} images. {fix}")
    return {"n_images": int(len(g)), "mean_abs_gradient": float(np.mean(np.abs(g)))}


# ------------------------------------------------------------------------------------ the adaptive attack
def adaptive(defense, x, y, *, eps, norm="inf", n_iter: int = 100, n_restarts: int = 1,
             n_target_classes: int = 9, eot_iter: int | None = None, seed: int = 0, batch_size: int = 250,
             attacks=("apgd-ce", "apgd-t"), dataset: str | None = None, progress: bool = False,
             _probe: bool = True) -> AdaptiveResult:
    """Attack ``defense`` end to end: APGD-CE, then APGD-T on the survivors (module docstring).

    Args:
        defense: a :class:`~keras_restore.defenses.Defense`; its ``model`` is attacked.
        x: float32 images in [0, 1] of the defense's input shape.
        y: true labels.
        eps: radius of the threat model (>= 0; 0 returns the clean images).
        norm: ``"inf"`` (or ``np.inf``) or ``"2"``.
        n_iter, n_restarts: APGD iterations per run and restarts (AutoAttack standard: 100, 1).
        n_target_classes: targets of APGD-T (capped at the number of classes - 1).
        eot_iter: gradient draws per APGD step; default 20 for a stochastic defense, else 1.
        seed: seeds the random starts.
        batch_size: images per attack batch.
        attacks: the sequence, each run on the images still robust: ``"apgd-ce"``, ``"apgd-t"``,
            ``"apgd-dlr"``.
        dataset: recorded, and picks nothing else (every APGD parameter is set here).
        progress: tqdm bars per attack.

    Raises: ValueError naming the argument (``defense``, ``x``, ``y``, ``eps``, ``norm``, ``eot_iter``,
    ...), and naming ``defense`` when its model passes no gradient to the input.
    """
    t_start = time.perf_counter()
    defense = _check_defense(defense)
    norm = _check_norm(norm)
    eps = _check_number(eps, "eps")
    n_iter = _check_int(n_iter, "n_iter")
    n_restarts = _check_int(n_restarts, "n_restarts")
    n_target_classes = _check_int(n_target_classes, "n_target_classes")
    eot = _check_eot(eot_iter, defense.stochastic)
    seed = _check_int(seed, "seed", 0)
    batch_size = _check_int(batch_size, "batch_size")
    names = _check_attacks(attacks)
    dataset = _check_dataset(dataset)
    x, y = _check_data(defense, x, y)
    classes = _classes(defense)
    if "apgd-t" in names and classes < 4:
        raise ValueError(f"`attacks`: APGD-T needs a classifier with at least 4 classes, got {classes}.")
    probe = _probe_gradient(defense, x) if _probe else None

    pred = _labels(defense, x, eot, batch_size)
    robust = pred == y
    attack_of: list = [None if ok else "clean" for ok in robust]
    x_adv = x.copy()
    clean_accuracy = float(robust.mean() * 100.0)
    per_attack, seconds, fooled_by = {}, {}, {}
    for name in names:
        t0 = time.perf_counter()
        idx = np.flatnonzero(robust)
        fooled_by[name] = 0
        if idx.size and eps > 0:
            key, fixed = ATTACKS[name]
            params = dict(eps=eps, norm=norm, n_iter=n_iter, n_restarts=n_restarts, eot_iter=eot,
                          clip_min=0.0, clip_max=1.0, **fixed)
            if fixed["targeted"]:
                params["n_target_classes"] = min(n_target_classes, classes - 1)
            xa = _attacks.generate(key, defense.model, x[idx], y[idx], dataset=dataset or "mnist",
                                   batch_size=_even_batch(idx.size, batch_size), progress=bool(progress), seed=seed,
                                   **params)
            xa = _project(np.asarray(xa, np.float32), x[idx], eps, norm)
            fooled = _labels(defense, xa, eot, batch_size) != y[idx]
            hit = idx[fooled]
            x_adv[hit] = xa[fooled]
            robust[hit] = False
            for i in hit:
                attack_of[i] = name
            fooled_by[name] = int(fooled.sum())
        per_attack[name] = float(robust.mean() * 100.0)
        seconds[name] = round(time.perf_counter() - t0, 2)
    accuracy = float(robust.mean() * 100.0)
    record = {
        "attacks": list(names), "eps": eps, "norm": norm, "n_iter": n_iter, "n_restarts": n_restarts,
        "n_target_classes": min(n_target_classes, classes - 1), "rho": 0.75, "eot_iter": eot, "seed": seed,
        "batch_size": batch_size, "dataset": dataset, "stochastic": defense.stochastic,
        "defense": defense.describe(), "gradients": defense.gradients(), "gradient_probe": probe,
        "prediction": ("most frequent class over eot_iter draws of defense.model" if defense.stochastic and eot > 1
                       else "argmax of defense.model"),
        "n_images": int(len(x)), "n_clean_correct": int(round(clean_accuracy * len(x) / 100.0)),
        "fooled_by": fooled_by, "clean_accuracy": clean_accuracy, "per_attack": per_attack, "accuracy": accuracy,
        "seconds_per_attack": seconds, "seconds": round(time.perf_counter() - t_start, 2),
    }
    return AdaptiveResult(x_adv=x_adv, robust=robust, attack_of=attack_of, clean_accuracy=clean_accuracy,
                          accuracy=accuracy, per_attack=per_attack, record=record)


# ------------------------------------------------------------------------------------ masking checks
def default_eps_grid(dataset: str, norm="inf") -> tuple[float, ...]:
    """The eps grid of :func:`masking_checks`: MNIST / Fashion-MNIST L-inf 0..0.5, CIFAR-10 L-inf
    0..32/255 (the largest eps leaves the images unrecognisable); L2 grids are our choice
    (MNIST 0..6, CIFAR-10 0..4)."""
    norm = _check_norm(norm)
    if dataset not in _FAMILY:
        raise ValueError(f"`dataset` must be one of {', '.join(_FAMILY)}, got {dataset!r}.")
    return _GRIDS[(_FAMILY[dataset], norm)]


def _check_grid(eps_grid, dataset, shape, norm):
    if eps_grid is None:
        family = _FAMILY.get(dataset) if dataset else _SHAPES.get(tuple(shape))
        if family is None:
            raise ValueError(f"`eps_grid` is required: no default grid for images of shape {tuple(shape)} "
                             f"(give `dataset` or `eps_grid`).")
        return _GRIDS[(family, norm)]
    try:
        grid = [_check_number(e, "eps_grid") for e in eps_grid]
    except TypeError:
        raise ValueError(f"`eps_grid` must be a sequence of numbers >= 0, got {eps_grid!r}.") from None
    if len(set(grid)) < 2:
        raise ValueError(f"`eps_grid` must hold at least two distinct eps values, got {eps_grid!r}.")
    return tuple(sorted(set(grid)))


def checks_passed(checks: dict) -> bool:
    """True when every check of a :func:`masking_checks` result passed."""
    return all(bool(c["passed"]) for c in checks.values())


def masking_checks(defense, x, y, *, eps, norm="inf", eps_grid=None, oblivious_accuracy=None,
                   adaptive_result: AdaptiveResult | None = None, seed: int = 0, n_iter: int = 100,
                   n_restarts: int = 1, n_target_classes: int = 9, eot_iter: int | None = None,
                   batch_size: int = 250, attacks=("apgd-ce", "apgd-t"), dataset: str | None = None,
                   curve_n_iter: int | None = None, curve_attacks=("apgd-ce",), curve_max_images: int | None = None,
                   convergence_attacks=("apgd-ce",), convergence_max_images: int | None = None,
                   unbounded_max_accuracy: float = 10.0, convergence_tolerance: float = 2.0,
                   progress: bool = False) -> dict:
    """The four gradient-masking checks of Carlini et al. (2019) on ``defense`` (module docstring).

    Args:
        defense, x, y, eps, norm, n_iter, n_restarts, n_target_classes, eot_iter, batch_size,
            attacks, dataset, seed: as :func:`adaptive` (the adaptive attack the checks judge).
        eps_grid: eps values of the curve (default :func:`default_eps_grid` of ``dataset``, or of
            the image shape: 28x28x1 MNIST, 32x32x3 CIFAR-10).
        oblivious_accuracy: % accuracy of an oblivious attack through the defense (e.g. the papers'
            PGD made on the classifier alone); default: APGD-CE (``n_iter``) made on
            ``defense.classifier``, then classified through the defense.
        adaptive_result: a :func:`adaptive` result on the same ``x``, ``eps``, ``norm`` (reused);
            default: run here.
        curve_n_iter, curve_attacks, curve_max_images: the attacks of the eps-curve points other than
            ``eps`` (default ``max(10, n_iter // 2)`` iterations of APGD-CE, all images).
        convergence_attacks, convergence_max_images: the stronger run (2x ``n_iter``, 2x
            ``n_restarts``) of the convergence check (default APGD-CE, all images).
        unbounded_max_accuracy: the eps-curve check passes at or below this accuracy (%) at the
            largest eps.
        convergence_tolerance: the convergence check passes if the stronger run lowers accuracy by
            at most this many percentage points.

    Returns: ``{check name: {"passed": bool, "values": {...}, "check": str, "seconds": float}}``
    for the four names of :data:`CHECKS`.
    """
    defense = _check_defense(defense)
    norm = _check_norm(norm)
    eps = _check_number(eps, "eps")
    n_iter = _check_int(n_iter, "n_iter")
    n_restarts = _check_int(n_restarts, "n_restarts")
    eot = _check_eot(eot_iter, defense.stochastic)
    seed = _check_int(seed, "seed", 0)
    batch_size = _check_int(batch_size, "batch_size")
    names = _check_attacks(attacks)
    c_names = _check_attacks(curve_attacks, "curve_attacks")
    v_names = _check_attacks(convergence_attacks, "convergence_attacks")
    dataset = _check_dataset(dataset)
    x, y = _check_data(defense, x, y)
    grid = _check_grid(eps_grid, dataset, x.shape[1:], norm)
    curve_n_iter = max(10, n_iter // 2) if curve_n_iter is None else _check_int(curve_n_iter, "curve_n_iter")
    n = len(x)
    n_curve = n if curve_max_images is None else min(n, _check_int(curve_max_images, "curve_max_images"))
    n_conv = n if convergence_max_images is None else min(n, _check_int(convergence_max_images,
                                                                       "convergence_max_images"))
    max_acc = _check_number(unbounded_max_accuracy, "unbounded_max_accuracy", maximum=100.0)
    tol = _check_number(convergence_tolerance, "convergence_tolerance", maximum=100.0)
    if oblivious_accuracy is not None:
        oblivious_accuracy = _check_number(oblivious_accuracy, "oblivious_accuracy", maximum=100.0)
    common = dict(norm=norm, n_target_classes=n_target_classes, eot_iter=eot, batch_size=batch_size,
                  dataset=dataset, progress=progress)
    if adaptive_result is None:
        adaptive_result = adaptive(defense, x, y, eps=eps, n_iter=n_iter, n_restarts=n_restarts, seed=seed,
                                   attacks=names, **common)
    else:
        if not isinstance(adaptive_result, AdaptiveResult):
            raise ValueError(f"`adaptive_result` must be an AdaptiveResult of adaptive(...), got "
                             f"{type(adaptive_result).__name__}.")
        rec = adaptive_result.record
        if len(adaptive_result.robust) != n or rec.get("eps") != eps or rec.get("norm") != norm:
            raise ValueError(f"`adaptive_result` must come from the same images, eps and norm: it has "
                             f"{len(adaptive_result.robust)} images, eps {rec.get('eps')!r}, norm {rec.get('norm')!r}; "
                             f"here {n} images, eps {eps!r}, norm {norm!r}.")
    robust = np.asarray(adaptive_result.robust, bool)
    adv_acc = float(adaptive_result.accuracy)
    out = {}

    # 1. single step vs iterative
    t0 = time.perf_counter()
    g = _gradients(defense, x, y, batch_size, eot)
    if norm == "inf":
        step = eps * np.sign(g)
    else:
        gn = np.linalg.norm(g.reshape(n, -1), axis=1).reshape((n,) + (1,) * (x.ndim - 1))
        step = eps * g / np.maximum(gn, 1e-12)
    x_fgsm = _project(x + step, x, eps, norm)
    fgsm_acc = float(np.mean(_labels(defense, x_fgsm, eot, batch_size) == y) * 100.0)
    out["iterative_beats_single_step"] = {
        "passed": bool(adv_acc <= fgsm_acc),
        "values": {"fgsm_accuracy": fgsm_acc, "adaptive_accuracy": adv_acc, "eps": eps, "norm": norm,
                   "fgsm_eot_iter": eot},
        "check": CHECKS["iterative_beats_single_step"], "seconds": round(time.perf_counter() - t0, 2)}

    # 2. accuracy against eps
    t0 = time.perf_counter()
    xs, ys = x[:n_curve], y[:n_curve]
    clean_ok = _labels(defense, xs, eot, batch_size) == ys
    at = {0.0: clean_ok, eps: robust[:n_curve].copy()}
    attacked = {}
    above = [e for e in grid if e > eps]
    below = [e for e in grid if 0 < e < eps][::-1]
    curve_kw = dict(n_iter=curve_n_iter, n_restarts=1, attacks=c_names, _probe=False, **common)
    prev = eps
    for i, e in enumerate(above):  # attack only what survived the next smaller eps
        cand = np.flatnonzero(at[prev])
        ok = at[prev].copy()
        if cand.size:
            r = adaptive(defense, xs[cand], ys[cand], eps=e, seed=seed + 2 + i, **curve_kw)
            ok[cand] = r.robust
        at[e], attacked[e], prev = ok, int(cand.size), e
    prev = eps
    for i, e in enumerate(below):  # attack only what was fooled at the next larger eps
        cand = np.flatnonzero(clean_ok & ~at[prev])
        ok = at[prev].copy()
        if cand.size:
            r = adaptive(defense, xs[cand], ys[cand], eps=e, seed=seed + 100 + i, **curve_kw)
            ok[cand] = r.robust
        at[e], attacked[e], prev = ok, int(cand.size), e
    points = sorted(set(grid) | {eps})
    curve = [float(at[e].mean() * 100.0) for e in points]
    largest = points[-1]
    out["accuracy_falls_with_eps"] = {
        "passed": bool(curve[-1] <= max_acc),
        "values": {"eps": [float(e) for e in points], "accuracy": curve, "largest_eps": float(largest),
                   "accuracy_at_largest_eps": curve[-1], "threshold": max_acc, "n_images": int(n_curve),
                   "attacked_per_eps": {str(float(k)): v for k, v in attacked.items()},
                   "curve_attacks": list(c_names), "curve_n_iter": curve_n_iter,
                   "method": f"eps {eps:g}: the adaptive result; larger eps: {'+'.join(c_names)} "
                             f"({curve_n_iter} iterations) on the images robust at the next smaller eps; "
                             f"smaller eps: the same on the images fooled at the next larger eps"},
        "check": CHECKS["accuracy_falls_with_eps"].format(max_acc=max_acc),
        "seconds": round(time.perf_counter() - t0, 2)}

    # 3. white-box vs oblivious (transfer)
    t0 = time.perf_counter()
    source = "given"
    if oblivious_accuracy is None:
        x_obl = _attacks.generate("apgd", defense.classifier, x, y, dataset=dataset or "mnist",
                                  batch_size=_even_batch(n, batch_size),
                                  progress=bool(progress), seed=seed, eps=eps, norm=norm, n_iter=n_iter,
                                  clip_min=0.0, clip_max=1.0)
        oblivious_accuracy = float(np.mean(_labels(defense, _project(x_obl, x, eps, norm), eot, batch_size) == y)
                                   * 100.0)
        source = f"APGD-CE ({n_iter} iterations) made on the classifier alone, classified through the defense"
    out["adaptive_beats_oblivious"] = {
        "passed": bool(adv_acc <= oblivious_accuracy),
        "values": {"oblivious_accuracy": oblivious_accuracy, "adaptive_accuracy": adv_acc, "oblivious": source},
        "check": CHECKS["adaptive_beats_oblivious"], "seconds": round(time.perf_counter() - t0, 2)}

    # 4. convergence: 2x iterations, 2x restarts on the images the default run left robust
    t0 = time.perf_counter()
    sub_robust = robust[:n_conv]
    cand = np.flatnonzero(sub_robust)
    newly = 0
    if cand.size and eps > 0:
        r = adaptive(defense, x[cand], y[cand], eps=eps, n_iter=2 * n_iter, n_restarts=2 * n_restarts,
                     seed=seed + 1, attacks=v_names, _probe=False, **common)
        newly = int((~r.robust).sum())
    before = float(sub_robust.mean() * 100.0)
    after = float((sub_robust.sum() - newly) / n_conv * 100.0)
    out["more_iterations_do_not_help"] = {
        "passed": bool(before - after <= tol),
        "values": {"accuracy_default": before, "accuracy_stronger": after, "drop_pp": before - after,
                   "tolerance_pp": tol, "n_images": int(n_conv), "attacked": int(cand.size),
                   "stronger_attacks": list(v_names), "stronger_n_iter": 2 * n_iter,
                   "stronger_n_restarts": 2 * n_restarts},
        "check": CHECKS["more_iterations_do_not_help"].format(tol=tol),
        "seconds": round(time.perf_counter() - t0, 2)}
    return out

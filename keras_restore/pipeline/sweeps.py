"""papers/002 (Zhang et al.) figure sweeps: accuracy against attack strength for one target.

* :func:`depth_sweep` -- **Fig. 3**: accuracy of pixel-depth reduction *alone* (no restorer) to
  ``k`` levels per channel (:class:`keras_restore.defenses.BitDepthReduction`) against FGSM eps,
  one curve per ``k`` plus "no reduction".
* :func:`strength_curves` -- **Figs. 6-8**: accuracy without and with the whole defense
  (``build_defense("image_reconstruction", ...)``: depth reduction + EDSR reconstruction) against
  the strength of FGSM and BIM (eps) and of DeepFool and CW-L2 (maximum iterations).
* :func:`defense_curves` -- the same eps sweep for any defenses (not a papers/002 figure; issue 21's
  CRU-Net ablation, ``reproduce/crunet_cifar10_eps_curves.py``): accuracy without and through each
  defense, and how much of the perturbation each lets through (:data:`DEFENSE_CURVE_COLUMNS`).

All three run on the first ``n_images`` images given (the scripts pass the first test images, as the
papers/002 tables do), make every adversarial set on the **bare classifier** (the paper's
protocol: the defense is not attacked), cache it under ``<cache>/attacks/`` keyed by the model's
weight fingerprint, the attack and its merged parameters, the images, labels and seed (a rerun
resumes), and return one dict per point (the long CSV's rows, :data:`DEPTH_COLUMNS` /
:data:`CURVE_COLUMNS` / :data:`DEFENSE_CURVE_COLUMNS`).

Choices the paper leaves open (each recorded in every row's ``params`` and in the scripts' meta):

* **eps grids** (:data:`EPS_GRIDS`): the paper gives only the ranges (Sec. 4.3: "for the MNIST
  dataset, the value of eps is up to 0.3; for the F-MNIST dataset ... from 0 to 0.1; for the
  Cifar-10 dataset ... from 0 to 0.01"); the steps (0.05, 0.02, 0.002) are ours.
* **k values of Fig. 3** (:data:`DEPTH_LEVELS`): the text names none; 2, 4, 8 and 16 levels (1-4
  bits) bracket the paper's choices (k = 2 on MNIST, 4 on F-MNIST) plus the undefended curve.
* **eps 0 / 0 iterations** is the clean images themselves (no attack is run), so the first point
  of every curve is the clean accuracy.
* **BIM**: the dataset's iteration count from :func:`keras_restore.attacks.default_params`
  (MNIST / F-MNIST 40, CIFAR-10 10) with the step scaled with eps at the default's step / eps
  ratio (MNIST / F-MNIST 0.01 / 0.3 = eps / 30, the papers/002 tables' choice; CIFAR-10
  (2/255) / (8/255) = eps / 4), so every eps is reached in the same number of steps. With fewer
  iterations (``overrides={"bim": {"nb_iter": n}}``, the scripts' --quick) the step grows to keep
  the default's total step length (MNIST 40 x eps / 30), at most eps.
* **DeepFool and CW-L2 strength** = their maximum iterations (Sec. 4.2: "we adjust the degree of
  perturbation by controlling the maximum number of iterations"; the paper says so for C&W and
  plots DeepFool the same way): DeepFool ``max_iter`` in :data:`ITERATION_GRIDS`, CW-L2
  ``max_iterations`` per binary-search step, with ``binary_search_steps`` =
  :data:`CW_BINARY_SEARCH_STEPS` = 3, the papers/002 tables' CW-L2 (3 x 50), so the curve's last
  point is the tables' attack. The first default-scale run (2026-12-04) used 1 step: at the
  default initial constant 0.01 the attack hardly moved ResNet-50 on MNIST (94.5% accuracy left
  at 50 iterations, where the tables' 3 x 50 leaves 1%), a flat curve that measured the constant,
  not the iterations; the search's larger constants (0.1, 1) are what make CW-L2 succeed. Every other
  parameter is the package default (``default_params``: DeepFool overshoot 0.02, 10 candidates;
  CW-L2 learning rate 0.1, initial constant 0.01, confidence 0).
* **labels**: the true labels (not the model's predictions).
* **panels** (a)-(d) of Figs. 6-8 are taken to be FGSM, BIM, DeepFool, C&W, the order the text
  lists them in.
* **the paper's numbers** (:data:`PAPER_AT_HIGHEST`, Sec. 4.4: "under high attack intensity")
  are put beside the point of the largest strength of each grid; the paper does not print the
  strength they were read at for DeepFool and C&W.
"""

from __future__ import annotations

import hashlib
import math
import time

import numpy as np

from keras_restore import io
from keras_restore.pipeline.cache import default_dir as cache_default_dir
from keras_restore.pipeline.tables import ZHANG_CW
from keras_restore.validation import check_choice, check_images, check_labels, check_positive_int

CACHE_VERSION = 1
PAPER = "Zhang et al., Adversarial example defense based on image reconstruction (papers/002)"
DATASETS = ("mnist", "fashion_mnist", "cifar10")
PRETTY = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}

# L-inf eps grids over the paper's ranges (Sec. 4.3); the steps are ours.
EPS_GRIDS = {
    "mnist": (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
    "fashion_mnist": (0.0, 0.02, 0.04, 0.06, 0.08, 0.1),
    "cifar10": (0.0, 0.002, 0.004, 0.006, 0.008, 0.01),
}
# Fig. 3: k = number of pixel levels per channel; None = no reduction.
DEPTH_LEVELS = (None, 2, 4, 8, 16)
CURVE_ATTACKS = ("fgsm", "bim", "deepfool", "cw")
STRENGTH_PARAM = {"fgsm": "eps", "bim": "eps", "deepfool": "max_iter", "cw": "max_iterations"}
ITERATION_GRIDS = {"deepfool": (0, 1, 2, 5, 10, 50), "cw": (0, 5, 10, 20, 50)}
CW_BINARY_SEARCH_STEPS = ZHANG_CW["binary_search_steps"]   # the papers/002 tables' CW-L2 search (docstring)
PANELS = {"fgsm": "(a)", "bim": "(b)", "deepfool": "(c)", "cw": "(d)"}
PRETTY_ATTACK = {"fgsm": "FGSM", "bim": "BIM", "deepfool": "DeepFool", "cw": "CW-L2"}
FIGURE3_PANELS = {"mnist": "Fig. 3(a)", "fashion_mnist": "Fig. 3(b)", "cifar10": "Fig. 3(c)"}
CURVE_FIGURES = {"mnist": "Fig. 6", "fashion_mnist": "Fig. 7", "cifar10": "Fig. 8"}

# papers/002 Sec. 4.4, ResNet-50, accuracy (%) without -> with the defense "under high attack intensity".
PAPER_AT_HIGHEST = {
    "mnist": {"fgsm": (20.0, 97.0), "bim": (5.0, 98.0), "deepfool": (0.0, 98.0), "cw": (0.0, 98.0)},
    "fashion_mnist": {"fgsm": (13.0, 81.0), "bim": (1.0, 82.0), "deepfool": (0.0, 88.0), "cw": (0.0, 88.0)},
    "cifar10": {"fgsm": (23.0, 71.0), "bim": (2.0, 70.0), "deepfool": (18.0, 87.0), "cw": (0.0, 87.0)},
}
PAPER_AT_HIGHEST_SOURCE = ("papers/002 Sec. 4.4, text on Figs. 6 (MNIST), 7 (F-MNIST) and 8 (CIFAR-10): ResNet-50 "
                           "accuracy restored 'from X% to Y%' under high attack intensity, X without and Y with "
                           "the defense; put beside our point of the largest strength of each grid")

# The choices of the module docstring, for the scripts' meta.
CHOICES = {
    "eps_grid": "the paper gives the ranges only (Sec. 4.3: MNIST up to 0.3, F-MNIST 0 to 0.1, CIFAR-10 0 to 0.01); "
                "the steps 0.05 / 0.02 / 0.002 are ours",
    "levels": "Fig. 3's k values are not named in the text: 2, 4, 8, 16 levels (1-4 bits; the paper uses k = 2 on "
              "MNIST, 4 on F-MNIST) plus no reduction",
    "strength_zero": "eps 0 / 0 iterations is the clean images (no attack run): each curve starts at clean accuracy",
    "bim": "the dataset's default iterations (MNIST / F-MNIST 40, CIFAR-10 10), step = eps x default step / default "
           "eps (MNIST / F-MNIST eps / 30 as in the papers/002 tables, CIFAR-10 eps / 4); with fewer iterations "
           "(--quick) the step keeps the default's total step length, at most eps",
    "iterations": "DeepFool max_iter and CW-L2 max_iterations are the strength (Sec. 4.2 'controlling the maximum "
                  "number of iterations'); CW-L2 with binary_search_steps 3 (the tables' 3 x 50 at the largest "
                  "strength); other parameters the package defaults",
    "labels": "attacks use the true labels and are made on the bare classifier (the paper's protocol)",
    "panels": "Figs. 6-8 panels (a)-(d) taken as FGSM, BIM, DeepFool, C&W (the order of the text)",
    "paper_values": "the paper's Sec. 4.4 values ('under high attack intensity') are put beside the largest strength "
                    "of each grid; the paper prints no strength for them (for DeepFool and C&W not even its axis)",
}

FIGURE3_PAPER_NOTE = ("papers/002 Fig. 3 prints no values: the figure is lost in the text conversion and the "
                      "text (Sec. 3.1) describes its curves only qualitatively")
DEPTH_COLUMNS = {
    "figure": "the paper's figure and panel",
    "dataset": "dataset name",
    "target": "the classifier (model-registry name)",
    "k": "pixel levels per channel of the depth reduction (none: no reduction, the undefended curve)",
    "attack": "the attack (FGSM, made on the bare classifier)",
    "strength_param": "the attack parameter varied",
    "strength": "its value (eps 0: the clean images, no attack run)",
    "accuracy_undefended": "% of the adversarial images the bare classifier classifies correctly",
    "accuracy_defended": "% classified correctly after the depth reduction to k levels alone (no restorer)",
    "accuracy_defended_paper": "the paper's value: empty, Fig. 3 prints none (its figures are lost in the text "
                               "conversion and the text gives no number for it; FIGURE3_PAPER_NOTE)",
    "paper_note": "why the paper column is empty",
    "n_images": "the first n_images images of the test split",
    "params": "the attack's merged parameters (attacks.default_params + overrides)",
    "seed": "the attack's seed",
    "seconds": "time to make the adversarial set (as first computed; a cached set costs ~0 s now)",
    "cached": "the adversarial set came from the cache",
}
CURVE_COLUMNS = {
    "figure": "the paper's figure and panel",
    "dataset": "dataset name",
    "target": "the classifier (model-registry name)",
    "attack": "the attack, made on the bare classifier (the paper's protocol)",
    "strength_param": "the attack parameter varied (eps, or the maximum iterations)",
    "strength": "its value (0: the clean images, no attack run)",
    "levels": "k of the defense's depth reduction",
    "accuracy_undefended": "% of the adversarial images the bare classifier classifies correctly",
    "accuracy_defended": "% classified correctly through the defense (depth reduction + EDSR reconstruction)",
    "accuracy_undefended_paper": "the paper's accuracy without the defense at high strength (Sec. 4.4), at the "
                                 "largest strength of the grid only",
    "accuracy_defended_paper": "the paper's accuracy with the defense at high strength (Sec. 4.4), at the largest "
                               "strength of the grid only",
    "n_images": "the first n_images images of the test split",
    "params": "the attack's merged parameters (attacks.default_params + overrides)",
    "seed": "the attack's seed",
    "seconds": "time to make the adversarial set (as first computed; a cached set costs ~0 s now)",
    "cached": "the adversarial set came from the cache",
}
DEFENSE_CURVE_COLUMNS = {
    "dataset": "dataset name",
    "target": "the classifier (model-registry name)",
    "attack": "the L-inf attack, made on the bare classifier (the papers' oblivious protocol)",
    "eps": "its eps on [0, 1] images (0: the clean images, no attack run)",
    "eps_255": "eps x 255",
    "defense": "the defense (its label)",
    "accuracy_undefended": "% of the (attacked) images the bare classifier classifies correctly",
    "accuracy_defended": "% classified correctly through the defense",
    "mse_attacked": "mean squared error of the attacked images against the clean ones (per pixel, [0, 1]): the "
                    "identity's error",
    "mse_restored": "mean squared error of the defense's output on the attacked images against the clean images",
    "mse_restored_clean": "mean squared error of the defense's output on the clean images against them (what "
                          "the defense costs clean images)",
    "perturbation_passed": "mean squared (defense(attacked) - defense(clean)) / mean squared (attacked - clean): "
                           "the share of the perturbation's energy the defense passes on to the classifier (1: "
                           "all of it, as the identity; empty at eps 0)",
    "eps_shrunk_255": "eps_255 x sqrt(perturbation_passed): the strength of the same attack shrunk to the energy the "
                      "defense passes on (for FGSM exactly the FGSM of that eps: a scaled sign perturbation)",
    "eps_equivalent_255": "the eps (x 255) at which the same attack, without the defense, leaves the classifier the "
                          "accuracy it has through the defense: interpolated on this curve's accuracy_undefended "
                          "(its running minimum over eps); 0 when the defense keeps the clean accuracy or more; "
                          "empty when it is below the no-defense accuracy at the largest eps, or at eps 0. Beside "
                          "eps_shrunk_255: equal when the defense acts as if it only shrank the perturbation",
    "n_images": "the first n_images images given",
    "params": "the attack's merged parameters (attacks.default_params + overrides)",
    "seed": "the attack's seed",
    "seconds": "time to make the adversarial set (as first computed; a cached set costs ~0 s now)",
    "cached": "the adversarial set came from the cache",
}
DEFENSE_CURVE_ATTACKS = ("fgsm", "bim")


# ------------------------------------------------------------------------------------------ checks
def check_dataset(dataset) -> str:
    return check_choice(dataset, "dataset", DATASETS)


def check_eps_grid(eps_grid, name: str = "eps_grid") -> tuple:
    """Sorted L-inf eps values: at least one, each finite and in [0, 1], no duplicates."""
    values = _as_tuple(eps_grid, name)
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(v)) or not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"`{name}` values must be finite eps in [0, 1] (L-inf, images in [0, 1]), got {v!r}.")
        out.append(float(v))
    if len(set(out)) != len(out):
        raise ValueError(f"`{name}` has duplicate values: {values!r}.")
    return tuple(sorted(out))


def check_iteration_grid(grid, name: str) -> tuple:
    """Sorted iteration counts: at least one, each an int >= 0 (0: the clean images), no duplicates."""
    values = _as_tuple(grid, name)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"`{name}` values must be integers >= 0 (maximum iterations), got {v!r}.")
    if len(set(values)) != len(values):
        raise ValueError(f"`{name}` has duplicate values: {values!r}.")
    return tuple(sorted(int(v) for v in values))


def check_levels(levels) -> tuple:
    """Fig. 3's k values: None (no reduction) or ints >= 2, at least one, no duplicates."""
    values = _as_tuple(levels, "levels")
    for k in values:
        if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2):
            raise ValueError(f"`levels` values must be None (no reduction) or integers >= 2, got {k!r}.")
    if len(set(values)) != len(values):
        raise ValueError(f"`levels` has duplicate values: {values!r}.")
    return tuple(None if k is None else int(k) for k in values)


def _as_tuple(values, name):
    if values is None or isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise ValueError(f"`{name}` must be a sequence of values, got {values!r}.")
    values = tuple(values)
    if not values:
        raise ValueError(f"`{name}` must hold at least one value, got an empty grid.")
    return values


def _check_inputs(classifier, x, y, n_images):
    import keras

    if not isinstance(classifier, keras.Model):
        raise ValueError(f"`classifier` must be a keras.Model, got {type(classifier).__name__}.")
    x = check_images(x, "x", shape=tuple(classifier.input_shape[1:]))
    y = check_labels(y, len(x), int(classifier.output_shape[-1]))
    if n_images is not None:
        n = check_positive_int(n_images, "n_images")
        x, y = x[:n], y[:n]
    return x, y


def attack_overrides(attack: str, dataset: str, strength, extra: dict | None = None) -> dict:
    """The attack's parameters on top of its defaults: ``extra`` (other parameters) plus those that
    set its strength (module docstring): FGSM ``eps``; BIM ``eps`` and ``eps_iter`` = eps x the
    dataset default's ``nb_iter x eps_iter / eps`` / ``nb_iter`` (``nb_iter`` from ``extra`` or the
    default: MNIST 40 steps of eps / 30, CIFAR-10 10 steps of eps / 4); DeepFool ``max_iter``;
    CW-L2 ``max_iterations`` with ``binary_search_steps`` = :data:`CW_BINARY_SEARCH_STEPS`."""
    from keras_restore import attacks

    check_choice(attack, "attack", CURVE_ATTACKS)
    check_dataset(dataset)
    extra = dict(extra or {})
    if attack == "fgsm":
        return {**extra, "eps": float(strength)}
    if attack == "bim":
        d = attacks.default_params("bim", dataset)
        nb_iter = extra.get("nb_iter", d["nb_iter"])
        if isinstance(nb_iter, bool) or not isinstance(nb_iter, (int, np.integer)) or nb_iter < 1:
            raise ValueError(f"`overrides['bim']['nb_iter']` must be an integer >= 1, got {nb_iter!r}.")
        path = d["nb_iter"] * d["eps_iter"] / d["eps"]   # total step length / eps of the default
        return {**extra, "eps": float(strength), "eps_iter": float(strength) * min(1.0, path / int(nb_iter))}
    if attack == "deepfool":
        return {**extra, "max_iter": int(strength)}
    return {**extra, "max_iterations": int(strength), "binary_search_steps": CW_BINARY_SEARCH_STEPS}


STRENGTH_KEYS = {"fgsm": ("eps",), "bim": ("eps", "eps_iter"), "deepfool": ("max_iter",),
                 "cw": ("max_iterations", "binary_search_steps")}


# ------------------------------------------------------------------------------------------ attacks
class _Adversarial:
    """Adversarial sets of ``x`` against one model, cached by its weight fingerprint (a rerun resumes)."""

    def __init__(self, model, x, y, *, dataset, seed, cache_dir, tag, batch_size, progress, log):
        from keras_restore.pipeline.cache import Cache

        self.model, self.x, self.y, self.dataset = model, x, y, dataset
        self.seed, self.tag, self.log = int(seed), str(tag), log
        self.batch_size, self.progress = check_positive_int(batch_size, "batch_size"), bool(progress)
        self.cache = None if cache_dir is None else Cache(cache_dir)
        self.fingerprint = io.fingerprint(model)
        self.images = hashlib.sha256(x.tobytes()).hexdigest()[:16]
        self.labels = hashlib.sha256(np.ascontiguousarray(y).tobytes()).hexdigest()[:16]

    def __call__(self, attack: str, strength, extra: dict | None = None):
        """``(x_adv, info)``; strength 0 is ``x`` itself (no attack run)."""
        from keras_restore import attacks

        overrides = attack_overrides(attack, self.dataset, strength, extra)
        params = {**attacks.default_params(attack, self.dataset), **overrides}
        seed = int(io.key(self.seed, attack), 16) % (2**31)
        if float(strength) == 0:
            return self.x, {"params": {**params, "note": "strength 0: the clean images, no attack run"},
                            "seed": seed, "seconds": 0.0, "cached": False}
        key = io.key(CACHE_VERSION, self.fingerprint, attack, params, self.dataset, self.images, self.labels,
                     len(self.x), seed)
        start = time.perf_counter()

        def make(_ckpt):
            x_adv = attacks.generate(attack, self.model, self.x, self.y, dataset=self.dataset, seed=seed,
                                     progress=self.progress, batch_size=min(self.batch_size, len(self.x)),
                                     **overrides)
            return {"x_adv": x_adv}, {"params": params, "seed": seed, "seconds": round(time.perf_counter() - start, 2)}

        if self.cache is None:
            arrays, record = make(None)
            hit = False
        else:
            arrays, record, hit = self.cache.cached(
                "attacks", f"sweep-{self.tag}-{attack}-{key}", make,
                valid=lambda a: "x_adv" in a and a["x_adv"].shape == self.x.shape)
        seconds = float(record.get("seconds", round(time.perf_counter() - start, 2)))
        if self.log:
            self.log(f"[{self.tag}] {attack} {STRENGTH_PARAM[attack]}={strength:g}: "
                     f"{'cached' if hit else f'{seconds:.1f} s'}")
        return arrays["x_adv"], {"params": params, "seed": seed, "seconds": seconds, "cached": bool(hit)}


def _accuracy(model, x, y, batch_size) -> float:
    from keras_restore.metrics import predict

    return float(np.mean(predict(model, x, min(batch_size, len(x))).argmax(axis=1) == y) * 100.0)


def _defended_accuracy(defense, x, y) -> float:
    return float(np.mean(defense.predict(x).argmax(axis=1) == y) * 100.0)


# ------------------------------------------------------------------------------------------ Fig. 3
def depth_sweep(classifier, x, y, *, dataset: str, eps_grid=None, levels=DEPTH_LEVELS, target: str | None = None,
                n_images: int | None = None, seed: int = 0, cache_dir=None, batch_size: int = 100,
                progress: bool = False, log=None) -> list[dict]:
    """papers/002 Fig. 3: accuracy of depth reduction alone against FGSM eps, per ``k``.

    Args:
        classifier: the target (Keras model, logits or softmax); FGSM is made on it alone.
        x, y: test images in [0, 1] and their true labels; the first ``n_images`` are used (all: None).
        dataset: mnist, fashion_mnist or cifar10 (the attack defaults and the default grid).
        eps_grid: FGSM L-inf eps values (default :data:`EPS_GRIDS`); 0 = the clean images.
        levels: k values (pixel levels per channel); None = no reduction (default :data:`DEPTH_LEVELS`).
        target: the classifier's name in the rows and cache file names (default: its Keras name).
        seed, cache_dir: the attacks' seed; where adversarial sets are cached (None: not cached).

    Returns one row per (eps, k) (:data:`DEPTH_COLUMNS`), eps ascending, k in the order given.
    """
    from keras_restore.defenses import BitDepthReduction, Defense

    dataset = check_dataset(dataset)
    grid = check_eps_grid(EPS_GRIDS[dataset] if eps_grid is None else eps_grid)
    levels = check_levels(levels)
    x, y = _check_inputs(classifier, x, y, n_images)
    target = str(target or classifier.name)
    adversarial = _Adversarial(classifier, x, y, dataset=dataset, seed=seed, cache_dir=cache_dir, tag=target,
                               batch_size=batch_size, progress=progress, log=log)
    reducers = {k: Defense(classifier, None, [BitDepthReduction(levels=k, name=f"depth_levels{k}")],
                           name=f"depth_reduction_k{k}", batch_size=batch_size)
                for k in levels if k is not None}
    rows = []
    for eps in grid:
        x_adv, info = adversarial("fgsm", eps)
        undefended = _accuracy(classifier, x_adv, y, batch_size)
        for k in levels:
            defended = undefended if k is None else _defended_accuracy(reducers[k], x_adv, y)
            rows.append({"figure": FIGURE3_PANELS[dataset], "dataset": dataset, "target": target,
                         "k": "none" if k is None else k, "attack": "fgsm", "strength_param": "eps",
                         "strength": eps, "accuracy_undefended": undefended, "accuracy_defended": defended,
                         "accuracy_defended_paper": None, "paper_note": FIGURE3_PAPER_NOTE,
                         "n_images": int(len(x)), "params": info["params"], "seed": info["seed"],
                         "seconds": info["seconds"], "cached": info["cached"]})
        if log:
            log(f"[{target}] Fig. 3 eps {eps:g}: " + ", ".join(
                f"k={r['k']} {r['accuracy_defended']:.1f}%" for r in rows[-len(levels):]))
    return rows


# ------------------------------------------------------------------------------------------ Figs. 6-8
def strength_curves(classifier, restorer, x, y, *, dataset: str, attacks=CURVE_ATTACKS, eps_grid=None,
                    iteration_grids=None, levels: int | None = None, overrides: dict | None = None,
                    target: str | None = None, n_images: int | None = None, seed: int = 0, cache_dir=None,
                    batch_size: int = 100, progress: bool = False, log=None, fast=True) -> list[dict]:
    """papers/002 Figs. 6-8: accuracy without and with the defense against attack strength.

    Args:
        classifier: the target; every attack is made on it alone (the paper's protocol).
        restorer: the defense's EDSR reconstruction network (None: the shipped ``edsr_<dataset>``).
        x, y: test images in [0, 1] and their true labels; the first ``n_images`` are used.
        dataset: mnist, fashion_mnist or cifar10.
        attacks: some of fgsm, bim, deepfool, cw (the panels (a)-(d)).
        eps_grid: FGSM / BIM eps values (default :data:`EPS_GRIDS`).
        iteration_grids: ``{"deepfool": ..., "cw": ...}`` maximum iterations (default
            :data:`ITERATION_GRIDS`; a missing key takes the default).
        levels: k of the depth reduction (default: the defense's, MNIST 2, F-MNIST 4, CIFAR-10 4).
        overrides: ``{attack: {param: value}}`` on top of the defaults (not the strength parameters).
        fast: the defense's ``fast`` option (:class:`keras_restore.defenses.Defense`).

    Returns one row per (attack, strength) (:data:`CURVE_COLUMNS`), attacks in the order given.
    """
    from keras_restore.defenses import build_defense

    dataset = check_dataset(dataset)
    attacks = _as_tuple(attacks, "attacks")
    for a in attacks:
        check_choice(a, "attack", CURVE_ATTACKS)
    if len(set(attacks)) != len(attacks):
        raise ValueError(f"`attacks` has duplicate values: {attacks!r}.")
    grid = check_eps_grid(EPS_GRIDS[dataset] if eps_grid is None else eps_grid)
    iteration_grids = dict(iteration_grids or {})
    unknown = [k for k in iteration_grids if k not in ITERATION_GRIDS]
    if unknown:
        raise ValueError(f"`iteration_grids` keys must be some of {', '.join(ITERATION_GRIDS)}, got {unknown}.")
    grids = {a: grid if a in ("fgsm", "bim") else
             check_iteration_grid(iteration_grids.get(a, ITERATION_GRIDS[a]), f"iteration_grids[{a!r}]")
             for a in attacks}
    overrides = dict(overrides or {})
    for a, extra in overrides.items():
        check_choice(a, "attack in `overrides`", CURVE_ATTACKS)
        if not isinstance(extra, dict):
            raise ValueError(f"`overrides[{a!r}]` must be a dict of attack parameters, got {extra!r}.")
        fixed = set(extra) & set(STRENGTH_KEYS[a])
        if fixed:
            raise ValueError(f"`overrides[{a!r}]` may not set {', '.join(sorted(fixed))}: the sweep sets the "
                             "attack's strength.")
        attack_overrides(a, dataset, 0.1, extra)   # checks BIM's nb_iter now, not mid-sweep
    x, y = _check_inputs(classifier, x, y, n_images)
    target = str(target or classifier.name)
    defense = build_defense("image_reconstruction", classifier, dataset=dataset, fast=fast,
                            **({"restorer": restorer} if restorer is not None else {}),
                            **({"levels": levels} if levels is not None else {}))
    k = next(layer.levels for layer in defense.preprocessing if hasattr(layer, "levels"))
    adversarial = _Adversarial(classifier, x, y, dataset=dataset, seed=seed, cache_dir=cache_dir, tag=target,
                               batch_size=batch_size, progress=progress, log=log)
    clean = None
    rows = []
    for a in attacks:
        paper = PAPER_AT_HIGHEST[dataset][a]
        for strength in grids[a]:
            x_adv, info = adversarial(a, strength, overrides.get(a))
            if float(strength) == 0:
                if clean is None:
                    clean = (_accuracy(classifier, x, y, batch_size), _defended_accuracy(defense, x, y))
                undefended, defended = clean
            else:
                undefended = _accuracy(classifier, x_adv, y, batch_size)
                defended = _defended_accuracy(defense, x_adv, y)
            top = strength == grids[a][-1]
            rows.append({"figure": f"{CURVE_FIGURES[dataset]}{PANELS[a]}", "dataset": dataset, "target": target,
                         "attack": a, "strength_param": STRENGTH_PARAM[a],
                         "strength": float(strength) if a in ("fgsm", "bim") else int(strength), "levels": int(k),
                         "accuracy_undefended": undefended, "accuracy_defended": defended,
                         "accuracy_undefended_paper": paper[0] if top else "",
                         "accuracy_defended_paper": paper[1] if top else "",
                         "n_images": int(len(x)), "params": info["params"], "seed": info["seed"],
                         "seconds": info["seconds"], "cached": info["cached"]})
            if log:
                log(f"[{target}] {PRETTY_ATTACK[a]} {STRENGTH_PARAM[a]}={strength:g}: {undefended:.1f}% without, "
                    f"{defended:.1f}% with the defense" + (f" (paper at high strength {paper[0]:g}% -> {paper[1]:g}%)"
                                                          if top else ""))
    return rows


def equivalent_eps_255(curve, accuracy: float):
    """The eps (x 255) at which an attack without the defense leaves ``accuracy``, from its undefended curve
    ``[(eps, accuracy_undefended), ...]`` (eps 0 included): linear interpolation on the curve's running minimum
    (accuracy falls with eps; a noisy rise is flattened). 0.0 when ``accuracy`` is at least the clean
    accuracy; "" when it is below the accuracy at the largest eps (the grid says only "more than that")."""
    pts = sorted((float(e), float(a)) for e, a in curve)
    if len(pts) < 2 or pts[0][0] != 0.0:
        raise ValueError(f"`curve` must hold eps 0 and at least one eps > 0, got {curve!r}.")
    eps = np.array([e for e, _ in pts]) * 255
    acc = np.minimum.accumulate(np.array([a for _, a in pts]))
    if accuracy >= acc[0]:
        return 0.0
    if accuracy < acc[-1]:
        return ""
    # first grid step where the curve falls to `accuracy` or below; interpolate inside it
    j = int(np.argmax(acc <= accuracy))
    a0, a1, e0, e1 = acc[j - 1], acc[j], eps[j - 1], eps[j]
    return round(float(e1 if a0 == a1 else e0 + (a0 - accuracy) / (a0 - a1) * (e1 - e0)), 4)


def defense_curves(classifier, defenses: dict, x, y, *, dataset: str, eps_grid, attacks=DEFENSE_CURVE_ATTACKS,
                   overrides: dict | None = None, target: str | None = None, n_images: int | None = None,
                   seed: int = 0, cache_dir=None, batch_size: int = 100, progress: bool = False,
                   log=None) -> list[dict]:
    """Accuracy without and through each of ``defenses`` against the eps of L-inf attacks made on
    the bare ``classifier`` (the papers' oblivious protocol), and what each defense does to the
    perturbation: its output's error against the clean images, on attacked and on clean inputs, and
    the share of the perturbation's energy it passes on (:data:`DEFENSE_CURVE_COLUMNS`). A restorer
    that removes the perturbation passes ~0 of it; the identity passes 1.

    Args:
        classifier: the target; every attack is made on it alone.
        defenses: label -> :class:`keras_restore.defenses.Defense` around ``classifier`` (at least one).
        x, y: test images in [0, 1] and their true labels; the first ``n_images`` are used.
        eps_grid: eps values in [0, 1], increasing (0: the clean images).
        attacks: some of fgsm, bim (BIM's steps scale with eps: :func:`attack_overrides`).
        overrides: ``{attack: {param: value}}`` on top of the defaults (not eps / eps_iter).

    Every adversarial set is cached as :func:`strength_curves`' are (the same keys: a set made for
    a papers/002 figure of the same target and images is reused). Returns one row per (attack, eps,
    defense), attacks in the order given.
    """
    dataset = check_dataset(dataset)
    if not isinstance(defenses, dict) or not defenses:
        raise ValueError(f"`defenses` must be a non-empty dict of label -> Defense, got {defenses!r}.")
    for label, defense in defenses.items():
        if not callable(getattr(defense, "restore", None)) or not hasattr(defense, "classifier"):
            raise ValueError(f"`defenses[{label!r}]` must be a keras_restore Defense, got {type(defense).__name__}.")
        if defense.classifier is not classifier:
            raise ValueError(f"`defenses[{label!r}]` must defend `classifier` ({classifier.name!r}), the model the "
                             f"attacks are made on; it wraps {defense.classifier.name!r}.")
        if getattr(defense, "stochastic", False):
            raise ValueError(f"`defenses[{label!r}]` is stochastic: its output on the same image differs from call to "
                             "call, so the perturbation it passes on is not defined; give a deterministic defense.")
    attacks = _as_tuple(attacks, "attacks")
    for a in attacks:
        check_choice(a, "attack", DEFENSE_CURVE_ATTACKS)
    if len(set(attacks)) != len(attacks):
        raise ValueError(f"`attacks` has duplicate values: {attacks!r}.")
    grid = check_eps_grid(eps_grid)
    overrides = dict(overrides or {})
    for a, extra in overrides.items():
        check_choice(a, "attack in `overrides`", DEFENSE_CURVE_ATTACKS)
        if not isinstance(extra, dict) or set(extra) & set(STRENGTH_KEYS[a]):
            raise ValueError(f"`overrides[{a!r}]` must be a dict of attack parameters other than "
                             f"{', '.join(STRENGTH_KEYS[a])}, got {extra!r}.")
        attack_overrides(a, dataset, 0.1, extra)   # checks BIM's nb_iter now, not mid-sweep
    x, y = _check_inputs(classifier, x, y, n_images)
    target = str(target or classifier.name)
    adversarial = _Adversarial(classifier, x, y, dataset=dataset, seed=seed, cache_dir=cache_dir, tag=target,
                               batch_size=batch_size, progress=progress, log=log)
    restored_clean = {label: d.restore(x) for label, d in defenses.items()}
    clean = {label: (_accuracy(classifier, out, y, batch_size), _mse(out, x)) for label, out in restored_clean.items()}
    clean_undefended = _accuracy(classifier, x, y, batch_size)
    rows = []
    for a in attacks:
        for eps in grid:
            x_adv, info = adversarial(a, eps, overrides.get(a))
            undefended = clean_undefended if float(eps) == 0 else _accuracy(classifier, x_adv, y, batch_size)
            attacked = _mse(x_adv, x)
            for label, defense in defenses.items():
                if float(eps) == 0:
                    defended, restored, passed = clean[label][0], clean[label][1], ""
                else:
                    out = defense.restore(x_adv)   # what the classifier sees (predict = classifier(restore))
                    defended = _accuracy(classifier, out, y, batch_size)
                    restored = _mse(out, x)
                    passed = _mse(out, restored_clean[label]) / attacked if attacked > 0 else ""
                rows.append({"dataset": dataset, "target": target, "attack": a, "eps": float(eps),
                             "eps_255": round(float(eps) * 255, 4), "defense": label,
                             "accuracy_undefended": undefended, "accuracy_defended": defended,
                             "mse_attacked": attacked, "mse_restored": restored,
                             "mse_restored_clean": clean[label][1], "perturbation_passed": passed,
                             "eps_shrunk_255": "" if passed == "" else round(float(eps) * 255 * math.sqrt(passed), 4),
                             "eps_equivalent_255": "",
                             "n_images": int(len(x)), "params": info["params"], "seed": info["seed"],
                             "seconds": info["seconds"], "cached": info["cached"]})
                if log:
                    log(f"[{target}] {PRETTY_ATTACK[a]} eps={eps * 255:.4g}/255: {undefended:.1f}% without, "
                        f"{defended:.1f}% through {label}"
                        + (f" (passes {passed:.2f} of the perturbation)" if passed != "" else ""))
        curve = sorted({r["eps"]: r["accuracy_undefended"] for r in rows if r["attack"] == a}.items())
        for r in rows:
            if r["attack"] == a and r["eps"] > 0:
                r["eps_equivalent_255"] = equivalent_eps_255(curve, r["accuracy_defended"])
    return rows


def _mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def paper_comparison(rows: list[dict]) -> dict:
    """attack -> ours and the paper's (Sec. 4.4) at the largest strength of each curve of ``rows``."""
    out = {}
    for r in rows:
        if r.get("accuracy_defended_paper", "") == "":
            continue
        out[r["attack"]] = {"strength_param": r["strength_param"], "strength": r["strength"],
                            "ours": {"without_defense": r["accuracy_undefended"],
                                     "with_defense": r["accuracy_defended"]},
                            "paper": {"without_defense": r["accuracy_undefended_paper"],
                                      "with_defense": r["accuracy_defended_paper"]},
                            "difference_with_defense": r["accuracy_defended"] - r["accuracy_defended_paper"]}
    return out


# ------------------------------------------------------------------------------------------ figures
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def depth_figure(rows: list[dict], path, title: str) -> None:
    """Fig. 3 (one dataset): accuracy against FGSM eps, one curve per k."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 4.2), constrained_layout=True)
    for k in dict.fromkeys(r["k"] for r in rows):
        pts = [r for r in rows if r["k"] == k]
        label = "no reduction" if k == "none" else f"k = {k}"
        ax.plot([r["strength"] for r in pts], [r["accuracy_defended"] for r in pts],
                "--" if k == "none" else "-", color="black" if k == "none" else None, marker="o", ms=3, label=label)
    ax.set_xlabel("FGSM eps (L-inf)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    io.save_figure(fig, path)
    plt.close(fig)


def curves_figure(rows: list[dict], path, title: str) -> None:
    """Figs. 6-8 (one dataset): panels (a)-(d), accuracy without / with the defense against
    strength; the paper's Sec. 4.4 values as open markers at the largest strength."""
    plt = _plt()
    attacks = list(dict.fromkeys(r["attack"] for r in rows))
    fig, axes = plt.subplots(1, len(attacks), figsize=(3.6 * len(attacks), 3.5), squeeze=False,
                             constrained_layout=True)
    for ax, a in zip(axes[0], attacks):
        pts = [r for r in rows if r["attack"] == a]
        xs = [r["strength"] for r in pts]
        ax.plot(xs, [r["accuracy_undefended"] for r in pts], "--", color="tab:red", marker="o", ms=3,
                label="no defense")
        ax.plot(xs, [r["accuracy_defended"] for r in pts], "-", color="tab:blue", marker="o", ms=3,
                label="defense")
        for r in pts:
            if r["accuracy_defended_paper"] != "":
                ax.plot([r["strength"]], [r["accuracy_undefended_paper"]], "s", mfc="none", color="tab:red",
                        label="paper, no defense")
                ax.plot([r["strength"]], [r["accuracy_defended_paper"]], "s", mfc="none", color="tab:blue",
                        label="paper, defense")
        ax.set_xlabel(f"{PRETTY_ATTACK[a]} {pts[0]['strength_param']}")
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        ax.set_title(f"{PANELS[a]} {PRETTY_ATTACK[a]}", fontsize=9)
        if xs and all(float(v).is_integer() for v in xs) and a in ("deepfool", "cw") and max(xs) >= 20:
            ax.set_xscale("symlog", linthresh=1)
            ticks = sorted({int(float(v)) for v in xs})   # the grid itself: no "-10^0" at the left edge
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.xaxis.set_minor_locator(plt.NullLocator())
            ax.set_xlim(-0.3, max(ticks) * 1.4)   # room for the paper's markers at the largest strength
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=9)
    io.save_figure(fig, path)
    plt.close(fig)


def defense_curves_figure(rows: list[dict], path, title: str) -> None:
    """:func:`defense_curves`' rows: per target and attack, accuracy against eps (x 255) without and
    through each defense (top), and the share of the perturbation each passes on (bottom)."""
    plt = _plt()
    panels = list(dict.fromkeys((r["target"], r["attack"]) for r in rows))
    labels = list(dict.fromkeys(r["defense"] for r in rows))
    fig, axes = plt.subplots(2, len(panels), figsize=(3.8 * len(panels), 6.4), squeeze=False,
                             constrained_layout=True)
    for col, (target, a) in enumerate(panels):
        pts = [r for r in rows if (r["target"], r["attack"]) == (target, a)]
        top, bottom = axes[0][col], axes[1][col]
        first = [r for r in pts if r["defense"] == labels[0]] or pts
        top.plot([r["eps_255"] for r in first], [r["accuracy_undefended"] for r in first], "--", color="black",
                 marker="o", ms=3, label="no defense")
        for label in labels:
            mine = [r for r in pts if r["defense"] == label]
            if not mine:
                continue
            line = top.plot([r["eps_255"] for r in mine], [r["accuracy_defended"] for r in mine], "-", marker="o",
                            ms=3, label=label)[0]
            passed = [r for r in mine if r["perturbation_passed"] != ""]
            bottom.plot([r["eps_255"] for r in passed], [r["perturbation_passed"] for r in passed], "-", marker="o",
                        ms=3, color=line.get_color(), label=label)
        bottom.axhline(1.0, ls="--", color="black", lw=0.8, label="identity")
        top.set_ylim(-2, 102)
        top.set_ylabel("accuracy (%)")
        top.set_title(f"{target}: {PRETTY_ATTACK[a]}", fontsize=9)
        bottom.set_ylim(bottom=0)
        bottom.set_ylabel("perturbation passed on")
        for ax in (top, bottom):
            ax.set_xlabel(f"{PRETTY_ATTACK[a]} eps (x 1/255)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=9)
    io.save_figure(fig, path)
    plt.close(fig)


# ------------------------------------------------------------------------------------------ outputs
OUTPUT_KINDS = {"depth": (DEPTH_COLUMNS, depth_figure), "curves": (CURVE_COLUMNS, curves_figure),
                "defenses": (DEFENSE_CURVE_COLUMNS, defense_curves_figure)}


def write_outputs(out_dir, stem: str, rows: list[dict], *, kind: str, title: str, meta: dict) -> dict:
    """``<stem>.csv`` (the long rows, :data:`DEPTH_COLUMNS`, :data:`CURVE_COLUMNS` or
    :data:`DEFENSE_CURVE_COLUMNS` for ``kind`` "depth" / "curves" / "defenses"), ``<stem>.png`` and
    ``<stem>.meta.json`` (``meta`` plus the columns' definitions), each written atomically. Returns the paths."""
    from pathlib import Path

    check_choice(kind, "kind", tuple(OUTPUT_KINDS))
    if not rows:
        raise ValueError(f"`rows` is empty: nothing to write for {stem!r}.")
    columns, figure = OUTPUT_KINDS[kind]
    out = Path(out_dir)
    paths = {"csv": out / f"{stem}.csv", "png": out / f"{stem}.png", "meta": out / f"{stem}.meta.json"}
    io.write_csv(paths["csv"], rows, list(columns))
    figure(rows, paths["png"], title)
    io.write_json(paths["meta"], {**meta, "metric_definitions": columns})
    return paths


# ------------------------------------------------------------------------------------------ targets
# papers/002's ResNet-50 per dataset: (table spec name, row label), Tables 1-3.
ZHANG_TABLES = {"mnist": ("zhang_table1_mnist", "ResNet50"),
                "fashion_mnist": ("zhang_table2_fashion_mnist", "ResNet50"),
                "cifar10": ("zhang_table3_cifar10", "ResNet50")}


def zhang_run(dataset: str, scale_name: str, *, data_dir, cache_dir, seed: int, progress: bool, log,
              precision: str = "mixed_bfloat16"):
    """The papers/002 table run (:class:`keras_restore.pipeline.phases.Run`) of ``dataset``, data
    loaded: ``run.target(label, name)`` / ``run.restorer(label)`` then load the table's cached
    ResNet-50 and EDSR (or train them at ``scale_name``, with the table's cache keys). Returns
    ``(run, label)``."""
    from keras_restore.pipeline.phases import Run
    from keras_restore.pipeline.scales import get_scale
    from keras_restore.pipeline.tables import get_table

    check_choice(dataset, "dataset", ZHANG_TABLES)
    table, label = ZHANG_TABLES[dataset]
    spec = get_table(table)
    run = Run(spec, get_scale(scale_name, spec), data_dir=data_dir, cache_dir=cache_dir, seed=seed, columns=None,
              progress=progress, log=log, precision=precision)
    run.load_data()
    return run, label


# ------------------------------------------------------------------------------------------ scripts
SCALE_NAMES = ("quick", "default", "retrain", "paper")


def quick_grid(grid) -> tuple:
    """First, middle and last value of ``grid`` (the --quick cut)."""
    grid = tuple(grid)
    return tuple(dict.fromkeys((grid[0], grid[len(grid) // 2], grid[-1])))


def sweep_parser(description: str, epilog: str, datasets=DATASETS):
    """The command line of the papers/002 figure scripts (the scale flags of the table scripts)."""
    import argparse

    from keras_restore.pipeline.script import add_scale_flags

    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=epilog)
    add_scale_flags(p, quick="CI smoke run: 30 images, 3 points per curve, tiny targets (numbers are not results)",
                    retrain="the targets and restorers of the papers/002 tables at their --retrain scale",
                    paper="the whole test set, the tables' --paper models: meant for a GPU",
                    data_dir="directory with mnist.npz, fashion_mnist.npz, cifar10/ (default: $KERAS_RESTORE_DATA, "
                             "else tensorflow-datasets)")
    p.add_argument("--out-dir", default=None,
                   help="where the CSV/PNG/meta go (default: reproduce/results; --quick/--retrain/--paper: "
                        "reproduce/results/<scale>)")
    p.add_argument("--cache-dir", default=str(cache_default_dir()),
                   help="trained targets/restorers (shared with the papers/002 table runs) and adversarial sets "
                        "(an interrupted run resumes)")
    p.add_argument("--seed", type=int, default=0, help="seed of the attacks and of any model trained here (the "
                                                        "tables' seed, to reuse their cached models)")
    p.add_argument("--datasets", nargs="+", default=list(datasets), choices=list(datasets), metavar="DATASET",
                   help=f"some of {', '.join(datasets)} (default: all)")
    p.add_argument("--precision", default="mixed_bfloat16", choices=("auto", "float32", "mixed_bfloat16",
                                                                     "mixed_float16"),
                   help="dtype policy of any restorer trained here (part of its cache key: give the table run's "
                        "to reuse its EDSR); attacks and evaluation always run in float32")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def parse_sweep_args(p, argv):
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    args.datasets = list(dict.fromkeys(args.datasets))
    return args


def out_dir(args):
    from pathlib import Path

    from keras_restore.pipeline.script import REPO

    return Path(args.out_dir or REPO / "reproduce" / "results" / ("" if args.scale == "default" else args.scale))


def logger():
    def log(msg):
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    return log


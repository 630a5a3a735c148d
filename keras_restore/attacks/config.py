"""Default attack parameters per dataset, each with its source.

``default_params(name, dataset)`` returns a plain JSON-serialisable dict (``norm`` is the string
``"inf"`` or ``"2"``; every attack accepts it); the pipeline records it in results' metadata.
``default_source(name, dataset)`` says where the values come from.
"""

from __future__ import annotations

import copy

from keras_restore.validation import check_choice

DATASETS = ("mnist", "fashion_mnist", "cifar10")

CW_NOTE = (
    "CW-L2 defaults: confidence 0, 5 binary-search steps and initial_const 0.01 as in CleverHans / "
    "Carlini & Wagner's code. Their learning rate 0.01 needs ~1,000 Adam iterations per round "
    "(too slow on a 2-core CPU); measured on a 1-epoch M1 with 200 correctly classified MNIST test "
    "images (5 binary-search steps, initial_const 0.01, 2-core CPU): lr 0.01 x 50 iterations "
    "fooled 19%; lr 0.01 x 200 fooled 95% (median L2 2.27) in 42 s; lr 0.05 x 50 fooled 93%; lr 0.1 "
    "x 50 fooled 98% (median L2 2.31) in 7 s; lr 0.2 x 30 fooled 98% (2.43) in 5 s; lr 0.1 x 100 "
    "fooled 100% with median L2 1.71 (below DeepFool's 1.76) in 14 s per 100 images. Chosen: "
    "learning_rate 0.1, max_iterations 100 per binary-search round (no early abort)."
)

SPA_NOTE = (
    "Spatial grid as Engstrom et al. 2019: 31 rotations over +-30 deg x 5 x 5 translations over "
    "+-3 px (775 points, searched in order of transformation size, stopping per batch once every "
    "image is fooled)."
)

_MNIST = {
    "fgsm": {"eps": 0.3, "norm": "inf", "clip_min": 0.0, "clip_max": 1.0, "targeted": False},
    "bim": {"eps": 0.3, "eps_iter": 0.01, "nb_iter": 40, "norm": "inf", "clip_min": 0.0,
            "clip_max": 1.0, "targeted": False},
    "pgd": {"eps": 0.3, "eps_iter": 0.01, "nb_iter": 40, "norm": "inf", "clip_min": 0.0,
            "clip_max": 1.0, "targeted": False, "rand_init": True, "rand_minmax": None},
    "mim": {"eps": 0.3, "eps_iter": 0.03, "nb_iter": 10, "norm": "inf", "clip_min": 0.0,
            "clip_max": 1.0, "targeted": False, "decay_factor": 1.0},
    "rfgsm": {"eps": 0.3, "alpha": 0.15, "norm": "inf", "clip_min": 0.0, "clip_max": 1.0,
              "targeted": False},
    "cw": {"clip_min": 0.0, "clip_max": 1.0, "targeted": False, "confidence": 0.0,
           "binary_search_steps": 5, "max_iterations": 100, "learning_rate": 0.1,
           "initial_const": 0.01},
    "deepfool": {"nb_candidate": 10, "overshoot": 0.02, "max_iter": 50, "clip_min": 0.0,
                 "clip_max": 1.0},
    "spa": {"n_angles": 31, "max_angle": 30.0, "n_translations": 5, "max_translation": 3.0,
            "clip_min": 0.0, "clip_max": 1.0},
    "jsma": {"theta": 1.0, "gamma": 0.145, "clip_min": 0.0, "clip_max": 1.0, "exact": False, "top_k": 32},
    "apgd": {"eps": 0.3, "norm": "inf", "loss": "ce", "targeted": False, "n_iter": 100,
             "n_restarts": 1, "n_target_classes": 9, "rho": 0.75, "eot_iter": 1, "clip_min": 0.0,
             "clip_max": 1.0},
    "apgd_t": {"eps": 0.3, "norm": "inf", "loss": "dlr", "targeted": True, "n_iter": 100,
               "n_restarts": 1, "n_target_classes": 9, "rho": 0.75, "eot_iter": 1, "clip_min": 0.0,
               "clip_max": 1.0},
}

_CIFAR = copy.deepcopy(_MNIST)
for _name in ("fgsm", "bim", "pgd", "mim", "rfgsm", "apgd", "apgd_t"):
    _CIFAR[_name]["eps"] = 8 / 255
_CIFAR["bim"].update(eps_iter=2 / 255, nb_iter=10)
_CIFAR["pgd"].update(eps_iter=2 / 255, nb_iter=10)
_CIFAR["mim"].update(eps_iter=0.8 / 255, nb_iter=10)
_CIFAR["rfgsm"].update(alpha=4 / 255)

_DEFAULTS = {"mnist": _MNIST, "fashion_mnist": _MNIST, "cifar10": _CIFAR}

_SOURCES = {
    "fgsm": {
        "mnist": "eps=0.3: Goodfellow et al. 2015 (ICLR), MNIST; Madry et al. 2018 threat model.",
        "cifar10": "eps=8/255: Madry et al. 2018 (ICLR), CIFAR-10 threat model.",
    },
    "bim": {
        "mnist": "eps=0.3, 40 steps of 0.01: Madry et al. 2018 (ICLR), MNIST (without random start, "
                 "Kurakin et al. 2017).",
        "cifar10": "eps=8/255, 10 steps of 2/255: Madry et al. 2018 (ICLR), CIFAR-10 "
                   "(as in its 7-10 step evaluation; without random start, Kurakin et al. 2017).",
    },
    "pgd": {
        "mnist": "eps=0.3, 40 steps of 0.01, uniform random start: Madry et al. 2018 (ICLR), MNIST.",
        "cifar10": "eps=8/255, 10 steps of 2/255, random start: Madry et al. 2018 (ICLR), CIFAR-10.",
    },
    "mim": {
        "mnist": "eps=0.3, 10 steps of eps/10, decay 1.0: Dong et al. 2018 (CVPR), Sec. 4.",
        "cifar10": "eps=8/255, 10 steps of eps/10, decay 1.0: Dong et al. 2018 (CVPR), Sec. 4.",
    },
    "rfgsm": {
        "mnist": "eps=0.3, alpha=eps/2: Tramer et al. 2018 (ICLR), Eq. 7 (alpha = eps/2).",
        "cifar10": "eps=8/255, alpha=eps/2: Tramer et al. 2018 (ICLR), Eq. 7 (alpha = eps/2).",
    },
    "cw": {"*": "confidence 0, 5 binary-search steps, initial_const 0.01: CleverHans / Carlini & "
                "Wagner 2017 code defaults; learning rate and iterations measured here: CW_NOTE."},
    "deepfool": {"*": "overshoot 0.02, 50 iterations, 10 candidate classes: Moosavi-Dezfooli et al. "
                      "2016 (CVPR) / CleverHans defaults."},
    "spa": {"*": "31 rotations over +-30 deg x 5x5 translations over +-3 px, grid search: Engstrom "
                 "et al. 2019 (ICML), Sec. 3/5."},
    "apgd": {
        "mnist": "eps=0.3 (Madry et al. 2018 MNIST threat model); APGD-CE as in AutoAttack's "
                 "standard version (Croce & Hein 2020, ICML): 100 iterations, 1 restart, "
                 "rho=0.75, momentum 0.75, initial step 2*eps, checkpoints p_j of Sec. 3.",
        "cifar10": "eps=8/255 (Madry et al. 2018 CIFAR-10 threat model); APGD-CE as in AutoAttack's "
                   "standard version (Croce & Hein 2020, ICML): 100 iterations, 1 restart, "
                   "rho=0.75, momentum 0.75, initial step 2*eps, checkpoints p_j of Sec. 3.",
    },
    "apgd_t": {
        "mnist": "eps=0.3 (Madry et al. 2018 MNIST threat model); APGD-T (targeted DLR loss) as "
                 "in AutoAttack's standard version (Croce & Hein 2020, ICML): 9 target classes x "
                 "1 restart x 100 iterations, rho=0.75.",
        "cifar10": "eps=8/255 (Madry et al. 2018 CIFAR-10 threat model); APGD-T (targeted DLR loss) as "
                   "in AutoAttack's standard version (Croce & Hein 2020, ICML): 9 target classes "
                   "x 1 restart x 100 iterations, rho=0.75.",
    },
    "jsma": {"*": "theta=+1, gamma=0.145 (14.5% of features): Papernot et al. 2016 (EuroS&P), MNIST; pair search over the top 32 candidate pixels per ranking (exact=False; identical images to the exact search on 200 M1 test images, see attacks/jsma.py)."},
}


def _check(name, dataset):
    from keras_restore.attacks import ATTACKS, PAPER_NAMES

    name = PAPER_NAMES.get(name, name)
    check_choice(name, "attack", ATTACKS)
    check_choice(dataset, "dataset", DATASETS)
    return name


def default_params(name: str, dataset: str = "mnist") -> dict:
    """The default parameters of attack ``name`` on ``dataset`` (a fresh, JSON-serialisable dict)."""
    name = _check(name, dataset)
    return copy.deepcopy(_DEFAULTS[dataset][name])


def default_source(name: str, dataset: str = "mnist") -> str:
    """Citation for :func:`default_params` of ``name`` on ``dataset``."""
    name = _check(name, dataset)
    src = _SOURCES[name]
    text = src.get("*") or src["cifar10" if dataset == "cifar10" else "mnist"]
    if name == "cw":
        text += " " + CW_NOTE
    if name == "spa":
        text += " " + SPA_NOTE
    return text

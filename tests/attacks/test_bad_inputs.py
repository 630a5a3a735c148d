"""Bad arguments raise ValueError naming the argument (never an assert or a TF shape error)."""

from __future__ import annotations

import numpy as np
import pytest

import keras_restore.attacks as A


@pytest.fixture(scope="module")
def tiny():
    import keras

    from keras_restore.models import build

    keras.utils.set_random_seed(0)
    return build("m2")  # untrained MLP: argument checks only


X = np.full((4, 28, 28, 1), 0.5, np.float32)
Y = np.array([0, 1, 2, 3])

CASES = [
    # (attack, x, y, params, message)
    ("fgsm", X[0], Y, {}, r"`x` must be a 4-D batch"),
    ("fgsm", np.full((4, 32, 32, 1), 0.5, np.float32), Y, {}, r"`x` must have image shape \(28, 28, 1\)"),
    ("fgsm", X * 3, Y, {}, r"`x` values must lie in \[0, 1\]"),
    ("fgsm", np.where(X > 0, np.nan, X).astype(np.float32), Y, {}, r"`x` contains .* NaN/Inf"),
    ("fgsm", X[:0], Y[:0], {}, r"`x` is an empty batch"),
    ("fgsm", X, Y, {"eps": -0.1}, r"`eps` must be >= 0"),
    ("bim", X, Y, {"eps_iter": 0.5}, r"`eps_iter` \(0.5\) must be <= `eps` \(0.3\)"),
    ("pgd", X, Y, {"nb_iter": 0}, r"`nb_iter` must be an integer >= 1"),
    ("fgsm", X, Y[:3], {}, r"`y` has 3 labels for 4 images"),
    ("fgsm", X, np.array([0, 1, 2, 10]), {}, r"`y` class indices must lie in \[0, 9\]"),
    ("fgsm", X, Y, {"epsilon": 0.1}, r"Unknown parameter\(s\) 'epsilon' for attack 'fgsm'; valid ones: .*eps"),
    ("fgsm", X, Y, {"norm": 3}, r"`norm` must be one of inf, 2, 1"),
    ("rfgsm", X, Y, {"alpha": 0.5}, r"`alpha` \(0.5\) must be <= `eps` \(0.3\)"),
    ("cw", X, None, {"targeted": True}, r"`y` \(the target classes\) is required when targeted=True"),
    ("cw", X, Y, {"binary_search_steps": 0}, r"`binary_search_steps` must be an integer >= 1"),
    ("cw", X, Y, {"learning_rate": 0}, r"`learning_rate` must be > 0"),
    ("fgsm", X, Y, {"clip_min": 1.0, "clip_max": 0.0}, r"`clip_min` must be < `clip_max`"),
    ("jsma", X, Y, {"theta": 0}, r"`theta` must be non-zero"),
    ("jsma", X, Y, {"y_target": Y}, r"`y_target` must differ from the true label"),
    ("jsma", X, Y, {"top_k": 0}, r"`top_k` must be an integer >= 1, got 0"),
    ("jsma", X, Y, {"top_k": 2.5}, r"`top_k` must be an integer >= 1, got 2.5"),
    ("jsma", X, Y, {"exact": "yes"}, r"`exact` must be True or False, got 'yes'"),
    ("jsma", X, Y, {"gamma": 0}, r"`gamma` must be > 0"),
    ("jsma", X, Y, {"theta": 2}, r"`theta` must be <= 1"),
    ("jsma", X, Y, {"top-k": 8}, r"Unknown parameter\(s\) 'top-k' for attack 'jsma'; valid ones: .*top_k"),
    ("deepfool", X, Y, {"nb_candidate": 1}, r"`nb_candidate` must be an integer >= 2"),
    ("spa", X, Y, {"n_angles": 0}, r"`n_angles` must be an integer >= 1"),
    ("mim", X, Y, {"targeted": "yes"}, r"`targeted` must be True or False"),
]


@pytest.mark.parametrize("name,x,y,params,message", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_generate_rejects(tiny, name, x, y, params, message):
    with pytest.raises(ValueError, match=message):
        A.generate(name, tiny, x, y, progress=False, **params)


def test_integer_images_are_a_type_error(tiny):
    with pytest.raises(TypeError, match="floating dtype"):
        A.generate("fgsm", tiny, (X * 255).astype(np.uint8), Y, progress=False)


@pytest.mark.parametrize("kwargs,message", [
    ({"batch_size": 0}, r"`batch_size` must be an integer >= 1"),
    ({"logits": "yes"}, r"`logits` must be True, False or None"),
    ({"dataset": "imagenet"}, r"Unknown dataset 'imagenet'"),
    ({"seed": -1}, r"`seed` must be an integer >= 0"),
])
def test_generate_rejects_options(tiny, kwargs, message):
    with pytest.raises(ValueError, match=message):
        A.generate("fgsm", tiny, X, Y, progress=False, **kwargs)


def test_unknown_attack_names():
    with pytest.raises(ValueError, match=r"Unknown attack 'foo'; expected one of: fgsm, bim"):
        A.generate("foo", None, X)
    with pytest.raises(ValueError, match=r"Unknown attack 'foo'"):
        A.default_params("foo")
    assert A.default_params("DFA") == A.default_params("deepfool")


def test_public_functions_check_arguments(tiny):
    with pytest.raises(ValueError, match=r"`eps` must be >= 0"):
        A.fast_gradient_method(tiny, X, -1.0, np.inf)
    with pytest.raises(ValueError, match=r"`eps_iter` \(0.2\) must be <= `eps` \(0.1\)"):
        A.projected_gradient_descent(tiny, X, 0.1, 0.2, 10, np.inf)
    with pytest.raises(ValueError, match=r"`nb_iter` must be an integer >= 1"):
        A.basic_iterative_method(tiny, X, 0.1, 0.01, 0, np.inf)
    with pytest.raises(ValueError, match=r"`max_iter` must be an integer >= 1"):
        A.deepfool_attack(tiny, X, max_iter=0)
    with pytest.raises(ValueError, match=r"`x` values must lie in \[-1, 1\]"):
        A.carlini_wagner_l2(tiny, X * 5 - 1.0, clip_min=-1.0, clip_max=1.0)


def test_jsma_function_rejects(tiny):
    """The module-level ``jsma`` (no ``generate`` in between) checks the new arguments too."""
    from keras_restore.attacks.jsma import jsma

    with pytest.raises(ValueError, match=r"`top_k` must be an integer >= 1, got -3"):
        jsma(tiny, X, top_k=-3)
    with pytest.raises(ValueError, match=r"`exact` must be True or False, got 1"):
        jsma(tiny, X, exact=1)

"""Cross-check against ART 1.20 (an independent implementation): with the same parameters, the
accuracy of M1 under our attack and under ART's is within a few percentage points.

Measured (1-epoch M1, correctly classified test images): FGSM eps 0.3: ours 12%, ART 12% (n=100);
BIM 10 x 0.03: 2% / 2% (n=50); DeepFool: 0% / 0% (n=20); CW-L2 2 x 10 iterations, c0=1: 73% / 80%
(n=15; ART's CW uses its own line search, so a wider tolerance).
"""

from __future__ import annotations

import numpy as np
import pytest

import keras_restore.attacks as A

art = pytest.importorskip("art")


def predict(model, x):
    return np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1)


@pytest.fixture(scope="module")
def classifier(m1):
    import keras
    from art.estimators.classification import TensorFlowV2Classifier

    return TensorFlowV2Classifier(
        model=m1, nb_classes=10, input_shape=(28, 28, 1), clip_values=(0.0, 1.0),
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def _compare(m1, x, y, ours, theirs, tol):
    acc_ours = float(np.mean(predict(m1, ours) == y))
    acc_art = float(np.mean(predict(m1, theirs) == y))
    print(f"accuracy under attack: ours {acc_ours:.2f}, ART {acc_art:.2f} (n={len(y)})")
    assert abs(acc_ours - acc_art) <= tol, f"ours {acc_ours:.2f} vs ART {acc_art:.2f}"
    return acc_ours, acc_art


def test_fgsm_matches_art(m1, clean, classifier):
    from art.attacks.evasion import FastGradientMethod

    x, y = clean
    theirs = FastGradientMethod(classifier, norm=np.inf, eps=0.3, batch_size=100).generate(x, y=y)
    ours = A.generate("fgsm", m1, x, y, progress=False)
    _compare(m1, x, y, ours, theirs, 0.03)
    # one deterministic step: the images themselves agree except where the gradient is ~0
    assert np.mean(np.isclose(ours, theirs, atol=1e-5)) > 0.97


def test_pgd_matches_art(m1, clean, classifier):
    from art.attacks.evasion import ProjectedGradientDescent

    x, y = clean
    x, y = x[:50], y[:50]
    theirs = ProjectedGradientDescent(classifier, norm=np.inf, eps=0.3, eps_step=0.03, max_iter=10,
                                      num_random_init=0, batch_size=50, verbose=False).generate(x, y=y)
    ours = A.generate("bim", m1, x, y, eps_iter=0.03, nb_iter=10, progress=False)
    _compare(m1, x, y, ours, theirs, 0.06)


@pytest.mark.slow  # ~24 s on 2 shared cores, almost all of it ART's DeepFool
def test_deepfool_matches_art(m1, clean, classifier):
    from art.attacks.evasion import DeepFool

    x, y = clean
    x, y = x[:20], y[:20]  # ART's DeepFool is ~20x slower than ours on CPU
    theirs = DeepFool(classifier, max_iter=50, epsilon=0.02, nb_grads=10, batch_size=20,
                      verbose=False).generate(x)
    ours = A.generate("deepfool", m1, x, y, progress=False)
    _compare(m1, x, y, ours, theirs, 0.07)
    l2 = lambda a: float(np.median(np.linalg.norm((a - x).reshape(len(x), -1), axis=1)))  # noqa
    assert l2(ours) < 1.5 * l2(theirs) and l2(theirs) < 1.5 * l2(ours)


def test_cw_matches_art(m1, clean, classifier):
    from art.attacks.evasion import CarliniL2Method

    x, y = clean
    x, y = x[:15], y[:15]
    params = dict(confidence=0.0, binary_search_steps=2, max_iterations=10, learning_rate=0.1,
                  initial_const=1.0)
    theirs = CarliniL2Method(classifier, confidence=0.0, learning_rate=0.1, binary_search_steps=2,
                             max_iter=10, initial_const=1.0, batch_size=15,
                             verbose=False).generate(x, y=y)
    ours = A.generate("cw", m1, x, y, progress=False, **params)
    _compare(m1, x, y, ours, theirs, 0.2)

"""The defense registry and preprocessing layers: entries build, gradients are declared and
finite, feature squeezing matches the reference (scipy) median filter, bad input is refused."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore import models
from keras_restore.defenses import (
    DEFENSES, BitDepthReduction, Defense, MedianFilter, build_defense, declared_gradient, get_defense,
)


def _classifier(shape=(28, 28, 1)):
    inp = keras.Input(shape)
    x = keras.layers.Flatten()(inp)
    return keras.Model(inp, keras.layers.Dense(10)(x), name="tiny_classifier")


@pytest.mark.parametrize("size", [2, 3])
def test_median_filter_matches_scipy(size):
    ndimage = pytest.importorskip("scipy.ndimage")
    x = np.random.default_rng(size).random((3, 9, 7, 2)).astype("float32")
    ref = ndimage.median_filter(x, size=(1, size, size, 1), mode="reflect")
    np.testing.assert_array_equal(MedianFilter(size)(x).numpy(), ref)


def test_bit_depth_forward_exact_and_gradient_straight_through():
    x = tf.constant(np.random.default_rng(0).random((2, 5, 5, 1)).astype("float32"))
    layer = BitDepthReduction(bits=1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(3.0 * y)
    np.testing.assert_array_equal(y.numpy(), np.round(x.numpy()))
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), np.full(x.shape, 3.0, np.float32))
    levels = BitDepthReduction(levels=4)(x).numpy()
    assert set(np.unique(np.round(levels * 3, 5))) <= {0.0, 1.0, 2.0, 3.0}


def test_every_registry_entry_builds_and_gives_gradients():
    clf = _classifier()
    for name, spec in DEFENSES.items():
        kwargs = {}
        if spec.restorers:
            kwargs["restorer"] = models.build(spec.restorer_name("mnist", "anet") if name == "crunet"
                                              else spec.restorer_name("mnist"))
        if spec.robust_models:
            kwargs[spec.model_arg] = keras.models.clone_model(clf)   # an (untrained) copy of the classifier
        defense = build_defense(name, clf, dataset="mnist", fast=False, **kwargs)
        assert isinstance(defense, Defense) and defense.name == name
        x = tf.constant(np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(defense.model(x))
        grad = tape.gradient(loss, x).numpy()
        assert np.isfinite(grad).all() and np.abs(grad).sum() > 0, name
        assert set(defense.gradients().values()) <= {"exact", "bpda"}
        np.testing.assert_allclose(defense.predict(x.numpy()), defense.model(x).numpy(), atol=1e-4)


def test_feature_squeezing_defaults_and_description():
    d = build_defense("feature_squeezing", _classifier(), dataset="mnist")
    desc = d.describe()
    assert [p["layer"] for p in desc["preprocessing"]] == ["BitDepthReduction", "MedianFilter"]
    assert desc["gradients"] == {"squeeze_bits1": "bpda", "squeeze_median2x2": "exact", "tiny_classifier": "exact"}
    assert desc["preprocessing"][0]["config"]["bits"] == 1 and desc["preprocessing"][1]["config"]["size"] == 2
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    restored = d.restore(x)
    assert set(np.unique(restored)) <= {0.0, 1.0}   # 1-bit then a median of binary values stays binary
    cifar = build_defense("feature_squeezing", _classifier((32, 32, 3)), dataset="cifar10")
    assert cifar.describe()["preprocessing"][0]["config"]["bits"] == 5


def test_adversarial_training_replaces_the_classifier():
    clf = _classifier()
    robust = keras.models.clone_model(clf)
    d = build_defense("adversarial_training", clf, dataset="mnist", robust=robust)
    assert d.classifier is robust and d.restorer is None and not d.preprocessing
    spec = get_defense("adversarial_training")
    assert spec.model_arg == "robust" and spec.robust_models["mnist"]["m1"] == "m1_pgd_at"
    assert spec.reported["mnist"]["value"] == 93.2   # Madry et al. 2018, Table 1, PGD-40
    with pytest.raises(ValueError, match=r"`robust` must have the classifier's input shape \(28, 28, 1\)"):
        build_defense("adversarial_training", clf, dataset="mnist", robust=_classifier((32, 32, 3)))
    with pytest.raises(ValueError, match="`robust` must be a keras.Model"):
        build_defense("adversarial_training", clf, dataset="mnist", robust="m1_pgd_at")
    with pytest.raises(ValueError, match="`target` must be one of m1, got 'm2'"):
        build_defense("adversarial_training", clf, dataset="mnist", target="m2")
    with pytest.raises(ValueError, match="no robust model for dataset 'cifar10'"):
        build_defense("adversarial_training", _classifier((32, 32, 3)), dataset="cifar10")
    with pytest.raises(ValueError, match="takes no options, got bits"):
        build_defense("adversarial_training", clf, dataset="mnist", robust=robust, bits=3)


def test_image_reconstruction_is_depth_reduction_then_edsr():
    from keras_restore.models.edsr import edsr_restorer

    clf = _classifier()
    d = build_defense("image_reconstruction", clf, dataset="mnist", restorer=edsr_restorer(blocks=1, filters=4))
    assert [type(p).__name__ for p in d.preprocessing] == ["BitDepthReduction"]
    assert d.describe()["preprocessing"][0]["config"]["levels"] == 2       # papers/002: k = 2 on MNIST
    assert d.gradients()["depth_levels2"] == "bpda"
    f = build_defense("image_reconstruction", clf, dataset="fashion_mnist", restorer=edsr_restorer(blocks=1, filters=4))
    assert f.describe()["preprocessing"][0]["config"]["levels"] == 4       # k = 4 on Fashion-MNIST
    with pytest.raises(ValueError, match="no defaults for dataset 'svhn'"):
        build_defense("image_reconstruction", clf, dataset="svhn", restorer=edsr_restorer(blocks=1, filters=4))


def test_bad_input():
    clf = _classifier()
    with pytest.raises(ValueError, match="Unknown defense 'no_such_defense'"):
        get_defense("no_such_defense")
    with pytest.raises(ValueError, match="declares no gradient"):
        Defense(clf, None, [keras.layers.ReLU()])
    with pytest.raises(ValueError, match="`classifier` must be a keras.Model"):
        Defense("m1")
    with pytest.raises(ValueError, match="Give exactly one of `bits` and `levels`"):
        BitDepthReduction()
    with pytest.raises(ValueError, match="`bits` must be an int in"):
        BitDepthReduction(bits=0)
    with pytest.raises(ValueError, match="`size` must be an int >= 2"):
        MedianFilter(1)
    with pytest.raises(ValueError, match="no defaults for dataset 'svhn'"):
        build_defense("feature_squeezing", clf, dataset="svhn")
    with pytest.raises(ValueError, match="training-free: `restorer` must be None"):
        build_defense("feature_squeezing", clf, dataset="mnist", restorer=clf)
    with pytest.raises(ValueError, match="`target` must be one of anet, bnet"):
        build_defense("crunet", clf, dataset="mnist")
    with pytest.raises(ValueError, match="takes no options"):
        build_defense("deep_image_restoration", clf, dataset="mnist", restorer=models.build("restorer_mnist"),
                      bits=3)
    with pytest.raises(ValueError, match="no restorer for dataset 'svhn'"):
        get_defense("deep_image_restoration").restorer_name("svhn")
    x = np.zeros((2, 28, 28, 1), np.float32)
    d = build_defense("feature_squeezing", clf, dataset="mnist")
    with pytest.raises(ValueError, match="x"):
        d.restore(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match="empty"):
        d.restore(x[:0])
    with pytest.raises(ValueError):
        d.restore(np.full_like(x, np.nan))
    assert declared_gradient(MedianFilter(2)) == "exact"


def test_fgsm_adversarial_training_is_its_own_entry():
    clf = _classifier()
    robust = keras.models.clone_model(clf)
    d = build_defense("fgsm_adversarial_training", clf, dataset="mnist", robust=robust)
    assert d.classifier is robust and d.name == "fgsm_adversarial_training"
    spec = get_defense("fgsm_adversarial_training")
    assert spec.recipe == "adversarial_fgsm" and spec.robust_models["mnist"]["m1"] == "m1_fgsm_at"
    # papers/000 Table 9's copy of the DenseNet121 (fine-tuned by that table's run; loaded once shipped)
    assert spec.robust_models["cifar10"] == {"densenet121_cifar10": "densenet121_cifar10_fgsm_at"}
    assert models.get_spec("densenet121_cifar10_fgsm_at").dataset == "cifar10"
    with pytest.raises(ValueError, match="on cifar10: `target` must be one of densenet121_cifar10, got 'm1'"):
        build_defense("fgsm_adversarial_training", _classifier((32, 32, 3)), dataset="cifar10", target="m1")
    assert spec.reported["mnist"]["value"] == 82.1   # Goodfellow et al. 2015, Sec. 6: 17.9% error at eps 0.25
    with pytest.raises(ValueError, match="Defense 'fgsm_adversarial_training' on mnist: `target` must be one of m1"):
        build_defense("fgsm_adversarial_training", clf, dataset="mnist", target="m2")
    with pytest.raises(ValueError, match="Defense 'fgsm_adversarial_training' takes no options, got levels"):
        build_defense("fgsm_adversarial_training", clf, dataset="mnist", robust=robust, levels=2)

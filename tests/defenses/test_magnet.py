"""MagNet (Meng & Chen 2017) as a defense: reconstruction-error detectors with thresholds at a stated
false-positive rate on clean validation images, the reformer -> classifier model, MagNet's metrics,
bad arguments."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_restore import data, models
from keras_restore.defenses import build_defense, get_defense
from keras_restore.defenses.magnet import MagNet, MagNetDetector, ReconstructionDetector, magnet
from keras_restore.metrics import predict


def _classifier(shape=(28, 28, 1)):
    inp = keras.Input(shape)
    x = keras.layers.Flatten()(inp)
    return keras.Model(inp, keras.layers.Dense(10)(x), name="tiny_classifier")


@pytest.fixture(scope="module")
def x_val(data_dir):
    """Clean validation images as MagNet takes them: the first training images."""
    return data.load_arrays("mnist", "train", data_dir, limit=2000)[0]


def _shipped_or_skip():
    missing = [n for n in ("magnet_mnist_reformer", "magnet_mnist_detector2") if n not in models.shipped()]
    if missing:
        pytest.skip(f"not shipped yet: {', '.join(missing)} (reproduce/baseline_magnet.py --retrain --ship)")


def test_score_is_mean_reconstruction_error_to_the_p(x_val):
    ae = models.build("magnet_mnist_detector2")
    x = x_val[:50]
    rec = ae.predict(x, verbose=0).astype(np.float64)
    for p in (1, 2):
        d = ReconstructionDetector(ae, p=p)
        np.testing.assert_allclose(d.score(x), np.mean(np.abs(x - rec) ** p, axis=(1, 2, 3)), rtol=1e-5)
    assert ReconstructionDetector(ae, p=2).name == "magnet_mnist_detector2/p2"


@pytest.mark.parametrize("fpr", [0.001, 0.005, 0.05, 0.3])
def test_threshold_gives_at_most_the_fpr_on_its_validation_data(x_val, fpr):
    """Each detector rejects at most fpr / m of the images it was calibrated on, and exactly
    floor(n fpr / m) of them (continuous scores do not tie); the ensemble at most fpr."""
    detectors = [ReconstructionDetector(models.build("magnet_mnist_reformer"), p=2, name="I"),
                 ReconstructionDetector(models.build("magnet_mnist_detector2"), p=1, name="II")]
    ensemble = MagNetDetector(detectors)
    thresholds = ensemble.calibrate(x_val, fpr)
    assert set(thresholds) == {"I", "II"}
    n = len(x_val)
    for d in detectors:
        flagged = d.flag(x_val)
        assert flagged.mean() <= fpr / 2 and int(flagged.sum()) == int(np.floor(n * fpr / 2))
        assert d.validation_fpr == flagged.mean() and d.n_validation == n and d.fpr == fpr / 2
    assert ensemble.flag(x_val).mean() == ensemble.validation_fpr <= fpr
    assert ensemble.describe()["detectors"][0]["threshold"] == thresholds["I"]


def test_detector_flags_an_obviously_corrupted_image(x_val):
    _shipped_or_skip()
    reformer, det2 = models.load_model("magnet_mnist_reformer"), models.load_model("magnet_mnist_detector2")
    ensemble = MagNetDetector([ReconstructionDetector(reformer, p=2, name="I"),
                               ReconstructionDetector(det2, p=1, name="II")])
    ensemble.calibrate(x_val, 0.005)
    rng = np.random.default_rng(0)
    clean = x_val[:8]
    noisy = np.clip(clean + rng.uniform(-0.5, 0.5, clean.shape), 0, 1).astype("float32")   # heavy noise
    inverted = 1.0 - clean                                                                # white background
    assert ensemble.flag(noisy).all() and ensemble.flag(inverted).all()
    assert all(s.min() > d.threshold for s, d in zip(ensemble.scores(noisy).values(), ensemble.detectors))


def test_magnet_defense_model_gradients_and_metrics(x_val):
    clf = _classifier()
    reformer = models.build("magnet_mnist_reformer")
    detector = MagNetDetector([ReconstructionDetector(reformer, p=2, name="I"),
                               ReconstructionDetector(models.build("magnet_mnist_detector2"), p=1, name="II")])
    d = build_defense("magnet", clf, dataset="mnist", restorer=reformer, detector=detector, fpr=0.01,
                      x_val=x_val, fast=False)
    assert isinstance(d, MagNet) and d.restorer is reformer and d.detector is detector and d.fpr == 0.01
    assert d.gradients() == {"magnet_mnist_reformer": "exact", "tiny_classifier": "exact"}
    desc = d.describe()
    assert desc["detector_differentiated"] is False and desc["detector"]["fpr"] == 0.01
    x = tf.constant(x_val[:4])
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(d.model(x))
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    np.testing.assert_allclose(d.predict(x.numpy()), predict(clf, reformer.predict(x.numpy(), verbose=0)), atol=1e-5)

    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, 200)
    x_clean = x_val[:200]
    x_adv = np.clip(x_clean + rng.uniform(-0.3, 0.3, x_clean.shape), 0, 1).astype("float32")
    m = d.evaluate_magnet(x_clean, x_adv, y)
    o_adv, o_clean = d.outcomes(x_adv, y), d.outcomes(x_clean, y)
    assert m["adv_detector_reformer_accuracy"] == pytest.approx(
        100 * np.mean(o_adv["rejected"] | (~o_adv["rejected"] & o_adv["correct_reformed"])))
    assert m["adv_detector_reformer_accuracy"] >= max(m["adv_reformer_accuracy"], m["adv_detection_rate"])
    assert m["clean_detector_reformer_accuracy"] == pytest.approx(
        100 * np.mean(~o_clean["rejected"] & o_clean["correct_reformed"]))   # a false reject is an error
    assert m["clean_detector_reformer_accuracy"] <= m["clean_reformer_accuracy"]
    assert m["clean_false_positive_rate"] == pytest.approx(100 * np.mean(o_clean["rejected"]))
    assert m["n_adv"] == m["n_clean"] == 200 and m["fpr_target"] == 0.01

    only = magnet(clf, dataset="mnist", restorer=reformer, detector=False, fast=False)
    assert only.detector is None
    assert set(only.evaluate_magnet(x_adv=x_adv, y=y)) == {"fpr_target", "n_adv", "adv_no_defense_accuracy",
                                                           "adv_reformer_accuracy"}


def test_registry_entry():
    spec = get_defense("magnet")
    assert spec.restorer_name("mnist") == "magnet_mnist_reformer" and spec.recipe == "magnet_denoising"
    assert spec.restorer_name("cifar10") == "magnet_cifar10_reformer"
    assert spec.defaults("mnist") == {"fpr": 0.005}
    assert spec.reported["mnist"]["value"] is None and "not checked" in spec.reported["mnist"]["source"]


def test_shipped_defaults(x_val):
    _shipped_or_skip()
    d = build_defense("magnet", _classifier(), dataset="mnist", fast=False)
    assert [det.name for det in d.detector.detectors] == ["detector_I", "detector_II"]
    assert [det.p for det in d.detector.detectors] == [2.0, 1.0]
    assert d.detector.detectors[0].autoencoder is d.restorer        # MagNet: detector I is the reformer
    assert not d.detector.calibrated
    d.calibrate(x_val)
    assert d.detector.validation_fpr <= 0.005


@pytest.mark.parametrize("fpr", [0, 1, -0.1, 1.5, True, "0.1", None])
def test_fpr_outside_open_unit_interval(fpr, x_val):
    with pytest.raises(ValueError, match=r"`fpr` must be a false-positive rate in \(0, 1\)"):
        magnet(_classifier(), dataset="mnist", restorer=models.build("magnet_mnist_reformer"), detector=False, fpr=fpr)
    detector = ReconstructionDetector(models.build("magnet_mnist_detector2"))
    with pytest.raises(ValueError, match=r"`fpr` must be a false-positive rate in \(0, 1\)"):
        detector.calibrate(x_val[:10], fpr)


def test_bad_arguments(x_val):
    clf = _classifier()
    reformer = models.build("magnet_mnist_reformer")
    ae = models.build("magnet_mnist_detector2")
    with pytest.raises(ValueError, match="has models for datasets mnist, cifar10 only, got 'svhn'"):
        build_defense("magnet", _classifier((32, 32, 3)), dataset="svhn", restorer=models.build(
            "magnet_cifar10_reformer"), detector=False)
    with pytest.raises(ValueError,
                       match=r"has no detectors for dataset 'cifar10' .*pass `detector=False` \(reformer only\)"):
        build_defense("magnet", _classifier((32, 32, 3)), dataset="cifar10",
                      restorer=models.build("magnet_cifar10_reformer"))
    with pytest.raises(ValueError, match="takes no options, got bits"):
        build_defense("magnet", clf, dataset="mnist", restorer=reformer, detector=False, bits=1)
    with pytest.raises(ValueError, match=r"`detector` takes images of shape \(32, 32, 3\) but the reformer takes "
                                         r"\(28, 28, 1\)"):
        MagNet(clf, reformer, ReconstructionDetector(models.build("magnet_mnist_detector2", input_shape=(32, 32, 3))))
    with pytest.raises(ValueError, match=r"`autoencoder` must output images of its input shape \(28, 28, 1\)"):
        ReconstructionDetector(clf)
    with pytest.raises(ValueError, match="`autoencoder` must be a keras.Model"):
        ReconstructionDetector("magnet_mnist_detector2")
    with pytest.raises(ValueError, match=r"`p` must be a number >= 1"):
        ReconstructionDetector(ae, p=0.5)
    with pytest.raises(ValueError, match=r"`x` must have image shape \(28, 28, 1\)"):
        ReconstructionDetector(ae).score(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match="has no threshold yet"):
        ReconstructionDetector(ae).flag(x_val[:2])
    with pytest.raises(ValueError, match="non-empty list of ReconstructionDetector"):
        MagNetDetector([])
    with pytest.raises(ValueError, match="distinct names"):
        MagNetDetector([ReconstructionDetector(ae), ReconstructionDetector(ae)])
    with pytest.raises(ValueError, match="must all take one image shape"):
        MagNetDetector([ReconstructionDetector(ae, name="a"),
                        ReconstructionDetector(models.build("magnet_mnist_detector2", input_shape=(32, 32, 3)),
                                               name="b")])
    with pytest.raises(ValueError, match="`reformer` must be a keras.Model"):
        MagNet(clf, None)
    with pytest.raises(ValueError, match=r"`restorer` \(MagNet's reformer\) must be a keras.Model"):
        magnet(clf, dataset="mnist", restorer="magnet_mnist_reformer")
    d = MagNet(clf, reformer, ReconstructionDetector(ae), fast=False)
    with pytest.raises(ValueError, match="The detector has no thresholds yet"):
        d.evaluate_magnet(x_adv=x_val[:4], y=np.zeros(4, int))
    d.calibrate(x_val[:100])
    with pytest.raises(ValueError, match="Give `x_adv`"):
        d.evaluate_magnet()
    with pytest.raises(ValueError, match=r"`y` \(the true labels of `x_adv`\) is required"):
        d.evaluate_magnet(x_adv=x_val[:4])
    with pytest.raises(ValueError, match="no detector"):
        MagNet(clf, reformer, fast=False).calibrate(x_val[:10])


def test_cifar10_reformer_only():
    # papers/000 Table 9's MagNet row: MagNet's CIFAR-10 autoencoder in front of the classifier, no detector.
    clf = _classifier((32, 32, 3))
    d = build_defense("magnet", clf, dataset="cifar10", restorer=models.build("magnet_cifar10_reformer"),
                      detector=False, fast=False)
    assert d.detector is None and d.gradients() == {"magnet_cifar10_reformer": "exact", "tiny_classifier": "exact"}
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    assert d.restore(x).shape == x.shape and 0 <= d.restore(x).min() and d.restore(x).max() <= 1
    assert set(d.evaluate_magnet(x_adv=x, y=np.zeros(4, int))) == {"fpr_target", "n_adv", "adv_no_defense_accuracy",
                                                                  "adv_reformer_accuracy"}
    assert d.describe()["detector"] is None

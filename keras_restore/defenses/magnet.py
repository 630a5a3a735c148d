"""MagNet (Meng & Chen 2017, "MagNet: a two-pronged defense against adversarial examples", CCS): a
reformer autoencoder in front of the classifier, plus detectors that reject inputs far from the
manifold of clean images.

* **Reformer**: the MNIST detector I autoencoder (:func:`keras_restore.models.magnet.magnet_mnist_reformer`),
  or on CIFAR-10 MagNet's CIFAR-10 autoencoder (:func:`~keras_restore.models.magnet.magnet_cifar10_reformer`),
  trained on clean images plus Gaussian noise. The classifier sees ``reformer(x)``. This is the
  :class:`MagNet` defense's restorer, so ``defense.model`` = reformer -> classifier, and the
  package's attacks, adaptive evaluation and export all apply to it.
* **Detectors** (:class:`ReconstructionDetector`, :class:`MagNetDetector`): each one scores an image by
  its reconstruction error ``mean(|x - ae(x)|^p)`` over the pixels (MagNet's ``AEDetector.mark``).
  MagNet's MNIST demo uses detector I (the reformer's autoencoder) with ``p = 2`` and detector II
  (:func:`~keras_restore.models.magnet.magnet_mnist_detector2`) with ``p = 1`` (their
  ``test_defense.py``). An image is rejected when any detector's score is above that detector's
  threshold. The thresholds are set on **clean validation images**, never on test images, so that
  at most a fraction ``fpr`` of them is rejected. The ``fpr`` is split evenly over the detectors,
  as MagNet gives each detector the same drop rate (their demo: 0.001 each). By the union bound,
  the whole detector rejects at most ``fpr`` of the validation images. MagNet's other detector, the
  Jensen-Shannon divergence between the classifier's softmax outputs (temperature T) on two
  autoencoders' reconstructions (``DBDetector``), is used in the paper for CIFAR-10 only. It is
  left out here, and so are all of MagNet's CIFAR-10 detectors: on CIFAR-10 the defense is the reformer
  alone (``detector=False``; papers/000 Table 9 needs no more).
* **Metrics** (:meth:`MagNet.evaluate_magnet`, MagNet's ``Evaluator``). On adversarial inputs, the
  fraction handled correctly: *detected, or not detected and classified correctly after reforming*
  ("detector + reformer"). Beside it come the reformer alone, the detector alone, and no defense. On
  clean inputs: accuracy through the reformer with every false reject counted as an error, and the
  false-positive rate.

**Threat model.** ``defense.model`` differentiates through the reformer and the classifier only. The
detector is *not* differentiated: it is a hard threshold outside the model. An adaptive attack on
``defense.model`` therefore attacks "reformer only". An attacker who also keeps the reconstruction
error under the thresholds is stronger. Carlini & Wagner (2017, "MagNet and 'efficient defenses
against adversarial attacks' are not robust to adversarial examples", arXiv:1711.08478) built such
attacks and defeated MagNet on MNIST and CIFAR-10 (their figures are not checked here: the paper
is not available offline). MagNet itself claims robustness only against blackbox and gray-box
attackers that ignore the defense. ``reproduce/baseline_magnet.py`` uses that oblivious protocol:
attacks made on the bare classifier.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_restore.defenses.base import Defense
from keras_restore.metrics import predict
from keras_restore.validation import check_images, check_labels, check_positive_int

# Shipped models per dataset (keras_restore.models registry names). MagNet's MNIST detectors:
# (autoencoder, p) of their test_defense.py: detector I is the reformer's autoencoder with p = 2,
# detector II the small one with p = 1.
REFORMERS = {"mnist": "magnet_mnist_reformer", "cifar10": "magnet_cifar10_reformer"}
# No CIFAR-10 detectors (MagNet's: the reformer's reconstruction error and two Jensen-Shannon detectors at
# temperatures 10 and 40): not built, see the module docstring.
DETECTORS = {"mnist": (("magnet_mnist_reformer", 2), ("magnet_mnist_detector2", 1))}
DEFAULT_FPR = 0.005


def check_fpr(fpr) -> float:
    """``fpr`` as a float in (0, 1) (a ValueError naming it otherwise)."""
    if isinstance(fpr, bool) or not isinstance(fpr, (int, float, np.floating)) or not 0 < float(fpr) < 1:
        raise ValueError(f"`fpr` must be a false-positive rate in (0, 1), got {fpr!r}.")
    return float(fpr)


def _check_dataset(dataset):
    if dataset not in REFORMERS:
        raise ValueError(f"Defense 'magnet' has models for datasets {', '.join(REFORMERS)} only, got {dataset!r}.")
    return dataset


class ReconstructionDetector:
    """One MagNet detector: an autoencoder, the reconstruction error ``mean(|x - ae(x)|^p)`` per image,
    and a threshold above which an image is rejected.

    Args:
        autoencoder: image-to-image Keras model (output shape = input shape).
        p: the error's exponent, a number >= 1 (MagNet: 2 for MNIST detector I, 1 for detector II).
        name: label in metadata (default ``"<autoencoder name>/p<p>"``).
        batch_size: inference batch size.
    """

    def __init__(self, autoencoder: keras.Model, *, p: float = 1, name: str | None = None, batch_size: int = 256):
        if not isinstance(autoencoder, keras.Model):
            raise ValueError(f"`autoencoder` must be a keras.Model, got {type(autoencoder).__name__}.")
        in_shape, out_shape = tuple(autoencoder.input_shape[1:]), tuple(autoencoder.output_shape[1:])
        if in_shape != out_shape:
            raise ValueError(f"`autoencoder` must output images of its input shape {in_shape}, got {out_shape}.")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 1:
            raise ValueError(f"`p` must be a number >= 1 (MagNet: 1 or 2), got {p!r}.")
        self.autoencoder, self.p = autoencoder, float(p)
        self.input_shape = in_shape
        self.name = str(name) if name is not None else f"{autoencoder.name}/p{self.p:g}"
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.threshold: float | None = None
        self.fpr: float | None = None               # the target rate it was calibrated for
        self.validation_fpr: float | None = None    # the rate it achieves on its validation images
        self.n_validation: int | None = None

    def score(self, x) -> np.ndarray:
        """Per-image reconstruction error ``mean over pixels of |x - ae(x)|^p`` (float64)."""
        x = check_images(x, "x", shape=self.input_shape)
        diff = np.abs(x.astype(np.float64) - predict(self.autoencoder, x, self.batch_size))
        return np.mean(diff ** self.p, axis=(1, 2, 3))

    def calibrate(self, x_val, fpr: float) -> float:
        """Set the threshold so that at most ``fpr`` of the clean validation images ``x_val`` score above it.

        With the scores sorted ascending and ``k = floor(n * fpr)``, the threshold is the ``(n - k)``-th
        smallest score. At most ``k`` images score strictly above it (fewer when scores tie). MagNet's
        ``get_thrs`` takes the ``(n - k + 1)``-th and rejects scores at or above it: the same thing
        without ties. Returns the threshold.
        """
        fpr = check_fpr(fpr)
        scores = np.sort(self.score(x_val))
        n = len(scores)
        k = int(np.floor(n * fpr))
        self.threshold = float(scores[n - k - 1])
        self.fpr, self.n_validation = fpr, n
        self.validation_fpr = float(np.mean(scores > self.threshold))
        return self.threshold

    @property
    def calibrated(self) -> bool:
        return self.threshold is not None

    def flag(self, x, scores=None) -> np.ndarray:
        """Boolean per image: rejected (score above the threshold)."""
        if not self.calibrated:
            raise ValueError(f"Detector {self.name!r} has no threshold yet; call `calibrate(x_val, fpr)` on clean "
                             f"validation images first.")
        return (self.score(x) if scores is None else scores) > self.threshold

    def describe(self) -> dict:
        return {"name": self.name, "autoencoder": self.autoencoder.name, "p": self.p, "threshold": self.threshold,
                "fpr": self.fpr, "validation_fpr": self.validation_fpr, "n_validation": self.n_validation}


class MagNetDetector:
    """MagNet's detector ensemble: an image is rejected when *any* of ``detectors`` flags it.

    :meth:`calibrate` gives each of the ``m`` detectors the false-positive rate ``fpr / m`` on the
    same clean validation images. The ensemble then rejects at most ``fpr`` of them (union bound;
    ``validation_fpr`` records the measured rate).
    """

    def __init__(self, detectors):
        if isinstance(detectors, ReconstructionDetector):
            detectors = [detectors]
        detectors = list(detectors)
        if not detectors or not all(isinstance(d, ReconstructionDetector) for d in detectors):
            raise ValueError("`detectors` must be a non-empty list of ReconstructionDetector.")
        shapes = {d.input_shape for d in detectors}
        if len(shapes) != 1:
            raise ValueError(f"`detectors` must all take one image shape, got {sorted(shapes)}.")
        names = [d.name for d in detectors]
        if len(set(names)) != len(names):
            raise ValueError(f"`detectors` must have distinct names, got {names}.")
        self.detectors = detectors
        self.input_shape = shapes.pop()
        self.fpr: float | None = None
        self.validation_fpr: float | None = None
        self.n_validation: int | None = None

    def calibrate(self, x_val, fpr: float) -> dict:
        """Thresholds on the clean validation images ``x_val`` (see the class docstring). Returns
        detector name -> threshold."""
        fpr = check_fpr(fpr)
        x_val = check_images(x_val, "x_val", shape=self.input_shape)
        for d in self.detectors:
            d.calibrate(x_val, fpr / len(self.detectors))
        self.fpr, self.n_validation = fpr, len(x_val)
        self.validation_fpr = float(np.mean(self.flag(x_val)))
        return {d.name: d.threshold for d in self.detectors}

    @property
    def calibrated(self) -> bool:
        return all(d.calibrated for d in self.detectors)

    def scores(self, x) -> dict:
        """Detector name -> per-image reconstruction error."""
        x = check_images(x, "x", shape=self.input_shape)
        return {d.name: d.score(x) for d in self.detectors}

    def flag(self, x) -> np.ndarray:
        """Boolean per image: rejected by at least one detector."""
        x = check_images(x, "x", shape=self.input_shape)
        flags = [d.flag(x) for d in self.detectors]
        return np.logical_or.reduce(flags)

    def describe(self) -> dict:
        return {"rule": "reject if any detector's score > its threshold; each detector at fpr / m",
                "fpr": self.fpr, "validation_fpr": self.validation_fpr, "n_validation": self.n_validation,
                "detectors": [d.describe() for d in self.detectors]}


class MagNet(Defense):
    """MagNet as a :class:`Defense`: ``reformer -> classifier`` ("reformer only"), and a
    :class:`MagNetDetector` beside it for "detector + reformer" (:meth:`evaluate_magnet`).

    ``model`` (for attacks and export) is reformer -> classifier. The detector is not part of it
    and is not differentiated (see the module docstring). ``predict`` / ``restore`` never reject. Use
    :meth:`reject` for the detector's decision.

    Args:
        classifier: the protected classifier (logits).
        reformer: MagNet's reformer autoencoder.
        detector: a :class:`MagNetDetector` (or one :class:`ReconstructionDetector`), or None
            (reformer only: :meth:`evaluate_magnet` then reports no detector columns).
        fpr: the detector's false-positive rate on clean validation images, used by :meth:`calibrate`.
        name, batch_size, fast: as :class:`Defense`.
    """

    def __init__(self, classifier: keras.Model, reformer: keras.Model, detector=None, *, fpr: float = DEFAULT_FPR,
                 name: str = "magnet", batch_size: int = 128, fast: bool | keras.Model = True):
        if not isinstance(reformer, keras.Model):
            raise ValueError(f"`reformer` must be a keras.Model (MagNet's autoencoder), got {type(reformer).__name__}.")
        super().__init__(classifier, reformer, name=name, batch_size=batch_size, fast=fast)
        if isinstance(detector, ReconstructionDetector):
            detector = MagNetDetector([detector])
        if detector is not None and not isinstance(detector, MagNetDetector):
            raise ValueError(f"`detector` must be a MagNetDetector, a ReconstructionDetector or None, got "
                             f"{type(detector).__name__}.")
        if detector is not None and detector.input_shape != self.input_shape:
            raise ValueError(f"`detector` takes images of shape {detector.input_shape} but the reformer takes "
                             f"{self.input_shape}; they must match.")
        self.detector = detector
        self.fpr = check_fpr(fpr)

    def calibrate(self, x_val, fpr: float | None = None) -> dict:
        """Set the detector's thresholds on clean *validation* images ``x_val`` at ``fpr``
        (default: the defense's ``fpr``). Returns detector name -> threshold."""
        if self.detector is None:
            raise ValueError("This MagNet defense has no detector (reformer only); nothing to calibrate.")
        if fpr is not None:
            self.fpr = check_fpr(fpr)
        return self.detector.calibrate(x_val, self.fpr)

    def reject(self, x) -> np.ndarray:
        """Boolean per image: the detector rejects it."""
        if self.detector is None:
            raise ValueError("This MagNet defense has no detector (reformer only).")
        return self.detector.flag(x)

    def describe(self) -> dict:
        return {**super().describe(), "fpr": self.fpr,
                "detector": None if self.detector is None else self.detector.describe(),
                "detector_differentiated": False}

    def outcomes(self, x, y) -> dict:
        """Per-image booleans: ``correct`` (classifier alone), ``correct_reformed`` (through the
        reformer), ``rejected`` (by the detector; absent without one)."""
        x = check_images(x, "x", shape=self.input_shape)
        y = check_labels(y, len(x), int(self.classifier.output_shape[-1]))
        out = {"correct": predict(self.classifier, x, self.batch_size).argmax(1) == y,
               "correct_reformed": self.predict(x).argmax(1) == y}
        if self.detector is not None:
            out["rejected"] = self.reject(x)
        return out

    def evaluate_magnet(self, x_clean=None, x_adv=None, y=None, y_clean=None) -> dict:
        """MagNet's metrics in percent (their ``Evaluator.get_attack_acc`` / ``get_normal_acc``).

        Adversarial inputs ``x_adv`` with true labels ``y``:

        * ``adv_no_defense_accuracy``: the classifier alone;
        * ``adv_reformer_accuracy``: "reformer only", classifier(reformer(x)) correct;
        * ``adv_detection_rate``: rejected by the detector;
        * ``adv_detector_accuracy``: rejected, or classified correctly without reforming;
        * ``adv_detector_reformer_accuracy``: MagNet's number, rejected *or* (accepted and classified
          correctly after reforming).

        Clean inputs ``x_clean`` (labels ``y_clean``, default ``y``): ``clean_accuracy`` (classifier
        alone), ``clean_reformer_accuracy``, ``clean_false_positive_rate`` (rejected),
        ``clean_detector_accuracy`` (accepted *and* correct without reforming) and
        ``clean_detector_reformer_accuracy`` (accepted *and* correct after reforming). In the last
        two, a false reject counts as an error. Either set may be omitted. The detector columns need
        a calibrated detector.
        """
        if x_clean is None and x_adv is None:
            raise ValueError("Give `x_adv` (with `y`), `x_clean`, or both.")
        if self.detector is not None and not self.detector.calibrated:
            raise ValueError("The detector has no thresholds yet; call `calibrate(x_val)` on clean validation "
                             "images (never test images) first.")
        metrics = {"fpr_target": self.fpr if self.detector is not None else None}

        def pct(a):
            return float(np.mean(a) * 100.0)

        if x_adv is not None:
            if y is None:
                raise ValueError("`y` (the true labels of `x_adv`) is required.")
            o = self.outcomes(x_adv, y)
            metrics.update(n_adv=int(len(o["correct"])), adv_no_defense_accuracy=pct(o["correct"]),
                           adv_reformer_accuracy=pct(o["correct_reformed"]))
            if "rejected" in o:
                metrics.update(adv_detection_rate=pct(o["rejected"]),
                               adv_detector_accuracy=pct(o["rejected"] | o["correct"]),
                               adv_detector_reformer_accuracy=pct(o["rejected"] | o["correct_reformed"]))
        if x_clean is not None:
            labels = y if y_clean is None else y_clean
            if labels is None:
                raise ValueError("`y_clean` (or `y`) is required with `x_clean`.")
            o = self.outcomes(x_clean, labels)
            metrics.update(n_clean=int(len(o["correct"])), clean_accuracy=pct(o["correct"]),
                           clean_reformer_accuracy=pct(o["correct_reformed"]))
            if "rejected" in o:
                metrics.update(clean_false_positive_rate=pct(o["rejected"]),
                               clean_detector_accuracy=pct(~o["rejected"] & o["correct"]),
                               clean_detector_reformer_accuracy=pct(~o["rejected"] & o["correct_reformed"]))
        return metrics


def default_detector(dataset: str, reformer: keras.Model | None = None) -> MagNetDetector:
    """MagNet's detectors for ``dataset``: on MNIST, detector I = ``reformer`` (default: the shipped
    ``magnet_mnist_reformer``) with p = 2, and detector II = the shipped ``magnet_mnist_detector2`` with p = 1."""
    from keras_restore import models

    _check_dataset(dataset)
    if dataset not in DETECTORS:
        raise ValueError(f"Defense 'magnet' has no detectors for dataset {dataset!r} (MagNet's CIFAR-10 detectors "
                         f"are not built); pass `detector=False` (reformer only) or a MagNetDetector.")
    detectors = []
    for i, (registry_name, p) in enumerate(DETECTORS[dataset], start=1):
        is_reformer = registry_name == REFORMERS[dataset] and reformer is not None
        ae = reformer if is_reformer else models.load_model(registry_name)
        detectors.append(ReconstructionDetector(ae, p=p, name=f"detector_{'I' * i}"))
    return MagNetDetector(detectors)


def magnet(classifier: keras.Model, *, dataset: str, restorer=None, detector=None, fpr: float = DEFAULT_FPR,
           x_val=None, fast=True, **options) -> MagNet:
    """MagNet (Meng & Chen 2017) in front of ``classifier``: see the module docstring.

    Args:
        classifier: the protected classifier (logits).
        dataset: ``"mnist"`` or ``"cifar10"`` (:data:`REFORMERS`).
        restorer: the reformer (default: the shipped ``magnet_mnist_reformer`` / ``magnet_cifar10_reformer``).
        detector: None for MagNet's detectors (MNIST: detector I = the reformer with p = 2, detector II =
            the shipped ``magnet_mnist_detector2`` with p = 1; CIFAR-10 has none here, so None is an
            error there). False for no detector (reformer only). Or a :class:`MagNetDetector` /
            :class:`ReconstructionDetector`.
        fpr: the detector's false-positive rate on clean validation images, in (0, 1).
        x_val: clean *validation* images (e.g. MagNet's: the first 5,000 training images, held out
            of the autoencoders' training). When given, the thresholds are set on them now; otherwise
            call ``defense.calibrate(x_val)`` before :meth:`MagNet.evaluate_magnet`.
        fast: as :class:`Defense`.

    Returns: a :class:`MagNet` defense (its ``model``: reformer -> classifier).
    """
    if options:
        raise ValueError(f"Defense 'magnet' takes no options, got {', '.join(sorted(options))}.")
    _check_dataset(dataset)
    fpr = check_fpr(fpr)
    if restorer is None:
        from keras_restore import models

        restorer = models.load_model(REFORMERS[dataset])
    if detector is None:
        if not isinstance(restorer, keras.Model):
            raise ValueError(f"`restorer` (MagNet's reformer) must be a keras.Model, got {type(restorer).__name__}.")
        detector = default_detector(dataset, restorer)
    elif detector is False:
        detector = None
    defense = MagNet(classifier, restorer, detector, fpr=fpr, fast=fast)
    if x_val is not None:
        defense.calibrate(x_val)
    return defense

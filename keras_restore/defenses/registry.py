"""The defense zoo: one registry of name -> builder, training recipe, paper, reported numbers.

Like RobustBench's model zoo and :mod:`keras_restore.models.registry`: :func:`build_defense`
puts a registered defense in front of a classifier; :data:`DEFENSES` says, per entry, what it
needs (a trained restorer from the model zoo, and the training recipe that makes it, see
:mod:`keras_restore.training.recipes`) and what its paper claims. Adding a defense = one builder
plus one :class:`DefenseSpec` (``docs/architecture.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import keras

from keras_restore.defenses.base import Defense
from keras_restore.defenses.defense_gan import DEFAULTS as DEFENSE_GAN_DEFAULTS
from keras_restore.defenses.defense_gan import defense_gan
from keras_restore.defenses.magnet import magnet
from keras_restore.defenses.preprocessing import BitDepthReduction, MedianFilter


@dataclass(frozen=True)
class DefenseSpec:
    name: str
    builder: Callable                 # (classifier, *, dataset, restorer, **options) -> Defense
    paper: str
    description: str
    # Training recipe of its restorer (a keras_restore.training.recipes name); None: training-free.
    recipe: str | None = None
    # dataset -> default restorer (model-registry name), or dataset -> {target name -> restorer}
    # for defenses with one restorer per target (CRU-Net).
    restorers: dict = field(default_factory=dict)
    # dataset -> default options of the builder (e.g. feature squeezing's bit depth).
    options: dict = field(default_factory=dict)
    # The paper's own headline numbers, as printed, with where (table) and how they were measured.
    reported: dict = field(default_factory=dict)
    stochastic: bool = False
    # The builder argument that takes the defense's trained model ("restorer", or "robust" for a
    # defense that replaces the classifier by an adversarially trained copy), and, for the latter,
    # dataset -> {target -> model-registry name} of that copy.
    model_arg: str = "restorer"
    robust_models: dict = field(default_factory=dict)
    # (dataset, **options) -> the preprocessing layers in front of the restorer, for defenses whose
    # restorer is trained on preprocessed inputs (papers/002: depth-reduced adversarial examples).
    preprocessing: Callable | None = None

    def preprocessing_steps(self, dataset: str, **options) -> list:
        """The layers this defense applies before its restorer on ``dataset`` (empty: none, or
        the restorer trains on raw inputs)."""
        return [] if self.preprocessing is None else list(self.preprocessing(dataset, **options))

    def defaults(self, dataset: str) -> dict:
        """The builder's default options on ``dataset`` (a ValueError naming the known datasets otherwise)."""
        if dataset not in self.options:
            raise ValueError(f"Defense {self.name!r} has no defaults for dataset {dataset!r}; expected one of "
                             f"{', '.join(self.options)}.")
        return self.options[dataset]

    def restorer_name(self, dataset: str, target: str | None = None) -> str | None:
        """The model-registry name of the restorer this defense uses on ``dataset`` (for ``target``)."""
        if not self.restorers:
            return None
        if dataset not in self.restorers:
            raise ValueError(f"Defense {self.name!r} has no restorer for dataset {dataset!r}; it has one for: "
                             f"{', '.join(self.restorers)}.")
        entry = self.restorers[dataset]
        if isinstance(entry, dict):
            if target not in entry:
                raise ValueError(f"Defense {self.name!r} on {dataset} has one restorer per target; `target` must "
                                 f"be one of {', '.join(entry)}, got {target!r}.")
            return entry[target]
        return entry


def _restorer_defense(classifier, *, dataset, restorer=None, target=None, spec_name, fast=True, **options):
    if options:
        raise ValueError(f"Defense {spec_name!r} takes no options, got {', '.join(sorted(options))}.")
    if restorer is None:
        from keras_restore import models

        restorer = models.load_model(DEFENSES[spec_name].restorer_name(dataset, target))
    return Defense(classifier, restorer, name=spec_name, fast=fast)


def deep_image_restoration(classifier: keras.Model, *, dataset: str, restorer=None, fast=True, **options) -> Defense:
    """papers/000: the Table 1 (MNIST) / Table 2 (CIFAR-10) restorer in front of the classifier."""
    return _restorer_defense(classifier, dataset=dataset, restorer=restorer, spec_name="deep_image_restoration",
                             fast=fast, **options)


def crunet(classifier: keras.Model, *, dataset: str, restorer=None, target: str | None = None, fast=True,
           **options) -> Defense:
    """papers/001: the CRU-Net trained for ``target`` (one per target, "two CRU-Net models for each
    dataset") in front of the classifier."""
    return _restorer_defense(classifier, dataset=dataset, restorer=restorer, target=target, spec_name="crunet",
                             fast=fast, **options)


def gan_denoiser(classifier: keras.Model, *, dataset: str, restorer=None, fast=True, **options) -> Defense:
    """papers/004: the GAN denoiser's generator (:func:`keras_restore.models.gan_denoiser.gan_denoiser_generator`,
    trained by the ``gan_repair`` recipe: repair, adversarial, classifier, recovery and isomorphic
    losses) in front of the classifier. No preprocessing; the generator is differentiable, so an
    adaptive attack takes its exact gradient."""
    return _restorer_defense(classifier, dataset=dataset, restorer=restorer, spec_name="gan_denoiser", fast=fast,
                             **options)


def ape_gan(classifier: keras.Model, *, dataset: str, restorer=None, fast=True, **options) -> Defense:
    """APE-GAN (Jin et al. 2019): its generator, trained on (adversarial, clean) pairs with 0.7 x MSE
    + 0.3 x adversarial loss (recipe ``ape_gan``), in front of the classifier; differentiable."""
    return _restorer_defense(classifier, dataset=dataset, restorer=restorer, spec_name="ape_gan", fast=fast,
                             **options)


def bana_recovery(classifier: keras.Model, *, dataset: str, restorer=None, fast=True, **options) -> Defense:
    """papers/003 (Bana et al. 2021): the Attention U-Net generator
    (:func:`keras_restore.models.attention_unet.attention_unet_generator`), trained on FGSM / R-FGSM
    examples made on the fly against three targets (recipe ``bana_image_e128``: L1 + LSGAN + the
    frozen Inception-v3's cross-entropy, then feature-matching post-training), in front of the
    classifier. No preprocessing; generator and classifier are differentiable end to end, so an
    adaptive attack takes the exact gradient."""
    return _restorer_defense(classifier, dataset=dataset, restorer=restorer, spec_name="bana_recovery", fast=fast,
                             **options)


def feature_squeezing(classifier: keras.Model, *, dataset: str, restorer=None, bits: int | None = None,
                      median: int | None = None, fast=True) -> Defense:
    """Feature squeezing (Xu, Evans & Qi, NDSS 2018) used as an input transformation: bit-depth
    reduction to ``bits`` bits, then ``median x median`` median smoothing; no training.

    Defaults per dataset are Xu et al.'s best squeezers (their Table III / Sec. V): MNIST 1 bit and a
    2x2 median; CIFAR-10 and Fashion-MNIST 5 bits (Fashion-MNIST: their CIFAR-10 choice for a
    grayscale set with texture, our choice) and a 2x2 median. ``median=0`` or ``bits=0`` drops that
    squeezer. Xu et al. use the squeezers chiefly as a *detector* (prediction change between
    squeezed and plain input); here they are the preprocessing of a defended classifier, the way
    papers/002 Table 4 and Athalye et al. (2018) evaluate input transformations. Bit depth
    reduction declares a straight-through (BPDA) gradient, the median filter its exact gradient.
    """
    if restorer is not None:
        raise ValueError("Defense 'feature_squeezing' is training-free: `restorer` must be None.")
    defaults = DEFENSES["feature_squeezing"].defaults(dataset)
    bits = defaults["bits"] if bits is None else bits
    median = defaults["median"] if median is None else median
    steps = []
    if bits:
        steps.append(BitDepthReduction(bits=bits, name=f"squeeze_bits{bits}"))
    if median:
        steps.append(MedianFilter(size=median, name=f"squeeze_median{median}x{median}"))
    if not steps:
        raise ValueError("Defense 'feature_squeezing' needs `bits` or `median` (both are 0).")
    return Defense(classifier, None, steps, name="feature_squeezing")


def image_reconstruction(classifier: keras.Model, *, dataset: str, restorer=None, levels: int | None = None,
                         fast=True) -> Defense:
    """papers/002 (Zhang et al.): pixel-depth reduction to ``levels`` values per channel ("k",
    "the maximum range of pixel values": MNIST 2, Fashion-MNIST 4; CIFAR-10 4, our choice from its
    Fig. 3 sweep, the paper fixes none), then the EDSR-style reconstruction network
    (:func:`keras_restore.models.edsr.edsr_restorer`) in front of the classifier. The depth
    reduction declares a straight-through (BPDA) gradient for adaptive attacks."""
    spec = DEFENSES["image_reconstruction"]
    steps = depth_reduction_steps(dataset, levels=levels)
    if restorer is None:
        from keras_restore import models

        restorer = models.load_model(spec.restorer_name(dataset))
    return Defense(classifier, restorer, steps, name="image_reconstruction", fast=fast)


def depth_reduction_steps(dataset: str, *, levels: int | None = None) -> list:
    """papers/002's preprocessing: ``[BitDepthReduction(levels)]`` (the dataset's ``k`` by default).
    Its restorer trains behind the same step (``DefenseSpec.preprocessing``)."""
    levels = DEFENSES["image_reconstruction"].defaults(dataset)["levels"] if levels is None else levels
    return [BitDepthReduction(levels=levels, name=f"depth_levels{levels}")]


def adversarial_training(classifier: keras.Model, *, dataset: str, robust=None, target: str | None = None,
                         fast=True, **options) -> Defense:
    """PGD adversarial training (Madry et al. 2018): see :func:`_robust_classifier`."""
    return _robust_classifier("adversarial_training", classifier, dataset=dataset, robust=robust, target=target,
                              fast=fast, **options)


def fgsm_adversarial_training(classifier: keras.Model, *, dataset: str, robust=None, target: str | None = None,
                              fast=True, **options) -> Defense:
    """FGSM adversarial training (Goodfellow et al. 2015, the mixed objective of papers/000 Eq. 5,
    alpha 0.5; the ``adversarial_fgsm`` recipe): see :func:`_robust_classifier`."""
    return _robust_classifier("fgsm_adversarial_training", classifier, dataset=dataset, robust=robust,
                              target=target, fast=fast, **options)


def _robust_classifier(name: str, classifier: keras.Model, *, dataset: str, robust=None, target: str | None = None,
                       fast=True, **options) -> Defense:
    """Adversarial training as a defense (Madry et al. 2018; RobustBench's zoo entries are such
    models): ``classifier`` is replaced by its adversarially trained copy -- the same architecture,
    trained by the entry's recipe (:class:`keras_restore.training.AdversarialTraining`, the attack's
    examples made inside ``train_step``). No preprocessing and no restorer: the defense is the
    robust model itself, so the adaptive attack is the plain white-box attack on it.

    ``robust``: the trained copy (default: the shipped one for ``target``, e.g. ``m1_pgd_at`` for
    ``target="m1"``). Its input and output shapes must match ``classifier``'s. ``name``: the
    registry entry (``adversarial_training``: PGD, ``fgsm_adversarial_training``: FGSM).
    """
    if options:
        raise ValueError(f"Defense {name!r} takes no options, got {', '.join(sorted(options))}.")
    spec = DEFENSES[name]
    if robust is None:
        from keras_restore import models

        shipped = spec.robust_models.get(dataset)
        if shipped is None:
            raise ValueError(f"Defense {name!r} has no robust model for dataset {dataset!r}; it has "
                             f"one for: {', '.join(spec.robust_models)}.")
        if target not in shipped:
            raise ValueError(f"Defense {name!r} on {dataset}: `target` must be one of "
                             f"{', '.join(shipped)}, got {target!r}.")
        robust = models.load_model(shipped[target])
    if not isinstance(robust, keras.Model):
        raise ValueError(f"`robust` must be a keras.Model (the adversarially trained classifier), got "
                         f"{type(robust).__name__}.")
    for what in ("input_shape", "output_shape"):
        if tuple(getattr(robust, what)[1:]) != tuple(getattr(classifier, what)[1:]):
            raise ValueError(f"`robust` must have the classifier's {what.replace('_', ' ')} "
                             f"{tuple(getattr(classifier, what)[1:])}, got {tuple(getattr(robust, what)[1:])}.")
    return Defense(robust, None, name=name, fast=fast)


DEFENSES: dict[str, DefenseSpec] = {
    spec.name: spec
    for spec in (
        DefenseSpec(
            "deep_image_restoration", deep_image_restoration,
            paper="Ali et al. 2021, Deep Image Restoration Model (papers/000)",
            description="a restorer network (Table 1 MNIST / Table 2 CIFAR-10) trained with MSE on "
                        "(adversarial, clean) pairs, in front of the classifier",
            recipe="pixel_mse",
            restorers={"mnist": "restorer_mnist", "cifar10": "restorer_cifar10"},
            reported={"mnist": {"metric": "success rate % (restored accuracy / original accuracy) against PGD "
                                          "eps 0.3 made on the target alone, target M1",
                                "value": 99.54, "source": "papers/000 Table 4"},
                      "cifar10": {"metric": "success rate % against PGD eps 8/255 made on the target alone, "
                                            "target DenseNet121", "value": 85.56, "source": "papers/000 Table 5"}},
        ),
        DefenseSpec(
            "crunet", crunet,
            paper="Ali et al. 2022, CRU-Net (papers/001)",
            description="a clipped residual U-Net with de-noising blocks trained with MSE on (adversarial, "
                        "clean) pairs of one target, in front of that target",
            recipe="pixel_mse",
            restorers={"mnist": {"anet": "crunet_mnist_anet", "bnet": "crunet_mnist_bnet"},
                       "cifar10": {"densenet121_cifar10": "crunet_cifar10_dnet",
                                   "mobilenet_cifar10": "crunet_cifar10_mnet"}},
            reported={"mnist": {"metric": "accuracy % with CRU-Net against PGD made on the target alone, "
                                          "A-Net, first test images", "value": 99.33,
                                "source": "papers/001 Table 2"},
                      "cifar10": {"metric": "accuracy % with CRU-Net against PGD made on the target alone, "
                                            "D-Net", "value": 79.90, "source": "papers/001 Table 3"}},
        ),
        DefenseSpec(
            "gan_denoiser", gan_denoiser,
            paper="A GAN denoiser with repair, recovery and isomorphic losses (papers/004)",
            description="a generator (APE-GAN's encoder-decoder; the paper's figure is lost) trained against a "
                        "discriminator on (adversarial, clean) pairs with MSE repair, recovery (G(clean) vs "
                        "clean) and isomorphic (G(adversarial) vs G(clean)) losses and the frozen target's "
                        "cross-entropy, in front of the classifier",
            recipe="gan_repair",
            restorers={"mnist": "gan_denoiser_mnist", "fashion_mnist": "gan_denoiser_fashion_mnist",
                       "cifar10": "gan_denoiser_cifar10"},
            # The text gives numbers for ImageNet only (its Tables 1-4 are lost); no dataset of this
            # package has one, so they are quoted under "imagenet", as printed.
            reported={"imagenet": {"metric": "classification accuracy % of one target classifier (not named in "
                                             "the text) on MIM adversarial examples made on it, without -> with "
                                             "the defense (128x128 ImageNet; attack parameters not stated)",
                                   "value": 78.7, "without_defense": 22.6,
                                   "source": "papers/004 Sec. 4, text on Table 1"},
                      "imagenet_comparison": {"metric": "classification accuracy on ImageNet, percentage points "
                                                        "below the defense (Table 2, lost; text only)",
                                              "value": None, "defense_gan_below": 4.3, "ape_gan_below": 7.4,
                                              "source": "papers/004 Sec. 4, text on Table 2"}},
        ),
        DefenseSpec(
            "bana_recovery", bana_recovery,
            paper="Bana et al. 2021, Robust Recovery of Adversarial Examples (papers/003)",
            description="an Attention U-Net generator (self- and cross-attention, PixelShuffle) trained against an "
                        "LSGAN discriminator on FGSM / R-FGSM examples made each step on three targets (per-image "
                        "eps 1..E_max of 255) with L1, adversarial and the frozen Inception-v3's cross-entropy, then "
                        "feature-matching post-training, in front of the classifier",
            recipe="bana_image_e128",
            # cifar10: the E_max 128 generator of Tables 2-3; mnist: the zoo's MNIST generator of the same
            # layout (papers/003 has no MNIST experiment; registered for the package's MNIST checks).
            restorers={"cifar10": "bana_image_e128_cifar10", "mnist": "attention_unet_image_mnist"},
            reported={"cifar10": {"metric": "accuracy % of Inception-v3 on FGSM eps 25/255 examples made on it "
                                            "(white box on the classifier alone), recovered by the E_max 128 "
                                            "generator; 10k CIFAR-10 test images", "value": 98.5,
                                  "without_defense": 8.21, "source": "papers/003 Table 2"}},
        ),
        DefenseSpec(
            "ape_gan", ape_gan,
            paper="Jin et al. 2019, APE-GAN: Adversarial Perturbation Elimination with GAN (ICASSP), "
                  "the baseline of papers/004 Table 2",
            description="APE-GAN's generator (conv-conv-deconv-deconv) trained against its discriminator on "
                        "(FGSM example, clean image) pairs with 0.7 x MSE + 0.3 x adversarial BCE, in front of "
                        "the classifier",
            recipe="ape_gan",
            restorers={ds: f"ape_gan_{ds}" for ds in ("mnist", "fashion_mnist", "cifar10")},
            # APE-GAN's own MNIST number (their Table 1: FGSM eps 0.3 on their target): not in
            # ../shared/papers, so not quoted; papers/004 says only that APE-GAN is 7.4 points below it on ImageNet.
            reported={"imagenet": {"metric": "percentage points below papers/004's defense on ImageNet (papers/004 "
                                             "Sec. 4, text on its lost Table 2)", "value": 7.4,
                                   "source": "papers/004 Sec. 4"}},
        ),
        DefenseSpec(
            "defense_gan", defense_gan,
            paper="Samangouei, Kabkab & Chellappa 2018, Defense-GAN: Protecting Classifiers Against Adversarial "
                  "Attacks Using Generative Models (ICLR), a baseline of papers/004 Table 2",
            description="a WGAN-GP generator trained on clean images; each input is replaced by G(z*), z* the best of "
                        "R random starts after L momentum gradient steps on ||G(z) - x||^2 (their MNIST setting: "
                        "L 200, R 10, learning rate 10, momentum 0.7), in front of the classifier; the projection "
                        "declares a BPDA identity gradient (Athalye et al. 2018). Seeded starts: deterministic",
            recipe="defense_gan_wgan",
            restorers={"mnist": "defense_gan_mnist", "fashion_mnist": "defense_gan_fashion_mnist",
                       "cifar10": "defense_gan_cifar10"},
            # The paper's L = 200, R = 10 on every dataset (keras_restore.defenses.defense_gan.DEFAULTS).
            options=DEFENSE_GAN_DEFAULTS,
            # Defense-GAN's own MNIST numbers (their Tables): not in ../shared/papers, so not quoted;
            # papers/004 says only that Defense-GAN is 4.3 points below it on ImageNet.
            reported={"imagenet": {"metric": "percentage points below papers/004's defense on ImageNet (papers/004 "
                                             "Sec. 4, text on its lost Table 2)", "value": 4.3,
                                   "source": "papers/004 Sec. 4"}},
            stochastic=False,
        ),
        DefenseSpec(
            "feature_squeezing", feature_squeezing,
            paper="Xu, Evans & Qi 2018, Feature Squeezing (NDSS), cited by papers/002",
            description="bit-depth reduction then median smoothing, no training",
            options={"mnist": {"bits": 1, "median": 2}, "fashion_mnist": {"bits": 5, "median": 2},
                     "cifar10": {"bits": 5, "median": 2}},
            reported={"fashion_mnist": {"metric": "accuracy % under attack, as cited by papers/002 Table 4 "
                                                  "(ResNet50; 'Feature Squeezing' row)",
                                        "value": None, "source": "papers/002 Table 4 (cited values)"}},
        ),
        DefenseSpec(
            "image_reconstruction", image_reconstruction,
            paper="Zhang et al., Adversarial example defense based on image reconstruction (papers/002)",
            description="pixel-depth reduction to k levels, then an EDSR-style reconstruction network trained "
                        "with MSE on depth-reduced adversarial examples, in front of the classifier",
            recipe="pixel_mse",
            restorers={"mnist": "edsr_mnist", "fashion_mnist": "edsr_fashion_mnist", "cifar10": "edsr_cifar10"},
            options={"mnist": {"levels": 2}, "fashion_mnist": {"levels": 4}, "cifar10": {"levels": 4}},
            preprocessing=depth_reduction_steps,
            reported={"mnist": {"metric": "accuracy % with the defense against BIM eps 0.15 made on the target "
                                          "alone, ResNet50 (papers/002 prints no PGD; BIM is its iterative L-inf "
                                          "attack)", "value": 99.0, "source": "papers/002 Table 1"},
                      "fashion_mnist": {"metric": "accuracy % with the defense against BIM eps 0.05 made on the "
                                                  "target alone, ResNet50", "value": 85.0,
                                        "source": "papers/002 Table 2"},
                      "cifar10": {"metric": "accuracy % with the defense against BIM eps 0.005 made on the "
                                            "target alone, ResNet50", "value": 59.0, "source": "papers/002 Table 3"}},
        ),
        DefenseSpec(
            "magnet", magnet,
            paper="Meng & Chen 2017, MagNet: a Two-Pronged Defense against Adversarial Examples (CCS)",
            description="MagNet's reformer (a denoising autoencoder trained on clean images plus N(0, 0.1) noise; "
                        "CIFAR-10: 0.025) in front of the classifier; beside it, reconstruction-error detectors with "
                        "thresholds at a false-positive rate on clean validation images "
                        "(keras_restore.defenses.magnet; not part of the differentiable model; MNIST only). Trained "
                        "on (noisy, clean) pairs: "
                        "reproduce/baseline_magnet.py on MNIST, the magnet_denoising recipe (the same training) in a "
                        "table run (papers/000 Table 9 on CIFAR-10: reformer only)",
            recipe="magnet_denoising",
            restorers={"mnist": "magnet_mnist_reformer", "cifar10": "magnet_cifar10_reformer"},
            options={"mnist": {"fpr": 0.005}},
            reported={"mnist": {"metric": "classification accuracy % on adversarial examples (detector + reformer), "
                                          "oblivious attacks, MagNet's own classifier",
                                "value": None,
                                "source": "MagNet Table 3 (not checked: paper not available offline)"}},
        ),
        DefenseSpec(
            "adversarial_training", adversarial_training,
            paper="Madry et al. 2018, PGD adversarial training (ICLR), cited by papers/000 and papers/002",
            description="the classifier replaced by its copy adversarially trained with PGD examples made in "
                        "each training step (L-inf, MNIST eps 0.3)",
            recipe="adversarial_pgd", model_arg="robust",
            robust_models={"mnist": {"m1": "m1_pgd_at"}},
            reported={"mnist": {"metric": "accuracy % under white-box PGD-40 (eps 0.3, step 0.01, 1 restart), "
                                          "Madry et al.'s larger MNIST CNN trained ~83 epochs with PGD-40",
                                "value": 93.2, "source": "Madry et al. 2018, Table 1 (MNIST, white-box A)"}},
        ),
        DefenseSpec(
            "fgsm_adversarial_training", fgsm_adversarial_training,
            paper="Goodfellow, Shlens & Szegedy 2015, FGSM adversarial training (ICLR), papers/000 Eq. 5 and its "
                  "Table 8 'Adv. Tr' row",
            description="the classifier replaced by its copy trained on the mixed objective 0.5 x clean + 0.5 x "
                        "FGSM loss, the FGSM examples made in each training step (L-inf, MNIST eps 0.3, CIFAR-10 "
                        "eps 8/255)",
            recipe="adversarial_fgsm", model_arg="robust",
            # cifar10: papers/000 Table 9's DenseNet121, fine-tuned with FGSM at eps 8/255 inside that table's run.
            robust_models={"mnist": {"m1": "m1_fgsm_at"},
                           "cifar10": {"densenet121_cifar10": "densenet121_cifar10_fgsm_at"}},
            reported={"mnist": {"metric": "accuracy % under white-box FGSM eps 0.25 (100 - the 17.9% error), "
                                          "their maxout network", "value": 82.1,
                                "source": "Goodfellow et al. 2015, Sec. 6 (MNIST)"}},
        ),
    )
}


def get_defense(name: str) -> DefenseSpec:
    """The registry entry ``name`` (a ValueError naming the known defenses otherwise)."""
    if not isinstance(name, str) or name not in DEFENSES:
        raise ValueError(f"Unknown defense {name!r}; expected one of: {', '.join(DEFENSES)}.")
    return DEFENSES[name]


def build_defense(name: str, classifier: keras.Model, *, dataset: str, **kwargs) -> Defense:
    """The defense ``name`` in front of ``classifier`` on ``dataset`` (kwargs: the builder's
    options, e.g. ``restorer=`` a trained restorer instead of the shipped one, ``target=`` for
    CRU-Net, ``bits=``/``median=`` for feature squeezing, ``fast=`` the restorer's inference clone
    as in :class:`~keras_restore.defenses.Defense`)."""
    return get_defense(name).builder(classifier, dataset=dataset, **kwargs)

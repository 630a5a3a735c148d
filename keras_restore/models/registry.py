"""The model zoo: one registry of name -> builder, paper, reported numbers, shipped file.

Like RobustBench: ``build(name)`` makes an untrained model, ``load_model(name)`` loads the shipped
``.keras`` file after checking its sha256 against ``saved_models/manifest.json``. The manifest is
written by the training pipeline (``keras_restore.pipeline``) when it ships a model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import keras

from keras_restore.models import cifar, classifiers, crunet, crunet_targets, edsr, restorers, zhang_targets
from keras_restore.models import attention_unet, defense_gan, gan_denoiser, magnet
from keras_restore.models import bana_targets

PRIMARY = "Ali et al. 2021, Deep Image Restoration Model (papers/000)"
CRUNET = "Ali et al. 2022, CRU-Net (papers/001)"
ZHANG = "Zhang et al., Adversarial example defense based on image reconstruction (papers/002)"
MADRY = "Madry et al. 2018, Towards Deep Learning Models Resistant to Adversarial Attacks (ICLR)"
MAGNET = "Meng & Chen 2017, MagNet: a Two-Pronged Defense against Adversarial Examples (CCS)"
BANA = "Bana et al. 2021, Robust Recovery of Adversarial Examples (papers/003)"
APE_GAN = "Jin et al. 2019, APE-GAN: Adversarial Perturbation Elimination with GAN (ICASSP)"
DEFENSE_GAN = ("Samangouei, Kabkab & Chellappa 2018, Defense-GAN: Protecting Classifiers Against Adversarial "
               "Attacks Using Generative Models (ICLR)")
GAN_DENOISER = "A GAN denoiser with repair, recovery and isomorphic losses (papers/004)"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    builder: Callable
    kwargs: dict = field(default_factory=dict)
    dataset: str = "mnist"
    kind: str = "classifier"  # or "restorer"
    paper: str = PRIMARY
    table: str = ""
    reported: dict = field(default_factory=dict)  # the paper's numbers, e.g. {"accuracy": 99.0}
    # Why ``--ship`` must not commit this model (empty: it may be shipped). saved_models/ is kept
    # under 400 MB and each file under 30 MB (tests/models/test_registry.py checks); a model that is not shipped is trained by its table's script.
    not_shipped: str = ""
    # How ``--ship`` makes the file smaller than 30 MB when the float32 one is not (models/quantize.py): "int8",
    # its Dense kernels in int8 by Keras's Layer.quantize (the manifest entry records it). Empty: float32.
    ship_quantized: str = ""

    def __post_init__(self):
        if self.ship_quantized:
            from keras_restore.models.quantize import check_mode

            check_mode(self.ship_quantized, f"ship_quantized of {self.name}")

    @property
    def file(self) -> str:
        return f"{self.name}.keras"

    def build(self, **overrides) -> keras.Model:
        return self.builder(**{**self.kwargs, **overrides})


# Issue 21's CIFAR-10 CRU-Net variants (restorer-name suffix -> loss): the attack-balanced pixel MSE (recipe
# pixel_mse_balanced), the target's features alone (feature_guided: Liao et al. 2018's HGD loss), with a pixel anchor
# (feature_guided_anchored) and with the pixel MSE at 1:1 (feature_pixel).
_CRUNET_CIFAR10_VARIANTS = {"balanced": "attack-balanced loss", "guided": "guided by its features (HGD loss)",
                            "anchored": "feature-guided + pixel anchor", "feature_pixel": "feature + pixel MSE (1:1)"}

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("m1", classifiers.m1, table="Table 3", reported={"accuracy": 99.0}),
        ModelSpec("m2", classifiers.m2, table="Table 3", reported={"accuracy": 97.4}),
        ModelSpec("restorer_mnist", restorers.restorer_mnist, {"variant": "stable"},
                  kind="restorer", table="Table 1 (stable variant)"),
        ModelSpec("restorer_mnist_paper", restorers.restorer_mnist, {"variant": "paper"},
                  kind="restorer", table="Table 1 (literal)"),
        # Shipped with its 4096 x 4096 bottleneck Dense in int8 (16.8 M of its 19.7 M parameters): 28.4 MB
        # instead of 78.8 MB (models/quantize.py). The file shipped on 2026-11-22 (8,000 pairs) is float32.
        ModelSpec("restorer_cifar10", restorers.restorer_cifar10, {"variant": "stable"},
                  dataset="cifar10", kind="restorer", table="Table 2 (+ output Clip)", ship_quantized="int8"),
        ModelSpec("restorer_cifar10_paper", restorers.restorer_cifar10, {"variant": "paper"},
                  dataset="cifar10", kind="restorer", table="Table 2 (literal)", ship_quantized="int8"),
        # issue 21's variant: the Table 2 restorer trained with the attack-balanced loss (pixel_mse_balanced).
        ModelSpec("restorer_cifar10_balanced", restorers.restorer_cifar10, {"variant": "stable"},
                  dataset="cifar10", kind="restorer", table="Table 2 (+ output Clip), attack-balanced loss",
                  not_shipped="its .keras file is 78.8 MB (19.7 M parameters), over the 30 MB limit of a shipped "
                              "file: table5_cifar10_balanced.py trains it (cached)"),
        # issue 21's architecture ablation (ours, not in a paper): the CRU-Net layout (papers/001: U-Net levels,
        # de-noising blocks, skip connections, output = input + residual) in the Table 2 restorer's place,
        # trained on Table 5's pairs by Table 5's recipe and budget (table5_cifar10_crunet_layout.py).
        ModelSpec("restorer_cifar10_crunet_layout", crunet.crunet_cifar10, dataset="cifar10", kind="restorer",
                  paper=CRUNET, table="Table 5 ablation (ours): CRU-Net layout, Table 2 restorer's recipe and pairs"),
        # Transfer targets of Table 6 (MNIST).
        ModelSpec("lenet5", classifiers.lenet5, table="Table 6", reported={}),
        ModelSpec("alexnet_mnist", classifiers.alexnet_mnist, table="Table 6", reported={}),
        # CIFAR-10 targets of Table 5 ("above 80%"; the CRU-Net paper reports 83.3 / 82.3).
        ModelSpec("densenet121_cifar10", cifar.densenet121_cifar10, dataset="cifar10", table="Table 5",
                  reported={"accuracy": 80.0}),
        ModelSpec("mobilenet_cifar10", cifar.mobilenet_cifar10, dataset="cifar10", table="Table 5",
                  reported={"accuracy": 80.0}),
        # Transfer targets of Table 7 (CIFAR-10).
        # Table 7's VGG19 is vgg19_bn_cifar10 (since 2026-12-06: keras.applications' VGG19, without BatchNorm,
        # stayed at chance by the CIFAR-10 recipe; models/bana_targets.py); vgg19_cifar10 stays for users who
        # start from ImageNet weights (weights="imagenet").
        ModelSpec("vgg19_cifar10", cifar.vgg19_cifar10, dataset="cifar10", table="(comparison: keras.applications VGG19)",
                  not_shipped="its .keras file is ~80 MB (20.0 M parameters), over the 30 MB limit of a "
                              "shipped file; Table 7 uses vgg19_bn_cifar10"),
        ModelSpec("vgg19_bn_cifar10", bana_targets.vgg19_bn_cifar10, dataset="cifar10",
                  table="Table 7 (VGG19: CIFAR form with BatchNorm, width 0.5)"),
        ModelSpec("resnet_cifar10", cifar.resnet_cifar10, {"depth": 20}, dataset="cifar10", table="Table 7"),
        ModelSpec("resnet50v2_cifar10", cifar.resnet50v2_cifar10, dataset="cifar10", table="(comparison)"),
        # CRU-Net (papers/001): the restorers of Section 4, the targets of Table 1, the comparison
        # models of Table 8 (Defense-GAN's A-D; the paper reports only success rates for them).
        ModelSpec("crunet_mnist", crunet.crunet_mnist, kind="restorer", paper=CRUNET,
                  table="Section 4, Eq. 11"),
        ModelSpec("crunet_cifar10", crunet.crunet_cifar10, dataset="cifar10", kind="restorer",
                  paper=CRUNET, table="Section 4, Eq. 11"),
        # The same CRU-Nets, each trained for one target only (papers/001 Tables 4-5, black-box:
        # "A-net/B-net" = examples made on A-net restored by the CRU-Net trained for B-net).
        # Separate names so their shipped files and manifest entries never collide.
        ModelSpec("crunet_mnist_anet", crunet.crunet_mnist, kind="restorer", paper=CRUNET,
                  table="Table 4 (trained for A-net)"),
        ModelSpec("crunet_mnist_bnet", crunet.crunet_mnist, kind="restorer", paper=CRUNET,
                  table="Table 4 (trained for B-net)"),
        ModelSpec("crunet_cifar10_dnet", crunet.crunet_cifar10, dataset="cifar10", kind="restorer",
                  paper=CRUNET, table="Table 5 (trained for D-net)"),
        ModelSpec("crunet_cifar10_mnet", crunet.crunet_cifar10, dataset="cifar10", kind="restorer",
                  paper=CRUNET, table="Table 5 (trained for M-net)"),
        # issue 21's variants: the same two CRU-Nets trained by other losses (crunet_table3_cifar10_<suffix>).
        *(ModelSpec(f"crunet_cifar10_{t}_{suffix}", crunet.crunet_cifar10, dataset="cifar10", kind="restorer",
                    paper=CRUNET, table=f"Table 3 variant (ours): trained for {t[0].upper()}-net, {loss}")
          for suffix, loss in _CRUNET_CIFAR10_VARIANTS.items() for t in ("dnet", "mnet")),
        ModelSpec("anet", crunet_targets.anet, paper=CRUNET, table="Table 1", reported={"accuracy": 99.35}),
        ModelSpec("bnet", crunet_targets.bnet, paper=CRUNET, table="Table 1", reported={"accuracy": 99.39}),
        ModelSpec("model_a", crunet_targets.model_a, paper=CRUNET, table="Table 8"),
        ModelSpec("model_b", crunet_targets.model_b, paper=CRUNET, table="Table 8"),
        ModelSpec("model_c", crunet_targets.model_c, paper=CRUNET, table="Table 8"),
        ModelSpec("model_d", crunet_targets.model_d, paper=CRUNET, table="Table 8"),
        # papers/002: the EDSR-style reconstruction network, one per dataset (not trained yet: issue 18).
        ModelSpec("edsr_mnist", edsr.edsr_restorer, {"input_shape": (28, 28, 1), "name": "edsr_mnist"},
                  kind="restorer", paper=ZHANG, table="Sec. 3.2, Fig. 4"),
        ModelSpec("edsr_fashion_mnist", edsr.edsr_restorer, {"input_shape": (28, 28, 1), "name": "edsr_fashion_mnist"},
                  dataset="fashion_mnist", kind="restorer", paper=ZHANG, table="Sec. 3.2, Fig. 4"),
        # edsr_cifar10: papers/002 Table 3's (reproduce/zhang_table3_cifar10.py): trained behind depth reduction
        # to k = 4 levels per channel (our choice, the paper names no CIFAR-10 k) on 8,000 FGSM pairs made on
        # resnet50_zhang_cifar10 at eps 0.01 (the top of the paper's CIFAR-10 range, Sec. 4.3), 2 epochs.
        ModelSpec("edsr_cifar10", edsr.edsr_restorer, {"input_shape": (32, 32, 3), "name": "edsr_cifar10"},
                  dataset="cifar10", kind="restorer", paper=ZHANG, table="Sec. 3.2, Fig. 4; Table 3"),
        # papers/002 targets (Tables 1-4): keras.applications ResNet50 / ResNet101 on 2-px padded
        # 28x28x1 images and Inception v1 adapted to 28x28 (models/zhang_targets.py). The ResNets
        # exceed the 30 MB limit of a shipped file; the tables' scripts train and cache them.
        *(ModelSpec(f"{arch}_{ds}", builder, {"name": f"{arch}_{ds}"}, dataset=ds, paper=ZHANG,
                    table=table, reported=reported, not_shipped=not_shipped)
          for ds, table, accs in (("mnist", "Table 1", {"resnet50": 99.0, "googlenet": 99.0}),
                                  ("fashion_mnist", "Tables 2 and 4", {"resnet50": 93.0, "googlenet": 90.0,
                                                                       "resnet101": 93.0}))
          for arch, builder, not_shipped in (
              ("resnet50", zhang_targets.resnet50_gray,
               "its .keras file is ~94 MB (23.6 M parameters), over the 30 MB limit of a shipped file; "
               "the papers/002 table scripts train and cache it"),
              ("resnet101", zhang_targets.resnet101_gray,
               "its .keras file is ~171 MB (42.7 M parameters), over the 30 MB limit of a shipped file; "
               "the papers/002 table scripts train and cache it"),
              ("googlenet", zhang_targets.googlenet_gray, ""))
          if arch in accs
          for reported in ({"accuracy": accs[arch]},)),
        # papers/002 Table 3 (CIFAR-10, reproduce/zhang_table3_cifar10.py): the same builders at 32x32x3 (no
        # padding: keras.applications' 32x32 minimum is met; GoogLeNet's 3x3/1 stem then runs inception 3a-3b
        # at 8x8, 4a-4e at 4x4, 5a-5b at 2x2). The ResNets are named *_zhang_cifar10 so they do not read as
        # the other CIFAR-10 ResNets here (resnet_cifar10 = ResNet-20 of papers/000, resnet18_cifar10 of
        # papers/003, resnet50v2_cifar10). Epochs (tables.ZHANG_TABLE3): ResNets 1, GoogLeNet 2, Adam 1e-3,
        # cosine. The ResNets are over 30 MB (23.6 M / 42.7 M parameters): trained and cached by the table
        # script; GoogLeNet (6.0 M, ~24 MB) may be shipped. reported: the paper's clean accuracy (Table 3).
        *(ModelSpec(name, builder, {"input_shape": (32, 32, 3), "name": name}, dataset="cifar10", paper=ZHANG,
                    table="Table 3", reported={"accuracy": accuracy}, not_shipped=not_shipped)
          for name, builder, accuracy, not_shipped in (
              ("resnet50_zhang_cifar10", zhang_targets.resnet50_gray, 84.0,
               "its .keras file is ~94 MB (23.6 M parameters), over the 30 MB limit of a shipped file; "
               "reproduce/zhang_table3_cifar10.py trains and caches it"),
              ("resnet101_zhang_cifar10", zhang_targets.resnet101_gray, 84.0,
               "its .keras file is ~171 MB (42.7 M parameters), over the 30 MB limit of a shipped file; "
               "reproduce/zhang_table3_cifar10.py trains and caches it"),
              ("googlenet_cifar10", zhang_targets.googlenet_gray, 98.0, ""))),
        # papers/002 Table 4's "Adversarial FGSM" / "Adversarial BIM" rows (issues 17-18): the Fashion-MNIST
        # ResNet50 above, fine-tuned by FGSM / BIM adversarial training inside the Table 4 run
        # (keras_restore.pipeline.phases.Run.robust, recipes adversarial_fgsm / adversarial_bim); same builder.
        *(ModelSpec(f"resnet50_fashion_mnist_{attack}_at", zhang_targets.resnet50_gray,
                    {"name": f"resnet50_fashion_mnist_{attack}_at"}, dataset="fashion_mnist", paper=ZHANG,
                    table=f"Table 4 ('Adversarial {attack.upper()}' row)",
                    not_shipped="its .keras file is ~94 MB (ResNet50, 23.6 M parameters), over the 30 MB limit of a "
                                "shipped file; reproduce/zhang_table4_fashion_mnist.py fine-tunes and caches it")
          for attack in ("fgsm", "bim")),
        # Baseline: MagNet's MNIST autoencoders (Meng & Chen 2017), the `magnet` defense of
        # keras_restore.defenses (reproduce/baseline_magnet.py). The reformer is also MagNet's detector I.
        ModelSpec("magnet_mnist_reformer", magnet.magnet_mnist_reformer, kind="restorer", paper=MAGNET,
                  table="Table 1 (MNIST detector I / reformer)"),
        ModelSpec("magnet_mnist_detector2", magnet.magnet_mnist_detector2, kind="restorer", paper=MAGNET,
                  table="Table 1 (MNIST detector II)"),
        # ... and its CIFAR-10 autoencoder (their Table 2: 3x3x96 - 3x3x96 - 3x3x3, sigmoid), the reformer of
        # papers/000 Table 9's "Mag-Net" column; trained inside that run (recipe magnet_denoising, noise 0.025).
        ModelSpec("magnet_cifar10_reformer", magnet.magnet_cifar10_reformer, dataset="cifar10", kind="restorer",
                  paper=MAGNET, table="Table 2 (CIFAR-10 detectors & reformer; reformer only here)"),
        # papers/004: the GAN denoiser's generator (APE-GAN's layout, models/gan_denoiser.py), one per
        # dataset (not trained yet: issue 20); its discriminator is built by the `gan_repair` recipes.
        *(ModelSpec(f"gan_denoiser_{ds}", gan_denoiser.gan_denoiser_generator,
                    {"input_shape": shape, "name": f"gan_denoiser_{ds}"}, dataset=ds, kind="restorer",
                    paper=GAN_DENOISER, table="Sec. 3 (generator; architecture figure lost, APE-GAN's)")
          for ds, shape in (("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)))),
        # papers/003: the Attention U-Net generator (models/attention_unet.py), image and noise
        # reconstruction (not trained yet: issue 19).
        *(ModelSpec(f"attention_unet_{mode}_{ds}", attention_unet.attention_unet_generator,
                    {"input_shape": shape, "mode": mode, "name": f"attention_unet_{mode}_{ds}"}, dataset=ds,
                    kind="restorer", paper=BANA, table=f"Table 1 ({mode} reconstruction; generator of Sec. 5)")
          for ds, shape in (("cifar10", (32, 32, 3)), ("mnist", (28, 28, 1)))
          for mode in ("image", "noise")),
        # Its loss ablation (reproduce/gan_denoiser_ablation.py): the same generator, trained without one loss.
        *(ModelSpec(f"gan_denoiser_{ds}_{part}", gan_denoiser.gan_denoiser_generator,
                    {"input_shape": shape, "name": f"gan_denoiser_{ds}_{part}"}, dataset=ds,
                    kind="restorer", paper=GAN_DENOISER, table=f"ablation (ours): without the {part[3:]} loss")
          for ds, shape in (("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)))
          for part in ("no_isomorphic", "no_recovery")),
        # ... and its CIFAR-10 variant with a warm start (recipe gan_repair_warm; reproduce/gan_denoiser_warmup.py).
        ModelSpec("gan_denoiser_cifar10_warm", gan_denoiser.gan_denoiser_generator,
                  {"input_shape": (32, 32, 3), "name": "gan_denoiser_cifar10_warm"}, dataset="cifar10",
                  kind="restorer", paper=GAN_DENOISER,
                  table="variant (ours): the full objective after a 2-of-5-epoch warm start without the discriminator"),
        # papers/004's Fashion-MNIST targets. The paper names no classifier ("three different CNN
        # classification networks"), so its Fashion-MNIST Table 1 uses the MNIST table's three CNNs --
        # M1 (papers/000), LeNet-5 and A-net (papers/001), the same builders -- trained on Fashion-MNIST by
        # the table run (5 / 3 / 3 epochs, as the MNIST ones; < 1 MB each, so ``--ship`` may ship them).
        *(ModelSpec(f"{arch}_fashion_mnist", builder, {"name": f"{arch}_fashion_mnist"}, dataset="fashion_mnist",
                    paper=GAN_DENOISER, table=f"Table 1 target (the paper names none; {label}'s architecture)")
          for arch, builder, label in (("m1", classifiers.m1, "papers/000 M1"),
                                       ("lenet5", classifiers.lenet5, "LeNet-5"),
                                       ("anet", crunet_targets.anet, "papers/001 A-net"))),
        # APE-GAN (baseline of papers/004 Table 2): the same generator layout (papers/004 took it from
        # APE-GAN), trained by the `ape_gan` recipe (MSE + adversarial loss only).
        *(ModelSpec(f"ape_gan_{ds}", gan_denoiser.gan_denoiser_generator,
                    {"input_shape": shape, "name": f"ape_gan_{ds}"}, dataset=ds, kind="restorer",
                    paper=APE_GAN, table="baseline of papers/004 Table 2 (generator)")
          for ds, shape in (("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)))),
        # Defense-GAN (baseline of papers/004 Table 2): its WGAN-GP generator z (128) -> image
        # (models/defense_gan.py), trained on clean images by the `defense_gan_wgan` recipe. A "restorer"
        # for the defense registry, but it takes latent vectors, not images.
        *(ModelSpec(f"defense_gan_{ds}", defense_gan.defense_gan_generator,
                    {"image_shape": shape, "name": f"defense_gan_{ds}"}, dataset=ds, kind="restorer",
                    paper=DEFENSE_GAN, table="baseline of papers/004 Table 2 (generator, their MNIST WGAN-GP)")
          for ds, shape in (("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)))),
        # Baselines (issue 17): M1 adversarially trained with PGD (Madry et al. 2018), the
        # `adversarial_training` defense of keras_restore.defenses (reproduce/baseline_adversarial_training.py).
        ModelSpec("m1_pgd_at", classifiers.m1, paper=MADRY, table="baseline (PGD adversarial training of M1)",
                  reported={"accuracy": 98.8, "pgd40_accuracy": 93.2}),
        # ... and with FGSM on the mixed objective (Goodfellow et al. 2015; papers/000 Eq. 5, alpha 0.5), the
        # `fgsm_adversarial_training` defense (papers/000 Table 8's cited "Adv. Tr" row is this method).
        ModelSpec("m1_fgsm_at", classifiers.m1, paper="Goodfellow, Shlens & Szegedy 2015 (ICLR), FGSM adversarial training",
                  table="baseline (FGSM adversarial training of M1)",
                  reported={"accuracy": 99.22, "fgsm_eps0.25_accuracy": 82.1}),
        # papers/000 Table 9's "Adversarial training" column: the Table 5 DenseNet121 fine-tuned inside the Table 9 run
        # with FGSM at eps 8/255 on the same mixed objective (keras_restore.pipeline.phases.Run.robust, recipe
        # adversarial_fgsm; reproduce/table9_cifar10_baselines.py). Same builder, 29.7 MB. Shipped 2026-12-03, taken
        # out of saved_models/ on 2026-12-04 to keep the folder under its 400 MB cap when papers/003's four
        # generators were shipped: of the large files it is the cheapest to remake (a 224 s fine-tune inside the
        # Table 9 run, then cached), and issue 21's retrained DenseNet121 supersedes the target it is tuned from.
        ModelSpec("densenet121_cifar10_fgsm_at", cifar.densenet121_cifar10, {"name": "densenet121_cifar10_fgsm_at"},
                  dataset="cifar10", paper="Goodfellow, Shlens & Szegedy 2015 (ICLR), FGSM adversarial training",
                  table="papers/000 Table 9 ('Adversarial training' column: FGSM adversarial training of DenseNet121)",
                  not_shipped="29.7 MB, left out of saved_models/ for its 400 MB cap (2026-12-04); "
                              "reproduce/table9_cifar10_baselines.py fine-tunes it from the shipped DenseNet121 "
                              "(1 epoch on 10,000 images, ~4 min of CPU) and caches it"),
        # papers/003 (Bana et al. 2021): its CIFAR-10 targets at CPU width (models/bana_targets.py; the
        # width is the builder's default, 1.0 = the paper's network), trained by reproduce/cifar10_targets.py.
        ModelSpec("vgg13_cifar10", bana_targets.vgg13_cifar10, dataset="cifar10", paper=BANA,
                  table="Tables 1-2 (attacked, evaluated; width 0.5)"),
        ModelSpec("resnet18_cifar10", bana_targets.resnet18_cifar10, dataset="cifar10", paper=BANA,
                  table="Sec. 4 (attacked in training; width 0.25)"),
        ModelSpec("inception_v3_cifar10", bana_targets.inception_v3_cifar10, dataset="cifar10", paper=BANA,
                  table="Tables 1-3 (attacked, frozen classifier, evaluated; width 0.25)", reported={"accuracy": 93.1}),
        ModelSpec("vgg11_cifar10", bana_targets.vgg11_cifar10, dataset="cifar10", paper=BANA,
                  table="Table 3 (black-box source; width 0.5)"),
        # ... and its trained generators (the Attention U-Net of models/attention_unet.py at the CPU width
        # bana_targets.GENERATOR_CPU_FILTERS): the three methods of Table 1 (E_max 16) and the E_max 128
        # generator of Tables 2-3 (image reconstruction); recipes bana_noise / bana_image / bana_image2 /
        # bana_image_e128 (training/recipes.py).
        *(ModelSpec(f"bana_{method}_cifar10", attention_unet.attention_unet_generator,
                    {"input_shape": (32, 32, 3), "mode": mode, "base_filters": bana_targets.GENERATOR_CPU_FILTERS,
                     "name": f"bana_{method}_cifar10"}, dataset="cifar10", kind="restorer", paper=BANA, table=table)
          for method, mode, table in (("noise_e16", "noise", "Table 1 (noise reconstruction)"),
                                      ("image_e16", "image", "Table 1 (image reconstruction)"),
                                      ("image2_e16", "image", "Table 1 (image reconstruction-2)"),
                                      ("image_e128", "image", "Tables 2-3 (E_max 128)"))),
    )
}


def get_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; expected one of: {', '.join(sorted(MODELS))}.")
    return MODELS[name]


def build(name: str, **overrides) -> keras.Model:
    """Build the untrained model registered as ``name`` (keyword overrides go to its builder)."""
    return get_spec(name).build(**overrides)


def models_dir() -> Path:
    """Where shipped models live: ``$KERAS_RESTORE_MODELS``, else ``saved_models/`` of the repo."""
    env = os.environ.get("KERAS_RESTORE_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "saved_models"


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(directory=None) -> dict:
    path = Path(directory or models_dir()) / "manifest.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"Model manifest {path} is corrupt: {e}.") from None


def load_keras_file(path, expected_spec: ModelSpec | None = None) -> keras.Model:
    """Load a ``.keras`` file (safe mode on) with clear errors for missing/corrupt files."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    if path.suffix != ".keras":
        raise ValueError(f"Model file {path} must be a `.keras` file, got suffix {path.suffix!r}.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"Model file {path} is corrupt: not a valid .keras (zip) archive.")
    import keras_restore.models.layers  # noqa: F401  (registers Clip)

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as e:  # noqa: BLE001 - re-raised with the path
        raise ValueError(f"Model file {path} is corrupt or not a Keras model: {e}") from None
    if expected_spec is not None:
        from keras_restore.models import quantize

        # a shipped file may hold int8 layers (ModelSpec.ship_quantized): compare with the builder's model
        # quantized the same way (int8 Dense layers carry one more weight, their kernel's scale)
        held = quantize.quantized_layers(model)
        if set(held.values()) - {expected_spec.ship_quantized}:
            shipped_as = (f"with {expected_spec.ship_quantized} Dense kernels" if expected_spec.ship_quantized
                          else "in float32")
            layers_held = ", ".join(f"{k}: {v}" for k, v in held.items())
            raise ValueError(f"Model file {path} holds quantized layers ({layers_held}); a {expected_spec.name!r} "
                             f"file is shipped {shipped_as}.")
        reference = expected_spec.build()
        expected_params = reference.count_params()   # before quantization, for the message below
        try:
            quantize.quantize_layers(reference, held)
        except ValueError:
            reference = None
        if reference is None or reference.count_params() != model.count_params() or [
            tuple(w.shape) for w in reference.weights
        ] != [tuple(w.shape) for w in model.weights]:
            raise ValueError(
                f"Model file {path} does not hold the {expected_spec.name!r} architecture "
                f"({model.count_params()} parameters, expected {expected_params}"
                f"{' before quantization' if held else ''})."
            )
    return model


def load_model(name: str, directory=None, verify: bool = True) -> keras.Model:
    """Load the shipped, trained model ``name`` from ``saved_models/`` (sha256-checked)."""
    spec = get_spec(name)
    directory = Path(directory or models_dir())
    path = directory / spec.file
    manifest = read_manifest(directory)
    if name not in manifest:
        raise FileNotFoundError(
            f"No trained {name!r} is shipped in {directory} (no manifest entry); train it with "
            f"`keras-restore train {name}` or a reproduce/ script with --retrain --ship."
        )
    if not path.exists():
        raise FileNotFoundError(f"Model file {path} listed in the manifest is missing.")
    if verify:
        digest = sha256(path)
        if digest != manifest[name]["sha256"]:
            raise ValueError(
                f"Model file {path} is corrupt: sha256 {digest[:12]}… does not match the "
                f"manifest's {manifest[name]['sha256'][:12]}…."
            )
    model = load_keras_file(path, spec)
    for names in _LOAD_RECORDERS:
        if name not in names:
            names.append(name)
    return model


_LOAD_RECORDERS: list[list[str]] = []


@contextlib.contextmanager
def record_loads():
    """Collect, in order, the names of the shipped models :func:`load_model` loads inside the block, including
    those a defense builder loads for itself (MagNet's detectors): what a result's meta must record
    (:func:`shipped_record`) for the results site to tell when it was made with an earlier version.

    ``with record_loads() as names: ...``; blocks may nest (each sees every load inside it)."""
    names: list[str] = []
    _LOAD_RECORDERS.append(names)
    try:
        yield names
    finally:
        _LOAD_RECORDERS.remove(names)


def shipped() -> dict:
    """Manifest entries of the shipped models whose file exists."""
    directory = models_dir()
    return {k: v for k, v in read_manifest(directory).items() if (directory / f"{k}.keras").exists()}


def shipped_record(name: str, manifest: dict | None = None) -> dict:
    """What a result's ``.meta.json`` records of the shipped model ``name`` it loaded:
    ``{"source": "saved_models/<name>.keras", **its manifest entry}`` (``sha256`` among them). The
    results site compares that sha256 with ``saved_models/`` to flag a result made with an earlier
    version of the model (``site.build.stale_models``; ``keras-restore report --stale``).

    ``manifest``: :func:`shipped`'s entries, when the caller has read them already."""
    entries = shipped() if manifest is None else manifest
    if name not in entries:
        raise FileNotFoundError(f"No trained {name!r} is shipped in {models_dir()} (no manifest entry, or its "
                                "file is missing); a result can record only a model it loaded from there.")
    return {"source": f"saved_models/{name}.keras", **entries[name]}

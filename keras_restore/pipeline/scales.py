"""Run scales: ``quick`` (CI smoke), ``default`` (pretrained models), ``retrain``, ``paper``.

The paper states no epochs, pair counts or evaluation sizes; these are our choices, printed at
start and written into every result's metadata.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from keras_restore.validation import check_choice


@dataclass(frozen=True)
class Scale:
    name: str
    pretrained: bool                 # use saved_models/ when shipped, else train
    target_epochs: dict              # registry name -> epochs
    target_train_limit: int | None   # training images for targets (None: all 60,000)
    n_pairs: int                     # training images turned into (adversarial, clean) pairs
    restorer_epochs: int
    n_eval: int                      # test images attacked per target (the first n_eval correctly
                                     # classified, or the first n_eval: TableSpec.eval_images)
    restorer_batch: int = 32
    restorer_lr: float = 1e-3
    attack_overrides: dict = field(default_factory=dict)
    note: str = ""
    target_lr: dict = field(default_factory=dict)   # registry name -> learning rate (default 1e-3)
    # Adaptive evaluation (keras_restore.evaluation.adaptive: APGD-CE then APGD-T through the whole
    # defense) at the paper's L-inf PGD eps, on the first n_adaptive images of each row's evaluation
    # set (0: skipped): iterations per run and APGD-T target classes (AutoAttack: 100 and 9). One
    # input gradient through restorer_mnist -> M1 takes ~80 ms on this 2-core CPU, so restorer
    # tables default to 100 images x 50 iterations (training-free defenses: 200 x 100, their
    # TableSpec.scale_overrides); every cut is recorded in the meta and the _adaptive.csv.
    n_adaptive: int = 100
    adaptive_iter: int = 50
    adaptive_targets: int = 9
    # registry name -> the dtype policy that target trains in, overriding the run's ``--precision``
    # (e.g. float32 for a network bfloat16 does not speed up on this CPU); part of its cache key.
    target_precision: dict = field(default_factory=dict)
    # registry name -> TrainConfig.lr_schedule of that target (default "constant"); in its cache key.
    target_schedule: dict = field(default_factory=dict)
    # registry name -> training images (the first n of a seeded order) over which a trained target's
    # BatchNorm statistics are recomputed after training (training.precise_batchnorm); 0 / absent: not.
    target_precise_bn: dict = field(default_factory=dict)
    # registry name -> the training.RECIPES classification recipe of that target (default
    # "classifier": Adam, no augmentation; "classifier_cifar": SGD-Nesterov, weight decay, label
    # smoothing, crop + flip; "classifier_cifar_he": the same with He et al.'s weight decay, ResNet-20's:
    # pipeline/cifar_targets.RECIPE_OF); in its cache key when not the default.
    target_recipe: dict = field(default_factory=dict)
    # defense-registry name -> builder options at this scale, over each row's (e.g. Defense-GAN's
    # projection steps and restarts: the paper's at --paper, fewer on a 2-core CPU); in the metadata.
    defense_options: dict = field(default_factory=dict)
    # Adversarially trained copies of a target that the run makes itself (rows whose defense replaces
    # the classifier, e.g. papers/002 Table 4's adversarial FGSM / BIM training; Run.robust): fine-tuned
    # from the row's trained target on the first ``robust_train_limit`` training images (None: all) for
    # ``robust_epochs`` epochs, Adam ``robust_lr`` with TrainConfig.lr_schedule ``robust_schedule``,
    # batch ``robust_batch`` (the loop holds out its usual 5%); then the BatchNorm statistics
    # recomputed on ``robust_precise_bn`` training images (the first of the run's seeded order; 0: not).
    # All in the copy's cache key.
    robust_epochs: int = 1
    robust_train_limit: int | None = None
    robust_lr: float = 1e-3
    robust_batch: int = 128
    robust_schedule: str = "constant"
    robust_precise_bn: int = 0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


_TARGET_EPOCHS = {"m1": 5, "m2": 15}

# --quick attack budgets (a CI smoke test, not a reproduction): CW-L2 1 binary-search step x 10
# iterations, DeepFool 10 iterations, the spatial attack on 3 angles x 1 shift. With the default
# budgets (CW-L2 5 x 100) CW alone took ~110 s per 100 MNIST images in CI and the quick runs of
# every table did not fit CI's time limit.
QUICK_ATTACKS = {"cw": {"binary_search_steps": 1, "max_iterations": 10},
                 "deepfool": {"max_iter": 10},
                 "spa": {"n_angles": 3, "n_translations": 1}}

SCALES = {
    "quick": Scale("quick", False, {"m1": 1, "m2": 2}, 6000, 600, 1, 50, attack_overrides=QUICK_ATTACKS,
                   n_adaptive=10, adaptive_iter=10, adaptive_targets=2,
                   note="CI smoke test: small subsets, the first 50 test images, CW-L2 1 x 10, DeepFool 10 "
                        "iterations, spatial 3 angles; numbers are not a reproduction."),
    "default": Scale("default", True, _TARGET_EPOCHS, None, 12000, 4, 1000,
                     note="Shipped models from saved_models/ (trained at the scale in their "
                          "manifest entry); missing ones are trained at --retrain scale."),
    "retrain": Scale("retrain", False, _TARGET_EPOCHS, None, 12000, 4, 1000,
                     note="Everything trained on this machine's CPU: 12,000 training pairs, 4 epochs."),
    "paper": Scale("paper", False, _TARGET_EPOCHS, None, 60000, 20, 10000, n_adaptive=1000,
                   note="All 60,000 training images as pairs, 20 epochs, every correctly "
                        "classified test image: meant for a GPU."),
}


def get_scale(name: str, spec=None) -> Scale:
    """The scale ``name``, with the table ``spec``'s per-dataset overrides applied (if given)."""
    check_choice(name, "scale", SCALES)
    scale = SCALES[name]
    overrides = dict((getattr(spec, "scale_overrides", None) or {}).get(name, {}))
    if overrides:
        merged = {**scale.target_epochs, **overrides.pop("target_epochs", {})}
        scale = dataclasses.replace(scale, target_epochs=merged, **overrides)
    return scale

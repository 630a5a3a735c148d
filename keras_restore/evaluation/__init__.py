"""Adaptive evaluation of defenses: end-to-end attacks through the whole defense, AutoAttack-style.

* :func:`adaptive`: APGD-CE, then APGD-T on the images still classified correctly (Croce & Hein
  2020), through ``defense.model`` (BPDA from each preprocessing step's declared gradient, EOT for
  stochastic defenses); per-image worst case, with which attack fooled each image.
* :func:`masking_checks`: the gradient-masking checks of Carlini et al. (2019), Sec. 5.2 / 7.
* :func:`checks_passed`: True when every check of a :func:`masking_checks` result passed.

Layer 3 (``docs/architecture.md``): imports io/validation/runtime, data, models, attacks,
metrics and defenses; never training or pipeline.
"""

from keras_restore.evaluation.adaptive import (ATTACKS, CHECKS, AdaptiveResult, adaptive, checks_passed,
                                               default_eps_grid, masking_checks)

__all__ = ["ATTACKS", "CHECKS", "AdaptiveResult", "adaptive", "checks_passed", "default_eps_grid",
           "masking_checks"]

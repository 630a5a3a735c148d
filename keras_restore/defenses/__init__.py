"""Defenses: preprocessing -> restorer -> classifier as one :class:`Defense`, and their registry.

* :class:`Defense` (:mod:`.base`): ``model`` (differentiable, for adaptive attacks and export),
  ``restore``, ``predict``, ``evaluate``.
* :mod:`.preprocessing`: training-free layers that declare their gradient (exact or BPDA).
* :data:`DEFENSES` / :func:`build_defense` (:mod:`.registry`): the zoo.

Layering: imports data/models/metrics below it, never training or pipeline (``docs/architecture.md``).
"""

from keras_restore.defenses.base import Defense, RestorerDefense, apply_preprocessing, compose
from keras_restore.defenses.preprocessing import GRADIENTS, BitDepthReduction, MedianFilter, declared_gradient
from keras_restore.defenses.registry import DEFENSES, DefenseSpec, build_defense, get_defense

__all__ = ["Defense", "RestorerDefense", "apply_preprocessing", "compose", "GRADIENTS", "BitDepthReduction", "MedianFilter",
           "declared_gradient", "DEFENSES", "DefenseSpec", "build_defense", "get_defense"]

"""keras_restore: image-restoration defenses against adversarial examples, reproduced in Keras 3.

Papers reproduced (texts in ``../shared/papers``):

* Ali et al., *Deep Image Restoration Model: A Defense Method Against Adversarial Attacks*
  (2021) -- the primary paper: restorers of Tables 1-2, targets of Table 3, results of Tables 4-9.
* Ali et al., *Defending Adversarial Examples by a Clipped Residual U-Net Model* (CRU-Net, 2022).

Sub-packages: :mod:`keras_restore.data` (offline / TFDS loaders), :mod:`keras_restore.models`
(builders + model zoo), :mod:`keras_restore.attacks` (FGSM, BIM, PGD, CW-L2, DeepFool, spatial,
R-FGSM, MIM, JSMA), :mod:`keras_restore.defense` (restorer -> classifier composition and metrics),
:mod:`keras_restore.pipeline` (the five phases of the paper, table by table),
:mod:`keras_restore.export` (TF Serving SavedModels).
"""

import os as _os

# oneDNN kernels for TensorFlow's CPU ops. TensorFlow turns them on by default only on some CPUs; on
# this project's AMD EPYC (AVX2) they were off, and one ResNet50 training step (batch 128, 32x32x1,
# float32) took 11.9 s on Eigen vs 1.6 s with oneDNN (7x; benchmarks/onednn.py). It must be set
# before TensorFlow is imported; a value the user set wins (TF_ENABLE_ONEDNN_OPTS=0 turns it off).
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"

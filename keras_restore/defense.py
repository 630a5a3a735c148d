"""Kept for existing imports: the defense abstraction is :mod:`keras_restore.defenses`, the metrics
are :mod:`keras_restore.metrics`."""

from keras_restore.defenses.base import Defense, RestorerDefense, compose  # noqa: F401
from keras_restore.metrics import accuracy, predict, psnr, psnr_paper_255, ssim, success_rate  # noqa: F401

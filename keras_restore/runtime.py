"""Runtime settings in one place: threads, determinism, seeds and the precision policy.

Measured on the 2-core AMD EPYC CPU this package is developed on (see ``benchmarks/``):
intra-op threads = all cores and inter-op = 1 is best for the restorers' convolutions; XLA is not
used on CPU (compiling the Table 1 restorer's training step did not finish in 15 minutes,
``../shared/FINDINGS.md``). On a visible GPU the ``mixed_float16`` policy is chosen automatically;
``KERAS_RESTORE_PRECISION`` (``float32`` / ``mixed_float16`` / ``mixed_bfloat16``) overrides it.
TensorFlow's oneDNN kernels are switched on when the package is imported (``TF_ENABLE_ONEDNN_OPTS=1``
unless set, ``keras_restore/__init__.py``): on this AMD EPYC TensorFlow left them off, and ResNet50
training steps ran ~7x slower on one core (``benchmarks/onednn.py``). Machines change between sessions: on
2026-12-07 it was a Xeon with AVX-512 but without AVX512-BF16 or AMX, where mixed_bfloat16 is emulated and trains at
about half float32's speed (``benchmarks/results/precision_xeon_nobf16.csv``; :func:`warn_if_emulated`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import random

import numpy as np

_CONFIGURED = False
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def configure(threads: int | None = None, deterministic: bool = True) -> None:
    """Set TensorFlow's thread pools and op determinism (idempotent; call before building graphs)."""
    global _CONFIGURED
    import tensorflow as tf

    if _CONFIGURED:
        return
    n = threads or os.cpu_count() or 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TF already initialised its pools: keep them.
        pass
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    _CONFIGURED = True


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras from one integer."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def has_gpu() -> bool:
    """True when TensorFlow sees a GPU (the one place this package asks)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def choose_precision(policy: str | None = None) -> str:
    """Pick the Keras dtype policy: argument, else $KERAS_RESTORE_PRECISION, else GPU -> mixed_float16."""
    chosen = policy or os.environ.get("KERAS_RESTORE_PRECISION")
    if chosen is None:
        chosen = "mixed_float16" if has_gpu() else "float32"
    if chosen not in PRECISIONS:
        source = "policy" if policy else "KERAS_RESTORE_PRECISION"
        raise ValueError(f"`{source}` must be one of {', '.join(PRECISIONS)}, got {chosen!r}.")
    return chosen


def set_precision(policy: str | None = None) -> str:
    import keras

    chosen = choose_precision(policy)
    keras.mixed_precision.set_global_policy(chosen)
    return chosen


@functools.cache
def cpu_supports_bf16() -> bool:
    """True when this CPU has bfloat16 matrix units (AMX-BF16) or AVX512-BF16 (Linux /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool({"amx_bf16", "avx512_bf16"} & flags)
    except OSError:
        pass
    return False


def gpu_supports_bf16() -> bool:
    """True when a visible GPU has bfloat16 tensor cores: compute capability 8.0 or higher (Ampere, Hopper);
    a V100 (7.0) or T4 (7.5) has none."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        except (ValueError, RuntimeError):
            continue
        if capability and tuple(capability) >= (8, 0):
            return True
    return False


def bf16_is_native() -> bool:
    """True when bfloat16 runs on hardware units here: a CPU with AMX-BF16 / AVX512-BF16, or a GPU of compute
    capability 8.0 or higher."""
    return cpu_supports_bf16() or gpu_supports_bf16()


_WARNED_EMULATED = False


def warn_if_emulated(policy: str) -> bool:
    """Warn (once per process) when ``policy`` is ``mixed_bfloat16`` on a CPU without bfloat16 units and no GPU:
    the bfloat16 arithmetic is then emulated, and training is slower than in float32 (2026-12-07, on a Xeon
    with AVX-512 but neither AVX512-BF16 nor AMX: ResNet-20's training step at batch 128 ran 0.46x and MobileNet's
    0.51x float32's speed, ``benchmarks/results/precision_xeon_nobf16.csv``). The run still goes on in the policy
    asked for; ``--precision auto`` and the CIFAR-10 targets' own dtypes (``pipeline/cifar_targets.target_precision``)
    choose float32 on such a CPU. Returns whether it warned."""
    global _WARNED_EMULATED
    import warnings

    if policy != "mixed_bfloat16" or _WARNED_EMULATED or bf16_is_native():
        return False
    _WARNED_EMULATED = True
    warnings.warn("Training in mixed_bfloat16 on a CPU without AVX512-BF16 or AMX: bfloat16 is emulated here and "
                  "about 2x slower than float32 (--precision float32 or auto avoids it).", RuntimeWarning,
                  stacklevel=3)
    return True


def training_precision(policy: str | None = None) -> str:
    """The dtype policy for *training*: ``policy`` if given (``"auto"`` = choose), else
    $KERAS_RESTORE_PRECISION, else ``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a CPU with
    AMX/AVX512-BF16, ``float32`` elsewhere. Not yet measured at table scale: the table scripts
    therefore default to ``--precision float32``, and ``"auto"`` must be asked for. Attacks and
    evaluation always run in float32: a trained model is rebuilt in float32 with the same weights
    (:func:`keras_restore.training.float32_copy`)."""
    if policy not in (None, "auto"):
        return choose_precision(policy)
    if os.environ.get("KERAS_RESTORE_PRECISION"):
        return choose_precision(None)
    if has_gpu():
        return "mixed_float16"
    return "mixed_bfloat16" if cpu_supports_bf16() else "float32"


@contextlib.contextmanager
def precision_scope(policy: str):
    """Build models under the Keras dtype policy ``policy`` inside the block; the previous global
    policy is restored afterwards (layers keep the policy they were built with)."""
    import keras

    if policy not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {', '.join(PRECISIONS)}, got {policy!r}.")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)

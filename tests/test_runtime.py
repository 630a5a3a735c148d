"""keras_restore.runtime and the process-wide settings made when the package is imported."""

import os
import subprocess
import sys

import pytest


def _onednn_after_import(env_value):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if env_value is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = env_value
    code = "import os, keras_restore; print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_turns_onednn_on_unless_the_user_chose():
    # TensorFlow leaves oneDNN off on some CPUs (AMD EPYC here: 7x slower ResNet50 steps,
    # benchmarks/onednn.py); the package turns it on before TensorFlow starts ...
    assert _onednn_after_import(None) == "1"
    # ... and a value the user set wins.
    assert _onednn_after_import("0") == "0"


def test_choose_precision_rejects_unknown_policy():
    from keras_restore import runtime

    with pytest.raises(ValueError, match="`policy` must be one of float32, mixed_float16, mixed_bfloat16"):
        runtime.choose_precision("float64")

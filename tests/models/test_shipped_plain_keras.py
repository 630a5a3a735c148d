"""Every shipped ``.keras`` file loads through the package's loader (sha256 checked against
saved_models/manifest.json, the builder's parameter count) and with plain ``keras.saving.load_model``
(safe mode) in a Python process that never imported ``keras_restore``, and both compute the same.
One test loads each file once in each process (the suite's slowest test: ~26 files)."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from keras_restore import models
from keras_restore.models import quantize

SHIPPED = sorted(models.shipped())

_CHILD = r"""
import json, sys
import numpy as np
import keras
assert "keras_restore" not in sys.modules
out = {}
for name, path, x in json.loads(sys.argv[1]):
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    out[name] = np.asarray(model.predict(np.load(x), verbose=0)).tolist()
assert not any(m.startswith("keras_restore") for m in sys.modules)
print(json.dumps(out))
"""


def test_no_custom_layer_in_any_shipped_file():
    for name in SHIPPED:
        with zipfile.ZipFile(models.models_dir() / f"{name}.keras") as z:
            config = z.read("config.json").decode()
        assert "keras_restore" not in config, f"{name}.keras holds a keras_restore layer"


@pytest.mark.slow
def test_shipped_models_load_and_agree_in_a_fresh_process(tmp_path):
    assert SHIPPED, "no shipped models found"
    jobs, expected = [], {}
    rng = np.random.default_rng(0)
    for name in SHIPPED:
        model = models.load_model(name)
        # a file shipped with int8 Dense kernels (ModelSpec.ship_quantized) against the builder's model quantized alike
        reference = quantize.quantize_layers(models.build(name), quantize.quantized_layers(model))
        assert model.count_params() == reference.count_params(), name
        assert set(quantize.quantized_layers(model).values()) <= {models.get_spec(name).ship_quantized}, name
        x = rng.random((4, *model.input_shape[1:])).astype("float32")
        np.save(tmp_path / f"{name}.npy", x)
        expected[name] = model.predict(x, verbose=0)
        jobs.append([name, str(models.models_dir() / f"{name}.keras"), str(tmp_path / f"{name}.npy")])
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(jobs)], capture_output=True, text=True,
                          timeout=600, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin",
                                            "HOME": str(tmp_path),
                                            # the same CPU kernels as this process (keras_restore turns
                                            # oneDNN on): Eigen and oneDNN differ by ~2e-5 on M2's logits
                                            "TF_ENABLE_ONEDNN_OPTS": os.environ["TF_ENABLE_ONEDNN_OPTS"]})
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for name in SHIPPED:
        np.testing.assert_allclose(np.array(got[name]), expected[name], atol=1e-5, err_msg=name)

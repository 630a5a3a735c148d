"""Turn the float16 weight chunks written by ``reproduce/gpu_train.py`` (Keras 3 on JAX, on a
GPU) into ``.keras`` files built by this package with TensorFlow, and measure them here.

For each model: build it with its registry builder, load the weights (float16 -> float32; the
rounding is part of the shipped model, and every number we report is measured after it), then

* classifiers: test accuracy on the full test split read by :func:`keras_restore.data.load_arrays`
  (for CIFAR-10: the JPEG copy, decoded by TensorFlow);
* restorers: mean squared error on 1,000 clean test images restored (a sanity check; the tables
  measure them properly).

Writes ``<out>/<name>.keras`` and ``<out>/<name>.json`` (the GPU record + these measurements), which
``--restorer-file`` / ``keras-restore`` and the ``ship_gpu_models`` step accept.

Usage::

    python reproduce/import_gpu_weights.py --gpu-dir /work/.device/... --data-dir ../shared/data --out .gpu
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def load_fp16_weights(gpu_dir: Path, name: str) -> list:
    parts = sorted(gpu_dir.glob(f"{name}.fp16.part*.npz"), key=lambda p: int(p.stem.rsplit("part", 1)[1].split(".")[0]))
    if not parts:
        raise FileNotFoundError(f"No weight chunks {name}.fp16.part*.npz in {gpu_dir}.")
    arrays = {}
    for part in parts:
        with np.load(part, allow_pickle=False) as f:
            arrays.update({k: f[k] for k in f.files})
    keys = sorted(arrays)
    if keys != [f"w{i:04d}" for i in range(len(keys))]:
        raise ValueError(f"Weight chunks of {name} in {gpu_dir} are incomplete: {len(keys)} arrays, gaps in the index.")
    return [arrays[k].astype(np.float32) for k in keys]


def import_model(name: str, gpu_dir: Path, record: dict, data_dir, out: Path) -> dict:
    from keras_restore import data, models
    from keras_restore.defense import accuracy, predict
    from keras_restore.io import save_model_atomic

    spec = models.get_spec(name)
    model = spec.build()
    weights = load_fp16_weights(gpu_dir, name)
    if len(weights) != len(model.weights):
        raise ValueError(f"{name}: {len(weights)} weight arrays from the GPU, the builder has {len(model.weights)}.")
    model.set_weights(weights)
    x_test, y_test = data.load_arrays(spec.dataset, "test", data_dir)
    rec = dict(record.get("models", {}).get(name, {}))
    rec.update(source="trained on a GPU (Keras 3, JAX backend) by reproduce/gpu_train.py; float16 transfer",
               backend_trained=record.get("backend"), devices=record.get("devices"),
               data=data.source_label(spec.dataset, data_dir))
    if spec.kind == "classifier":
        rec["test_accuracy"] = accuracy(model, x_test, y_test, 256)
        print(f"{name}: test accuracy {rec['test_accuracy']:.2f}% ({len(x_test)} test images)")
    else:
        restored = predict(model, x_test[:1000], 128)
        rec["clean_test_mse"] = float(np.mean((restored - x_test[:1000]) ** 2))
        print(f"{name}: MSE on 1,000 clean test images {rec['clean_test_mse']:.5f}")
    if "pairs" in record and spec.kind == "restorer":
        rec["pairs"] = record["pairs"]
    save_model_atomic(model, out / f"{name}.keras")
    (out / f"{name}.json").write_text(json.dumps(rec, indent=1))
    return rec


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gpu-dir", required=True, help="folder with gpu_<dataset>.json and the .npz chunks")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=".gpu")
    p.add_argument("--models", nargs="*", default=None, help="default: every model in the GPU record")
    args = p.parse_args(argv)

    from keras_restore import runtime

    runtime.configure()
    gpu_dir, out = Path(args.gpu_dir), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = [json.loads(r.read_text()) for r in sorted(gpu_dir.glob("gpu_*.json"))]
    if not records:
        raise SystemExit(f"import_gpu_weights.py: error: no gpu_*.json record in {gpu_dir}")
    results = {}
    for record in records:
        for name in args.models or list(record.get("models", {})):
            if name in record.get("models", {}):
                results[name] = import_model(name, gpu_dir, record, args.data_dir, out)
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

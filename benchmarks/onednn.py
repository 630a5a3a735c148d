"""TensorFlow's oneDNN CPU kernels on vs off: seconds per training step of two package models.

    .venv/bin/python benchmarks/onednn.py [--quick] [--rounds 3]

``TF_ENABLE_ONEDNN_OPTS`` is read when TensorFlow starts, so every measurement is its own process:
the two settings alternate, round by round (``on, off, on, off, ...``), each process timing
``steps`` training steps after two warm-up steps, and the best and median per setting go to
``benchmarks/results/onednn.csv`` (atomically) with ``speedup`` = off / on (median) of this run.

Why: TensorFlow turns oneDNN on by default only on some x86 CPUs. On this project's 2-core AMD
EPYC (AVX2, no AVX-512) it was off, and a ResNet50 training step ran on Eigen at one core's speed;
``keras_restore/__init__.py`` now sets ``TF_ENABLE_ONEDNN_OPTS=1`` unless the user set it. Models:
``resnet50_fashion_mnist`` (papers/002's target: ``keras.applications`` ResNet50 on padded 28x28x1,
batch 128) and ``restorer_mnist`` (papers/000 Table 1, batch 128), float32, both untrained, the
package's thread settings (``keras_restore.runtime.configure``: intra-op = all cores, inter-op 1,
op determinism on).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
MODELS = ("resnet50_fashion_mnist", "restorer_mnist")


def _child(model: str, steps: int) -> None:
    """One measurement (runs in a fresh process): prints a JSON line with seconds per step."""
    import time

    import keras
    import numpy as np

    from keras_restore import models, runtime

    runtime.configure()
    runtime.seed_everything(0)
    net = models.build(model)
    x = np.random.default_rng(0).random((128, *net.input_shape[1:]), dtype=np.float32)
    if net.output_shape[1:] == net.input_shape[1:]:   # a restorer: MSE to the clean image
        net.compile("adam", "mse")
        y = x
    else:
        net.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))   # logits
        y = np.zeros((128,), np.int32)
    for _ in range(2):
        net.train_on_batch(x, y)
    c0, t0 = sum(os.times()[:2]), time.perf_counter()
    for _ in range(steps):
        net.train_on_batch(x, y)
    dt = time.perf_counter() - t0
    print(json.dumps({"s_per_step": dt / steps, "cpu_percent": 100 * (sum(os.times()[:2]) - c0) / dt}))


def measure(model: str, setting: str, steps: int) -> dict:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, __file__, "--child", model, "--steps", str(steps)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 round, 2 steps per process")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.rounds < 1 or a.steps < 1:
        p.error(f"--rounds and --steps must be >= 1, got {a.rounds} and {a.steps}")
    if a.child:
        _child(a.child, a.steps)
        return 0
    rounds, steps = (1, 2) if a.quick else (a.rounds, a.steps)
    from roofline import machine_info, print_table, write_csv

    info = machine_info()
    rows = []
    for model in a.models:
        times = {"1": [], "0": []}
        cpu = {"1": [], "0": []}
        for _ in range(rounds):
            for setting in ("1", "0"):
                r = measure(model, setting, steps)
                times[setting].append(r["s_per_step"])
                cpu[setting].append(r["cpu_percent"])
        med = {s: statistics.median(v) for s, v in times.items()}
        for setting, label in (("1", "on"), ("0", "off")):
            rows.append({**info, "model": model, "batch": 128, "onednn": label, "rounds": rounds, "steps": steps,
                         "best_s_per_step": min(times[setting]), "median_s_per_step": med[setting],
                         "median_cpu_percent": statistics.median(cpu[setting]),
                         "speedup": med["0"] / med["1"] if setting == "1" else 1.0})
    path = write_csv("onednn", rows)
    print_table(rows, ["model", "onednn", "best_s_per_step", "median_s_per_step", "median_cpu_percent", "speedup"])
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training throughput of the CIFAR-10 models in float32 vs mixed_bfloat16, measured in one run.

    .venv/bin/python benchmarks/precision.py [--quick] [--models densenet121_cifar10,restorer_cifar10]

For each model, one ``train_on_batch`` step at batch 128 (32x32x3 inputs) is timed ``rounds``
times per dtype policy, the two policies interleaved round by round (so a load that changes during
the run hits both alike); the median images per second and the bfloat16 / float32 ratio are written
to ``benchmarks/results/precision.csv`` (atomically) with the machine and load average. Classifiers
train with sparse cross-entropy on their logits and SGD, restorers with MSE against the input and
Adam -- the losses of their recipes (the optimizer's cost is small beside the convolutions).

Why: ``--precision auto`` picks mixed_bfloat16 on a CPU with AVX512-BF16 / AMX, but on the 2-core
EPYC the depthwise convolutions of MobileNet ran slower in bfloat16 (2026-12-04: 775 vs 416 img/s),
so ``keras_restore.pipeline.cifar_targets.PRECISION`` picks the dtype per target from this table,
and the papers' training budgets (issue 21) are estimated from it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import roofline  # noqa: E402  (benchmarks/roofline.py: shared helpers)

CLASSIFIERS = ("densenet121_cifar10", "mobilenet_cifar10", "resnet_cifar10")
RESTORERS = ("restorer_cifar10", "crunet_cifar10")
POLICIES = ("float32", "mixed_bfloat16")


def _model(name: str, policy: str):
    import keras

    from keras_restore import models, training

    model = training.build_model(lambda: models.build(name), training.TrainConfig(epochs=1, precision=policy))
    if name in CLASSIFIERS:
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    else:
        model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
    return model


def measure(names, *, batch: int, rounds: int, steps: int) -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((batch, 32, 32, 3), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    info = roofline.machine_info()
    rows = []
    for name in names:
        target = labels if name in CLASSIFIERS else x
        built = {p: _model(name, p) for p in POLICIES}
        for m in built.values():   # trace and warm up
            for _ in range(2):
                m.train_on_batch(x, target)
        times = {p: [] for p in POLICIES}
        for _ in range(rounds):
            for p, m in built.items():
                start = time.perf_counter()
                for _ in range(steps):
                    m.train_on_batch(x, target)
                times[p].append(steps * batch / (time.perf_counter() - start))
        base = statistics.median(times["float32"])
        for p in POLICIES:
            med = statistics.median(times[p])
            rows.append({"model": name, "policy": p, "batch_size": batch, "rounds": rounds, "steps_per_round": steps,
                         "img_per_s_median": round(med, 1), "img_per_s_best": round(max(times[p]), 1),
                         "vs_float32": round(med / base, 3), **info})
            print(f"{name:22s} {p:15s} {med:8.1f} img/s ({med / base:.2f}x float32)", flush=True)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 rounds of 1 step, 2 models (a smoke run)")
    p.add_argument("--models", default=",".join(CLASSIFIERS + RESTORERS))
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--out", default="precision", help="CSV name under benchmarks/results/")
    args = p.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in CLASSIFIERS + RESTORERS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; expected some of {', '.join(CLASSIFIERS + RESTORERS)}")
    if args.quick:
        names = names[:2] if args.models == p.get_default("models") else names
    roofline.configure_threads(2, 1)
    rows = measure(names, batch=args.batch, rounds=2 if args.quick else 5, steps=1 if args.quick else 3)
    print(f"wrote {roofline.write_csv(args.out, rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

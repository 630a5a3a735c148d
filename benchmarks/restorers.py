"""Throughput of the deep image restorers (Ali et al. 2021, Tables 1 and 2) on this CPU.

    .venv/bin/python benchmarks/restorers.py [--quick] [--models restorer_mnist,restorer_cifar10]
    .venv/bin/python benchmarks/restorers.py --profile   # per-layer, plain vs fast -> layers.csv

For each restorer (untrained weights: speed does not depend on them), measured in one process,
interleaved round by round so every method sees the same CPU contention:

* inference images/s at batch 128 (``tf_function`` and ``fast`` also at 32 and 64) with
  ``keras_predict`` (``model.predict``), ``tf_function`` (one fixed-shape ``tf.function``,
  ``keras_restore.defense.predict``), ``fast`` (``keras_restore.fast.fast_inference`` clone,
  ``strategy="auto"``, through the same ``tf.function`` path) and ``forward_rewrite`` (every
  ``Conv2DTranspose`` as a forward convolution, ``strategy="forward"``: the textbook rewrite);
* the roofline convolution of ``benchmarks/roofline.py`` once per round, for the fraction;
* training images/s: ``train_on_batch`` with MSE and Adam (``jit_compile=False``: XLA compilation
  of these models does not finish in reasonable time on CPU), batch 128;
* a thread-pool sweep (``tf.config.threading`` intra/inter) in child processes (the pools can only
  be set before TensorFlow starts), for the fast path at batch 128.

GFLOP/s use :func:`keras_restore.profiling.count_flops` (training: 3x forward).
``fraction_best`` is the model's best GFLOP/s over the best roofline-conv GFLOP/s of the whole
model run (a ceiling); ``fraction_median`` is median over median of the same rounds (noisier: on a
shared CPU the two are timed moments apart). Writes ``benchmarks/results/restorers.csv`` atomically and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import roofline  # noqa: E402  (benchmarks/roofline.py: shared helpers)

MODELS = ("restorer_mnist", "restorer_cifar10")
THREAD_SETTINGS = ((2, 1), (1, 1), (2, 2), (0, 0))  # (intra, inter); 0 = TF default


def _inference_fns(model, fast, forward, x, batch_size):
    from keras_restore.defense import predict

    n = len(x)
    return {
        "keras_predict": lambda: model.predict(x, batch_size=batch_size, verbose=0),
        "tf_function": lambda: predict(model, x, batch_size),
        "fast": lambda: predict(fast, x, batch_size),
        "forward_rewrite": lambda: predict(forward, x, batch_size),
    }, n


def _rates(best, med, flops, conv_best, conv_med) -> dict:
    """Images/s (best and median), GFLOP/s and the fraction of the conv roofline of one row."""
    return {"img_per_s_best": round(best, 1), "img_per_s_median": round(med, 1),
            "gflops_best": round(best * flops / 1e9, 1),
            "roofline_conv_gflops_best": round(conv_best, 1),
            "roofline_conv_gflops_median": round(conv_med, 1),
            "fraction_best": round(best * flops / 1e9 / conv_best, 3),
            "fraction_median": round(med * flops / 1e9 / conv_med, 3)}

def bench_model(name, quick, info, threads):
    import keras
    import numpy as np

    from keras_restore import fast as fast_mod
    from keras_restore.models import build
    from keras_restore.profiling import count_flops

    keras.utils.set_random_seed(0)
    model = build(name)
    flops = count_flops(model)
    train_flops = count_flops(model, training=True)
    fast = fast_mod.fast_inference(model, strategy="auto")
    forward = fast_mod.fast_inference(model, strategy="forward")
    rng = np.random.default_rng(0)
    n_images = 128 if quick else 256
    rounds = 2 if quick else 3
    x = rng.random((n_images, *model.input_shape[1:]), dtype=np.float32)
    # Exactness check of the clones on this input (reported, not asserted).
    ref = model.predict(x[:64], verbose=0)
    err_fast = float(np.abs(fast.predict(x[:64], verbose=0) - ref).max())
    err_fwd = float(np.abs(forward.predict(x[:64], verbose=0) - ref).max())
    conv_fn, conv_flops = roofline.make_conv()
    conv_fn()
    rows = []
    all_conv = []  # every roofline-conv timing of this model's run: the ceiling is their best
    base = {"model": name, "params": model.count_params(), "gflop_per_image": round(flops / 1e9, 4),
            "data_format": keras.config.image_data_format(), "intra": threads[0], "inter": threads[1]}
    for bs in (32, 64, 128):
        fns, n = _inference_fns(model, fast, forward, x, bs)
        if bs != 128:  # the batch sweep: the two fixed-shape paths only
            fns = {k: v for k, v in fns.items() if k in ("tf_function", "fast")}
        for fn in fns.values():
            fn()  # warm-up: trace
        times = {k: [] for k in fns}
        conv_times = []
        for _ in range(rounds):
            for key, fn in fns.items():
                times[key].append(roofline.time_call(fn))
            conv_times.append(roofline.time_call(conv_fn))
        all_conv += conv_times
        conv_best = conv_flops / min(all_conv) / 1e9
        conv_med = conv_flops / statistics.median(conv_times) / 1e9
        for key, ts in times.items():
            best, med = n / min(ts), n / statistics.median(ts)
            rows.append({**base, "phase": "inference", "method": key, "batch_size": bs,
                         **_rates(best, med, flops, conv_best, conv_med),
                         "max_abs_err_vs_plain": {"fast": err_fast, "forward_rewrite": err_fwd}.get(key, 0.0),
                         **info})
    # Training: train_on_batch, MSE, Adam.
    bs = 128
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=False)
    xb = x[:bs]
    for _ in range(2):
        model.train_on_batch(xb, xb)
    step_times, conv_times = [], []
    for _ in range(2 if quick else 4):
        step_times.append(roofline.time_call(lambda: model.train_on_batch(xb, xb)))
        conv_times.append(roofline.time_call(conv_fn))
    all_conv += conv_times
    conv_best = conv_flops / min(all_conv) / 1e9
    conv_med = conv_flops / statistics.median(conv_times) / 1e9
    best, med = bs / min(step_times), bs / statistics.median(step_times)
    rows.append({**base, "phase": "training", "method": "train_on_batch", "batch_size": bs,
                 "gflop_per_image": round(train_flops / 1e9, 4),
                 **_rates(best, med, train_flops, conv_best, conv_med),
                 **info})
    ceiling = conv_flops / min(all_conv) / 1e9
    for r in rows:  # best over best against the best conv of the whole run (a ceiling)
        r["roofline_conv_gflops_best"] = round(ceiling, 1)
        r["fraction_best"] = round(r["gflops_best"] / ceiling, 3)
    return rows, fast.fast_plan


def thread_child(name, quick):
    """Child process of the thread sweep: prints one JSON line."""
    import numpy as np

    from keras_restore import fast as fast_mod
    from keras_restore.defense import predict
    from keras_restore.models import build
    from keras_restore.profiling import count_flops

    model = build(name)
    fast = fast_mod.fast_inference(model)
    x = np.random.default_rng(0).random((256, *model.input_shape[1:]), dtype=np.float32)
    conv_fn, conv_flops = roofline.make_conv()
    conv_fn()
    predict(fast, x, 128)
    ts, cs = [], []
    for _ in range(2 if quick else 3):
        ts.append(roofline.time_call(lambda: predict(fast, x, 128)))
        cs.append(roofline.time_call(conv_fn))
    best = len(x) / min(ts)
    print(json.dumps({"img_per_s_best": round(best, 1), "img_per_s_median": round(len(x) / statistics.median(ts), 1),
                      "gflops_best": round(best * count_flops(model) / 1e9, 1),
                      "roofline_conv_gflops_best": round(conv_flops / min(cs) / 1e9, 1)}))


def thread_sweep(name, quick, info):
    rows = []
    for intra, inter in THREAD_SETTINGS:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        cmd = [sys.executable, __file__, "--thread-child", name, "--intra", str(intra), "--inter", str(inter)]
        if quick:
            cmd.append("--quick")
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        line = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if out.returncode or not line:
            print(f"thread sweep {intra}/{inter} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        r = json.loads(line[-1])
        rows.append({"model": name, "phase": "threads", "method": "fast", "batch_size": 128,
                     "intra": intra, "inter": inter, **r,
                     "fraction_best": round(r["gflops_best"] / r["roofline_conv_gflops_best"], 3), **info})
    return rows


def profile_layers(name, info, repeats=3):
    """Per-layer times of the plain model and of its fast clone (alternated, best of both runs)."""
    import numpy as np

    from keras_restore import fast as fast_mod
    from keras_restore.models import build
    from keras_restore.profiling import layer_flops, per_layer_times

    model = build(name)
    clone = fast_mod.fast_inference(model)
    x = np.random.default_rng(0).random((128, *model.input_shape[1:]), dtype=np.float32)
    flops = {l.name: layer_flops(l) * len(x) for l in model.layers}
    best = {}
    for _ in range(2):
        for label, m in (("plain", model), ("fast", clone)):
            for r in per_layer_times(m, x, repeats=repeats):
                key = (label, r["name"])
                if key not in best or r["seconds"] < best[key]["seconds"]:
                    best[key] = r
    rows = []
    for (label, lname), r in best.items():
        rows.append({"model": name, "variant": label, "layer": lname, "type": r["type"],
                     "rewrite": clone.fast_plan.get(lname, "") if label == "fast" else "",
                     "out_shape": "x".join(str(v) for v in r["out_shape"][1:]), "batch_size": len(x),
                     "ms": round(r["seconds"] * 1e3, 2),
                     "gflops": round(flops.get(lname, 0) / r["seconds"] / 1e9, 1) if flops.get(lname) else "",
                     **info})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, rounds and steps")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--no-thread-sweep", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="only the per-layer profile (plain vs fast) -> results/layers.csv")
    parser.add_argument("--intra", type=int, default=int(os.environ.get("BENCH_INTRA", 2)))
    parser.add_argument("--inter", type=int, default=int(os.environ.get("BENCH_INTER", 1)))
    parser.add_argument("--out", default=None,
                        help="results/<out>.csv (default: restorers, or layers with --profile; e.g. "
                             "restorers_crunet / layers_crunet for a subset)")
    parser.add_argument("--thread-child", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    roofline.configure_threads(args.intra, args.inter)
    if args.thread_child:
        thread_child(args.thread_child, args.quick)
        return 0
    info = roofline.machine_info()
    start = time.perf_counter()
    if args.profile:
        prof = [r for name in args.models.split(",") for r in profile_layers(name, info)]
        path = roofline.write_csv(args.out or "layers", prof)
        roofline.print_table(prof, ["model", "variant", "layer", "type", "rewrite", "out_shape", "ms", "gflops"])
        print(f"load {info['load_avg_1m']} at start; {time.perf_counter() - start:.0f} s -> {path}")
        return 0
    rows = []
    for name in args.models.split(","):
        model_rows, plan = bench_model(name, args.quick, info, (args.intra, args.inter))
        rows += model_rows
        print(f"{name}: fast plan {plan}")
    if not args.no_thread_sweep:
        rows += thread_sweep(args.models.split(",")[0], args.quick, info)
    path = roofline.write_csv(args.out or "restorers", rows)
    roofline.print_table(rows, ["model", "phase", "method", "batch_size", "intra", "inter", "img_per_s_best",
                                "img_per_s_median", "gflops_best", "roofline_conv_gflops_best",
                                "fraction_best", "fraction_median"])
    print(f"{info['cpu']}, {info['cores']} cores, TF {info['tf']}, load {info['load_avg_1m']} at start; "
          f"{time.perf_counter() - start:.0f} s -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

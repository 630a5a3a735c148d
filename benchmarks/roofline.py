"""Practical CPU roofline: GFLOP/s of a large ``tf.nn.conv2d`` and of a 2048^3 ``tf.matmul``.

    .venv/bin/python benchmarks/roofline.py [--quick]

Writes ``benchmarks/results/roofline.csv`` (atomically) and prints a table. The convolution is
3x3, 256 x 28 x 28 x 64 -> 64 channels, SAME (2 * 256*28*28 * 9*64*64 = 14.80 GFLOP); the matmul
is 2 * 2048^3 = 17.18 GFLOP. Each is timed in float32 and in bfloat16 (``--dtypes``), ``repeats``
times after a warm-up, interleaved; the best and the median are recorded, and each bfloat16 row
gives its speed-up over float32 of the same run (``vs_float32``). bfloat16 is fast only where the
CPU has AVX512-BF16 / AMX (Sapphire Rapids and later); elsewhere oneDNN converts and computes in
float32, so the ratio tells whether ``--precision auto`` should pick mixed_bfloat16 here. The helpers here (machine info, atomic CSV writing, thread settings) are
shared by the other benchmark scripts.
"""

from __future__ import annotations

import argparse
import csv
import io
import datetime as _dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
CONV_SHAPE = (256, 28, 28, 64, 64, 3)  # N, H, W, C_in, C_out, k
MATMUL_N = 2048


def configure_threads(intra: int = 0, inter: int = 0) -> None:
    """Set TF's thread pools (0 = TF default). Must run before TF executes anything."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)


def machine_info() -> dict:
    """CPU model (from /proc/cpuinfo), core count, TF/Keras versions, load average, date."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or "unknown"
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu in ("unknown", "", "x86_64"):
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    have = set(line.split(":", 1)[1].split())
                    flags = "+".join(x for x in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if x in have)
    except OSError:
        pass
    return {
        "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu, "cpu_flags": flags, "cores": os.cpu_count(),
        "tf": tf.__version__, "keras": keras.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def write_csv(name: str, rows: list[dict]) -> Path:
    """Write ``rows`` to ``benchmarks/results/<name>.csv`` atomically (the package's writer), at
    full precision (``keras_restore.pipeline.io.write_csv`` rounds for result tables)."""
    from keras_restore.pipeline import io as kr_io

    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return kr_io.write_text(RESULTS / f"{name}.csv", buf.getvalue())


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c, "")).ljust(widths[c]) for c in columns))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def make_conv(dtype: str = "float32"):
    """(callable, flops) for the roofline convolution in ``dtype``."""
    import tensorflow as tf

    n, h, w, ci, co, k = CONV_SHAPE
    x = tf.cast(tf.random.uniform((n, h, w, ci)), dtype)
    kern = tf.cast(tf.random.uniform((k, k, ci, co)), dtype)
    fn = tf.function(lambda: tf.nn.conv2d(x, kern, 1, "SAME"))
    return (lambda: fn().numpy()), 2 * n * h * w * k * k * ci * co


def make_matmul(dtype: str = "float32"):
    import tensorflow as tf

    a = tf.cast(tf.random.uniform((MATMUL_N, MATMUL_N)), dtype)
    b = tf.cast(tf.random.uniform((MATMUL_N, MATMUL_N)), dtype)
    fn = tf.function(lambda: tf.matmul(a, b))
    return (lambda: fn().numpy()), 2 * MATMUL_N ** 3


def time_call(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


DTYPES = ("float32", "bfloat16")


def measure(repeats: int = 10, dtypes=DTYPES) -> list[dict]:
    """Interleaved timings of the conv and the matmul in each dtype; one row each (best and median
    GFLOP/s; bfloat16 rows also their median speed-up over float32 of the same op)."""
    ops = {}
    for dtype in dtypes:
        ops[("conv2d_3x3_256x28x28x64", dtype)] = make_conv(dtype)
        ops[("matmul_2048", dtype)] = make_matmul(dtype)
    for fn, _ in ops.values():
        fn()  # warm-up / trace
    times = {k: [] for k in ops}
    for _ in range(repeats):
        for key, (fn, _) in ops.items():
            times[key].append(time_call(fn))
    rows = []
    for (name, dtype), (_, flops) in ops.items():
        ts = times[(name, dtype)]
        row = {"op": name, "dtype": dtype, "gflop": round(flops / 1e9, 3), "repeats": repeats,
               "best_gflops": round(flops / min(ts) / 1e9, 1),
               "median_gflops": round(flops / statistics.median(ts) / 1e9, 1)}
        if dtype != "float32" and (name, "float32") in times:
            row["vs_float32"] = round(statistics.median(times[(name, "float32")]) / statistics.median(ts), 2)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 10")
    parser.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=DTYPES)
    parser.add_argument("--intra", type=int, default=int(os.environ.get("BENCH_INTRA", 2)))
    parser.add_argument("--inter", type=int, default=int(os.environ.get("BENCH_INTER", 1)))
    args = parser.parse_args(argv)
    configure_threads(args.intra, args.inter)
    info = machine_info()
    rows = [{**r, "intra": args.intra, "inter": args.inter, **info} for r in measure(3 if args.quick else 10, args.dtypes)]
    path = write_csv("roofline", rows)
    print_table(rows, ["op", "dtype", "gflop", "best_gflops", "median_gflops", "vs_float32", "intra", "inter"])
    print(f"{info['cpu']} ({info['cpu_flags']}), {info['cores']} cores, TF {info['tf']}, "
          f"load {info['load_avg_1m']} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train a restorer on an exported pair file, on any Keras 3 backend.

Phase IV of Ali et al. (2021) separated from the rest of the pipeline, so the most expensive
step -- the Table 1 restorer costs about 2.2 GFLOP per training image -- can run on an
accelerator without TensorFlow: ``KERAS_BACKEND=jax python reproduce/train_restorer.py ...``.
The shipped ``saved_models/restorer_mnist.keras`` was trained this way on an NVIDIA H100
(JAX backend), from pairs made on the CPU by ``reproduce/make_pairs.py``; its manifest entry
records the run.

Input: an ``.npz`` with ``x_adv`` (float16 or float32 in [0, 1]) and ``x_clean`` (uint8 or
float), and optionally ``eval_*`` adversarial test sets with ``eval_*_clean``/labels for the
report. Output: ``<out>/<name>.weights.h5`` (in chunks of < 16 MB when ``--chunk-mb`` is set, to
fit size-limited transfers) and ``<out>/<name>.json`` with the training record.

Usage::

    python reproduce/train_restorer.py --pairs pairs.npz --model restorer_mnist --epochs 20 --out out/
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def load_pairs(path):
    with np.load(path, allow_pickle=False) as f:
        if "x_adv" not in f.files or "x_clean" not in f.files:
            raise ValueError(f"Pair file {path} must hold arrays x_adv and x_clean, has {f.files}.")
        arrays = {k: f[k] for k in f.files}
    for k, v in list(arrays.items()):
        if v.dtype == np.uint8:
            arrays[k] = v.astype(np.float32) / 255.0
        elif np.issubdtype(v.dtype, np.floating):
            arrays[k] = v.astype(np.float32)
    return arrays


def evaluate(restorer, arrays, classifiers_dir, log):
    """Accuracy of each shipped classifier on restored evaluation sets, if present."""
    import keras

    out = {}
    names = sorted({k.split("__")[1] for k in arrays if k.startswith("eval__")})
    for target in names:
        path = Path(classifiers_dir) / f"{target}.keras"
        if not path.exists():
            continue
        clf = keras.saving.load_model(path, compile=False)
        for key in sorted(k for k in arrays if k.startswith(f"eval__{target}__") and not k.endswith(("__clean", "__y"))):
            attack = key.split("__")[2]
            x_adv, y = arrays[key], arrays[f"{key}__y"].astype(np.int64)
            restored = restorer.predict(x_adv, batch_size=256, verbose=0)
            acc = float(np.mean(clf.predict(restored, batch_size=256, verbose=0).argmax(1) == y) * 100)
            adv = float(np.mean(clf.predict(x_adv, batch_size=256, verbose=0).argmax(1) == y) * 100)
            out[f"{target}/{attack}"] = {"adversarial_accuracy": adv, "restored_accuracy": acc,
                                         "restored_std_across_images": float(restored.std(axis=0).mean())}
            log(f"  {target}/{attack}: adversarial {adv:.2f}% -> restored {acc:.2f}%")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", required=True)
    p.add_argument("--model", default="restorer_mnist", help="registry name (restorer_mnist, restorer_mnist_paper, ...)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--classifiers-dir", default=None, help="directory with m1.keras/m2.keras for the report")
    p.add_argument("--chunk-mb", type=int, default=0)
    args = p.parse_args(argv)

    import keras

    from keras_restore import models, training

    log = lambda s: print(s, flush=True)  # noqa: E731
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    arrays = load_pairs(args.pairs)
    log(f"backend {keras.backend.backend()}, keras {keras.__version__}, pairs {arrays['x_adv'].shape}")
    keras.utils.set_random_seed(args.seed)
    model = models.build(args.model)
    cfg = training.TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed)
    # Pair files from make_pairs.py hold each pair's attack ("groups"): loss per attack is recorded.
    record = training.train_restorer(model, arrays["x_adv"], arrays["x_clean"], cfg,
                                     checkpoint_dir=out / f"{args.model}.backup", verbose=2,
                                     groups=arrays.get("groups"))
    record.update(model=args.model, backend=keras.backend.backend(), keras=keras.__version__,
                  n_pairs=int(len(arrays["x_adv"])))
    if args.classifiers_dir:
        t = time.time()
        record["eval"] = evaluate(model, arrays, args.classifiers_dir, log)
        record["eval_seconds"] = round(time.time() - t, 1)
    weights = out / f"{args.model}.weights.h5"
    # A compiled model's weights file also holds Adam's two moment slots (3x the size): save the
    # weights of a fresh, uncompiled copy.
    fresh = models.build(args.model)
    fresh.set_weights(model.get_weights())
    fresh.save_weights(weights)
    if args.chunk_mb:
        data = weights.read_bytes()
        size = args.chunk_mb * 1_000_000
        for i in range(0, len(data), size):
            (out / f"{args.model}.weights.h5.part{i // size}").write_bytes(data[i:i + size])
        weights.unlink()
    (out / f"{args.model}.json").write_text(json.dumps(record, indent=2))
    log(json.dumps({k: v for k, v in record.items() if k != "history"}, indent=1)[:4000])
    return record


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

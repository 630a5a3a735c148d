"""Train the CIFAR-10 (and transfer) models of Ali et al. (2021) on a GPU without TensorFlow.

An optional path for users with an accelerator and the ``--paper`` scale in mind: Keras 3 on the
**JAX backend** (e.g. a GPU machine with JAX but no TensorFlow). The models shipped in
``saved_models/`` were NOT made this way (no GPU was available when they were trained; see their
manifest entries); this script was smoke-tested with JAX on a CPU (6,000 images, 2 epochs) and
its weights imported by ``reproduce/import_gpu_weights.py``. Weights travel as float16 ``.npz``
chunks (< 16 MB each, for size-limited transfers); the import builds the models with
TensorFlow and measures the test accuracy on the importing machine (the number to report).

Phases (``--phases``; each with a wall-clock budget so one call fits the device's 10 minutes):

``targets``  Train classifiers (``--targets``) on the training split: SGD + Nesterov momentum 0.9,
             batch 128, learning rate 0.1 (VGG19: Adam 1e-4 -- it has no BatchNorm; the usual choice,
             not compared here) with per-epoch cosine decay over the epochs that fit the budget,
             weight decay 5e-4, random crop (4 px zero padding) + horizontal flip for CIFAR-10
             (Zagoruyko & Komodakis / He et al. CIFAR recipe); MNIST targets: Adam 1e-3, no
             augmentation. The last 5,000 (MNIST 3,000) training images are held out and the
             accuracy on them is logged.
``pairs``    (adversarial, clean) training pairs for the restorer: each of ``--n-pairs`` training
             images attacked once on one of the restorer's targets, round robin over
             target x attack. Attacks here are JAX versions of the L-inf family with the
             package's CIFAR-10 defaults (FGSM 8/255; BIM and PGD 10 x 2/255, PGD with random
             start), an L2 PGD (eps 0.5, 10 x 0.125) standing in for the small-L2 attacks
             (DeepFool, CW-L2, which are evaluated but not made here), and a spatial attack
             (worst of 8 random grid points of the Engstrom grid: +-30 deg, +-3 px).
``restorer`` Train the restorer on the pairs: MSE, Adam 1e-3, batch 64, up to ``--restorer-epochs``.

Usage (the CIFAR-10 training images as an uncompressed zip of the JPEG folder:
``cd ../shared/data/cifar10 && zip -0 -r -q /path/cifar10_train.zip train``)::

    KERAS_BACKEND=jax python reproduce/gpu_train.py --dataset cifar10 --data .gpu/cifar10_train.zip \\
        --targets densenet121_cifar10 mobilenet_cifar10 --phases targets pairs restorer \\
        --restorer restorer_cifar10 --out $OUT
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------- data
def load_cifar_zip(path):
    """CIFAR-10 train images from an uncompressed zip of the image folder (``train/{class}/NNNN.jpg``;
    made by ``reproduce/train_gpu.sh``: the JPEG bytes as they are, 47 MB)."""
    import zipfile

    from PIL import Image

    xs, ys = [], []
    with zipfile.ZipFile(path) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".jpg")):
            img = Image.open(io.BytesIO(zf.read(name))).convert("RGB")
            xs.append(np.asarray(img, dtype=np.uint8))
            ys.append(CIFAR_CLASSES.index(Path(name).parent.name))
    x, y = np.stack(xs), np.asarray(ys, np.int64)
    order = np.random.default_rng(0).permutation(len(x))   # class-mixed, as keras_restore.data
    return x[order], y[order]


def load_data(dataset, path):
    if dataset == "cifar10":
        x, y = load_cifar_zip(path)
    else:
        with np.load(path) as f:
            x, y = f["x_train"][..., None], f["y_train"].astype(np.int64)
    return x.astype(np.float32) / 255.0, y


def augment(x, rng):
    """Random crop from 4-px zero padding + horizontal flip (vectorised)."""
    n, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0)))
    dy, dx = rng.integers(0, 9, n), rng.integers(0, 9, n)
    rows = dy[:, None] + np.arange(h)[None]
    cols = dx[:, None] + np.arange(w)[None]
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    flip = rng.random(n) < 0.5
    out[flip] = out[flip, :, ::-1]
    return out


# ----------------------------------------------------------------------------- weights out
def save_weights_fp16(model, out, name, chunk_mb=15):
    """Model weights (in ``model.weights`` order) as float16 ``.npz`` chunks of < chunk_mb MB."""
    arrays = [np.asarray(w).astype(np.float16) for w in model.weights]
    if any(not np.all(np.isfinite(a)) for a in arrays):
        raise ValueError(f"{name}: weights overflow float16")
    files, chunk, size, part = [], {}, 0, 0
    for i, a in enumerate(arrays):
        if chunk and size + a.nbytes > chunk_mb * 1e6:
            files.append(_write_chunk(out, name, part, chunk))
            chunk, size, part = {}, 0, part + 1
        chunk[f"w{i:04d}"] = a
        size += a.nbytes
    files.append(_write_chunk(out, name, part, chunk))
    return files


def _write_chunk(out, name, part, chunk):
    path = Path(out) / f"{name}.fp16.part{part}.npz"
    np.savez(path, **chunk)
    return path.name


class BudgetCosine:
    """Per-epoch cosine learning rate over the epochs that fit a wall-clock budget."""

    def __init__(self, lr, max_epochs, budget_s):
        import keras

        self.lr, self.max_epochs, self.budget = lr, max_epochs, budget_s
        self.total = max_epochs
        outer = self

        class _CB(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                outer.start = time.time()
                outer.last = outer.start

            def on_epoch_begin(self, epoch, logs=None):
                frac = epoch / max(outer.total, 1)
                self.model.optimizer.learning_rate.assign(0.5 * outer.lr * (1 + math.cos(math.pi * frac)))

            def on_epoch_end(self, epoch, logs=None):
                now = time.time()
                took, outer.last = now - outer.last, now
                remaining = outer.budget - (now - outer.start)
                if epoch >= 1:
                    outer.total = min(outer.max_epochs, epoch + 1 + max(0, int(remaining // took)))
                if epoch + 1 >= outer.total or remaining < took:
                    self.model.stop_training = True
                log(f"  epoch {epoch + 1}/{outer.total}: {took:.1f} s " +
                    " ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items()))

        self.callback = _CB()


# ----------------------------------------------------------------------------- phase: targets
def train_target(name, x, y, dataset, max_epochs, budget_s, seed):
    import keras

    from keras_restore import models

    keras.utils.set_random_seed(seed)
    model = models.build(name)
    n_val = 5000 if dataset == "cifar10" else 3000
    xt, yt, xv, yv = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    if dataset == "cifar10" and name != "vgg19_cifar10":
        lr, opt = 0.1, keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    elif name == "vgg19_cifar10":
        lr, opt = 1e-4, keras.optimizers.Adam(1e-4)
    else:
        lr, opt = 1e-3, keras.optimizers.Adam(1e-3)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    sched = BudgetCosine(lr, max_epochs, budget_s)
    rng = np.random.default_rng(seed)
    start = time.time()
    hist = {"loss": [], "accuracy": []}
    sched.callback.set_model(model)
    sched.callback.on_train_begin()
    epoch = 0
    while epoch < sched.total and not model.stop_training:
        sched.callback.on_epoch_begin(epoch)
        xe = augment(xt, rng) if dataset == "cifar10" else xt
        h = model.fit(xe, yt, batch_size=128, epochs=1, shuffle=True, verbose=0)
        logs = {k: v[-1] for k, v in h.history.items()}
        for k in hist:
            hist[k].append(float(logs.get(k, float("nan"))))
        sched.callback.on_epoch_end(epoch, logs)
        epoch += 1
    val_acc = float(np.mean(model.predict(xv, batch_size=512, verbose=0).argmax(1) == yv) * 100)
    log(f"{name}: {epoch} epochs in {time.time() - start:.0f} s, held-out accuracy {val_acc:.2f}%")
    return model, {"epochs": epoch, "seconds": round(time.time() - start, 1), "heldout_accuracy": val_acc,
                   "n_train": int(len(xt)), "n_heldout": int(n_val), "optimizer": type(opt).__name__,
                   "learning_rate": lr, "history": hist, "batch_size": 128,
                   "augmentation": "crop4+flip" if dataset == "cifar10" else "none"}


# ----------------------------------------------------------------------------- phase: pairs
def _grad_fn(model):
    import jax
    import jax.numpy as jnp

    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]

    def loss(x, y):
        logits, _ = model.stateless_call(tv, ntv, x, training=False)
        logp = jax.nn.log_softmax(logits.astype(jnp.float32))
        return -jnp.sum(jnp.take_along_axis(logp, y[:, None], axis=1))

    def logits_fn(x):
        return model.stateless_call(tv, ntv, x, training=False)[0]

    return jax.jit(jax.grad(loss)), jax.jit(logits_fn)


def attack_batch(kind, grad, logits_fn, x, y, key):
    import jax
    import jax.numpy as jnp

    eps, step = 8 / 255, 2 / 255
    if kind == "fgsm":
        return jnp.clip(x + eps * jnp.sign(grad(x, y)), 0, 1)
    if kind in ("bim", "pgd"):
        adv = x
        if kind == "pgd":
            adv = jnp.clip(x + jax.random.uniform(key, x.shape, minval=-eps, maxval=eps), 0, 1)
        for _ in range(10):
            adv = adv + step * jnp.sign(grad(adv, y))
            adv = jnp.clip(jnp.clip(adv, x - eps, x + eps), 0, 1)
        return adv
    if kind == "pgd_l2":
        eps2, step2 = 0.5, 0.125
        adv = x
        for _ in range(10):
            g = grad(adv, y)
            g = g / (jnp.sqrt(jnp.sum(g * g, axis=(1, 2, 3), keepdims=True)) + 1e-12)
            delta = adv + step2 * g - x
            norm = jnp.sqrt(jnp.sum(delta * delta, axis=(1, 2, 3), keepdims=True))
            adv = jnp.clip(x + delta * jnp.minimum(1.0, eps2 / (norm + 1e-12)), 0, 1)
        return adv
    if kind == "spa":
        import keras

        best, best_loss = x, jnp.full((x.shape[0],), -jnp.inf)
        for k in jax.random.split(key, 8):
            ka, kt = jax.random.split(k)
            angle = jnp.deg2rad(jax.random.randint(ka, (x.shape[0],), -15, 16) * 2.0)
            shift = jax.random.randint(kt, (x.shape[0], 2), -3, 4).astype(jnp.float32)
            h, w = x.shape[1], x.shape[2]
            cy, cx = (h - 1) / 2, (w - 1) / 2
            cos, sin = jnp.cos(angle), jnp.sin(angle)
            # output (r, c) samples input (a0*c + a1*r + a2, b0*c + b1*r + b2): rotate about the centre, then shift
            a0, a1, b0, b1 = cos, -sin, sin, cos
            a2 = cx - a0 * cx - a1 * cy - shift[:, 1]
            b2 = cy - b0 * cx - b1 * cy - shift[:, 0]
            z = jnp.zeros_like(cos)
            t = jnp.stack([a0, a1, a2, b0, b1, b2, z, z], axis=1)
            cand = keras.ops.image.affine_transform(x, t, interpolation="bilinear", fill_mode="constant")
            logp = jax.nn.log_softmax(logits_fn(cand).astype(jnp.float32))
            lo = -jnp.take_along_axis(logp, y[:, None], axis=1)[:, 0]
            better = lo > best_loss
            best = jnp.where(better[:, None, None, None], cand, best)
            best_loss = jnp.where(better, lo, best_loss)
        return best
    raise ValueError(kind)


PAIR_ATTACKS = ("fgsm", "bim", "pgd", "pgd_l2", "spa")


def make_pairs(targets, x, y, n_pairs, seed, batch=500):
    import jax
    import jax.numpy as jnp

    combos = [(t, a) for t in targets for a in PAIR_ATTACKS]
    order = np.random.default_rng(seed).permutation(len(x))[:n_pairs]
    adv_all = np.empty((len(order),) + x.shape[1:], np.float16)
    idx_all = np.empty(len(order), np.int64)
    info, pos, key = {}, 0, jax.random.PRNGKey(seed)
    fns = {t: _grad_fn(m) for t, m in targets.items()}
    for i, (t, a) in enumerate(combos):
        idx = np.sort(order[i:: len(combos)])
        start, fooled = time.time(), 0
        for s in range(0, len(idx), batch):
            b = idx[s: s + batch]
            key, sub = jax.random.split(key)
            xb, yb = jnp.asarray(x[b]), jnp.asarray(y[b])
            adv = attack_batch(a, *fns[t], xb, yb, sub)
            fooled += int(jnp.sum(jnp.argmax(fns[t][1](adv), axis=1) != yb))
            adv_all[pos: pos + len(b)] = np.asarray(adv, np.float32).astype(np.float16)
            idx_all[pos: pos + len(b)] = b
            pos += len(b)
        info[f"{t}/{a}"] = {"n": int(len(idx)), "fooled_percent": round(100 * fooled / max(len(idx), 1), 2),
                            "seconds": round(time.time() - start, 1)}
        log(f"pairs {t}/{a}: {len(idx)} images, fooled {info[f'{t}/{a}']['fooled_percent']}% "
            f"({info[f'{t}/{a}']['seconds']} s)")
    return adv_all[:pos], idx_all[:pos], info


def train_restorer(name, x_adv, x_clean, max_epochs, budget_s, seed, batch=64):
    import keras

    from keras_restore import models

    keras.utils.set_random_seed(seed)
    model = models.build(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    n_val = max(1, len(x_adv) // 50)
    start, hist, epoch = time.time(), {"loss": [], "val_loss": []}, 0
    last = start
    while epoch < max_epochs:
        h = model.fit(x_adv[:-n_val], x_clean[:-n_val], batch_size=batch, epochs=1, shuffle=True, verbose=0,
                      validation_data=(x_adv[-n_val:], x_clean[-n_val:]))
        for k in hist:
            hist[k].append(float(h.history[k][-1]))
        now = time.time()
        took, last = now - last, now
        epoch += 1
        log(f"  {name} epoch {epoch}: {took:.1f} s loss {hist['loss'][-1]:.5f} val_loss {hist['val_loss'][-1]:.5f}")
        if now - start + took > budget_s:
            break
    return model, {"epochs": epoch, "seconds": round(time.time() - start, 1), "batch_size": batch,
                   "learning_rate": 1e-3, "loss": "mse", "optimizer": "Adam", "n_pairs": int(len(x_adv) - n_val),
                   "n_val": int(n_val), "history": hist}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", choices=("cifar10", "mnist"), required=True)
    p.add_argument("--data", required=True, help="cifar10: zip of train/{class}/*.jpg; mnist: mnist.npz")
    p.add_argument("--targets", nargs="+", required=True)
    p.add_argument("--phases", nargs="+", default=["targets"], choices=("targets", "pairs", "restorer"))
    p.add_argument("--restorer", default="restorer_cifar10")
    p.add_argument("--pair-targets", nargs="*", default=None, help="targets the restorer is trained for")
    p.add_argument("--target-epochs", type=int, default=60)
    p.add_argument("--target-budget", type=float, nargs="+", default=[150.0], help="seconds per target")
    p.add_argument("--n-pairs", type=int, default=50000)
    p.add_argument("--restorer-epochs", type=int, default=40)
    p.add_argument("--restorer-budget", type=float, default=200.0)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images (smoke test)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    import keras

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"backend": keras.backend.backend(), "keras": keras.__version__, "args": vars(args), "models": {}}
    devices = []
    try:
        import jax
        devices = [str(d) for d in jax.devices()]
    except ImportError:
        pass
    record["devices"] = devices
    log(f"backend {keras.backend.backend()} devices {devices}")
    t = time.time()
    x, y = load_data(args.dataset, args.data)
    if args.limit:
        x, y = x[: args.limit], y[: args.limit]
    log(f"data {x.shape} in {time.time() - t:.0f} s")

    def write_record():
        (out / f"gpu_{args.dataset}.json").write_text(json.dumps(record, indent=1))

    trained = {}
    budgets = args.target_budget * len(args.targets) if len(args.target_budget) == 1 else args.target_budget
    if "targets" in args.phases:
        for name, budget in zip(args.targets, budgets):
            model, rec = train_target(name, x, y, args.dataset, args.target_epochs, budget, args.seed)
            rec["files"] = save_weights_fp16(model, out, name)
            record["models"][name] = rec
            trained[name] = model
            write_record()
    if "pairs" in args.phases:
        pair_targets = {t: trained[t] for t in (args.pair_targets or list(trained))}
        # Pairs only from the training images the targets were trained on (not the held-out ones).
        n_val = 5000 if args.dataset == "cifar10" else 3000
        x_adv, idx, info = make_pairs(pair_targets, x[:-n_val], y[:-n_val], args.n_pairs, args.seed)
        record["pairs"] = {"attacks": PAIR_ATTACKS, "combos": info, "n": int(len(idx))}
        write_record()
        if "restorer" in args.phases:
            order = np.random.default_rng(args.seed).permutation(len(idx))
            model, rec = train_restorer(args.restorer, x_adv[order].astype(np.float32), x[idx[order]],
                                        args.restorer_epochs, args.restorer_budget, args.seed)
            rec["files"] = save_weights_fp16(model, out, args.restorer)
            rec["pair_targets"] = list(pair_targets)
            record["models"][args.restorer] = rec
            write_record()
    log("done")
    return record


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

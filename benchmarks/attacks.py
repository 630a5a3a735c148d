"""Adversarial images per second: keras_restore.attacks vs ART 1.20, per target model.

    .venv/bin/python benchmarks/attacks.py [--quick] [--attacks fgsm,bim,...] [--n 1000]
        [--target m1] [--data-dir DIR]

The target (``--target``, a registry name, default ``m1``) is the shipped
``keras_restore.models.load_model(NAME)``; its dataset is ``keras_restore.models.get_spec(NAME)
.dataset`` and the images come from that dataset's test split,
``keras_restore.data.load_arrays(dataset, "test", data_dir)`` (``--data-dir``, else
``$KERAS_RESTORE_DATA``, else ``../shared/data``; the source, e.g. "CIFAR-10 (JPEG copy)", is recorded
in the ``data`` column). Only ``m1`` has a fallback when nothing is shipped: trained here for one
epoch on 6,000 images (speed does not depend on the weights' quality). Both sides run the same
parameters (``keras_restore.attacks.default_params(name, dataset)``, e.g. eps 8/255 on CIFAR-10)
and are warmed up first (ours: one call at the timed batch size, which traces the cached graph;
ART: a call on 2 images). ``--warmup trace`` halves the time of the slow attacks (CW, DeepFool,
JSMA) on big models: ours' graph is only traced, not run (its first execution, with TF's graph
optimisation, then counts in the timed run: a bias against ours of ~2 s per attack measured on
MobileNet/CIFAR-10, CW at batch 200), and ART's classifier predict/gradient calls are warmed on 2
images instead of a whole attack (ART runs eagerly: nothing to trace). Ours is timed on ``n`` test images (1,000; ``--quick``: 100); ART's CW, JSMA and DeepFool
are much slower, so ART is timed on at most ``--art-n-slow`` images for those (rates are per image;
the CSV records both counts). ART's spatial attack searches one transformation for the whole set
(ours searches per image) over the same grid (the same number of forward passes per image; ART
predicts one image at a time, hard-coded in its ``generate``), and is timed on at most
``--art-n-slow`` images too; ART's CW is its own line-search variant. MIM and R-FGSM have no ART
counterpart with the same semantics in this table (ours only).

JSMA: both sides attack the same images with the same explicit targets (seeded, random, never
the true label), ART on ``min(n, --art-n-slow)`` of them; the row also times our ``exact=True`` pair
search on the same ``n`` images and records the success rate (target reached) and mean L0 (pixels
changed, over all attacked images) of ours (top-k), ours exact and ART. ``--rounds R`` repeats the
timings of every attack R times interleaved (ours, [ours exact,] ART per round) and reports the
median rate (``*_best`` columns: the best round). ``--correct`` attacks the first ``n`` correctly
classified test images instead of the first ``n`` (and records the clean test accuracy measured on
the whole split, ``clean_acc_pct``). Every row records the percentage of attacked images whose
prediction is no longer the true label (``fooled_pct_ours`` / ``fooled_pct_art``; for JSMA the
target-reached rates below), so a ratio never compares unequal work unnoticed.

Gradient floor: for the fixed-step gradient attacks (FGSM, R-FGSM, BIM, PGD, MIM) the same rounds
also time a bare compiled input-gradient pass over the same images and batch size
(``grad_floor_img_s``); ``ours_vs_floor`` / ``art_vs_floor`` = gradient passes per second achieved
by each side as a fraction of it. When ours is near 1.0, no implementation can beat ART by more
than ``1 / art_vs_floor`` on that model: the model's own gradient is the limit, not attack overhead.

Writes ``benchmarks/results/attacks.csv`` atomically (temp file + ``os.replace``) and prints a table.
Rows are keyed by (``target``, ``attack``): a run replaces only the rows of its own target and
attacks and keeps every other row of the existing CSV (rows written before the ``target`` column
existed are M1/MNIST rows). Every row carries its own date and load average; ratios are always
within one row, i.e. one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import roofline  # noqa: E402  (benchmarks/roofline.py: machine info, atomic CSV, table)

ALL = ("fgsm", "bim", "pgd", "mim", "rfgsm", "deepfool", "cw", "spa", "jsma")
SLOW_ART = ("cw", "jsma", "deepfool", "spa")
# Input-gradient passes per image of the fixed-step gradient attacks (their default parameters):
# what a gradient "floor" bounds. The others (CW, DeepFool, JSMA, spatial) stop early per image.
GRADS_PER_IMAGE = {"fgsm": lambda p: 1, "rfgsm": lambda p: 1, "bim": lambda p: p["nb_iter"],
                   "pgd": lambda p: p["nb_iter"], "mim": lambda p: p["nb_iter"]}


def data_dir(arg=None) -> Path:
    """``--data-dir``, else ``$KERAS_RESTORE_DATA``, else ``../shared/data`` (next to the repo)."""
    if arg:
        return Path(arg)
    env = os.environ.get("KERAS_RESTORE_DATA")
    return Path(env) if env else HERE.parents[1] / "shared" / "data"


def get_target(name, directory):
    """(model, origin): the shipped ``name``; for ``m1`` only, a 1-epoch model when none is shipped."""
    import keras

    from keras_restore.data import load_arrays
    from keras_restore.models import build, load_model

    try:
        return load_model(name), "shipped"
    except (FileNotFoundError, ValueError, OSError) as e:
        if name != "m1":
            raise SystemExit(f"attacks.py: cannot load the shipped {name!r}: {e}")
        print(f"(no shipped m1: {e}; training 1 epoch on 6,000 images)")
    keras.utils.set_random_seed(0)
    model = build("m1")
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = load_arrays("mnist", "train", directory, limit=6000)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    return model, "trained 1 epoch / 6,000 images"


def manifest_accuracy(name):
    """The shipped model's test accuracy (%) from ``saved_models/manifest.json``, or ""."""
    from keras_restore.models import read_manifest

    entry = read_manifest().get(name) or {}
    acc = (entry.get("metrics") or {}).get("test_accuracy",
                                           (entry.get("training") or {}).get("test_accuracy"))
    return round(float(acc), 2) if acc is not None else ""


def art_attack(name, classifier, p, batch_size, width=28):
    from art.attacks import evasion as E

    if name == "fgsm":
        return E.FastGradientMethod(classifier, norm=np.inf, eps=p["eps"], batch_size=batch_size)
    if name == "bim":
        return E.BasicIterativeMethod(classifier, eps=p["eps"], eps_step=p["eps_iter"],
                                      max_iter=p["nb_iter"], batch_size=batch_size, verbose=False)
    if name == "pgd":
        return E.ProjectedGradientDescent(classifier, norm=np.inf, eps=p["eps"],
                                          eps_step=p["eps_iter"], max_iter=p["nb_iter"],
                                          num_random_init=1, batch_size=batch_size, verbose=False)
    if name == "deepfool":
        return E.DeepFool(classifier, max_iter=p["max_iter"], epsilon=p["overshoot"],
                          nb_grads=p["nb_candidate"], batch_size=batch_size, verbose=False)
    if name == "cw":
        return E.CarliniL2Method(classifier, confidence=p["confidence"],
                                 learning_rate=p["learning_rate"],
                                 binary_search_steps=p["binary_search_steps"],
                                 max_iter=p["max_iterations"], initial_const=p["initial_const"],
                                 batch_size=batch_size, verbose=False)
    if name == "spa":
        # ART's grids are np.linspace(-max, max, num): num = the points per axis, as ours
        # (an earlier mapping passed n // 2, i.e. 60 instead of 775 transformations on MNIST).
        return E.SpatialTransformation(
            classifier, max_translation=100.0 * p["max_translation"] / width,
            num_translations=p["n_translations"], max_rotation=p["max_angle"],
            num_rotations=p["n_angles"], verbose=False)
    if name == "jsma":
        return E.SaliencyMapMethod(classifier, theta=p["theta"], gamma=p["gamma"],
                                   batch_size=batch_size, verbose=False)
    return None


def trace_ours(A, name, model, dataset, batch_size, image_shape, exact=False):
    """Trace (without running) the graph ``A.generate`` will use at ``batch_size``: the cache key
    is the attack, its validated parameters, the batch shape and the ``logits`` flag."""
    from keras_restore.attacks import _common

    p = A.default_params(name, dataset)
    if name == "jsma":
        p["exact"] = exact
    module = A._MODULES[A._resolve_name(name)]
    p = module._validate(p)
    if name == "jsma":  # generate() caps the batch for the pair map's memory
        batch_size = min(batch_size, A.jsma.max_batch(tuple(image_shape), p["exact"], p["top_k"]))
    fn = _common._compiled(model, None, A._resolve_name(name), module._graph, p,
                           (batch_size,) + tuple(image_shape))
    fn.get_concrete_function()


def gradient_floor(model, x, y, batch_size):
    """A compiled function that computes the input gradient of the summed cross-entropy for all of
    ``x`` in batches of ``batch_size`` (padded to full batches: one trace): the least work any
    gradient attack does per step, with no attack logic at all. Returns ``fn`` for timing."""
    import tensorflow as tf

    spec = (tf.TensorSpec((batch_size,) + tuple(x.shape[1:]), tf.float32),
            tf.TensorSpec((batch_size,), tf.int32))

    @tf.function(input_signature=spec)
    def step(xb, yb):
        with tf.GradientTape() as tape:
            tape.watch(xb)
            logits = model(xb, training=False)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits))
        return tape.gradient(loss, xb)

    pad = (-len(x)) % batch_size
    xp = np.concatenate([x, x[:pad]]).astype(np.float32)
    yp = np.concatenate([y, y[:pad]]).astype(np.int32)

    def run():
        for i in range(0, len(xp), batch_size):
            step(xp[i:i + batch_size], yp[i:i + batch_size]).numpy()
    return run


def rate(v):
    """img/s for the CSV: 2 decimals, but 3 significant digits below 1 (ART's CW: ~0.01 img/s)."""
    return round(v, 2) if v >= 1 else float(f"{v:.3g}")


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def predict(model, x):
    return np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1)


def fooled_pct(model, adv, y):
    """% of ``adv`` no longer classified as the true label ``y``."""
    return round(100.0 * float(np.mean(predict(model, adv) != y)), 1)


def success_l0(model, x, adv, target):
    """(% of images classified as ``target``, mean number of changed pixels) of ``adv``."""
    pred = np.argmax(model.predict(adv, batch_size=500, verbose=0), axis=1)
    l0 = np.sum(np.abs(adv - x).reshape(len(x), -1) > 0, axis=1)
    return round(100.0 * float(np.mean(pred == target)), 1), round(float(np.mean(l0)), 1)


def row_key(row):
    """(target, attack); rows from before the ``target`` column are M1 rows."""
    return (row.get("target") or "m1", row["attack"])


def _with_target(row):
    """An old row with ``target``/``dataset`` filled in (M1 / MNIST), placed after ``attack``."""
    if row.get("target"):
        return row
    out = {"attack": row["attack"], "target": "m1", "dataset": row.get("dataset") or "mnist"}
    out.update((k, v) for k, v in row.items() if k not in out)
    return out


def keep_other_rows(rows, path=None):
    """``rows`` plus the rows of the existing attacks.csv with another (target, attack) key; the
    existing rows keep their order, new keys go after the last row of their target."""
    import csv

    path = Path(path) if path else HERE / "results" / "attacks.csv"
    if not path.exists():
        return rows
    with open(path, newline="") as f:
        old = [_with_target(r) for r in csv.DictReader(f)]
    new = {row_key(r): r for r in rows}
    merged = [new.pop(row_key(r), r) for r in old]
    for key, r in new.items():  # keys not in the CSV yet: after their target's rows (or at the end)
        idx = max((i for i, m in enumerate(merged) if row_key(m)[0] == key[0]), default=len(merged) - 1)
        merged.insert(idx + 1, r)
    return merged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 images instead of 1,000")
    parser.add_argument("--n", type=int, default=None, help="images attacked by ours")
    parser.add_argument("--art-n-slow", type=int, default=None,
                        help="max images for ART's CW/JSMA/DeepFool (default 20, quick 3)")
    parser.add_argument("--attacks", default=",".join(ALL))
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved timing rounds")
    parser.add_argument("--correct", action="store_true",
                        help="attack the first n correctly classified test images")
    parser.add_argument("--note", default="", help="free text stored in the rows' note column")
    parser.add_argument("--target", default="m1",
                        help="registry name of the shipped target model (default m1)")
    parser.add_argument("--data-dir", default=None,
                        help="dataset directory (default $KERAS_RESTORE_DATA, else ../shared/data)")
    parser.add_argument("--warmup", choices=("full", "trace"), default="full",
                        help="warm-up of cw/deepfool/jsma: a full call (default: ours at the timed "
                             "batch size, ART on 2 images), or 'trace': ours' graph only traced "
                             "(its first-run graph optimisation then falls in the timed run, "
                             "against ours), ART's predict/gradients called on 2 images; the other "
                             "attacks always get the full warm-up")
    args = parser.parse_args(argv)
    n = args.n or (100 if args.quick else 1000)
    art_slow = args.art_n_slow or (3 if args.quick else 20)
    names = [a.strip() for a in args.attacks.split(",") if a.strip()]
    bad = sorted(set(names) - set(ALL))
    if bad:
        parser.error(f"unknown attack(s) {bad}; expected some of {', '.join(ALL)}")
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")

    import keras
    from art.estimators.classification import TensorFlowV2Classifier

    import keras_restore.attacks as A
    from keras_restore.data import info as dataset_info
    from keras_restore.data import load_arrays, source_label
    from keras_restore.models import get_spec

    try:
        dataset = get_spec(args.target).dataset
    except ValueError as e:
        parser.error(str(e))
    directory = data_dir(args.data_dir)
    source = source_label(dataset, directory)
    model, origin = get_target(args.target, directory)
    target_acc = manifest_accuracy(args.target) if origin == "shipped" else ""
    nb_classes = len(dataset_info(dataset).classes)
    clean_acc = ""
    if args.correct:
        x, y = load_arrays(dataset, "test", directory)
        hit = predict(model, x) == y
        clean_acc = round(100.0 * float(np.mean(hit)), 2)
        ok = np.flatnonzero(hit)[:n]
        x, y = x[ok], y[ok]
        n = len(x)
    else:
        x, y = load_arrays(dataset, "test", directory, limit=n)
        n = len(x)
    print(f"target {args.target} ({origin}; manifest test accuracy {target_acc or '-'}), "
          f"{dataset}: {source}; {n} images"
          + (f", clean accuracy {clean_acc}% on the {len(hit)} test images" if args.correct else ""),
          flush=True)
    classifier = TensorFlowV2Classifier(
        model=model, nb_classes=nb_classes, input_shape=tuple(x.shape[1:]), clip_values=(0.0, 1.0),
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    info = roofline.machine_info()
    rows = []
    for name in names:
        p = A.default_params(name, dataset)
        bs = min(args.batch_size, n)
        kw = {}
        if name == "jsma":  # the same explicit random targets for ours and ART
            target = (y + 1 + np.random.default_rng(0).integers(0, 9, size=n)) % 10
            kw = {"y_target": target}
        art = art_attack(name, classifier, p, bs, width=x.shape[2])
        n_art = min(n, art_slow) if name in SLOW_ART else n
        xa, ya = x[:n_art], y[:n_art]

        def run_ours(**extra):
            return A.generate(name, model, x, y, dataset=dataset, progress=False, seed=1,
                              batch_size=bs, **kw, **extra)

        def run_art():
            if name == "spa":  # ART stores the transformation found by a call and re-applies it on
                # the next one without searching: forget it (else the timed call only applies it)
                art.attack_trans_x = art.attack_trans_y = art.attack_rot = None
            if name == "deepfool":
                return art.generate(xa)
            if name == "jsma":
                return art.generate(xa, y=target[:n_art])
            return art.generate(xa, y=ya)

        # warm-ups: ours at the timed batch size (traces the cached graph); ART on a few images
        trace = args.warmup == "trace" and name in SLOW_ART
        if trace:
            trace_ours(A, name, model, dataset, bs, x.shape[1:], exact=False)
        else:
            A.generate(name, model, x[:bs], y[:bs], dataset=dataset, progress=False, seed=0,
                       batch_size=bs, **{k: v[:bs] for k, v in kw.items()})
        if name == "jsma":
            if trace:
                trace_ours(A, name, model, dataset, bs, x.shape[1:], exact=True)
            else:
                A.generate(name, model, x[:bs], y[:bs], dataset=dataset, progress=False, seed=0,
                           batch_size=bs, exact=True, y_target=target[:bs])
        if art is not None and trace:  # ART runs eagerly (nothing to trace): warm its calls only
            classifier.predict(x[:2])
            classifier.class_gradient(x[:2])
            classifier.loss_gradient(x[:2], np.eye(nb_classes, dtype=np.float32)[y[:2]])
        elif art is not None:
            art.generate(x[:2], y=y[:2]) if name != "deepfool" else art.generate(x[:2])
        rates = {"ours": [], "exact": [], "art": [], "floor": []}
        outs = {}
        floor = gradient_floor(model, x, y, bs) if name in GRADS_PER_IMAGE else None
        if floor is not None:
            floor()  # trace + first run
        for _ in range(args.rounds):
            if floor is not None:
                rates["floor"].append(n / timed(floor))
            t = time.perf_counter()
            outs["ours"] = run_ours()
            rates["ours"].append(n / (time.perf_counter() - t))
            if name == "jsma":
                t = time.perf_counter()
                outs["exact"] = run_ours(exact=True)
                rates["exact"].append(n / (time.perf_counter() - t))
            if art is not None:
                t = time.perf_counter()
                outs["art"] = run_art()
                rates["art"].append(n_art / (time.perf_counter() - t))
        med = {k: float(np.median(v)) for k, v in rates.items() if v}
        row = {"attack": name, "target": args.target, "dataset": dataset,
               "ours_img_s": rate(med["ours"])}
        if art is not None:
            row.update(art_img_s=rate(med["art"]), ratio=round(med["ours"] / med["art"], 2))
        else:
            row.update(art_img_s="", ratio="")
        row.update(params=json.dumps(p, sort_keys=True), n=n, n_art=n_art if art else "",
                   batch_size=bs, model=origin, **info)
        if name != "jsma":
            row.update(fooled_pct_ours=fooled_pct(model, outs["ours"], y),
                       fooled_pct_art=fooled_pct(model, outs["art"], ya) if art is not None else "")
        row.update(data=source, target_test_acc=target_acc, clean_acc_pct=clean_acc,
                   images=f"first n {'correctly classified ' if args.correct else ''}test images",
                   warmup="trace" if trace else "full")
        if floor is not None:  # ours and ART in gradient passes/s, as a fraction of the bare gradient
            k = GRADS_PER_IMAGE[name](p)
            row.update(grad_floor_img_s=rate(med["floor"]), grads_per_image=k,
                       ours_vs_floor=round(med["ours"] * k / med["floor"], 2),
                       art_vs_floor=round(med["art"] * k / med["floor"], 2) if art is not None else "")
        if args.rounds > 1:
            row.update(rounds=args.rounds, ours_img_s_best=rate(max(rates["ours"])),
                       art_img_s_best=rate(max(rates["art"])) if art is not None else "")
        if name == "jsma":
            s_o, l_o = success_l0(model, x, outs["ours"], target)
            s_e, l_e = success_l0(model, x, outs["exact"], target)
            s_a, l_a = success_l0(model, xa, outs["art"], target[:n_art])
            row.update(ours_search=f"top_k={A.jsma.TOP_K}", ours_exact_img_s=rate(med["exact"]),
                       exact_vs_art_ratio=round(med["exact"] / med["art"], 2),
                       success_pct_ours=s_o, success_pct_exact=s_e, success_pct_art=s_a,
                       mean_l0_ours=l_o, mean_l0_exact=l_e, mean_l0_art=l_a)
        if args.note:
            row["note"] = args.note
        rows.append(row)
        extra = f", ours exact {row['ours_exact_img_s']} img/s" if name == "jsma" else ""
        fooled = (f" (fooled {row['fooled_pct_ours']}% / {row['fooled_pct_art'] or '-'}%)"
                  if name != "jsma" else "")
        print(f"{name}: ours {row['ours_img_s']} img/s{extra}, ART {row['art_img_s']} img/s, "
              f"ratio {row['ratio'] or '-'}{fooled}", flush=True)
        if name == "jsma":
            print(f"  success % / mean L0: ours {s_o} / {l_o}, exact {s_e} / {l_e}, "
                  f"ART {s_a} / {l_a} (ART on {n_art} images)", flush=True)

    print()
    roofline.print_table(rows, ["attack", "target", "ours_img_s", "art_img_s", "ratio", "n", "n_art",
                                "ours_vs_floor", "art_vs_floor"])
    path = roofline.write_csv("attacks", keep_other_rows(rows))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

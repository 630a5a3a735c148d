"""Adversarial images per second: keras_restore.attacks vs ART 1.20, on MNIST and M1.

    .venv/bin/python benchmarks/attacks.py [--quick] [--attacks fgsm,bim,...] [--n 1000]

M1 is the shipped ``keras_restore.models.load_model("m1")`` when present, else trained here for one
epoch on 6,000 images (speed does not depend on the weights' quality). Both sides run the same
parameters (``keras_restore.attacks.default_params(name, "mnist")``) and are warmed up first
(ours: one call at the timed batch size, which traces the cached graph; ART: a call on a few
images). Ours is timed on ``n`` test images (1,000; ``--quick``: 100); ART's CW, JSMA and DeepFool
are much slower, so ART is timed on at most ``--art-n-slow`` images for those (rates are per image;
the CSV records both counts). ART's spatial attack searches one transformation for the whole set
(ours searches per image); ART's CW is its own line-search variant. MIM and R-FGSM have no ART
counterpart with the same semantics in this table (ours only).

JSMA: both sides attack the same images with the same explicit targets (seeded, random, never
the true label), ART on ``min(n, --art-n-slow)`` of them; the row also times our ``exact=True`` pair
search on the same ``n`` images and records the success rate (target reached) and mean L0 (pixels
changed, over all attacked images) of ours (top-k), ours exact and ART. ``--rounds R`` repeats the
timings of every attack R times interleaved (ours, [ours exact,] ART per round) and reports the
median rate (``*_best`` columns: the best round). ``--correct`` attacks the first ``n`` correctly
classified test images instead of the first ``n``.

Writes ``benchmarks/results/attacks.csv`` atomically (temp file + ``os.replace``) and prints a table.
When only some attacks are run (``--attacks``), the rows of the other attacks are kept from the
existing CSV (every row carries its own date and load average; ratios are always within one row,
i.e. one run).
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
SLOW_ART = ("cw", "jsma", "deepfool")


def load_mnist(split, limit):
    env = os.environ.get("KERAS_RESTORE_DATA")
    directory = Path(env) if env else HERE.parents[1] / "shared" / "data"
    with np.load(directory / "mnist.npz") as f:
        x = f[f"x_{split}"][:limit].astype(np.float32)[..., None] / 255.0
        y = f[f"y_{split}"][:limit].astype(np.int64)
    return x, y


def get_m1():
    import keras

    from keras_restore.models import build, load_model

    try:
        return load_model("m1"), "shipped"
    except (FileNotFoundError, ValueError, OSError) as e:
        print(f"(no shipped m1: {e}; training 1 epoch on 6,000 images)")
    keras.utils.set_random_seed(0)
    model = build("m1")
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = load_mnist("train", 6000)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    return model, "trained 1 epoch / 6,000 images"


def art_attack(name, classifier, p, batch_size):
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
        return E.SpatialTransformation(
            classifier, max_translation=100.0 * p["max_translation"] / 28.0,
            num_translations=p["n_translations"] // 2, max_rotation=p["max_angle"],
            num_rotations=p["n_angles"] // 2, verbose=False)
    if name == "jsma":
        return E.SaliencyMapMethod(classifier, theta=p["theta"], gamma=p["gamma"],
                                   batch_size=batch_size, verbose=False)
    return None


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def success_l0(model, x, adv, target):
    """(% of images classified as ``target``, mean number of changed pixels) of ``adv``."""
    pred = np.argmax(model.predict(adv, batch_size=500, verbose=0), axis=1)
    l0 = np.sum(np.abs(adv - x).reshape(len(x), -1) > 0, axis=1)
    return round(100.0 * float(np.mean(pred == target)), 1), round(float(np.mean(l0)), 1)


def keep_other_rows(rows):
    """Rows of the existing attacks.csv for attacks not in ``rows`` (in the original order)."""
    import csv

    path = HERE / "results" / "attacks.csv"
    if not path.exists():
        return rows
    done = {r["attack"] for r in rows}
    with open(path, newline="") as f:
        old = list(csv.DictReader(f))
    merged = [r for r in old if r["attack"] not in done]
    order = [r["attack"] for r in old]
    merged += rows
    merged.sort(key=lambda r: order.index(r["attack"]) if r["attack"] in order else len(order))
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

    model, origin = get_m1()
    if args.correct:
        x, y = load_mnist("test", 10_000)
        ok = np.flatnonzero(np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1) == y)[:n]
        x, y = x[ok], y[ok]
        n = len(x)
    else:
        x, y = load_mnist("test", n)
    classifier = TensorFlowV2Classifier(
        model=model, nb_classes=10, input_shape=(28, 28, 1), clip_values=(0.0, 1.0),
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    info = roofline.machine_info()
    rows = []
    for name in names:
        p = A.default_params(name, "mnist")
        bs = min(args.batch_size, n)
        kw = {}
        if name == "jsma":  # the same explicit random targets for ours and ART
            target = (y + 1 + np.random.default_rng(0).integers(0, 9, size=n)) % 10
            kw = {"y_target": target}
        art = art_attack(name, classifier, p, bs)
        n_art = min(n, art_slow) if name in SLOW_ART else n
        xa, ya = x[:n_art], y[:n_art]

        def run_ours(**extra):
            return A.generate(name, model, x, y, progress=False, seed=1, batch_size=bs, **kw, **extra)

        def run_art():
            if name == "deepfool":
                return art.generate(xa)
            if name == "jsma":
                return art.generate(xa, y=target[:n_art])
            return art.generate(xa, y=ya)

        # warm-ups: ours at the timed batch size (traces the cached graph); ART on a few images
        A.generate(name, model, x[:bs], y[:bs], progress=False, seed=0, batch_size=bs,
                   **{k: v[:bs] for k, v in kw.items()})
        if name == "jsma":
            A.generate(name, model, x[:bs], y[:bs], progress=False, seed=0, batch_size=bs,
                       exact=True, y_target=target[:bs])
        if art is not None:
            art.generate(x[:2], y=y[:2]) if name != "deepfool" else art.generate(x[:2])
        rates = {"ours": [], "exact": [], "art": []}
        outs = {}
        for _ in range(args.rounds):
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
        row = {"attack": name, "ours_img_s": round(med["ours"], 2)}
        if art is not None:
            row.update(art_img_s=round(med["art"], 2), ratio=round(med["ours"] / med["art"], 2))
        else:
            row.update(art_img_s="", ratio="")
        row.update(params=json.dumps(p, sort_keys=True), n=n, n_art=n_art if art else "",
                   batch_size=bs, model=origin, **info)
        if args.rounds > 1:
            row.update(rounds=args.rounds, ours_img_s_best=round(max(rates["ours"]), 2),
                       art_img_s_best=round(max(rates["art"]), 2) if art is not None else "")
        if name == "jsma":
            s_o, l_o = success_l0(model, x, outs["ours"], target)
            s_e, l_e = success_l0(model, x, outs["exact"], target)
            s_a, l_a = success_l0(model, xa, outs["art"], target[:n_art])
            row.update(ours_search=f"top_k={A.jsma.TOP_K}", ours_exact_img_s=round(med["exact"], 2),
                       exact_vs_art_ratio=round(med["exact"] / med["art"], 2),
                       success_pct_ours=s_o, success_pct_exact=s_e, success_pct_art=s_a,
                       mean_l0_ours=l_o, mean_l0_exact=l_e, mean_l0_art=l_a,
                       images="first n correctly classified" if args.correct else "first n")
        if args.note:
            row["note"] = args.note
        rows.append(row)
        extra = f", ours exact {row['ours_exact_img_s']} img/s" if name == "jsma" else ""
        print(f"{name}: ours {row['ours_img_s']} img/s{extra}, ART {row['art_img_s']} img/s",
              flush=True)
        if name == "jsma":
            print(f"  success % / mean L0: ours {s_o} / {l_o}, exact {s_e} / {l_e}, "
                  f"ART {s_a} / {l_a} (ART on {n_art} images)", flush=True)

    print()
    roofline.print_table(rows, ["attack", "ours_img_s", "art_img_s", "ratio", "n", "n_art"])
    path = roofline.write_csv("attacks", keep_other_rows(rows))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

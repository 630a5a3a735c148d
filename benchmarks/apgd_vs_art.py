"""Auto-PGD images per second: keras_restore.attacks ("apgd", APGD-CE) vs ART 1.20's
``AutoProjectedGradientDescent`` on the same model and images, with the robust accuracy each leaves.

    .venv/bin/python benchmarks/apgd_vs_art.py [--quick] [--n 256] [--n-iter 100] [--eps 0.15]
        [--norm inf] [--rounds 1] [--target m1] [--batch-size 256]

Target and images as in ``benchmarks/attacks.py`` (the shipped ``--target``, default ``m1``, with
its 1-epoch fallback; the first ``n`` correctly classified test images of its dataset). Both sides
run the same APGD-CE: L-``norm`` ball of radius ``eps``, ``n_iter`` iterations, one random start,
initial step ``2 eps`` (ART: ``eps_step=2*eps``, ``loss_type="cross_entropy"``, ``nb_random_init=1``),
batch size ``--batch-size`` (evened out: ``n`` split into equal batches, since ``generate``
pads a short last batch to the full size). The default eps (0.15 on MNIST) is below the threat model's 0.3 on
purpose: at 0.3 both sides fool every image within a few iterations and the timing says little
(ours stops a batch once all its images are fooled; ART does not). Work per iteration: ours one
forward/backward pass; ART a ``loss_gradient`` and a separate ``compute_loss`` pass, eagerly.

Warm-up: ours one call on the first batch (traces the cached graph), ART a call on 2 images. The
``--rounds`` timings are interleaved (gradient floor, ours, ART per round) and the medians reported;
``grad_floor_img_s`` is the bare compiled input-gradient pass over the same images
(``benchmarks/attacks.py``'s floor), ``ours_vs_floor`` the fraction of it our ``n_iter + 1``
gradient passes per image reach.

``--quick``: 100 images, 20 iterations (~25 s); default 256 images x 100 iterations (~1.5 min on
2 shared cores). Writes ``benchmarks/results/apgd_vs_art.csv``
(one row per run, replaced; date, CPU, load average per row; compare the ratio within a row).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import attacks as bench_attacks  # noqa: E402  (benchmarks/attacks.py: target, data, floor)
import roofline  # noqa: E402  (machine info, atomic CSV, table)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 images, 20 iterations")
    parser.add_argument("--n", type=int, default=None, help="images (default 256, quick 100)")
    parser.add_argument("--n-iter", type=int, default=None, help="iterations (default 100, quick 20)")
    parser.add_argument("--eps", type=float, default=None,
                        help="radius (default: half the dataset's default eps for L-inf, 1.5 for L2)")
    parser.add_argument("--norm", choices=("inf", "2"), default="inf")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved timing rounds")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--target", default="m1", help="registry name of the target (default m1)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="apgd_vs_art", help="CSV name under benchmarks/results")
    args = parser.parse_args(argv)
    n = args.n or (100 if args.quick else 256)
    n_iter = args.n_iter or (20 if args.quick else 100)
    if args.rounds < 1 or n < 1 or n_iter < 1:
        parser.error("--rounds, --n and --n-iter must be >= 1")

    import keras
    from art.attacks.evasion import AutoProjectedGradientDescent
    from art.estimators.classification import TensorFlowV2Classifier

    import keras_restore.attacks as A
    from keras_restore.data import info as dataset_info
    from keras_restore.data import load_arrays, source_label
    from keras_restore.models import get_spec

    dataset = get_spec(args.target).dataset
    eps = args.eps if args.eps is not None else (
        A.default_params("apgd", dataset)["eps"] / 2 if args.norm == "inf" else 1.5)
    directory = bench_attacks.data_dir(args.data_dir)
    model, origin = bench_attacks.get_target(args.target, directory)
    x, y = load_arrays(dataset, "test", directory)
    hit = bench_attacks.predict(model, x) == y
    ok = np.flatnonzero(hit)[:n]
    x, y = np.asarray(x[ok], np.float32), np.asarray(y[ok])
    n = len(x)
    # equal batches: generate() pads the last batch to the full size (ART does not), so 300 images
    # at 256 would cost ours 512 images of work
    n_batches = -(-n // args.batch_size)
    bs = -(-n // n_batches)
    print(f"target {args.target} ({origin}), {dataset}: {source_label(dataset, directory)}; {n} "
          f"correctly classified test images (clean accuracy {100 * hit.mean():.2f}%); APGD-CE "
          f"L-{args.norm} eps {eps:g}, {n_iter} iterations, 1 start, batch {bs}", flush=True)

    classifier = TensorFlowV2Classifier(
        model=model, nb_classes=len(dataset_info(dataset).classes), input_shape=tuple(x.shape[1:]),
        clip_values=(0.0, 1.0),
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    art = AutoProjectedGradientDescent(
        classifier, norm=np.inf if args.norm == "inf" else 2, eps=eps, eps_step=2 * eps,
        max_iter=n_iter, nb_random_init=1, batch_size=bs, loss_type="cross_entropy", verbose=False)
    params = dict(eps=eps, norm=args.norm, loss="ce", targeted=False, n_iter=n_iter, n_restarts=1)

    def run_ours(xs, ys, seed=1):
        return A.generate("apgd", model, xs, ys, dataset=dataset, progress=False, seed=seed,
                          batch_size=bs, **params)

    info = roofline.machine_info()  # date and load average at the start of the timings
    run_ours(x[:bs], y[:bs], seed=0)  # traces the graph used by the timed calls
    np.random.seed(0)  # ART's random start
    art.generate(x[:2], y=y[:2])
    floor = bench_attacks.gradient_floor(model, x, y, bs)
    floor()
    rates = {"ours": [], "art": [], "floor": []}
    outs = {}
    for _ in range(args.rounds):
        rates["floor"].append(n / bench_attacks.timed(floor))
        t = time.perf_counter()
        outs["ours"] = run_ours(x, y)
        rates["ours"].append(n / (time.perf_counter() - t))
        t = time.perf_counter()
        outs["art"] = art.generate(x, y=y)
        rates["art"].append(n / (time.perf_counter() - t))
    med = {k: float(np.median(v)) for k, v in rates.items()}
    acc = {k: round(100.0 * float(np.mean(bench_attacks.predict(model, v) == y)), 1)
           for k, v in outs.items()}
    grads = n_iter + 1
    row = {"attack": "apgd", "target": args.target, "dataset": dataset, "norm": args.norm,
           "eps": round(eps, 6), "n_iter": n_iter,
           "ours_img_s": bench_attacks.rate(med["ours"]), "art_img_s": bench_attacks.rate(med["art"]),
           "ratio": round(med["ours"] / med["art"], 2),
           "robust_acc_pct_ours": acc["ours"], "robust_acc_pct_art": acc["art"],
           "agreement_pp": round(abs(acc["ours"] - acc["art"]), 1),
           "grad_floor_img_s": bench_attacks.rate(med["floor"]), "grads_per_image": grads,
           "ours_vs_floor": round(med["ours"] * grads / med["floor"], 2),
           "n": n, "batch_size": bs, "rounds": args.rounds,
           "ours_img_s_best": bench_attacks.rate(max(rates["ours"])),
           "art_img_s_best": bench_attacks.rate(max(rates["art"])),
           "params": json.dumps(params, sort_keys=True), "model": origin,
           "clean_acc_pct": round(100.0 * float(hit.mean()), 2),
           "images": "first n correctly classified test images", **info}
    print(f"apgd: ours {row['ours_img_s']} img/s, ART {row['art_img_s']} img/s, ratio {row['ratio']}; "
          f"robust accuracy ours {acc['ours']}%, ART {acc['art']}% ({row['agreement_pp']} pp apart)",
          flush=True)
    print()
    roofline.print_table([row], ["attack", "norm", "eps", "n_iter", "n", "ours_img_s", "art_img_s",
                                 "ratio", "robust_acc_pct_ours", "robust_acc_pct_art",
                                 "ours_vs_floor"])
    path = roofline.write_csv(args.out, [row])
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

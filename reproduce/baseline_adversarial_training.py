"""Baselines: PGD (Madry et al. 2018) and FGSM (Goodfellow et al. 2015) adversarial training of M1,
beside the numbers those papers print for MNIST.

Papers 000 and 002 compare their restorers with adversarial training using numbers copied from
other papers (other models, other attack settings). This script trains the baseline here instead,
on papers/000's target M1, and measures it with the same attacks and images as everything else in
the package; Madry et al.'s printed numbers stand beside ours with the difference.

What is measured, on the first ``n_eval`` MNIST test images (L-inf, eps 0.3):

* clean accuracy of M1 and of its adversarially trained copies (``m1_pgd_at``: PGD, Madry et al.'s
  adversarial-only objective; ``m1_fgsm_at``: FGSM on Goodfellow et al.'s mixed objective
  0.5 x clean + 0.5 x adversarial loss, papers/000 Eq. 5, the method of papers/000 Table 8's cited
  "Adv. Tr" row);
* FGSM (eps 0.3, and eps 0.25 where Goodfellow et al. report theirs), PGD-40 (40 steps of 0.01, 1 random start: Madry et al.'s "PGD 40 steps, 1
  restart") and PGD-100 (100 steps of 0.01) accuracy, white-box on each model;
* the adaptive attack of the package (:func:`keras_restore.evaluation.adaptive`: APGD-CE, then
  APGD-T on the survivors) -- for an adversarially trained model this is the plain white-box
  attack, since the defense has no preprocessing and no restorer.

Madry et al. 2018, Table 1 (MNIST, white-box, their model: 2 conv layers of 32/64 filters, a
1024-unit dense layer; 100,000 iterations of batch 50, ~83 epochs, PGD-40 with step 0.01 in
training): clean 98.8%, FGSM 95.6%, PGD-40 1 restart 93.2%, PGD-100 1 restart 91.8% (89.3% with 100
steps and 20 restarts).

Goodfellow et al. 2015, Sec. 6 (MNIST, a maxout network trained with FGSM at eps 0.25 on the mixed
objective, alpha 0.5, with early stopping): test error 0.782% (clean accuracy 99.22%) and 17.9% error on
FGSM eps 0.25 examples of the adversarially trained model (82.1% accuracy); they print no PGD number.

Training (the ``adversarial_pgd`` recipe, :class:`keras_restore.training.AdversarialTraining`: PGD
examples made inside ``train_step`` on the current weights, Madry et al.'s adversarial-only
objective; Adam, batch 128). Scales:

* ``--quick`` (CI smoke): 2,000 training images, 1 epoch of PGD-5, 100 test images, APGD 10
  iterations; the numbers are not results.
* default: the shipped ``saved_models/m1_pgd_at.keras`` (trained at ``--retrain`` scale, see its
  manifest entry); 1,000 test images, APGD 100 iterations on the first 500.
* ``--retrain``: the scale this 2-core CPU affords (~40 min for PGD, a few minutes for FGSM): M1 *fine-tuned* from the shipped,
  normally trained M1 (adversarial fine-tuning, Jeddi et al. 2020; from scratch, PGD training at
  eps 0.3 sits at chance for the first epochs) on all 60,000 training images for 2 epochs of PGD-7
  with step 0.1 (~2.5 eps / 7, Madry et al.'s rule for the step size), Adam 1e-3 (Madry et al.:
  1e-4 over ~83 epochs; in a 2,000-image trial 1e-4 left the adversarial loss near 9 after 1 epoch).
  FGSM: the same start, images, epochs and Adam 1e-3, FGSM eps 0.3 on the mixed objective.
* ``--paper``: Madry et al.'s schedule on M1: from scratch, PGD-40 (step 0.01), 83 epochs, Adam
  1e-4 -- meant for a GPU (FGSM: the same epochs and optimizer on its mixed objective).

Outputs in ``reproduce/results/`` (``results/quick/`` for ``--quick``):
``baseline_adversarial_training.csv`` (one row per model and attack: ``accuracy``, Madry et al.'s
``accuracy_paper`` and ``accuracy_delta`` = ours - theirs, shown as one cell by the site),
``.meta.json`` (scale, seed, every attack's parameters, training records, timings). Adversarial sets
are cached under ``--cache-dir``, the trained model under ``--cache-dir/models`` (an interrupted
``--retrain`` resumes from its last finished epoch: ``BackupAndRestore``).

Run: ``python reproduce/baseline_adversarial_training.py --data-dir ../shared/data``
(``--retrain --ship`` retrains and ships ``m1_pgd_at`` and ``m1_fgsm_at``; ``--methods fgsm`` only one).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from keras_restore.pipeline.cache import default_dir as cache_default_dir

REPO = Path(__file__).resolve().parents[1]
NAME = "baseline_adversarial_training"
TITLE = "Baselines: PGD (Madry et al. 2018) and FGSM (Goodfellow et al. 2015) adversarial training of M1 on MNIST"
EPS = 0.3
# Madry et al. 2018, Table 1, MNIST, white-box (their "A" model); clean accuracy from their Sec. 5.
MADRY = {"clean": 98.8, "fgsm": 95.6, "pgd40": 93.2, "pgd100": 91.8}
MADRY_SOURCE = ("Madry et al. 2018 (ICLR), Table 1, MNIST white-box: FGSM 95.6, PGD 40 steps 1 restart 93.2, "
                "PGD 100 steps 1 restart 91.8; clean 98.8 (Sec. 5); their CNN (conv 32, conv 64, dense 1024), "
                "~83 epochs of PGD-40 training")
# Goodfellow et al. 2015, Sec. 6 (MNIST): error 0.782% clean, 17.9% on FGSM eps 0.25 examples.
GOODFELLOW = {"clean": 99.22, "fgsm25": 82.1}
GOODFELLOW_SOURCE = ("Goodfellow, Shlens & Szegedy 2015 (ICLR), Sec. 6, MNIST: adversarially trained maxout network "
                     "(FGSM eps 0.25, mixed objective alpha 0.5): test error 0.782%, 17.9% error on FGSM eps 0.25 "
                     "examples; no iterative attack reported")


@dataclass(frozen=True)
class Method:
    """One adversarial training method: its shipped model, defense entry, attack and reference numbers."""

    model: str           # models registry name of the trained copy
    defense: str         # defenses registry name
    label: str
    attack: str          # the attack made inside train_step
    clean_weight: float  # 0: adversarial-only (Madry); 0.5: Goodfellow's mixed objective
    reference: dict
    reference_name: str


METHODS = {
    "pgd": Method("m1_pgd_at", "adversarial_training", "M1 + PGD adversarial training", "pgd", 0.0, MADRY, "Madry"),
    "fgsm": Method("m1_fgsm_at", "fgsm_adversarial_training", "M1 + FGSM adversarial training", "fgsm", 0.5,
                   GOODFELLOW, "Goodfellow"),
}


@dataclass(frozen=True)
class Scale:
    name: str
    pretrained: bool           # load the shipped m1_pgd_at (else train)
    train_images: int | None   # None: all 60,000
    epochs: int
    train_steps: int           # PGD steps in training
    train_step_size: float
    learning_rate: float
    from_scratch: bool         # False: fine-tune the shipped M1
    n_eval: int
    apgd_images: int
    apgd_iter: int
    note: str


SCALES = {
    "quick": Scale("quick", False, 2000, 1, 5, 0.1, 1e-4, False, 100, 50, 10,
                   "CI smoke test: 2,000 images, 1 epoch of PGD-5, 100 test images; numbers are not results."),
    "default": Scale("default", True, None, 2, 7, 0.1, 1e-3, False, 1000, 500, 100,
                     "The shipped m1_pgd_at and m1_fgsm_at (trained at --retrain scale, see their manifest "
                     "entries); 1,000 test images, APGD-CE + APGD-T (100 iterations) on the first 500."),
    "retrain": Scale("retrain", False, None, 2, 7, 0.1, 1e-3, False, 1000, 500, 100,
                     "M1 fine-tuned from the shipped M1 on 60,000 images, 2 epochs of PGD-7 (step 0.1) or "
                     "of FGSM (mixed objective), Adam 1e-3; 1,000 test images, APGD on the first 500."),
    "paper": Scale("paper", False, None, 83, 40, 0.01, 1e-4, True, 10000, 10000, 100,
                   "Madry et al.'s schedule on M1: from scratch, 83 epochs of PGD-40 (step 0.01): meant for a GPU."),
}

ATTACKS = {   # name -> (package attack, parameters beyond attacks.default_params(name, "mnist"))
    "fgsm": ("fgsm", {}),
    "fgsm25": ("fgsm", {"eps": 0.25}),
    "pgd40": ("pgd", {"nb_iter": 40, "eps_iter": 0.01}),
    "pgd100": ("pgd", {"nb_iter": 100, "eps_iter": 0.01}),
}
ATTACK_LABELS = {"fgsm25": "FGSM (eps 0.25)"}
COLUMNS = ("model", "attack", "n_images", "accuracy", "accuracy_paper", "accuracy_delta", "attack_params", "seconds")


def parse_args(argv):
    p = argparse.ArgumentParser(description=TITLE, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n")[0])
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", dest="scale", action="store_const", const="quick", default="default",
                       help="CI smoke run (numbers are not results)")
    scale.add_argument("--retrain", dest="scale", action="store_const", const="retrain",
                       help="train m1_pgd_at (~40 min on 2 cores) and m1_fgsm_at on this CPU")
    scale.add_argument("--paper", dest="scale", action="store_const", const="paper",
                       help="Madry et al.'s schedule (meant for a GPU)")
    p.add_argument("--epochs", type=int, default=None, help="override the scale's training epochs")
    p.add_argument("--data-dir", default=None,
                   help="directory with mnist.npz (default: $KERAS_RESTORE_DATA, else tensorflow-datasets)")
    p.add_argument("--out-dir", default=None, help="default: reproduce/results (--quick: reproduce/results/quick)")
    p.add_argument("--cache-dir", default=str(cache_default_dir()))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated adversarial training methods (default: all: {','.join(METHODS)})")
    p.add_argument("--ship", action="store_true",
                   help="write the trained models to saved_models/ (m1_pgd_at, m1_fgsm_at)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    if args.epochs is not None and args.epochs < 1:
        p.error(f"--epochs must be >= 1, got {args.epochs}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if not methods or unknown:
        p.error(f"--methods must name some of {', '.join(METHODS)}, got {args.methods!r}")
    args.methods = tuple(dict.fromkeys(methods))
    return args


def train_robust(method: Method, scale: Scale, x, y, *, seed: int, cache_dir: Path, log):
    """M1 adversarially trained by ``method`` at ``scale`` (cached by recipe, scale and data; resumable)."""
    from keras_restore import io, models
    from keras_restore.training import AdversarialTraining, TrainConfig, TrainData

    params = {"eps": EPS}
    if method.attack == "pgd":
        params.update(nb_iter=scale.train_steps, eps_iter=scale.train_step_size)
    recipe = AdversarialTraining(method.attack, "mnist", params=params, clean_weight=method.clean_weight)
    config = TrainConfig(epochs=scale.epochs, batch_size=128, learning_rate=scale.learning_rate, seed=seed)
    n = len(x) if scale.train_images is None else min(scale.train_images, len(x))
    start = None if scale.from_scratch else models.load_model("m1")
    key = io.key(NAME, recipe.fingerprint(), config.as_dict(), n, seed,
                 "scratch" if start is None else io.fingerprint(start))
    path = cache_dir / "models" / f"{method.model}-{key}.keras"
    if path.exists():
        try:
            model = models.load_keras_file(path, models.get_spec(method.model))
            log(f"[train] cached {path.name}")
            return model, json.loads(path.with_suffix(".json").read_text()), True
        except ValueError as e:   # a corrupt cache file is retrained, never trusted
            log(f"[train] ignoring unreadable cache {path.name}: {e}")
    model = models.build(method.model)
    if start is not None:
        model.set_weights(start.get_weights())
    how = (f"PGD-{scale.train_steps} step {scale.train_step_size:g}" if method.attack == "pgd"
           else f"{method.attack.upper()}, clean weight {method.clean_weight:g}")
    log(f"[train] {method.attack.upper()} adversarial training of M1 "
        f"({'from scratch' if start is None else 'from the shipped M1'}): {n} images, {scale.epochs} epoch(s), "
        f"{how}, eps {EPS:g}")
    t0 = time.perf_counter()
    record = recipe.train(model, TrainData(x_clean=x[:n], labels=y[:n]), config,
                          checkpoint_dir=cache_dir / "models" / f"{method.model}-{key}.backup", verbose=2)
    record.update(seconds=round(time.perf_counter() - t0, 1), train_images=n, recipe=recipe.fingerprint(),
                  config=config.as_dict(), start="scratch" if start is None else "shipped m1")
    io.save_model_atomic(model, path)
    io.write_json(path.with_suffix(".json"), record)
    return model, record, False


def main(argv=None) -> dict:
    args = parse_args(argv)
    import numpy as np

    from keras_restore import attacks, data, io, models, runtime
    from keras_restore.defenses import Defense, build_defense
    from keras_restore.evaluation import adaptive
    from keras_restore.metrics import predict

    runtime.configure()
    runtime.seed_everything(args.seed)
    scale = SCALES[args.scale]
    if args.epochs is not None:
        scale = replace(scale, epochs=args.epochs, pretrained=False)
    out = Path(args.out_dir or (REPO / "reproduce" / "results" / ("quick" if args.scale == "quick" else "")))
    cache = Path(args.cache_dir)
    progress = not args.quiet

    def log(msg):
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    log(f"{TITLE}\nscale {scale.name}: {scale.note}\nseed {args.seed}; out {out}; cache {cache}")
    t0 = time.perf_counter()
    try:
        x_test, y_test = data.load_arrays("mnist", "test", args.data_dir)
        source = data.source_label("mnist", args.data_dir)
        m1 = models.load_model("m1")
        trained = {}   # method -> (model, training record, cached)
        if not scale.pretrained:
            x_train, y_train = data.load_arrays("mnist", "train", args.data_dir)
        for key in args.methods:
            method = METHODS[key]
            if scale.pretrained:
                if method.model not in models.shipped():
                    raise FileNotFoundError(f"{method.model}.keras is not shipped in saved_models/; make it with "
                                            f"`python reproduce/{NAME}.py --retrain --methods {key} --ship`.")
                trained[key] = (models.load_model(method.model), models.read_manifest().get(method.model, {}), True)
                log(f"[train] loaded shipped {method.model}.keras")
            else:
                trained[key] = train_robust(method, scale, x_train, y_train, seed=args.seed, cache_dir=cache, log=log)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None

    n = min(scale.n_eval, len(x_test))
    x, y = x_test[:n], y_test[:n]
    rows = []
    for key, model in (("none", m1), *((k, trained[k][0]) for k in args.methods)):
        method = METHODS.get(key)
        label = "M1" if method is None else method.label
        defense = (Defense(model, name="none", fast=False) if method is None else
                   build_defense(method.defense, m1, dataset="mnist", robust=model, fast=False))
        ident = io.fingerprint(model)

        def accuracy(xa, ya=y):
            return float(np.mean(predict(defense.model, xa, 500).argmax(1) == ya) * 100.0)

        def row(attack, acc, params, seconds, n_images=n, madry_key=None):
            m = method.reference.get(madry_key) if method is not None and madry_key else None
            rows.append({"model": label, "attack": attack, "n_images": n_images, "accuracy": round(acc, 2),
                         "accuracy_paper": "" if m is None else m,
                         "accuracy_delta": "" if m is None else round(acc - m, 2),
                         "attack_params": json.dumps(params, sort_keys=True) if params else "", "seconds": round(seconds, 1)})
            log(f"[{label}] {attack}: {acc:.1f}% on {n_images} images"
                + ("" if m is None else f" ({method.reference_name} {m})"))

        row("clean", accuracy(x), {}, 0.0, madry_key="clean")
        for name, (attack, extra) in ATTACKS.items():
            params = {**attacks.default_params(attack, "mnist"), **extra}
            path = cache / NAME / f"{name}-{io.key(ident, params, n, args.seed, source)}.npz"
            got = io.load_npz(path) if path.exists() else None
            if got is None:
                t1 = time.perf_counter()
                xa = attacks.generate(attack, defense.model, x, y, dataset="mnist", seed=args.seed, batch_size=500,
                                      progress=progress, **extra)
                got = {"x_adv": xa, "seconds": time.perf_counter() - t1}
                io.save_npz(path, **got)
            row(ATTACK_LABELS.get(name, name.upper().replace("PGD", "PGD-")), accuracy(got["x_adv"]), params,
                float(got["seconds"]), madry_key=name)
        k = min(scale.apgd_images, n)
        path = cache / NAME / f"adaptive-{io.key(ident, k, scale.apgd_iter, args.seed, source)}.npz"
        got = io.load_npz(path) if path.exists() else None
        if got is None:
            t1 = time.perf_counter()
            res = adaptive(defense, x[:k], y[:k], eps=EPS, n_iter=scale.apgd_iter, seed=args.seed,
                           progress=progress)
            got = {"x_adv": res.x_adv, "seconds": time.perf_counter() - t1}
            io.save_npz(path, **got)
        row(f"adaptive (APGD-CE + APGD-T, {scale.apgd_iter} it.)", accuracy(got["x_adv"], y[:k]),
            {"eps": EPS, "n_iter": scale.apgd_iter, "attacks": ["apgd-ce", "apgd-t"]}, float(got["seconds"]),
            n_images=k)

    out.mkdir(parents=True, exist_ok=True)
    io.write_csv(out / f"{NAME}.csv", rows, list(COLUMNS))
    meta = {"table": NAME, "title": TITLE, "paper": "Baselines: Madry et al. 2018 (ICLR); Goodfellow et al. 2015 (ICLR)",
            "madry_source": MADRY_SOURCE, "goodfellow_source": GOODFELLOW_SOURCE, "scale": asdict(scale),
            "seed": args.seed, "eps": EPS, "data_source": source, "images": f"the first {n} MNIST test images",
            "methods": {k: {**asdict(METHODS[k]), "model_cached": trained[k][2],
                            "training": {a: b for a, b in (trained[k][1] or {}).items() if a != "history"},
                            "history": (trained[k][1] or {}).get("history")} for k in args.methods},
            "attacks": {k: {**attacks.default_params(a, "mnist"), **e} for k, (a, e) in ATTACKS.items()},
            "wall_seconds": round(time.perf_counter() - t0, 1), "versions": io.versions()}
    io.write_json(out / f"{NAME}.meta.json", meta)
    if args.ship and not scale.pretrained:
        from keras_restore.pipeline.ship import ship_model

        for key in args.methods:
            method, (robust, record, _) = METHODS[key], trained[key]
            metrics = {r["attack"]: r["accuracy"] for r in rows if r["model"] == method.label}
            ship_model(method.model, robust, record, metrics, scale=scale.name, seed=args.seed, source=source,
                       log=log)
    log(f"wrote {out / (NAME + '.csv')} and {NAME}.meta.json in {time.perf_counter() - t0:.0f} s")
    return {"rows": rows, "meta": meta}


if __name__ == "__main__":
    main()

"""Table 5 of papers/000 (Ali et al. 2021) beside its two issue-21 variants: what each change closes
of the gap to the paper on CIFAR-10.

Three runs on the same targets (DenseNet121, MobileNet), the same 50,000 training pairs, the same 200
test images per attack, the same budget (20 epochs, batch 32, Adam 1e-3) and seed, one change each:

* ``paper_recipe`` -- ``table5_cifar10.py``: the paper's Table 2 restorer, pooled pixel MSE;
* ``balanced_loss`` -- ``table5_cifar10_balanced.py``: the same restorer, the attack-balanced loss;
* ``crunet_layout`` -- ``table5_cifar10_crunet_layout.py``: the CRU-Net layout (skip connections,
  output = input + residual), the paper's loss.

This script trains and attacks nothing: it reads those runs' results (``keras_restore.pipeline.variants``)
and writes, per target and metric (each attack's success rate, clean accuracy through the restorer,
accuracy under the adaptive attack through the defense), the paper's value, each variant's, each minus
the paper and each minus the paper's recipe; and per variant and attack the restorer's held-out MSE
against the identity's (above 1: the output is further from the clean image than the adversarial input
was). Runs made at different scales or seeds, or on other pairs, are refused; a variant not run yet is
listed in the metadata with its command, never filled in.

Outputs in the results directory: ``table5_cifar10_variants.csv``, ``_mse.csv`` (each with its ``.meta.json``).

Run (after the three ``--retrain`` runs): ``python reproduce/table5_cifar10_variants.py``
"""

import argparse
import sys
from pathlib import Path

from keras_restore.pipeline import variants

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results-dir", default=str(RESULTS / "retrain"),
                   help="where the three runs wrote their results (default: reproduce/results/retrain)")
    p.add_argument("--out-dir", default=None, help="where the comparison goes (default: --results-dir)")
    args = p.parse_args(argv)
    try:
        res = variants.write(args.results_dir, args.out_dir)
    except ValueError as err:
        p.error(str(err))
    for key, info in res["meta"]["variants"].items():
        print(f"{key}: {info.get('source') or info.get('missing')}")
    for row in res["rows"]:
        cells = "  ".join(f"{k}={row[k]}" for k in row if k not in ("target", "metric"))
        print(f"{row['target']:<11} {row['metric']:<23} {cells}")
    print(f"wrote {Path(args.out_dir or args.results_dir) / 'table5_cifar10_variants.csv'} (+ _mse.csv, .meta.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

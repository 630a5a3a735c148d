"""Table 2 of Ali et al. (2022), *CRU-Net* (``../shared/papers/001_…``, Sec. 5.3): accuracy of the
MNIST targets A-net and B-net (Table 1) with no attack, under attack with no defense, and under
attack with the CRU-Net defense, in the white-box setting, for FGSM, R-FGSM, PGD, DeepFool (DFA),
Carlini-Wagner L2 (CWA) and the spatial attack (SPA).

Same five phases as ``table4_mnist.py`` (``keras_restore.pipeline``), with two differences taken
from the paper: the attacked images are the first ``n_eval`` *test images* (not only those the
target gets right: "No attack" is the target's test accuracy, 0.9935 / 0.9939), and "two CRU-Net
models for each dataset" (Sec. 5.3): one per target (``crunet_mnist_anet``, ``crunet_mnist_bnet``),
each trained on (adversarial, clean) pairs made on its own target from the training split. The
black-box ``crunet_table4_mnist_blackbox.py`` swaps them.

Scales (printed at start, recorded in ``.meta.json``):

* ``--quick``: CI smoke run: A-net/B-net 1 epoch on 6,000 images, 600 pairs, CRU-Net 1 epoch, the
  first 100 test images per attack (a few minutes; numbers are not a reproduction).
* default: the shipped A-net/B-net and CRU-Nets (trained at the ``--retrain`` scale; their
  manifest entries say how); anything not shipped is trained at that scale.
* ``--retrain``: A-net/B-net 3 epochs on all 60,000 images (Adam 1e-3, batch 128), 6,000 pairs
  per CRU-Net, CRU-Net 6 epochs (Adam 3e-4, batch 32; 1e-3 diverged, see ``tables.py``), the
  first 500 test images, CW-L2 with 3 binary-search steps x 50 iterations.
* ``--paper``: 10 epochs per target, 60,000 pairs, CRU-Net 20 epochs, all 10,000 test images
  (meant for a GPU; the paper states no epochs).

Outputs in ``reproduce/results/`` (``results/<scale>/`` for non-default scales):
``crunet_table2_mnist_whitebox.csv`` in the paper's shape (rows = attack x target; columns
``no_attack_pct``, ``no_defense_pct``, ``crunet_defense_pct``, each in % with ``_paper`` -- the
paper's fraction x 100 -- and ``_delta`` = ours - paper), ``_long.csv`` (every metric, incl. SSIM
and both PSNRs for Table 6), ``.meta.json``, ``_examples.png``, ``_bars.png`` (like Fig. 8), and
``_loss.png`` / ``_loss.csv``: each CRU-Net's restoration loss (MSE) per attack before training
and after every epoch, on held-out and training pairs, beside the MSE of no restoration (like
Figs. 3-5; written when the CRU-Nets' training records hold it).

Run: ``python reproduce/crunet_table2_mnist_whitebox.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table2_mnist_whitebox", argv)


if __name__ == "__main__":
    main()

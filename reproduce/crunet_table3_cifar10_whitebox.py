"""Table 3 of Ali et al. (2022), *CRU-Net* (``../shared/papers/001_…``, Sec. 5.3; its caption says
MNIST, its rows are the CIFAR-10 targets): accuracy of D-net (DenseNet121) and M-net (MobileNet)
with no attack, with no defense and with the CRU-Net defense, white-box, for FGSM, R-FGSM, PGD,
DeepFool (DFA), CW-L2 (CWA) and the spatial attack (SPA).

As ``crunet_table2_mnist_whitebox.py``: the first ``n_eval`` test images are attacked ("No
attack" = test accuracy; the paper's 0.833 / 0.823), and one CRU-Net per target
(``crunet_cifar10_dnet``, ``crunet_cifar10_mnet``) is trained on pairs made on its own target.
Targets and attack budgets are those of papers/000's Table 5 (``table5_cifar10.py``; trained
targets are shared through the cache), with eps 8/255.

Scales: ``--quick`` (targets 1 epoch on 1,000 images, 120 pairs, 20 test images, reduced CW /
DeepFool / spatial grids); default (the shipped D-net / M-net and CRU-Nets); ``--retrain``
(issue 21: D-net / M-net by the CIFAR-10 recipe of ``reproduce/cifar10_targets.py``, 30 / 50 epochs,
shared with Table 5 through the cache; then per CRU-Net 50,000 pairs, 20 epochs, Adam 3e-4 (1e-3 went NaN in the
second epoch, as on MNIST), batch 32;
200 test images, CW 3x50 iterations, an 11x3x3 spatial grid); ``--paper``
(60 epochs, 50,000 pairs, 20 CRU-Net epochs at Adam 3e-4, the whole test set: for a GPU).

Outputs: ``crunet_table3_cifar10_whitebox.csv`` (+ ``_long.csv``, ``.meta.json``,
``_examples.png``, ``_bars.png`` like Fig. 9, ``_loss.png`` / ``_loss.csv`` like Figs. 3-5),
columns as in Table 2's script.

Run: ``python reproduce/crunet_table3_cifar10_whitebox.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table3_cifar10_whitebox", argv)


if __name__ == "__main__":
    main()

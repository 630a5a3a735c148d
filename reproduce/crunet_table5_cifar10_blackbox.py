"""Table 5 of Ali et al. (2022), *CRU-Net* (``../shared/papers/001_…``, Sec. 5.3): the black-box
setting on CIFAR-10. "D-net/M-net": adversarial examples made on D-net (DenseNet121), restored by
the CRU-Net trained for M-net (MobileNet), classified by D-net; "M-net/D-net" the other way round.

Per-row restorers ``crunet_cifar10_mnet`` / ``crunet_cifar10_dnet`` (aliases of
``crunet_cifar10``), each trained only on pairs made on its own target; the attacked test images
and their adversarial sets are those of Table 3 (shared through the cache). See
``crunet_table4_mnist_blackbox.py``.

Scales as ``crunet_table3_cifar10_whitebox.py``: the default loads the shipped D-net / M-net and
CRU-Nets; ``--retrain`` uses the same two CRU-Nets as Table 3's ``--retrain`` (50,000 pairs from
their own target, 20 epochs each, Adam 3e-4), so whichever of the two runs second with the same cache
finds both CRU-Nets and the adversarial test sets there and only evaluates. The driver
(``cifar10_paper_scale.sh``, step 4) runs this one first: its first row trains M-net's CRU-Net, whose
pairs are cheap (MobileNet), then D-net's.

Outputs: ``crunet_table5_cifar10_blackbox.csv`` (+ ``_long.csv``, ``.meta.json``,
``_examples.png``, ``_bars.png`` like Fig. 11).

Run: ``python reproduce/crunet_table5_cifar10_blackbox.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table5_cifar10_blackbox", argv)


if __name__ == "__main__":
    main()

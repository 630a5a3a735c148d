"""Table 5 of Ali et al. (2022), *CRU-Net* (``../shared/papers/001_…``, Sec. 5.3): the black-box
setting on CIFAR-10. "D-net/M-net": adversarial examples made on D-net (DenseNet121), restored by
the CRU-Net trained for M-net (MobileNet), classified by D-net; "M-net/D-net" the other way round.

Per-row restorers ``crunet_cifar10_mnet`` / ``crunet_cifar10_dnet`` (aliases of
``crunet_cifar10``), each trained only on pairs made on its own target; the attacked test images
and their adversarial sets are those of Table 3 (shared through the cache). See
``crunet_table4_mnist_blackbox.py``.

Scales as ``crunet_table3_cifar10_whitebox.py`` (default = ``--retrain``; not measured: after
Table 3 with the same cache, two sets of 8,000 single-target pairs and two CRU-Net trainings,
roughly Table 3's pair + restorer time twice over, of the order of 1-1.5 h on a 2-core CPU).

Outputs: ``crunet_table5_cifar10_blackbox.csv`` (+ ``_long.csv``, ``.meta.json``,
``_examples.png``, ``_bars.png`` like Fig. 11).

Run: ``python reproduce/crunet_table5_cifar10_blackbox.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table5_cifar10_blackbox", argv)


if __name__ == "__main__":
    main()

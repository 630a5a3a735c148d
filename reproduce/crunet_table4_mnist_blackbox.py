"""Table 4 of Ali et al. (2022), *CRU-Net* (``../shared/papers/001_…``, Sec. 5.3): the black-box
setting on MNIST. "A-net/B-net": adversarial examples made on A-net, restored by the CRU-Net
trained for B-net, classified by A-net; "B-net/A-net" the other way round.

Each row has its own restorer (``TableSpec.rows``: ``Row(target, defense, restorer, trained_for)``): ``crunet_mnist_bnet`` (trained only
on pairs made on B-net) restores the A-net row and ``crunet_mnist_anet`` the B-net row. They are
registered aliases of ``crunet_mnist`` (same architecture) so their cache entries and shipped
files never collide with each other or with Table 2's ``crunet_mnist`` (trained on both targets).
The attacked images are the first ``n_eval`` test images, attacked with the same seeds as in
Table 2, so the "No attack" / "No defense" columns equal Table 2's (as in the paper) and are read
from the cache when Table 2 ran first with the same ``--cache-dir``.

Scales as ``crunet_table2_mnist_whitebox.py``. Default = ``--retrain``: about 15 min on a
2-core CPU after Table 2 with the same ``--cache-dir`` (targets and adversarial test sets cached;
two CRU-Nets on 6,000 single-target pairs each: ~7 min of pairs, ~8 min of training), about
25 min from an empty cache (extrapolated from Table 2's ``--quick`` run, not yet measured).
``--restorer-file`` is refused (one file cannot hold both rows' restorers); ``--ship`` ships both
aliases.

Outputs: ``crunet_table4_mnist_blackbox.csv`` (rows = attack x target, with the restorer and the
target it was trained for; + ``_long.csv``, ``.meta.json``, ``_examples.png``, ``_bars.png``
like Fig. 10).

Run: ``python reproduce/crunet_table4_mnist_blackbox.py --data-dir ../shared/data``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("crunet_table4_mnist_blackbox", argv)


if __name__ == "__main__":
    main()

"""Table 5 of papers/000 (Ali et al. 2021) with an attack-balanced restorer loss: a variant for
issue 21, not in the paper.

The paper trains its restorer with one pooled MSE over the (adversarial, clean) pairs of all six
attacks. On CIFAR-10 the loss curves of Table 5 (``table5_cifar10_loss.csv``) show the spatial
attack's pairs -- a rotation moves every edge, so their pixel error is orders of magnitude above the
L-inf attacks' -- dominating that sum. Here the same restorer (``restorer_cifar10_balanced``, the
Table 2 layout) is trained on the same pairs with the same budget and seed by recipe
``pixel_mse_balanced``: each pair weighted by ``c / (n_g * e_g)`` (``n_g`` pairs of its attack,
``e_g`` their identity MSE), so that every attack counts equally relative to its own size
(:class:`keras_restore.training.PixelLoss`). Everything else -- targets, attacks, test images, the
pairs (shared through the cache) -- is Table 5's; the paper's values stay beside ours.

Scales as ``table5_cifar10.py``; the restorer is not shipped (78.8 MB, over the 30 MB limit), so the
default scale trains it at the default pair budget (8,000 pairs x 8 epochs) and ``--retrain`` at the
papers' (50,000 x 20).

Outputs in ``reproduce/results/``: ``table5_cifar10_balanced.csv`` (+ ``_long.csv``, ``.meta.json``,
``_loss.csv`` with the loss per attack each epoch, figures).

Run: ``python reproduce/table5_cifar10_balanced.py --data-dir ../shared/data --precision mixed_bfloat16``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("table5_cifar10_balanced", argv)


if __name__ == "__main__":
    main()

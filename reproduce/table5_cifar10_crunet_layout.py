"""Table 5 of papers/000 (Ali et al. 2021) with the CRU-Net layout as its restorer: an architecture
ablation for issue 21, not in the paper.

At the papers' scale (50,000 pairs x 20 epochs) the Table 2 restorer reaches 45-60% success on CIFAR-10
where the paper prints 62.5-94.7%. Its training MSE equals its held-out MSE (it underfits, more pairs
would not help), and clean images through it keep only 60-66% accuracy: the 4096-wide Dense
bottleneck without skip connections loses the detail the targets need. This run puts the CRU-Net
layout (papers/001, ``models/crunet.py``: U-Net levels with de-noising blocks, skip connections,
output = input + residual, 1.2 M parameters instead of 19.7 M) in the restorer's place and changes
nothing else -- the same targets, attacks, test images and pairs (shared through the cache), the
same recipe (pixel MSE, Adam 1e-3, batch 32), budget and seed -- so the difference between the two
tables is the layout's. The paper's values stay beside ours.

Scales as ``table5_cifar10.py``: ``--quick``; default (its shipped restorer when one is shipped,
else it trains one at the default pair budget, 8,000 pairs x 8 epochs); ``--retrain`` (the papers'
50,000 x 20); ``--paper``. ``--ship`` puts the restorer (5 MB) into ``saved_models/``.

Outputs in ``reproduce/results/``: ``table5_cifar10_crunet_layout.csv`` (+ ``_long.csv``,
``.meta.json``, ``_loss.csv`` with the loss per attack each epoch, figures).

Run: ``python reproduce/table5_cifar10_crunet_layout.py --data-dir ../shared/data --precision mixed_bfloat16``
"""

from keras_restore.pipeline.script import main_for


def main(argv=None):
    return main_for("table5_cifar10_crunet_layout", argv)


if __name__ == "__main__":
    main()

"""Table 8 of Ali et al. (2021), *Deep Image Restoration Model* (``../shared/papers/000_…``,
Sec. 4.6-4.7): success rate (%) of other defenses beside the paper's on MNIST.

The paper copies its comparison numbers from the cited papers (FGSM and CW only; other models and
attack settings). Here each defense it cites that this package builds runs on the same target
(M1), the same six attacks and the same images (the first 200 test images M1 classifies correctly,
one adversarial set per attack shared by every row), under the paper's protocol (attacks made on
M1 alone, then the defense): success rate = accuracy through the defense on them / M1's clean
accuracy on them. The cited value sits beside ours (``_paper``, ``_delta``) where the paper prints one.

Rows (models from ``saved_models/``, each trained by its own script):

* Our method: papers/000's restorer (``restorer_mnist``; ``table4_mnist.py``);
* Defense-GAN (Samangouei et al. 2018): WGAN-GP generator ``defense_gan_mnist`` + projection,
  L = 50 steps x R = 2 restarts on this CPU (their 200 x 10 at ``--paper``); ``gan_denoiser_table2.py``;
* MagNet (Meng & Chen 2017): the reformer ``magnet_mnist_reformer`` (``baseline_magnet.py``, which
  also reports detector + reformer);
* Adv. Tr: M1 adversarially trained with FGSM on the mixed objective (``m1_fgsm_at``, Goodfellow et
  al. 2015, the paper's ref. [11] and Eq. 5; ``baseline_adversarial_training.py``), the method of the
  paper's cited row; beside it "Adv. Tr (PGD, Madry et al.)" (``m1_pgd_at``), an extra row;
* feature squeezing (1 bit + 2x2 median, Xu et al. 2018), APE-GAN (``ape_gan_mnist``) and the GAN
  denoiser of papers/004 (``gan_denoiser_mnist``): extra rows, not in the paper's table;
* cGAN-defence (the paper's ref. [21]): not built; its cited FGSM 98.7 / CW 96.5 are in the metadata.

The adaptive attack on each of these defenses is the leaderboard's (``adaptive_robustness.py``).

Scales: default (shipped models; a missing one is an error naming the script that trains it),
``--quick`` (CI smoke run: everything trained at quick scale), ``--paper`` (Defense-GAN 200 x 10).
``--retrain`` is refused: each defense retrains with its own script and recipe.

Outputs in ``reproduce/results/``: ``table8_mnist_baselines.csv`` (rows = defenses, columns
FGSM..SPA with ``_paper`` / ``_delta``), ``_long.csv``, ``.meta.json``, figures.

Run: ``python reproduce/table8_mnist_baselines.py --data-dir ../shared/data``
"""

import sys

from keras_restore.pipeline.script import main_for

# model -> the script that trains and ships it
TRAINED_BY = {"restorer_mnist": "table4_mnist.py --retrain --ship",
              "defense_gan_mnist": "gan_denoiser_table2.py --ship",
              "magnet_mnist_reformer": "baseline_magnet.py --ship",
              "m1_pgd_at": "baseline_adversarial_training.py --retrain --methods pgd --ship",
              "m1_fgsm_at": "baseline_adversarial_training.py --retrain --methods fgsm --ship",
              "ape_gan_mnist": "gan_denoiser_table2.py --ship",
              "gan_denoiser_mnist": "gan_denoiser_table1.py --ship",
              "m1": "table4_mnist.py --retrain --ship"}


def missing_models(args) -> list[str]:
    """The shipped models the run needs and does not find (none at --quick, which trains them); with
    ``--rows``, those of the kept rows only."""
    from keras_restore import models
    from keras_restore.pipeline.script import models_for_rows

    if "--quick" in args:
        return []
    shipped, needed = models.shipped(), models_for_rows("table8_mnist_baselines", args)
    return [f"{name} (train it with reproduce/{script})" for name, script in TRAINED_BY.items()
            if name in needed and name not in shipped]


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if "--retrain" in args:
        print("table8_mnist_baselines.py: error: --retrain is not offered: each defense retrains with its own "
              "script (see the module docstring)", file=sys.stderr)
        raise SystemExit(1)
    if "-h" not in args and "--help" not in args:
        missing = missing_models(args)
        if missing:
            print(f"table8_mnist_baselines.py: error: not shipped in saved_models/: {'; '.join(missing)}",
                  file=sys.stderr)
            raise SystemExit(1)
    return main_for("table8_mnist_baselines", argv)


if __name__ == "__main__":
    main()

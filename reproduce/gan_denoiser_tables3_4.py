"""Tables 3 and 4 of papers/004 (``../shared/papers/004_…``): PSNR (Table 3) and SSIM (Table 4)
of the adversarial examples against the clean images ("Base") and of the GAN denoiser's output
against the clean images ("Ours"), per target and attack.

Datasets (``--dataset``, default ``mnist``): ``mnist``, ``fashion_mnist``, ``cifar10`` (JPEG copy),
each from its Table 1 run (targets and budgets: ``gan_denoiser_table1.py``). CIFAR-100 and
ImageNet, the paper's other datasets: not run: data not available offline (the ``.meta.json``'s
``not_run``).

The numbers come from the Table 1 run (``reproduce/gan_denoiser_table1.py``, the same adversarial
examples and denoiser): its ``.meta.json`` in the output directory when it was written at the
same scale / seed / data / attacks, otherwise Table 1 is run here (resuming from ``--cache-dir``).
PSNR is ``tf.image.psnr(max_val=1)`` on [0, 1] images, SSIM ``tf.image.ssim``; the paper's
tables are lost from the text, so no paper value sits beside ours.

Scales: as ``gan_denoiser_table1.py`` (``--quick``, default, ``--retrain``, ``--paper``).

Outputs: ``gan_denoiser_tables3_4_<dataset>.csv`` (+ ``.meta.json``).

Run: ``python reproduce/gan_denoiser_tables3_4.py --data-dir ../shared/data`` (MNIST), with
``--dataset fashion_mnist`` or ``--dataset cifar10`` for the others.
"""

import sys
from pathlib import Path

from keras_restore.pipeline.script import _out_dir, dataset_args
from keras_restore.pipeline.tables import GAN_DENOISER_DATASETS, GAN_DENOISER_NOT_RUN


def main(argv=None):
    from keras_restore.pipeline.similarity import gan_denoiser_similarity

    args = dataset_args("papers/004 Tables 3-4: PSNR and SSIM (Base vs Ours)", argv, GAN_DENOISER_DATASETS,
                        not_run=GAN_DENOISER_NOT_RUN)
    try:
        return gan_denoiser_similarity(args.scale, dataset=args.dataset, data_dir=args.data_dir, out_dir=_out_dir(args),
                                       cache_dir=args.cache_dir, seed=args.seed, columns=args.attacks,
                                       progress=not args.quiet, precision=args.precision)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()

"""Tables 3 and 4 of papers/004 (``../shared/papers/004_…``): PSNR (Table 3) and SSIM (Table 4)
of the adversarial examples against the clean images ("Base") and of the GAN denoiser's output
against the clean images ("Ours"), per target and attack, MNIST.

The numbers come from the Table 1 run (``reproduce/gan_denoiser_table1.py``, the same adversarial
examples and denoiser): its ``.meta.json`` in the output directory when it was written at the
same scale / seed / data / attacks, otherwise Table 1 is run here (resuming from ``--cache-dir``).
PSNR is ``tf.image.psnr(max_val=1)`` on [0, 1] images, SSIM ``tf.image.ssim``; the paper's
tables are lost from the text, so no paper value sits beside ours.

Scales: as ``gan_denoiser_table1.py`` (``--quick``, default, ``--retrain``, ``--paper``).

Run: ``python reproduce/gan_denoiser_tables3_4.py --data-dir ../shared/data``
"""

import sys
from pathlib import Path

from keras_restore.pipeline.script import _out_dir, parser


def main(argv=None):
    from keras_restore.pipeline.similarity import gan_denoiser_similarity

    args = parser("papers/004 Tables 3-4: PSNR and SSIM (Base vs Ours)").parse_args(argv)
    try:
        return gan_denoiser_similarity(args.scale, data_dir=args.data_dir, out_dir=_out_dir(args),
                                       cache_dir=args.cache_dir, seed=args.seed, columns=args.attacks,
                                       progress=not args.quiet, precision=args.precision)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# How the shipped saved_models/restorer_mnist.keras was trained (Phase IV at --paper scale).
#
# 1. On the CPU: targets (--retrain scale: M1 5 epochs, M2 15 epochs, all 60,000 images) and
#    60,000 (adversarial, clean) pairs -- every training image attacked once by one of the
#    12 (target x attack) combinations -- plus the Phase II test sets for the report:
#        python reproduce/make_pairs.py --retrain --data-dir ../shared/data --set n_pairs=60000 --out-dir .gpu
# 2. On a GPU machine without TensorFlow (an NVIDIA H100 with JAX): Keras 3 on the JAX backend,
#    20 epochs, batch 32, Adam 1e-3, MSE -- this script. KERAS_BACKEND=jax; the keras wheel and
#    its two missing dependencies are carried in .whl/.
# 3. Back on the CPU: weights into the TF-built model, then the whole table with it and ship:
#        python reproduce/table4_mnist.py --retrain --data-dir ../shared/data \
#            --restorer-file .gpu/restorer_mnist.keras --ship
set -euo pipefail
MODEL=${1:-restorer_mnist}
EPOCHS=${2:-20}
OUT=${OUT:-out}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax PYTHONUNBUFFERED=1
nvidia-smi -L
python3 reproduce/train_restorer.py --pairs .gpu/pairs.npz --model "$MODEL" --epochs "$EPOCHS" \
    --classifiers-dir .gpu --out "$OUT/$MODEL" --chunk-mb 15 2>&1 | tee "$OUT/$MODEL.log"

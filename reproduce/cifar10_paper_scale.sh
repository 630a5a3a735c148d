#!/usr/bin/env bash
# Issue 21: CIFAR-10 at the papers' scale on this CPU, step by step, in the background:
#
#     nohup reproduce/cifar10_paper_scale.sh > logs/cifar10_paper_scale.out 2>&1 &
#
# Every step resumes from the cache (finished targets, restorers and attack chunks are cached; a model
# in training continues from its last finished epoch through BackupAndRestore), so after an
# interruption (a session's end) the same command carries on where it stopped; finished steps take
# seconds. The cache is $KERAS_RESTORE_CACHE, by default ~/.cache/keras_restore here: outside the work
# tree, so that a fresh checkout on the same machine still finds it (reproduce/cache, in the work tree,
# went with the checkout on 2026-12-05 with a DenseNet121 half trained). The cache does not outlive the machine: on
# 2026-12-07 a session came on a new one with an empty cache (ResNet-20 at epoch 24 of 100 lost), so plan steps that
# finish within one session, and ship what they make. A finished target is shipped
# (--ship) as soon as it is trained, and every later --retrain reuses a shipped target that is this
# recipe's training (pipeline/cifar_targets.shipped_match). Each step's start, end and wall time go to
# logs/cifar10_paper_scale.log; `keras-restore cache --cache-dir ~/.cache/keras_restore` shows the progress inside a step
# (epochs done of a model in training, chunks of an attack set being made).
#
#  1. the targets by the CIFAR-10 recipe, each in its dtype (--precision recipe: pipeline/cifar_targets.PRECISION,
#     the fastest by benchmarks/precision.py, except DenseNet121, whose bfloat16 runs collapsed): DenseNet121 30
#     epochs (peak lr 0.05) and MobileNet 50 in float32, ResNet-20 40 (He et al.'s weight decay) and VGG19
#     (vgg19_bn_cifar10) 25 in mixed_bfloat16 (pipeline/cifar_targets.EPOCHS; reproduce/cifar10_targets.py --ship: each into saved_models/,
#     unless less accurate than the one shipped);
#  2. Table 5 at --retrain: 50,000 pairs (the 12 target x attack sets, 1,000 images per cached chunk)
#     and the Table 2 restorer 20 epochs; then the attack-balanced variant and the CRU-Net-layout ablation
#     (table5_cifar10_crunet_layout.py, shipped) on the same pairs;
#  3. Table 7 at --retrain (VGG19 and ResNet-20 from step 1, trained here if step 1 was not run; Table 5's restorer),
#     then ResNet-20 shipped if better;
#  4. the CRU-Nets at --retrain (50,000 pairs from their own target, 20 epochs each): M-net's first, with its rows of
#     Tables 5 and 3 (--rows) and its attack-balanced variant; then D-net's, Tables 5 and 3 whole, both shipped;
#     Tables 6-7 (similarity) read off Table 3's run; D-net's balanced variant; the feature-guided variant (HGD's
#     loss, crunet_table3_cifar10_guided.py: M-net's after its balanced one, D-net's last; 3 epochs each at --retrain)
#     and the same with a pixel anchor (crunet_table3_cifar10_anchored.py) and with the pixel MSE at equal weight
#     (crunet_table3_cifar10_feature_pixel.py), the same places and budget, each followed by its
#     black-box rows (crunet_table5_cifar10_{guided,anchored,feature_pixel}.py: the same CRU-Nets, evaluation only);
#  5. the default-scale CIFAR-10 results that load the shipped targets, rerun once step 1 has shipped new
#     ones (the results site flags each table made with an earlier target until then): Tables 5, 7 and 9,
#     CRU-Net Tables 3, 5 and 6-7, papers/003 Table 3, papers/004's CIFAR-10 Tables 1-4 and warm start,
#     papers/002's Fig. 3 on CIFAR-10 (its target is ResNet-20) and the leaderboard's CIFAR-10 rows (about 3-4 h on this CPU, from the README's timings,
#     if all are rerun): only those that `python -m keras_restore.report --stale` does not call current, i.e. made with an
#     earlier version of a shipped model or not recording which (FORCE=1 reruns every one).
# STEPS="1 2" runs only those steps; the default is 1-4 (step 5 is run on its own: STEPS=5).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${KERAS_RESTORE_DATA:-../shared/data}"
STEPS="${STEPS:-1 2 3 4}"
# The restorers' dtype (steps 2-4): "auto" is mixed_bfloat16 on a CPU with AMX / AVX512-BF16 (as the runs of
# 2026-12-06 used: 1.55x float32's speed for the CRU-Net, benchmarks/results/precision.csv), mixed_float16 on a
# GPU, and float32 on a CPU without bfloat16 units, where bfloat16 is emulated at about half float32's speed
# (benchmarks/results/precision_xeon_nobf16.csv). PRECISION=mixed_bfloat16 forces one, e.g. to resume a cache whose
# restorers were trained in mixed_bfloat16 on another machine (the dtype is in a restorer's cache key).
PRECISION="${PRECISION:-auto}"
# Step 4's CRU-Net variants trained by a loss on the target's features: each has a Table 3 and a Table 5 script
# (reproduce/crunet_table{3,5}_cifar10_<variant>.py; tables.crunet_loss_variants).
FEATURE_VARIANTS="guided anchored feature_pixel"
mkdir -p logs
LOG=logs/cifar10_paper_scale.log
if [ -d .venv ]; then . .venv/bin/activate; fi
export TF_CPP_MIN_LOG_LEVEL=2
export KERAS_RESTORE_CACHE="${KERAS_RESTORE_CACHE:-${HOME:?is not set: set KERAS_RESTORE_CACHE}/.cache/keras_restore}"
mkdir -p "$KERAS_RESTORE_CACHE"

step() {
    local start rc; start=$(date +%s)
    echo "[$(date -u +%FT%TZ)] start: $*" >> "$LOG"
    if "$@"; then
        echo "[$(date -u +%FT%TZ)] done in $(( $(date +%s) - start )) s: $*" >> "$LOG"
    else
        rc=$?
        echo "[$(date -u +%FT%TZ)] FAILED (exit $rc) after $(( $(date +%s) - start )) s: $*" >> "$LOG"
        return "$rc"
    fi
}

for s in $STEPS; do
    case "$s" in
        1)
            step python reproduce/cifar10_targets.py --retrain --precision recipe --data-dir "$DATA" --ship
            ;;
        2)
            step python reproduce/table5_cifar10.py --retrain --precision "$PRECISION" --data-dir "$DATA"
            step python reproduce/table5_cifar10_balanced.py --retrain --precision "$PRECISION" --data-dir "$DATA"
            # the architecture ablation: the CRU-Net layout on the same pairs, recipe and budget (5 MB: shipped)
            # It trains at Table 5's Adam 1e-3, at which the CRU-Net layout went NaN on M-net's pairs (2026-12-07): a
            # FloatingPointError then is logged as FAILED and the later steps still run.
            step python reproduce/table5_cifar10_crunet_layout.py --retrain --precision "$PRECISION" --data-dir "$DATA" --ship \
                || echo "[$(date -u +%FT%TZ)] the layout ablation failed (above); the driver goes on" >> "$LOG"
            # the three side by side (reads their results: seconds)
            step python reproduce/table5_cifar10_variants.py
            ;;
        3)
            step python reproduce/table7_transfer_cifar10.py --retrain --precision "$PRECISION" --data-dir "$DATA"
            # ships the 40-epoch ResNet-20 that Table 7 trained (cached: seconds) if it beats the shipped one
            step python reproduce/cifar10_targets.py --retrain --models resnet_cifar10 --precision recipe --ship --data-dir "$DATA"
            ;;
        4)
            # M-net's CRU-Net first (MobileNet's pairs: ~30 min here, against hours for DenseNet121's CW-L2 pairs), the
            # one started on 2026-12-07, and its rows as soon as it is trained (--rows: partial runs, same models and
            # cache keys as the whole tables, written to <table>_rows-<row>.csv): Table 5's D-net/M-net row (D-net's
            # examples restored by M-net's CRU-Net: no D-net pairs needed) trains it, Table 3's M-Net row finds it.
            step python reproduce/crunet_table5_cifar10_blackbox.py --retrain --precision "$PRECISION" --data-dir "$DATA" --rows D-net/M-net
            step python reproduce/crunet_table3_cifar10_whitebox.py --retrain --precision "$PRECISION" --data-dir "$DATA" --rows M-Net
            # the attack-balanced variant of M-net's CRU-Net on the same pairs (the issue's ablation: the pooled MSE is
            # the spatial pairs', 2026-12-07), before D-net's pairs, so the ablation comes with the first CRU-Net
            step python reproduce/crunet_table3_cifar10_balanced.py --retrain --precision "$PRECISION" --data-dir "$DATA" --rows M-Net
            # and the feature-loss variants (3 epochs each at --retrain, ~45 min): guided by MobileNet's features (HGD's
            # loss, recipe feature_guided), the same with a pixel anchor (feature_guided_anchored: + 0.1 x pixel MSE) and
            # with the pixel MSE at 1:1 (feature_pixel), each then in the black-box setting (Table 5: D-net's examples
            # through it, evaluation only: minutes)
            for v in $FEATURE_VARIANTS; do
                step python "reproduce/crunet_table3_cifar10_$v.py" --retrain --precision "$PRECISION" --data-dir "$DATA" --rows M-Net
                step python "reproduce/crunet_table5_cifar10_$v.py" --retrain --precision "$PRECISION" --data-dir "$DATA" --rows D-net/M-net
            done
            # both M-net CRU-Nets against the eps of FGSM / BIM (trains nothing: the ablation's curves, minutes)
            step python reproduce/crunet_cifar10_eps_curves.py --retrain --precision "$PRECISION" --data-dir "$DATA" --quiet --rows M-Net
            # then D-net's pairs and CRU-Net, and the whole tables: --ship puts both CRU-Nets into saved_models/
            # (5.3 MB each); Table 3 finds the same two in the cache, unswapped; D-net's balanced CRU-Net last.
            step python reproduce/crunet_table5_cifar10_blackbox.py --retrain --precision "$PRECISION" --data-dir "$DATA" --ship
            step python reproduce/crunet_table3_cifar10_whitebox.py --retrain --precision "$PRECISION" --data-dir "$DATA"
            step python reproduce/crunet_table6_7_similarity.py --retrain --datasets cifar10 --data-dir "$DATA"
            step python reproduce/crunet_table3_cifar10_balanced.py --retrain --precision "$PRECISION" --data-dir "$DATA"
            for v in $FEATURE_VARIANTS; do
                step python "reproduce/crunet_table3_cifar10_$v.py" --retrain --precision "$PRECISION" --data-dir "$DATA"
                step python "reproduce/crunet_table5_cifar10_$v.py" --retrain --precision "$PRECISION" --data-dir "$DATA"
            done
            step python reproduce/crunet_cifar10_eps_curves.py --retrain --precision "$PRECISION" --data-dir "$DATA" --quiet
            ;;
        5)
            # Only the tables that are not current are rerun: `python -m keras_restore.report --stale` says which were
            # made with an earlier version of a shipped model (or record none, so it cannot tell); FORCE=1 reruns all.
            fresh=$(python -m keras_restore.report --stale | awk -F'\t' '$2 == "current" {print $1}') || {
                echo "[$(date -u +%FT%TZ)] report --stale failed (above): step 5 reruns every table" >> "$LOG"; fresh=""; }
            rerun() {   # rerun <result stem> <command...>
                local stem=$1; shift
                if [ -z "${FORCE:-}" ] && grep -qxF "$stem" <<< "$fresh"; then
                    echo "[$(date -u +%FT%TZ)] skipped, $stem is current (made with today's saved_models/; FORCE=1 reruns it): $*" >> "$LOG"
                else
                    step "$@"
                fi
            }
            for t in table5_cifar10 table7_transfer_cifar10 table9_cifar10_baselines crunet_table3_cifar10_whitebox \
                     crunet_table5_cifar10_blackbox bana_table3 gan_denoiser_warmup:gan_denoiser_warmup_cifar10; do
                rerun "${t#*:}" python "reproduce/${t%%:*}.py" --data-dir "$DATA" --quiet
            done
            rerun crunet_table6_7_similarity python reproduce/crunet_table6_7_similarity.py --datasets cifar10 --data-dir "$DATA" --quiet
            rerun zhang_figure3_cifar10 python reproduce/zhang_figure3_depth.py --datasets cifar10 --data-dir "$DATA" --quiet
            for t in gan_denoiser_table1 gan_denoiser_table2 gan_denoiser_tables3_4; do
                rerun "${t}_cifar10" python "reproduce/$t.py" --dataset cifar10 --data-dir "$DATA" --quiet
            done
            rerun adaptive_robustness python reproduce/adaptive_robustness.py --datasets cifar10 --update --data-dir "$DATA" --quiet
            ;;
        *)
            echo "cifar10_paper_scale.sh: error: unknown step '$s' in STEPS (expected 1-5)" >&2
            exit 2
            ;;
    esac
done
echo "[$(date -u +%FT%TZ)] all steps done: $STEPS" >> "$LOG"

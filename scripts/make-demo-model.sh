#!/usr/bin/env bash
# The whole training pipeline on synthetic Sakha speech, end to end, producing the built-in demo model:
#   1. synthetic data: a "base" set and an "adapter" set spoken by disjoint espeak-ng voices, test sets
#      with held-out voices and sentences (scripts/make_synthetic_sakha.py);
#   2. a small wav2vec2 base trained from scratch on the base set (scripts/train_ctc.py --mode scratch);
#   3. a Sakha adapter on the frozen base, trained on the adapter set (--mode adapter);
#   4. conversion to a package and evaluation of base vs base + adapter, f32 vs q8_0 (sakha-asr eval).
# Usage: scripts/make-demo-model.sh WORK_DIR [BASE_MINUTES] [ADAPTER_MINUTES]
# Needs the packages of scripts/requirements-train.txt (PYTHON names the interpreter) and a release
# build of the CLI. The minutes are wall-clock budgets (the learning rate anneals to zero by them); the
# defaults, those of the committed demo model, take about an hour and three quarters on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh --speech
work=${1:?usage: scripts/make-demo-model.sh WORK_DIR [BASE_MINUTES] [ADAPTER_MINUTES]}
base_minutes=${2:-80}
adapter_minutes=${3:-15}
python=${PYTHON:-python3}
cli=target/release/sakha-asr
config='{"hidden_size":256,"num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":1024,
"conv_dim":[64,64,128,128,128,128,128],"conv_kernel":[10,3,3,3,3,2,2],"conv_stride":[5,2,2,2,2,2,2],
"conv_bias":true,"feat_extract_norm":"layer","feat_extract_activation":"gelu","do_stable_layer_norm":true,
"num_conv_pos_embeddings":128,"num_conv_pos_embedding_groups":16,"adapter_attn_dim":16,"hidden_dropout":0.1,
"activation_dropout":0.0,"attention_dropout":0.0,"feat_proj_dropout":0.0,"final_dropout":0.0,"layerdrop":0.0,
"mask_time_prob":0.05,"mask_time_length":5}'

[ -f "$work/synth-base/train.tsv" ] ||
  $python scripts/make_synthetic_sakha.py --out "$work/synth-base" --voices base --train-hours 5 --seed 1 -j 2
[ -f "$work/synth-adapter/train.tsv" ] ||
  $python scripts/make_synthetic_sakha.py --out "$work/synth-adapter" --voices adapter --train-hours 1 --seed 2 -j 2

$python scripts/train_ctc.py --init-config "$config" --mode scratch --data "$work/synth-base" --out "$work/base" \
  --epochs 30 --batch-seconds 60 --eval-every 400 --num-workers 0 --max-minutes "$base_minutes"
$python scripts/train_ctc.py --base "$work/base" --mode adapter --data "$work/synth-adapter" --out "$work/adapter" \
  --epochs 20 --batch-seconds 60 --eval-every 200 --num-workers 0 --max-minutes "$adapter_minutes"
# The adapter folder holds the adapter and its vocabulary; the frozen base weights come from the base run.
cp "$work/base/model.safetensors" "$work/adapter/"

[ -x "$cli" ] || cargo build --release
for quant in f32 q8_0; do
  "$cli" convert --from "$work/base" --lang sah --quant "$quant" --out "$work/package-base-$quant"
  "$cli" convert --from "$work/adapter" --lang sah --quant "$quant" --out "$work/package-adapter-$quant"
done
for model in base-f32 adapter-f32 adapter-q8_0; do
  echo "== $model on held-out voices and sentences"
  "$cli" eval --model "$work/package-$model" --tsv "$work/synth-adapter/test.tsv" --clips "$work/synth-adapter/clips" \
    --per-utterance "$work/eval-$model.json" || true
done
# Where the built-in package's errors come from: voices, speaking rates, noise.
$python scripts/errors_by_condition.py "$work/eval-adapter-q8_0.json" "$work/synth-adapter/test.tsv"

#!/usr/bin/env bash
# Gives the built-in demo package (crate/models/default) its Sakha word LM and records the scores of
# greedy decoding and of decoding with the LM on the committed subset of its held-out test set
# (crate/tests/demo-eval), which crate/tests/demo_model.rs re-checks on every test run.
# Usage: scripts/install-demo-lm.sh [MAX_WORDS MAX_BIGRAMS]
# The default size is the one measured to keep most of the LM's gain at a small download (BENCHMARKS.md,
# scripts/measure-lm.sh). PYTHON (default python3) downloads the sakhaspell counts once (scripts/sakhaspell_data.py).
set -euo pipefail
cd "$(dirname "$0")/.."
max_words=${1:-50000}
max_bigrams=${2:-200000}
python=${PYTHON:-python3}
models=crate/models/default
subset=crate/tests/demo-eval
cli=target/release/sakha-asr

cargo build --release -p sakha-asr
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" scripts/build_lm.py --out "$work/sah.lm" --max-words "$max_words" --max-bigrams "$max_bigrams" 2>"$work/stats.json"
"$cli" add-lm --model "$models" "$work/sah.lm"
{
  echo "# scripts/install-demo-lm.sh $max_words $max_bigrams"
  for decoding in greedy lm; do
    flags=()
    [ "$decoding" = greedy ] && flags=(--greedy)
    "$cli" eval --model "$models" --tsv "$subset/test.tsv" --clips "$subset/clips" "${flags[@]}" | sed "s/^/$decoding /"
  done
  sha=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base"]["sha256"])' "$models/model.json")
  echo "model base.gguf sha256: $sha"
} | tee "$subset/scores.txt"

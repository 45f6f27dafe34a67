#!/usr/bin/env bash
# How chunk length, context and cutting at pauses change long-audio recognition: joins the first 40
# utterances of a test set, at most 60 s of them, into one file and compares chunked runs with one
# unchunked pass (frame argmax agreement) and with the joined references (CER), next to the CER of the
# same utterances recognised one by one. 60 s is the longest window the library computes
# (Chunking::MAX_CHUNK_SECONDS), so the unchunked pass is one window of it.
# Usage: scripts/measure-chunking.sh MODEL_DIR TEST_DIR   (TEST_DIR: Common Voice-style, test.tsv + clips/)
#        scripts/measure-chunking.sh --smoke   (a quick check: the built-in model, 2 utterances of
#                                               crate/tests/demo-eval, one configuration)
# Environment: PYTHON (default: a venv with numpy, made where missing; scripts/bench-common.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/measure-chunking.sh MODEL_DIR TEST_DIR | --smoke"
configs=("5 0 0" "5 1 0" "10 0 0" "10 1 0" "10 2 0" "20 2 0" "30 3 0" "10 2 0.2" "10 2 0.26" "10 2 0.32" "20 2 0.26")
utterances=40
if [ "${1:-}" = --smoke ]; then
  set -- crate/models/default crate/tests/demo-eval
  configs=("10 2 0.26")
  utterances=2
fi
model=${1:?$usage}
test_dir=${2:?$usage}
source scripts/bench-common.sh
scripts/install-tools.sh --speech
bench_python numpy
bench_build
cli=$SAKHA_ASR_CLI
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" - "$test_dir" "$work" "$utterances" <<'PY'
import csv, subprocess, sys
test_dir, work, utterances = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(f"{test_dir}/test.tsv", newline="", encoding="utf-8") as f:
    rows, seconds = [], 0.0
    for row in list(csv.DictReader(f, delimiter="\t"))[:utterances]:
        seconds += float(subprocess.run(["soxi", "-D", f"{test_dir}/clips/{row['path']}"], check=True, capture_output=True, text=True).stdout)
        if seconds > 60:
            break
        rows.append(row)
subprocess.run(["sox", *[f"{test_dir}/clips/{r['path']}" for r in rows], f"{work}/long.wav"], check=True)
open(f"{work}/reference.txt", "w", encoding="utf-8").write(" ".join(r["sentence"] for r in rows))
open(f"{work}/clips.txt", "w", encoding="utf-8").write("\n".join(f"{test_dir}/clips/{r['path']}" for r in rows))
PY
# The same sentences one file each, for what joining them costs (the CLI prints "file<TAB>text" lines).
xargs -d '\n' "$cli" transcribe --model "$model" < "$work/clips.txt" | cut -f2- > "$work/separately.txt"
echo "$(soxi -D "$work/long.wav") s of audio"
"$cli" transcribe --model "$model" --chunk-seconds 60 --context-seconds 0 --min-pause-seconds 0 --max-piece-seconds 0 --dump-logits "$work/whole.npy" \
  "$work/long.wav" > "$work/whole.txt"
# chunk seconds, context seconds, shortest pause cut at (0: none); no maximum piece length, so that the
# chunk lengths are what is compared
for config in "${configs[@]}"; do
  read -r chunk context pause <<<"$config"
  "$cli" transcribe --model "$model" --chunk-seconds "$chunk" --context-seconds "$context" --min-pause-seconds "$pause" --max-piece-seconds 0 \
    --dump-logits "$work/chunked.npy" "$work/long.wav" > "$work/chunked.txt"
  "$python" - "$work" "$chunk" "$context" "$pause" <<'PY'
import sys
import numpy as np
work, chunk, context, pause = sys.argv[1:]
def cer(hypothesis_file):
    reference = " ".join(open(f"{work}/reference.txt", encoding="utf-8").read().split())
    hypothesis = " ".join(open(hypothesis_file, encoding="utf-8").read().split())
    row = list(range(len(hypothesis) + 1))
    for i, r in enumerate(reference):
        diagonal, row[0] = row[0], i + 1
        for j, h in enumerate(hypothesis):
            diagonal, row[j + 1] = row[j + 1], min(diagonal + (r != h), row[j] + 1, row[j + 1] + 1)
    return 100 * row[-1] / len(reference)
agree = 100 * np.mean(np.load(f"{work}/chunked.npy").argmax(-1) == np.load(f"{work}/whole.npy").argmax(-1))
print(f"chunk {chunk} s, context {context} s, pauses {pause} s: argmax agreement {agree:.2f} %, "
      f"CER {cer(f'{work}/chunked.txt'):.2f} % (one pass: {cer(f'{work}/whole.txt'):.2f} %, "
      f"each sentence on its own: {cer(f'{work}/separately.txt'):.2f} %)")
PY
done

#!/usr/bin/env bash
# Makes a trained demo package the built-in model, with its word LM (scripts/install-demo-lm.sh), and
# records its scores on a small committed subset of its held-out test set, which
# crate/tests/demo_model.rs re-checks on every test run.
# Usage: scripts/install-demo-model.sh PACKAGE_DIR TEST_DIR [UTTERANCES]
#   PACKAGE_DIR: a package from `sakha-asr convert` with the language sah (e.g. WORK/package-adapter-q8_0)
#   TEST_DIR: a Common Voice-style folder whose test.tsv was held out from training (WORK/synth-adapter)
set -euo pipefail
cd "$(dirname "$0")/.."
package=${1:?usage: scripts/install-demo-model.sh PACKAGE_DIR TEST_DIR [UTTERANCES]}
test_dir=${2:?usage: scripts/install-demo-model.sh PACKAGE_DIR TEST_DIR [UTTERANCES]}
count=${3:-24}
models=crate/models/default
subset=crate/tests/demo-eval

rm -rf "$models" "$subset"
mkdir -p "$models" "$subset/clips"
cp "$package"/model.json "$package"/base.gguf "$package"/sah.gguf "$models/"

# Every k-th utterance, so the subset spans the test set's voices; FLAC keeps it small.
total=$(($(wc -l < "$test_dir/test.tsv") - 1))
step=$(( total / count > 0 ? total / count : 1 ))
python3 - "$test_dir/test.tsv" "$subset/test.tsv" "$step" "$count" <<'PY'
import csv, sys
source, target, step, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(source, newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f, delimiter="\t"))[::step][:count]
with open(target, "w", encoding="utf-8") as f:
    f.write("path\tsentence\n")
    for row in rows:
        f.write(f"{row['path'].rsplit('.', 1)[0]}.flac\t{row['sentence']}\n")
PY
tail -n +2 "$subset/test.tsv" | cut -f1 | while read -r clip; do
  sox "$test_dir/clips/${clip%.flac}.wav" "$subset/clips/$clip"
done

# The word LM, and the scores with and without it.
scripts/install-demo-lm.sh

#!/usr/bin/env bash
# Decoding with the word LM against the acoustic model, natively and in headless Chromium, and the LM's
# memory in the tab; writes its section of BENCHMARKS.md (scripts/bench-decoding.mjs).
#   scripts/bench-decoding.sh [--repeats N] [--lm FILE] [--out BENCHMARKS.md] [MMS_PACKAGE_DIR]
# MMS_PACKAGE_DIR: an MMS-300m-shaped package; default: the q8_0 one scripts/bench-browser.sh makes.
# The LM, given to both models: the built-in package's (crate/models/default/sah.lm) unless --lm names one.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=5
lm=crate/models/default/sah.lm
out=BENCHMARKS.md
while [ $# -gt 0 ]; do
  case $1 in
    --repeats) repeats=$2; shift 2 ;;
    --lm) lm=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
  esac
done
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sakha-asr/bench-browser
mms=${1:-$cache/package-q8_0}
[ -f "$lm" ] || { echo "no word LM at $lm" >&2; exit 1; }
[ -f "$mms/model.json" ] || { echo "no package at $mms: run scripts/bench-browser.sh once (it makes one), or name one" >&2; exit 1; }
[ -f "$cache/audio-10s.wav" ] || { echo "no $cache/audio-10s.wav: run scripts/bench-browser.sh once (it makes it)" >&2; exit 1; }
scripts/install-tools.sh
cargo build --release
scripts/build-wasm.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cli=target/release/sakha-asr
cp -r crate/models/default "$work/demo"
mkdir "$work/mms"
# The MMS package's big files by link; model.json is copied, since add-lm rewrites it.
for file in "$mms"/*; do ln -s "$(realpath "$file")" "$work/mms/$(basename "$file")"; done
rm "$work/mms/model.json" && cp "$mms/model.json" "$work/mms/"
"$cli" add-lm --model "$work/mms" "$lm" >/dev/null
"$cli" add-lm --model "$work/demo" "$lm" >/dev/null
# 10 s of held-out speech for the demo model: its committed test clips, joined.
mapfile -t clips < <(ls crate/tests/demo-eval/clips/*.flac | head -8)
sox "${clips[@]}" -r 16000 -c 1 "$work/demo-10s.wav" trim 0 10
cp "$cache/audio-10s.wav" "$work/mms-10s.wav"
for model in demo mms; do
  sox "$work/$model-10s.wav" -t raw -e floating-point -b 32 -r 16000 -c 1 "$work/$model-10s.f32"
done
echo '<!doctype html><title>bench-decoding</title>' >"$work/blank.html"
node scripts/bench-decoding.mjs "$work" --repeats "$repeats" --out "$out"

#!/usr/bin/env bash
# Decoding with the word LM against the acoustic model, natively and in headless Chromium, and the LM's
# memory in the tab; writes its section of BENCHMARKS.md (scripts/bench-decoding.mjs).
#   scripts/bench-decoding.sh [--repeats N] [--lm FILE] [--out BENCHMARKS.md] [--smoke] [MMS_PACKAGE_DIR]
# MMS_PACKAGE_DIR: an MMS-300m-shaped package; default: the q8_0 one scripts/bench-browser.sh makes.
# The LM, given to both models: the built-in package's (crate/models/default/sah.lm) unless --lm names one.
# --smoke: the demo model alone, one repeat, as a quick check that needs nothing from bench-browser.sh;
# it writes only to an --out given to it.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=
lm=crate/models/default/sah.lm
out=
smoke=
while [ $# -gt 0 ]; do
  case $1 in
    --repeats) repeats=$2; shift 2 ;;
    --lm) lm=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    *) break ;;
  esac
done
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sakha-asr/bench-browser
mms=${1:-$cache/package-q8_0}
[ -f "$lm" ] || { echo "no word LM at $lm" >&2; exit 1; }
if [ -n "$smoke" ]; then
  repeats=${repeats:-1}
  out=${out:-/dev/null}
else
  repeats=${repeats:-5}
  out=${out:-BENCHMARKS.md}
  [ -f "$mms/model.json" ] || { echo "no package at $mms: run scripts/bench-browser.sh once (it makes one), or name one" >&2; exit 1; }
  [ -f "$cache/audio-10s.wav" ] || { echo "no $cache/audio-10s.wav: run scripts/bench-browser.sh once (it makes it)" >&2; exit 1; }
fi
source scripts/bench-common.sh
bench_apt /usr/bin/chromium chromium
# sox; build-wasm.sh installs the rest.
scripts/install-tools.sh --speech
bench_build --wasm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cli=$SAKHA_ASR_CLI
cp -r crate/models/default "$work/demo"
"$cli" add-lm --model "$work/demo" "$lm" >/dev/null
# 10 s of held-out speech for the demo model: its committed test clips, joined.
mapfile -t clips < <(ls crate/tests/demo-eval/clips/*.flac | head -8)
sox "${clips[@]}" -r 16000 -c 1 "$work/demo-10s.wav" trim 0 10
if [ -z "$smoke" ]; then
  mkdir "$work/mms"
  # The MMS package's big files by link; model.json is copied, since add-lm rewrites it.
  for file in "$mms"/*; do ln -s "$(realpath "$file")" "$work/mms/$(basename "$file")"; done
  rm "$work/mms/model.json" && cp "$mms/model.json" "$work/mms/"
  "$cli" add-lm --model "$work/mms" "$lm" >/dev/null
  cp "$cache/audio-10s.wav" "$work/mms-10s.wav"
fi
for wav in "$work"/*-10s.wav; do
  sox "$wav" -t raw -e floating-point -b 32 -r 16000 -c 1 "${wav%.wav}.f32"
done
echo '<!doctype html><title>bench-decoding</title>' >"$work/blank.html"
node scripts/bench-decoding.mjs "$work" --repeats "$repeats" --out "$out" ${smoke:+--smoke}

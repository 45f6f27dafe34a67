#!/usr/bin/env bash
# Live dictation through the npm API (load, then transcriber.startLive) in headless Chromium, whose fake
# microphone plays a file: how far the partial text lags behind the speech, and how long stop() takes to
# give the final text, on 1 thread (plain page) and 2 (cross-origin isolated page); writes its section
# of BENCHMARKS.md (scripts/bench-live.mjs).
#   scripts/bench-live.sh [--seconds N] [--smoke] [--out FILE]
# The model: bench-browser.sh's MMS-300m-shaped q8_0 package (random weights, the real model's size and
# cost), made by scripts/bench_browser_model.py into CACHE_DIR (default ~/.cache/sakha-asr/bench-browser).
# --smoke: the built-in demo package and 10 s of audio, for a quick check that needs no torch; it writes
# only to an --out given to it.
# The audio, N seconds (default 60) of each: the demo-eval clips (held-out synthetic speech) joined,
# with their pauses; and the same speech with every pause cut out, so that the pause cutter never cuts
# and each piece grows to the longest allowed (the CLI checks that, scripts/bench-live.mjs). Chromium
# plays the file over and over: each ends in 3 s of silence, and recording stops at N seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=
smoke=
out=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: scripts/bench-live.sh [--seconds N] [--smoke] [--out FILE]" >&2; exit 2 ;;
  esac
done
if [ -n "$smoke" ]; then
  seconds=${seconds:-10}
  # build-wasm.sh puts the built-in package there, beside the page's files.
  model=www/models/default
else
  seconds=${seconds:-60}
  out=${out:-BENCHMARKS.md}
  model=${CACHE_DIR:-$HOME/.cache/sakha-asr/bench-browser}/package-q8_0
  if [ ! -f "$model/model.json" ]; then
    cat >&2 <<EOF
bench-live.sh: no MMS-300m-shaped package in $model. Make it once with scripts/bench-browser.sh (which
makes it among its other files), or with a venv as README.md says (scripts/requirements-bench-browser.txt):
  cargo build --release -p sakha-asr
  ~/.cache/sakha-asr/venv-bench/bin/python scripts/bench_browser_model.py ${CACHE_DIR:-~/.cache/sakha-asr/bench-browser}
or run scripts/bench-live.sh --smoke (the built-in demo package).
EOF
    exit 1
  fi
fi

source scripts/bench-common.sh
bench_apt /usr/bin/chromium chromium
# sox; build-wasm.sh installs the rest (install-tools.sh --wasm: wasm tools, playwright-core).
scripts/install-tools.sh --speech
# The native CLI checks the audio's cuts.
bench_build --wasm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t clips < <(ls crate/tests/demo-eval/clips/*.flac)
sox "${clips[@]}" -r 16000 -c 1 "$work/clips.wav"
# Silence of 0.2 s and more (below 1 % of full scale) removed, then the loudness compressed (levels from
# -60 dBFS up squeezed into 10 dB): Chromium's processing of a microphone (noise suppression and gain
# control, on by default) deepens quiet stretches, and made pauses of some that the file alone does not
# have. What is left has no stretch 8 dB below the speech on both sides as long as a pause (0.26 s;
# the cutter's pauses are 15 dB below); the table shows the cuts the page's stream made.
sox "$work/clips.wav" "$work/clips-no-pauses.wav" silence 1 0.05 1% -1 0.2 1% compand 0.005,0.1 -70,-70,-60,-20,0,-10 -3
for kind in pauses no-pauses; do
  source=$work/clips.wav
  [ "$kind" = no-pauses ] && source=$work/clips-no-pauses.wav
  # Enough copies for N seconds, then trimmed; 16-bit PCM, which Chromium's fake microphone reads.
  copies=$(awk -v n="$seconds" -v d="$(soxi -D "$source")" 'BEGIN { c = int(n / d); print (c * d < n) ? c : c - 1 }')
  sox "$source" -b 16 -e signed-integer "$work/$kind.wav" repeat "$copies" trim 0 "$seconds" pad 0 3
done
node scripts/bench-live.mjs "$work" --model "$model" --seconds "$seconds" ${smoke:+--smoke} ${out:+--out "$out"}

#!/usr/bin/env bash
# Live recognition on the streaming API against the old live mode (the whole recording transcribed
# again on every update), natively and in headless Chromium; writes its section of BENCHMARKS.md
# (scripts/bench-streaming.mjs).
#   scripts/bench-streaming.sh [--seconds N] [--out BENCHMARKS.md]
# The audio: a minute of the demo-eval clips (held-out synthetic speech) joined, then that minute over
# and over to N seconds (300), so that each minute of the recording holds the same speech.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=300
out=BENCHMARKS.md
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: scripts/bench-streaming.sh [--seconds N] [--out FILE]" >&2; exit 2 ;;
  esac
done
scripts/install-tools.sh --speech
cargo build --release
scripts/build-wasm.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t clips < <(ls crate/tests/demo-eval/clips/*.flac)
sox "${clips[@]}" -r 16000 -c 1 "$work/speech-60s.wav" trim 0 60
minutes=()
for _ in $(seq $(( (seconds + 59) / 60 ))); do minutes+=("$work/speech-60s.wav"); done
sox "${minutes[@]}" "$work/speech.wav" trim 0 "$seconds"
sox "$work/speech.wav" -t raw -e floating-point -b 32 -r 16000 -c 1 "$work/speech.f32"
echo '<!doctype html><title>bench-streaming</title>' >"$work/blank.html"
node scripts/bench-streaming.mjs "$work" --out "$out"

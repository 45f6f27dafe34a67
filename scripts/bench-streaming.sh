#!/usr/bin/env bash
# Live recognition on the streaming API against the old live mode (the whole recording transcribed
# again on every update), natively and in headless Chromium; writes its section of BENCHMARKS.md
# (scripts/bench-streaming.mjs).
#   scripts/bench-streaming.sh [--seconds N] [--out BENCHMARKS.md] [--smoke]
# The audio: a minute of the demo-eval clips (held-out synthetic speech) joined, then that minute over
# and over to N seconds (300, whole minutes), so that each minute of the recording holds the same speech.
# --smoke: 20 s of audio (one part minute), as a quick check; it writes only to an --out given to it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=
out=
smoke=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    *) echo "usage: scripts/bench-streaming.sh [--seconds N] [--out FILE] [--smoke]" >&2; exit 2 ;;
  esac
done
if [ -n "$smoke" ]; then
  seconds=${seconds:-20}
  out=${out:-/dev/null}
else
  seconds=${seconds:-300}
  out=${out:-BENCHMARKS.md}
fi
source scripts/bench-common.sh
bench_apt /usr/bin/chromium chromium
# sox; build-wasm.sh installs the rest.
scripts/install-tools.sh --speech
bench_build --wasm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t clips < <(ls crate/tests/demo-eval/clips/*.flac)
sox "${clips[@]}" -r 16000 -c 1 "$work/minute.wav" trim 0 60
minutes=()
for _ in $(seq $(( (seconds + 59) / 60 ))); do minutes+=("$work/minute.wav"); done
sox "${minutes[@]}" "$work/speech.wav" trim 0 "$seconds"
# The recording's first minute (all of it, if shorter), for the old live mode's first update.
sox "$work/speech.wav" "$work/speech-60s.wav" trim 0 "$(( seconds < 60 ? seconds : 60 ))"
sox "$work/speech.wav" -t raw -e floating-point -b 32 -r 16000 -c 1 "$work/speech.f32"
echo '<!doctype html><title>bench-streaming</title>' >"$work/blank.html"
node scripts/bench-streaming.mjs "$work" --out "$out" ${smoke:+--smoke}

#!/usr/bin/env bash
# Long MP3s transcribed in the app page in headless Chromium, read and decoded piece by piece: renderer
# peak memory, time, and text against the CLI's; writes its section of BENCHMARKS.md
# (scripts/bench-long-files.mjs).
#   scripts/bench-long-files.sh [--minutes "10 60 120"] [--out BENCHMARKS.md] [--smoke]
# --smoke: one file of a minute, as a quick check; it writes only to an --out given to it.
# The audio: a minute of the demo-eval clips (held-out synthetic speech) joined, at 44.1 kHz stereo,
# band-limited to 3 kHz as the web tests' audio is (scripts/test-web.sh: the browser's resampler and
# the CLI's then give the same 16 kHz signal, so the text compares the pipelines, not the filters),
# encoded once by lame without an info frame (-t) so that copies of it joined end to end are one valid
# MP3 stream of any length; the 2-hour file is 115 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=
out=
smoke=
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    *) echo "usage: scripts/bench-long-files.sh [--minutes \"10 60 120\"] [--out FILE] [--smoke]" >&2; exit 2 ;;
  esac
done
if [ -n "$smoke" ]; then
  minutes=${minutes:-1}
  out=${out:-/dev/null}
else
  minutes=${minutes:-10 60 120}
  out=${out:-BENCHMARKS.md}
fi
source scripts/bench-common.sh
bench_apt /usr/bin/chromium chromium
bench_apt lame lame
# sox; build-wasm.sh installs the rest.
scripts/install-tools.sh --speech
bench_build --wasm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t clips < <(ls crate/tests/demo-eval/clips/*.flac)
sox "${clips[@]}" -r 44100 -c 2 -b 16 "$work/minute.wav" trim 0 60 sinc -3000
lame --quiet -t -b 128 "$work/minute.wav" "$work/minute.mp3"
for n in $minutes; do
  for _ in $(seq "$n"); do cat "$work/minute.mp3"; done >"$work/long-${n}min.mp3"
done
# shellcheck disable=SC2086 # one argument per length
node scripts/bench-long-files.mjs "$work" $minutes --out "$out" ${smoke:+--smoke}

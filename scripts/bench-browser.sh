#!/usr/bin/env bash
# Our recognizer against onnxruntime-web on the same MMS-300m-shaped model, in the same headless
# Chromium, each in a module worker; writes the browser section of BENCHMARKS.md (bench.py's sections
# are left alone). Steps:
#   1. builds the native CLI and the wasm package (scripts/build-wasm.sh, with the wasm name section
#      kept so the CPU profile names Rust functions), so the run measures the current code;
#   2. scripts/bench_browser_model.py makes, once, into CACHE_DIR: bench.py's random MMS-300m model,
#      our q8_0 and q4_k packages of it, its ONNX export and onnxruntime's int8 quantization of that,
#      and bench.py's 10 s and 30 s audio; plus the native CLI's texts and logit errors to check against;
#   3. scripts/bench-browser.mjs runs both stacks (1 thread on a plain page, 2 on a cross-origin isolated
#      one; warm-up, then fresh pages), window lengths 10/15/20 s, and a CPU profile of ours, and writes
#      the table; then the file paths (a WAV Blob through the npm API, the app page's file input) next to
#      the engine path, in a section of their own.
#
# Usage: scripts/bench-browser.sh [--repeats N] [--only engine|files] [--out FILE] [--smoke]
# --smoke: ours alone, as a quick check that needs no Python: the built-in demo package, the demo-eval
#   clips (held-out synthetic speech) as the 10 s and 30 s audio, one repeat, in a temporary CACHE_DIR
#   (scripts/bench-browser.mjs says what else it leaves out); it writes only to an --out given to it.
# Environment: PYTHON (default ~/.cache/sakha-asr/venv-bench/bin/python, a venv made here with
#   scripts/requirements-bench-browser.txt's pins where missing), CACHE_DIR (default
#   ~/.cache/sakha-asr/bench-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=
out=
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1; args+=("$1"); shift ;;
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

source scripts/bench-common.sh
# The browser it drives, as scripts/test-web.sh installs it.
bench_apt /usr/bin/chromium chromium
if [ -n "$smoke" ]; then
  out=${out:-/dev/null}
  # sox makes the audio.
  scripts/install-tools.sh --speech
  bench_build --wasm
  cache=$(mktemp -d)
  trap 'rm -rf "$cache"' EXIT
  cp -r crate/models/default "$cache/package-demo"
  mapfile -t clips < <(ls crate/tests/demo-eval/clips/*.flac)
  for seconds in 10 30; do
    sox "${clips[@]}" -r 16000 -c 1 -b 16 "$cache/audio-${seconds}s.wav" trim 0 "$seconds"
    sox "$cache/audio-${seconds}s.wav" -t raw -e floating-point -b 32 "$cache/audio-${seconds}s.f32"
  done
else
  out=${out:-BENCHMARKS.md}
  bench_python torch transformers onnx onnxruntime numpy soundfile
  cache=${CACHE_DIR:-$HOME/.cache/sakha-asr/bench-browser}
  SAKHA_ASR_WASM_NAMES=1 bench_build --wasm
  mkdir -p "$cache"
  "$python" scripts/bench_browser_model.py "$cache"
fi
node scripts/bench-browser.mjs "$cache" --out "$out" "${args[@]}"

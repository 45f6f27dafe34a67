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
# Usage: scripts/bench-browser.sh [--repeats N] [--only engine|files]
# Environment: PYTHON (default ~/.cache/sakha-asr/venv-bench/bin/python: a venv with
#   scripts/requirements-bench-browser.txt), CACHE_DIR (default ~/.cache/sakha-asr/bench-browser).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$HOME/.cache/sakha-asr/venv-bench/bin/python}
cache=${CACHE_DIR:-$HOME/.cache/sakha-asr/bench-browser}
"$python" -c "import torch, transformers, onnx, onnxruntime" 2>/dev/null || {
  echo "bench-browser.sh: $python lacks torch/transformers/onnx/onnxruntime; make the venv as README.md says (scripts/requirements-bench-browser.txt) or set PYTHON" >&2
  exit 1
}

# The browser it drives, as scripts/test-web.sh installs it.
if [ ! -x /usr/bin/chromium ]; then
  command -v apt-get >/dev/null || { echo "bench-browser.sh: install chromium and re-run" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
cargo build --release -p sakha-asr
SAKHA_ASR_WASM_NAMES=1 scripts/build-wasm.sh
mkdir -p "$cache"
"$python" scripts/bench_browser_model.py "$cache"
node scripts/bench-browser.mjs "$cache" "$@"

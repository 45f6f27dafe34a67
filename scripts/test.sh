#!/usr/bin/env bash
# Every test: the set-up and the wasm build with no tool installed by hand (which installs the tools
# from a clean clone), the Rust suite (model parity with transformers, decoding, audio, CLI, packages)
# and clippy, the fuzz targets' committed inputs replayed (and every parser fuzzed for 15 s where the
# instrumented build is already in ~/.cache: scripts/fuzz.sh), the normalisation twins,
# the word LM builder against its fixture,
# then the browser build in headless Chromium (scripts/test-web.sh), whose wasm32 release build also
# keeps native-only code out of the library; then clippy on the wasm builds (scripts/clippy-wasm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step is timed; the times are listed at the end, failed or not, so that what a run waits for
# shows.
timings=()
step() {
  local started=$SECONDS
  "$@"
  timings+=("$(printf '%5d s  %s' $((SECONDS - started)) "$*")")
}
list_timings() {
  local status=$?
  echo "test.sh: $([ "$status" -eq 0 ] && echo "every step passed" || echo "failed (exit $status)") in $SECONDS s; the steps that ended:"
  printf '%s\n' "${timings[@]}"
}
trap list_timings EXIT

# The LM builder still writes, byte for byte, the fixture the Rust reader is tested against
# (crate/tests/fixtures/lm/README.md has the command).
check_lm_builder() {
  local work
  work=$(mktemp -d)
  python3 scripts/build_lm.py --counts crate/tests/fixtures/lm/counts --discount 1.0 --lower-order kn-estimated \
    --out "$work/tiny.lm" --score crate/tests/fixtures/lm/sentences.txt >"$work/scores.tsv" 2>"$work/stats.json"
  cmp "$work/tiny.lm" crate/tests/fixtures/lm/tiny.lm
  cmp "$work/scores.tsv" crate/tests/fixtures/lm/scores.tsv
}

step scripts/check-setup-without-optional-tools.sh
step cargo test --workspace
# Lints are part of the contract: e.g. every unsafe block states why it is sound.
step cargo clippy -p sakha-asr --all-targets -- -D warnings
# Every fuzz target over its committed seeds and regressions, built as ordinary binaries; the
# instrumented fuzzing too where its build is already in the cache (scripts/fuzz.sh).
step scripts/fuzz.sh --replay
if [ -d "${SAKHA_ASR_FUZZ_TARGET:-${XDG_CACHE_HOME:-$HOME/.cache}/sakha-asr/fuzz-target}" ]; then step scripts/fuzz.sh 15; fi
# The Python twin of the text normalisation must agree with the same cases as the Rust one.
step python3 scripts/sakha_text.py --check scripts/normalization_cases.tsv
step check_lm_builder
# The int8 kernel's own tests in each wasm build, where that build runs (Node; Chromium).
step scripts/test-wasm-kernels.sh
step scripts/test-web.sh
# Clippy as each wasm build compiles the library (after test-web.sh built them).
step scripts/clippy-wasm.sh


#!/usr/bin/env bash
# Every test: the set-up and the wasm build with no tool installed by hand (which installs the tools
# from a clean clone), the Rust suite (model parity with transformers, decoding, audio, CLI, packages)
# and clippy, every parser of untrusted input fuzzed for 15 s (scripts/fuzz.sh; the instrumented build
# is kept in ~/.cache, so only the first run on a machine compiles it all), the normalisation twins,
# the word LM builder against its fixture,
# then the browser build in headless Chromium (scripts/test-web.sh), whose wasm32 release build also
# keeps native-only code out of the library; then clippy on the wasm builds (scripts/clippy-wasm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-setup-without-optional-tools.sh
cargo test --workspace
# Lints are part of the contract: e.g. every unsafe block states why it is sound.
cargo clippy -p sakha-asr --all-targets -- -D warnings
scripts/fuzz.sh 15
# The Python twin of the text normalisation must agree with the same cases as the Rust one.
python3 scripts/sakha_text.py --check scripts/normalization_cases.tsv
# The LM builder still writes, byte for byte, the fixture the Rust reader is tested against
# (crate/tests/fixtures/lm/README.md has the command).
lm_check=$(mktemp -d)
python3 scripts/build_lm.py --counts crate/tests/fixtures/lm/counts --discount 1.0 --lower-order kn-estimated \
  --out "$lm_check/tiny.lm" --score crate/tests/fixtures/lm/sentences.txt >"$lm_check/scores.tsv" 2>"$lm_check/stats.json"
cmp "$lm_check/tiny.lm" crate/tests/fixtures/lm/tiny.lm
cmp "$lm_check/scores.tsv" crate/tests/fixtures/lm/scores.tsv
# The int8 kernel's own tests in each wasm build, where that build runs (Node; Chromium).
scripts/test-wasm-kernels.sh
scripts/test-web.sh
# Clippy as each one-thread wasm build compiles the library (after test-web.sh built them).
scripts/clippy-wasm.sh

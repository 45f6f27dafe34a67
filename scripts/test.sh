#!/usr/bin/env bash
# Every test: the Rust suite (model parity with transformers, decoding, audio, CLI, packages), the
# normalisation twins, then the browser build in headless Chromium (scripts/test-web.sh), whose wasm32
# release build also keeps native-only code out of the library.
set -euo pipefail
cd "$(dirname "$0")/.."
# First the set-up and the wasm build on a PATH without hand-installed tools (it installs the rest).
scripts/check-setup-without-optional-tools.sh
cargo test --workspace
# The Python twin of the text normalisation must agree with the same cases as the Rust one.
python3 scripts/sakha_text.py --check scripts/normalization_cases.tsv
scripts/test-web.sh

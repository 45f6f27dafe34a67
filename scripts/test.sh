#!/usr/bin/env bash
# Every test: the Rust suite (model parity with transformers, decoding, audio, CLI), then a wasm32
# build of the library so nothing native-only creeps into it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
cargo test --workspace
# The Python twin of the text normalisation must agree with the same cases as the Rust one.
python3 scripts/sakha_text.py --check scripts/normalization_cases.tsv
cargo build -p sakha-asr --lib --no-default-features --target wasm32-unknown-unknown
echo "wasm32 library build: ok"

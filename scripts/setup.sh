#!/usr/bin/env bash
# One command from a fresh Debian machine: install the tools, build the CLI, and transcribe the
# bundled sample with the model built into the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
cargo build --release -p sakha-asr
echo "== sakha-asr transcribe --format json www/samples/sakha-sample.wav"
target/release/sakha-asr transcribe --format json www/samples/sakha-sample.wav

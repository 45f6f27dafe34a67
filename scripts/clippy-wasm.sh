#!/usr/bin/env bash
# Clippy on the library as each wasm build compiles it (the wasm int8 kernels and the wasm
# bindings are compiled for wasm32 only), with -D warnings as for the host: every unsafe block there
# must say why it is sound too. Release profile and the builds' own target folders, so that after
# scripts/build-wasm.sh only this crate is checked again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh --wasm
target_dir=${CARGO_TARGET_DIR:-target}
source scripts/tools.sh
source scripts/wasm-builds.sh
clippy=(clippy --release --target "$target" --no-default-features -p sakha-asr --lib)
cargo "${clippy[@]}" -- -D warnings
cargo "${clippy[@]}" --target-dir "$target_dir/wasm-relaxed" --config "$relaxed_flags" -- -D warnings
# The threaded build's nightly clippy, as build-wasm.sh builds it (atomics need the standard library rebuilt).
cargo "+$wasm_threads_toolchain" "${clippy[@]}" --target-dir "$target_dir/wasm-threads" --features threads \
  -Z build-std=std,panic_abort --config "$threads_flags" -- -D warnings

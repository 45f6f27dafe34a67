#!/usr/bin/env bash
# The int8 kernel's tests compiled to wasm and run where each build runs (wasm-bindgen's test runner):
#   SIMD128 build        in Node
#   relaxed-SIMD build   in headless Chromium over chromedriver, the engine and flags the page uses
#                        (Node 20's relaxed SIMD is a pre-standard draft behind a flag)
# What they need and where they build: scripts/wasm-kernel-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/wasm-kernel-tests.sh

echo "int8 kernel, SIMD128 build, in Node"
cargo "${wasm_tests[@]}" "${simd128_tests[@]}" kernels::int8

echo "int8 kernel, relaxed-SIMD build, in Chromium"
in_chromium cargo "${wasm_tests[@]}" "${relaxed_tests[@]}" kernels::int8

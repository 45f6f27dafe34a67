# Sourced by the scripts that run the library's tests compiled to wasm (test-wasm-kernels.sh,
# bench-wasm-kernels.sh): the tools they need, wasm-bindgen's test runner, and each build's cargo
# arguments. Each build has a target folder of its own, apart from scripts/build-wasm.sh's, since
# tests enable dev-dependency features the library build does not have: sharing one would rebuild
# candle at every switch. Installs chromium and chromium-driver (apt) when missing.
scripts/install-tools.sh --wasm
if ! command -v chromedriver >/dev/null || ! [ -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi
source scripts/tools.sh
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$wasm_bindgen_root/bin/wasm-bindgen-test-runner
target_dir=${CARGO_TARGET_DIR:-target}
wasm_tests=(test --release --target wasm32-unknown-unknown --no-default-features -p sakha-asr --lib)
simd128_tests=(--target-dir "$target_dir/wasm-kernel-tests")
relaxed_tests=(--target-dir "$target_dir/wasm-kernel-tests-relaxed" --config 'target.wasm32-unknown-unknown.rustflags = ["-C", "target-feature=+relaxed-simd"]')

# Runs a command whose wasm tests then run in headless Chromium over chromedriver, the engine and
# flags the page uses (Node 20's relaxed SIMD is a pre-standard draft behind a flag).
in_chromium() {
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON=$PWD/scripts/webdriver-chromium.json "$@"
}

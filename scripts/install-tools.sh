#!/usr/bin/env bash
# Installs what building needs, idempotently: quick when everything is already there.
#   scripts/install-tools.sh          the native build: a C toolchain and pkg-config (apt); checks Rust
#                                     and adds clippy (rustup) when missing
#   scripts/install-tools.sh --wasm   also the browser build: the wasm32 target (rustup), Rust
#                                     nightly with its wasm32 target and rust-src (rustup; for the
#                                     threaded build), the wasm-bindgen CLI at the version in
#                                     Cargo.lock (where scripts/tools.sh says), and the npm
#                                     packages of package-lock.json (binaryen's wasm-opt,
#                                     playwright-core, puppeteer-core; no browsers) into node_modules/
#   scripts/install-tools.sh --speech also what the synthetic-speech scripts run (make-sample.sh,
#                                     make-demo-model.sh, measure-chunking.sh): espeak-ng and sox (apt)
# The build runs these tools by path, never whatever else is on PATH. A missing tool that cannot be
# installed here (Rust, Node.js) stops the script with a message saying what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

fail() {
  echo "install-tools.sh: $*" >&2
  exit 1
}
# `command -v` is the probe: a missing tool is a false condition, never an abort under `set -e`.
has() { command -v "$1" >/dev/null 2>&1; }

need_apt=()
has cc || need_apt+=(build-essential)
has pkg-config || need_apt+=(pkg-config)
if [ "$mode" = --speech ]; then
  has espeak-ng || need_apt+=(espeak-ng)
  has sox && has soxi || need_apt+=(sox libsox-fmt-all)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  has apt-get || fail "${need_apt[*]} missing: install them with the system's package manager and re-run"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
has cargo || fail "cargo is missing: install Rust >= 1.89 with rustup (https://rustup.rs) and re-run"
# clippy holds the rule that every unsafe block says why it is sound (crate/Cargo.toml [lints]).
if ! cargo clippy --version >/dev/null 2>&1; then
  has rustup || fail "cargo clippy is missing: install it with your Rust (rustup component add clippy)"
  rustup component add clippy
fi

[ "$mode" = --wasm ] || exit 0

has rustup || fail "rustup is missing: the wasm32 target is installed with it (https://rustup.rs)"
installed_targets=$(rustup target list --installed)
grep -qx wasm32-unknown-unknown <<<"$installed_targets" || rustup target add wasm32-unknown-unknown

source scripts/tools.sh
# The threaded build's nightly: the toolchain, its wasm32 standard library, the library's source,
# which -Z build-std compiles with atomics, and clippy, which lints that build (clippy-wasm.sh).
if ! rustup run "$wasm_threads_toolchain" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$wasm_threads_toolchain" --profile minimal --target wasm32-unknown-unknown --component rust-src,clippy
fi
rustup +"$wasm_threads_toolchain" target list --installed | grep -qx wasm32-unknown-unknown ||
  rustup +"$wasm_threads_toolchain" target add wasm32-unknown-unknown
nightly_components=$(rustup +"$wasm_threads_toolchain" component list --installed)
for component in rust-src clippy; do
  grep -q "^$component" <<<"$nightly_components" || rustup +"$wasm_threads_toolchain" component add "$component"
done

# The wasm-bindgen CLI, in a folder of its own (scripts/tools.sh): any other wasm-bindgen on PATH
# stays out of the build, and ours out of the user's ~/.cargo/bin.
[ -n "$wasm_bindgen_version" ] || fail "Cargo.lock has no wasm-bindgen entry"
if [ "$("$wasm_bindgen" --version 2>/dev/null || true)" != "wasm-bindgen $wasm_bindgen_version" ]; then
  # --locked can fail when a crate in the CLI's own lock file was yanked since; then take its
  # newest compatible dependencies (the CLI's version, which must match, is exact either way).
  cargo install --root "$wasm_bindgen_root" wasm-bindgen-cli --version "=$wasm_bindgen_version" --locked ||
    cargo install --root "$wasm_bindgen_root" wasm-bindgen-cli --version "=$wasm_bindgen_version"
fi

has node && has npm || fail "Node.js >= 20 with npm is needed: install it (https://nodejs.org) and re-run"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  fail "Node.js >= 20 is needed (this is $(node --version)): binaryen and playwright-core require it"
# npm ci always reinstalls from scratch (100+ MB); the copy of the lock file it was run for says
# whether node_modules/ is already what package-lock.json asks for.
if ! cmp -s package-lock.json node_modules/.installed-package-lock.json; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-package-lock.json
fi

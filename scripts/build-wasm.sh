#!/usr/bin/env bash
# Builds the browser package and the web app's generated files:
#   pkg/      the npm package: the library compiled to wasm32 (+simd128, from .cargo/config.toml) and
#             bound by wasm-bindgen (ES module, TypeScript types, package.json)
#   www/pkg/, www/models/default/, www/build-version.js   what the page and its service worker load
# Installs the wasm32 target and the wasm-bindgen CLI (the exact version of the wasm-bindgen crate in
# Cargo.lock) when missing. wasm-opt shrinks the module when a recent enough binaryen is installed,
# and is skipped otherwise, or with WASM_OPT=0.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

bindgen_version=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)
if [ -z "$bindgen_version" ]; then
  echo "Cargo.lock has no wasm-bindgen entry" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
  # --locked can fail when a crate in the CLI's own lock file was yanked since; then take its
  # newest compatible dependencies (the CLI's version, which must match, is exact either way).
  cargo install wasm-bindgen-cli --version "=$bindgen_version" --locked ||
    cargo install wasm-bindgen-cli --version "=$bindgen_version"
fi

cargo build --release --target wasm32-unknown-unknown --no-default-features -p sakha-asr --lib

rm -rf pkg
wasm-bindgen --target web --out-dir pkg "$target_dir/wasm32-unknown-unknown/release/sakha_asr.wasm"

# Older wasm-opt (Debian 12 ships binaryen 108) rewrites wasm-bindgen's externref table so that the
# module fails at start-up; version 117 and later keep it intact.
wasm_opt_version=$(wasm-opt --version 2>/dev/null | sed -n 's/^wasm-opt version \([0-9]*\).*/\1/p')
if [ "${WASM_OPT:-1}" = 0 ]; then
  echo "wasm-opt: skipped (WASM_OPT=0)"
elif [ "${wasm_opt_version:-0}" -ge 117 ]; then
  wasm-opt -O3 pkg/sakha_asr_bg.wasm -o pkg/sakha_asr_bg.opt.wasm
  mv pkg/sakha_asr_bg.opt.wasm pkg/sakha_asr_bg.wasm
else
  echo "wasm-opt: skipped (needs binaryen >= 117, found ${wasm_opt_version:-none}); the module is about 10% larger"
fi

crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' crate/Cargo.toml | head -1)
cat > pkg/package.json <<EOF
{
  "name": "sakha-asr",
  "version": "$crate_version",
  "description": "Speech recognition for Sakha (Yakut) with MMS / wav2vec2, in the browser (WebAssembly)",
  "license": "MIT",
  "type": "module",
  "main": "sakha_asr.js",
  "module": "sakha_asr.js",
  "types": "sakha_asr.d.ts",
  "files": ["sakha_asr.js", "sakha_asr.d.ts", "sakha_asr_bg.wasm", "sakha_asr_bg.wasm.d.ts"],
  "sideEffects": false,
  "keywords": ["speech-recognition", "asr", "sakha", "yakut", "wav2vec2", "mms", "webassembly"]
}
EOF

rm -rf www/pkg www/models/default
mkdir -p www/pkg www/models
cp pkg/sakha_asr.js pkg/sakha_asr_bg.wasm www/pkg/
cp -r crate/models/default www/models/default

# The service worker's cache is named after this, so a changed app replaces the cached one.
app_files=$(cd www && find . -path ./tests -prune -o -path ./samples -prune -o -type f ! -name build-version.js -print | LC_ALL=C sort)
build=$(cd www && cat $app_files | sha256sum | cut -c1-16)
echo "self.SAKHA_ASR_BUILD = \"$build\";" > www/build-version.js

echo "pkg/ (npm package) and www/ ready: build $build, $(stat -c %s pkg/sakha_asr_bg.wasm) bytes of wasm"

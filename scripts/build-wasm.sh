#!/usr/bin/env bash
# Builds the browser package and the web app's generated files:
#   pkg/      the npm package: the library compiled to wasm32 (+simd128, from .cargo/config.toml),
#             bound by wasm-bindgen (ES module, TypeScript types, package.json) and optimised by
#             wasm-opt -O3 (with SAKHA_ASR_WASM_NAMES=1 also -g: the name section stays, so browser
#             CPU profiles name Rust functions; scripts/bench-browser.sh builds so)
#   www/pkg/, www/models/default/, www/build-version.js   what the page and its service worker load
# Installs its tools first (scripts/install-tools.sh --wasm) and runs them by path: wasm-bindgen at
# the version in Cargo.lock, wasm-opt from the binaryen version pinned in package-lock.json (Debian
# 12's binaryen 108 breaks wasm-bindgen's externref table), so every build is optimised the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-tools.sh --wasm
target_dir=${CARGO_TARGET_DIR:-target}
source scripts/tools.sh
wasm_opt=node_modules/.bin/wasm-opt
for tool in "$wasm_bindgen" "$wasm_opt"; do
  [ -x "$tool" ] || { echo "build-wasm.sh: $tool is missing, though scripts/install-tools.sh --wasm installs it" >&2; exit 1; }
done

cargo build --release --target wasm32-unknown-unknown --no-default-features -p sakha-asr --lib
module=$target_dir/wasm32-unknown-unknown/release/sakha_asr.wasm

# wasm-opt takes a while on the ~5 MB module: when neither the module nor the tools changed since
# pkg/ was made, pkg/ is already their output.
wasm_opt_flags=(-O3 ${SAKHA_ASR_WASM_NAMES:+-g})
inputs=$({ sha256sum <"$module"; "$wasm_bindgen" --version; "$wasm_opt" --version; echo "${wasm_opt_flags[*]}"; } | sha256sum)
if [ "$(cat pkg/.inputs 2>/dev/null || true)" = "$inputs" ]; then
  echo "pkg/ is up to date with $module"
else
  rm -rf pkg
  "$wasm_bindgen" --target web --out-dir pkg "$module"
  "$wasm_opt" "${wasm_opt_flags[@]}" pkg/sakha_asr_bg.wasm -o pkg/sakha_asr_bg.opt.wasm
  mv pkg/sakha_asr_bg.opt.wasm pkg/sakha_asr_bg.wasm
  echo "$inputs" >pkg/.inputs
fi

crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' crate/Cargo.toml | head -1)
cat > pkg/package.json <<JSON
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
JSON

rm -rf www/pkg www/models/default
mkdir -p www/pkg www/models
cp pkg/sakha_asr.js pkg/sakha_asr_bg.wasm www/pkg/
cp -r crate/models/default www/models/default

# The build id: the page asks for the worker and the wasm under it, and the service worker keeps
# each build's files in a cache named after it (www/sw.js), so an open page keeps its own build.
app_files=$(cd www && find . -path ./tests -prune -o -path ./samples -prune -o -type f ! -name build-version.js -print | LC_ALL=C sort)
build=$(cd www && cat $app_files | sha256sum | cut -c1-16)
echo "globalThis.SAKHA_ASR_BUILD = \"$build\";" > www/build-version.js

echo "pkg/ (npm package) and www/ ready: build $build, $(stat -c %s pkg/sakha_asr_bg.wasm) bytes of wasm"

#!/usr/bin/env bash
# Builds the browser package and the web app's generated files:
#   pkg/      the npm package: the library compiled to wasm32 three times, each build bound by
#             wasm-bindgen (ES module, TypeScript types) into a folder of its own and optimised by
#             wasm-opt -O3 (with SAKHA_ASR_WASM_NAMES=1 also -g: the name section stays, so browser
#             CPU profiles name Rust functions; scripts/bench-browser.sh builds so); the page's
#             worker picks one at run time (js/wasm-build.js); the package's JavaScript (js/) is copied beside them:
#               pkg/          +simd128, one thread (.cargo/config.toml): every browser with wasm SIMD,
#                             and Node 20, which does not validate relaxed SIMD; the default
#               pkg/relaxed/  also +relaxed-simd, one thread (stable Rust)
#               pkg/threads/  also +relaxed-simd and atomics over shared memory (nightly, the standard
#                             library rebuilt with -Z build-std): rayon's threads as Web Workers
#                             (wasm-bindgen-rayon, cargo feature `threads`), for cross-origin
#                             isolated pages
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

source scripts/wasm-builds.sh

cargo "${cargo_build[@]}"
cargo "${cargo_build[@]}" --target-dir "$target_dir/wasm-relaxed" --config "$relaxed_flags"
cargo "+$wasm_threads_toolchain" "${cargo_build[@]}" --target-dir "$target_dir/wasm-threads" --features threads \
  -Z build-std=std,panic_abort --config "$threads_flags"

# bind MODULE OUT_DIR: wasm-bindgen and wasm-opt, unless OUT_DIR already holds their output for this
# module, these tools and flags (wasm-opt takes minutes per module). OUT_DIR's own files are
# replaced; the other builds' folders inside pkg/ stay.
wasm_opt_flags=(-O3 ${SAKHA_ASR_WASM_NAMES:+-g})
bind() {
  local module=$1 out=$2 inputs
  inputs=$({ sha256sum <"$module"; "$wasm_bindgen" --version; "$wasm_opt" --version; echo "${wasm_opt_flags[*]}"; } | sha256sum)
  if [ "$(cat "$out/.inputs" 2>/dev/null || true)" = "$inputs" ]; then
    echo "$out/ is up to date with $module"
    return
  fi
  # A folder of its own, so that builds running at the same time do not write into each other's.
  local next
  next=$(mktemp -d "$target_dir/wasm-bindgen-out.XXXXXX")
  "$wasm_bindgen" --target web --out-dir "$next" "$module"
  # wasm-opt reads the features to allow (SIMD, relaxed SIMD, threads) from the module itself.
  "$wasm_opt" "${wasm_opt_flags[@]}" "$next/sakha_asr_bg.wasm" -o "$next/sakha_asr_bg.opt.wasm"
  mv "$next/sakha_asr_bg.opt.wasm" "$next/sakha_asr_bg.wasm"
  echo "$inputs" >"$next/.inputs"
  mkdir -p "$out"
  find "$out" -mindepth 1 -maxdepth 1 ! -name relaxed ! -name threads -exec rm -rf {} +
  (shopt -s dotglob && mv "$next"/* "$out"/)
  rmdir "$next"
}
bind "$target_dir/$target/release/$module" pkg
bind "$target_dir/wasm-relaxed/$target/release/$module" pkg/relaxed
bind "$target_dir/wasm-threads/$target/release/$module" pkg/threads

# The package's JavaScript (client, worker, loader, audio, element) and its types beside the wasm builds.
cp js/*.js js/*.d.ts js/README.md pkg/

crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' crate/Cargo.toml | head -1)
cat > pkg/package.json <<JSON
{
  "name": "sakha-asr",
  "version": "$crate_version",
  "description": "Speech recognition for Sakha (Yakut) with MMS / wav2vec2, in the browser (WebAssembly)",
  "license": "MIT",
  "type": "module",
  "main": "index.js",
  "module": "index.js",
  "types": "index.d.ts",
  "exports": {
    ".": { "types": "./index.d.ts", "default": "./index.js" },
    "./element": { "types": "./element.d.ts", "default": "./element.js" },
    "./recognizer": { "types": "./sakha_asr.d.ts", "default": "./sakha_asr.js" },
    "./recognizer/relaxed": { "types": "./relaxed/sakha_asr.d.ts", "default": "./relaxed/sakha_asr.js" },
    "./recognizer/threads": { "types": "./threads/sakha_asr.d.ts", "default": "./threads/sakha_asr.js" },
    "./package.json": "./package.json"
  },
  "files": ["*.js", "*.d.ts", "sakha_asr_bg.wasm", "relaxed/sakha_asr*", "threads/sakha_asr*", "threads/snippets/"],
  "sideEffects": ["./element.js"],
  "keywords": ["speech-recognition", "asr", "sakha", "yakut", "wav2vec2", "mms", "webassembly"]
}
JSON

rm -rf www/pkg www/models/default
mkdir -p www/models
for build in . relaxed threads; do
  mkdir -p "www/pkg/$build"
  cp "pkg/$build/sakha_asr.js" "pkg/$build/sakha_asr_bg.wasm" "www/pkg/$build/"
done
cp js/*.js www/pkg/
# wasm-bindgen-rayon's script that starts each thread's worker.
cp -r pkg/threads/snippets www/pkg/threads/
cp -r crate/models/default www/models/default

# The build id: the page asks for the worker and the worklet under it, and the service worker keeps
# each build's files in a cache named after it (www/sw.js), so an open page keeps its own build.
app_files=$(cd www && find . -path ./tests -prune -o -path ./samples -prune -o -type f ! -name build-version.js -print | LC_ALL=C sort)
build=$(cd www && cat $app_files | sha256sum | cut -c1-16)
# The service worker keeps every file of the package (www/sw.js): its modules and every wasm build
# (which one a page runs is decided in its worker; the snippet's folder name carries a hash).
package_files=$(cd www && find pkg -type f | LC_ALL=C sort | sed 's/.*/"&"/' | paste -sd, -)
cat >www/build-version.js <<JS
globalThis.SAKHA_ASR_BUILD = "$build";
globalThis.SAKHA_ASR_PACKAGE_FILES = [$package_files];
JS

echo "pkg/ (npm package) and www/ ready: build $build; wasm bytes: simd128 $(stat -c %s pkg/sakha_asr_bg.wasm)," \
  "relaxed $(stat -c %s pkg/relaxed/sakha_asr_bg.wasm), threads $(stat -c %s pkg/threads/sakha_asr_bg.wasm)"

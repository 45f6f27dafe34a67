# Sourced by the scripts that install or run pinned build tools: where each one lives. Outside the
# checkout, so a fresh clone (CI) finds them again instead of compiling them anew, and one folder per
# version, so a pin that changes never meets the old binary. SAKHA_ASR_TOOLS moves them elsewhere.
tools_home=${SAKHA_ASR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/sakha-asr/tools}

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wasm_bindgen_version=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)
wasm_bindgen_root=$tools_home/wasm-bindgen-$wasm_bindgen_version
wasm_bindgen=$wasm_bindgen_root/bin/wasm-bindgen

# The threaded wasm build (scripts/build-wasm.sh) rebuilds the standard library with atomics, which
# only nightly can (-Z build-std); it needs nightly's wasm32 target and rust-src.
wasm_threads_toolchain=nightly

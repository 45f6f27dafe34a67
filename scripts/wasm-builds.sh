# Sourced by the scripts that build or lint the three wasm builds (build-wasm.sh, clippy-wasm.sh):
# the cargo arguments and flags of each.
# Each build's flags are appended to .cargo/config.toml's (+simd128, getrandom's backend), and each
# build other than the default has a target folder of its own, so that switching between them does
# not rebuild everything.
target=wasm32-unknown-unknown
cargo_build=(build --release --target "$target" --no-default-features -p sakha-asr --lib)
module=sakha_asr.wasm
relaxed_flags='target.wasm32-unknown-unknown.rustflags = ["-C", "target-feature=+relaxed-simd"]'
# Threads: atomics, a shared memory that the page's JS creates (imported), and the thread-local
# storage symbols wasm-bindgen's glue needs to start each worker's thread. Shared memory has a fixed
# maximum: all 4 GiB of wasm32 (address space only; pages are committed as the heap grows), as a
# 300M-parameter model needs over 1 GiB.
threads_flags='target.wasm32-unknown-unknown.rustflags = ["-C", "target-feature=+relaxed-simd,+atomics,+bulk-memory,+mutable-globals"'
for arg in --shared-memory --import-memory --max-memory=4294967296 --export=__wasm_init_tls --export=__tls_size \
  --export=__tls_align --export=__tls_base; do
  threads_flags+=", \"-C\", \"link-arg=$arg\""
done
threads_flags+="]"

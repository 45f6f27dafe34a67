#!/usr/bin/env bash
# Fuzzes every parser of untrusted input for a bounded time with cargo-fuzz (libFuzzer):
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 15 s each, all targets in fuzz/
#   scripts/fuzz.sh --replay                             every target once over its committed seeds
#                                                        and regressions, built without instrumentation
#                                                        by stable cargo: an ordinary test, no nightly
# Each target feeds its bytes to one reader (package GGUF files, safetensors, model.json, vocab.json,
# config.json, audio) and ignores errors, or (stream) checks streams against offline recognition over
# fuzzed configs, audio and push sizes; a panic, abort, overflow, sanitizer report, timeout or an
# allocation over the limits below is a crash: its input is saved under fuzz/artifacts/TARGET/ and the
# script exits non-zero after running the rest. The corpus grows in fuzz/corpus/TARGET/ (not
# committed) from the committed seeds in fuzz/seeds/TARGET/.
# Installs what it uses when missing: Rust nightly (rustup) and cargo-fuzz (where scripts/tools.sh says).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --replay ]; then
  # The same targets as plain binaries (libFuzzer's driver runs the inputs it is given once each), in
  # a target folder of their own: the fuzz crate resolves the library's dependencies apart (its own
  # lock file and features), and sharing the workspace's folder let one build's library replace the
  # other's under the same file name.
  target_dir=${CARGO_TARGET_DIR:-target}/fuzz-replay
  cargo build --manifest-path fuzz/Cargo.toml --bins --target-dir "$target_dir"
  shopt -s nullglob
  for source in fuzz/fuzz_targets/*.rs; do
    target=$(basename "$source" .rs)
    inputs=(fuzz/seeds/"$target"/* fuzz/regressions/"$target"/*)
    [ ${#inputs[@]} -gt 0 ] || { echo "fuzz.sh: $target has no committed seeds" >&2; exit 1; }
    "$target_dir/debug/$target" -runs=1 "${inputs[@]}" >/dev/null 2>"$target_dir/fuzz-replay-$target.log" ||
      { echo "fuzz.sh: $target crashed on a committed input:" >&2; tail -30 "$target_dir/fuzz-replay-$target.log" >&2; exit 1; }
    echo "fuzz.sh: $target: ${#inputs[@]} committed inputs replayed"
  done
  exit 0
fi

seconds=${1:-15}
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }

cargo_fuzz_version=0.13.2
source scripts/tools.sh
command -v rustup >/dev/null 2>&1 || { echo "fuzz.sh: rustup is needed to install Rust nightly" >&2; exit 1; }
rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
# The pinned cargo-fuzz, in the tools folder outside the checkout (scripts/tools.sh) like the others.
cargo_fuzz_root=$tools_home/cargo-fuzz-$cargo_fuzz_version
if [ "$("$cargo_fuzz_root/bin/cargo-fuzz" --version 2>/dev/null || true)" != "cargo-fuzz $cargo_fuzz_version" ]; then
  cargo install --root "$cargo_fuzz_root" cargo-fuzz --version "=$cargo_fuzz_version" --locked
fi
# cargo-fuzz runs `cargo`, which rustup's proxy then takes from nightly (libFuzzer needs -Zsanitizer).
export RUSTUP_TOOLCHAIN=nightly
# The instrumented build also lives outside the checkout: built cold it is long (candle and
# symphonia with sanitizer coverage), so only a change to the library rebuilds part of it.
fuzz_target_dir=${SAKHA_ASR_FUZZ_TARGET:-${XDG_CACHE_HOME:-$HOME/.cache}/sakha-asr/fuzz-target}
cargo_fuzz() {
  local command=$1
  shift
  "$cargo_fuzz_root/bin/cargo-fuzz" fuzz "$command" --target-dir "$fuzz_target_dir" "$@"
}


targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <("$cargo_fuzz_root/bin/cargo-fuzz" fuzz list)

start=$(date +%s)
# cargo-fuzz's defaults: release optimisation with overflow checks and debug assertions, and
# AddressSanitizer, which checks the unsafe code in candle, symphonia and our kernels.
cargo_fuzz build
echo "fuzz.sh: built ${#targets[@]} targets in $(($(date +%s) - start)) s"

failed=()
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  log="fuzz/artifacts/$target/last-run.log"
  started=$(date +%s)
  status=0
  # libFuzzer: the first folder collects new inputs, the seeds are read only; -timeout flags one input
  # taking over 60 s as a hang.
  cargo_fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf 'fuzz.sh: %-14s %8s executions in %4d s' "$target" "${executions:-?}" $(($(date +%s) - started))
  if [ "$status" -eq 0 ]; then
    echo
  else
    echo "  CRASHED (exit $status), log: $log"
    grep -E '^(==[0-9]+==|thread|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -20 || true
    failed+=("$target")
  fi
done
echo "fuzz.sh: $((($(date +%s) - start))) s in all"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi

#!/usr/bin/env bash
# The int8 kernel's time in each wasm build for MMS-300m's product shapes (the ignored test
# bench_mms_300m_shapes in kernels/int8/mod.rs: 500 rows, one thread, median of 9), and the SIMD128
# build's time over the relaxed build's, which Firefox and Safari users (SIMD128 only) pay against
# Chromium's. Both builds run in headless Chromium, the SIMD128 build also in Node; the rounds take
# turns between them, so that a noisy machine slows all alike, and each shape's median over the rounds
# is reported. The relaxed build multiplies with relaxed SIMD's dot product only where the engine
# computes it exactly (printed: "relaxed dot product exact"; Chromium on x86 with AVX-VNNI), and
# elsewhere widens as the SIMD128 build does, so on other CPUs the ratio is not the one that goal is
# about.
#   scripts/bench-wasm-kernels.sh [--rounds N]   (default 5)
# Builds the kernel tests as scripts/test-wasm-kernels.sh does (same target folders).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N]" >&2; exit 2 ;;
  esac
done

source scripts/wasm-kernel-tests.sh >/dev/null
run_args=(-- --include-ignored --nocapture --exact wav2vec2::kernels::int8::tests::bench_mms_300m_shapes)

echo "building both builds' kernel tests" >&2
cargo "${wasm_tests[@]}" --no-run "${simd128_tests[@]}" 2>/dev/null
cargo "${wasm_tests[@]}" --no-run "${relaxed_tests[@]}" 2>/dev/null

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  # each run's lines "bench TYPE SHAPE MS ms", tagged with the build and engine
  in_chromium cargo "${wasm_tests[@]}" "${simd128_tests[@]}" "${run_args[@]}" 2>/dev/null | sed -n 's/^ *bench /simd128-chromium /p' >>"$results"
  in_chromium cargo "${wasm_tests[@]}" "${relaxed_tests[@]}" "${run_args[@]}" 2>/dev/null | tee >(grep -m1 'relaxed dot product exact' >&2) | sed -n 's/^ *bench /relaxed-chromium /p' >>"$results"
  cargo "${wasm_tests[@]}" "${simd128_tests[@]}" "${run_args[@]}" 2>/dev/null | sed -n 's/^ *bench /simd128-node /p' >>"$results"
done

python3 - "$results" <<'EOF'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    run, dtype, shape, ms, _ = line.split()
    times.setdefault((dtype, shape), {}).setdefault(run, []).append(float(ms))
print(f"{'type':6} {'rows x depth x columns':24} {'SIMD128 Chromium':>17} {'relaxed Chromium':>17} {'ratio':>6} {'SIMD128 Node':>13}")
for (dtype, shape), runs in times.items():
    median = {run: statistics.median(values) for run, values in runs.items()}
    simd, relaxed, node = (median.get(run, float("nan")) for run in ("simd128-chromium", "relaxed-chromium", "simd128-node"))
    print(f"{dtype:6} {shape:24} {simd:14.1f} ms {relaxed:14.1f} ms {simd / relaxed:5.2f}x {node:10.1f} ms")
print(f"medians of {len(next(iter(runs.values())))} rounds")
EOF

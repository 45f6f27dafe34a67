#!/usr/bin/env bash
# The native benchmark, scripts/bench.py (ours against transformers, whose docstring says what it
# measures), with what it runs: the release CLI, and a Python with what it imports (scripts/
# bench-common.sh's bench_python: $PYTHON, else the venv ~/.cache/sakha-asr/venv-bench, made where
# missing). Writes BENCHMARKS.md's head (the sections after it are left alone).
#   scripts/bench-native.sh [--quick] [--smoke] [--out FILE] [bench.py's other options]
# --smoke: ours alone, with numpy and soundfile but no torch; it writes only to an --out given to it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
# GNU time measures each run's peak memory.
bench_apt /usr/bin/time time
bench_build
if [[ " $* " == *" --smoke "* ]]; then
  bench_python numpy soundfile
else
  bench_python torch transformers numpy soundfile
fi
exec "$python" scripts/bench.py "$@"

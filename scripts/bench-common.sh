# Sourced by the benchmark scripts (scripts/bench-*.sh, measure-*.sh): installing what they run and
# building what they measure, the same way in each.

# bench_apt COMMAND PACKAGE...: installs the Debian PACKAGEs (apt, as scripts/test-web.sh does) when
# COMMAND (a name, or a path such as /usr/bin/chromium, which the browser scripts launch) is missing.
bench_apt() {
  command -v "$1" >/dev/null || apt_install "${@:2}"
}

apt_install() {
  command -v apt-get >/dev/null || { echo "$(basename "$0"): install $* and re-run" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# bench_build [--wasm]: the native CLI, and with --wasm the wasm package (pkg/, www/), built from the
# current source; exports SAKHA_ASR_CLI, the CLI the .mjs and .py halves run. SAKHA_ASR_PREBUILT=1
# takes them as they are, with the CLI SAKHA_ASR_CLI names: the web tests' smoke runs
# (www/tests/bench-smoke.test.mjs), after scripts/test-web.sh built both, would otherwise rebuild
# every wasm build each time another file of crate/src changed.
bench_build() {
  if [ -n "${SAKHA_ASR_PREBUILT:-}" ]; then
    [ -x "${SAKHA_ASR_CLI:-}" ] || { echo "$(basename "$0"): SAKHA_ASR_PREBUILT needs SAKHA_ASR_CLI, a built CLI" >&2; exit 1; }
  else
    cargo build --release -p sakha-asr
    SAKHA_ASR_CLI=${CARGO_TARGET_DIR:-target}/release/sakha-asr
    if [ "${1:-}" = --wasm ]; then scripts/build-wasm.sh; fi
  fi
  SAKHA_ASR_CLI=$(realpath "$SAKHA_ASR_CLI")
  export SAKHA_ASR_CLI
}

# bench_python MODULE...: sets `python` to a Python that imports each MODULE: $PYTHON where set, else
# the venv ~/.cache/sakha-asr/venv-bench, made and given the missing ones here at the versions that
# scripts/requirements-*.txt pin (each of these modules is a package of the same name).
bench_python() {
  python=${PYTHON:-$HOME/.cache/sakha-asr/venv-bench/bin/python}
  local imports
  imports=$(IFS=,; echo "$*")
  "$python" -c "import $imports" 2>/dev/null && return
  [ -z "${PYTHON:-}" ] || { echo "$(basename "$0"): $PYTHON cannot import $*: give it them, or unset PYTHON" >&2; exit 1; }
  if [ ! -x "$python" ]; then
    # Debian's python3 makes venvs only with python3-venv (ensurepip).
    python3 -c "import ensurepip" 2>/dev/null || apt_install python3-venv
    python3 -m venv "$(dirname "$(dirname "$python")")"
  fi
  local pins=() module pin
  for module in "$@"; do
    pin=$(grep -h "^$module==" scripts/requirements-*.txt | head -n 1 || true)
    pins+=("${pin:-$module}")
  done
  "$python" -m pip install -q "${pins[@]}"
}

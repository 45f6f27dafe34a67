#!/usr/bin/env bash
# Proves that the set-up and the wasm build need nothing installed by hand: runs
# scripts/install-tools.sh and scripts/build-wasm.sh on a PATH of only the system directories and
# the Rust and Node.js the README asks for, in front of which stand-ins for the tools a machine may
# or may not have (binaryen's wasm-opt and friends, a wasm-bindgen CLI) exit 127 as a missing
# command does. Probing such a tool must not abort a script, and the build must succeed with the
# tools the project's scripts install and run by path. Run first by scripts/test.sh: from a clean
# clone this is where everything is installed, and the web tests' build after it is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo node; do
  command -v "$tool" >/dev/null || { echo "check: $tool is missing (see README, Set-up)" >&2; exit 1; }
done

shims=$(mktemp -d)
trap 'rm -rf "$shims"' EXIT
for tool in wasm-opt wasm-bindgen wasm-as wasm-dis wasm2js wasm-metadce wasm-ctor-eval wasm-merge wasm-reduce wasm-shell; do
  printf '#!/bin/sh\necho "%s: command not found (stand-in from %s)" >&2\nexit 127\n' "$tool" "$0" >"$shims/$tool"
  chmod +x "$shims/$tool"
done

PATH="$shims:$(dirname "$(command -v cargo)"):$(dirname "$(command -v node)"):/usr/sbin:/usr/bin:/sbin:/bin"
export PATH
echo "== set-up and wasm build with PATH=$PATH"
scripts/install-tools.sh
scripts/build-wasm.sh
echo "== the set-up and the wasm build need no tool installed by hand"

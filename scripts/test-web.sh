#!/usr/bin/env bash
# Tests of the browser build: the wasm package's JS API in Node, then the web app (www/) end to end in
# Debian's headless Chromium, driven by playwright-core from Node's test runner, and its core in
# Debian's headless firefox-esr, driven by puppeteer-core over WebDriver BiDi, and in WebKitGTK's
# MiniBrowser (Safari's engine) over W3C WebDriver in a virtual display. Builds the wasm
# package, makes test audio and model packages, serves the pages on 127.0.0.1 and checks transcripts
# against the native CLI. Runs every www/tests/*.test.mjs: the JS API first, the pages last.
# Screenshots go to out/screenshots/.
# Installs what is missing: chromium, firefox-esr, pulseaudio (Firefox's Web Audio runs only with a
# sound server; the tests start their own), webkit2gtk-driver (WebKitWebDriver and MiniBrowser), xvfb
# (xvfb-run), sox (with MP3/Ogg), lame (apt), and the sakhaspell word counts (pip); the build installs the
# rest (scripts/install-tools.sh --wasm: playwright-core and puppeteer-core with npm ci). No browser
# is ever downloaded by the npm packages. www/tests/npm-package.test.mjs installs the example project's
# own pinned Vite and TypeScript (npm ci in examples/vite/) and the packed pkg/ there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/firefox-esr ] || need_apt+=(firefox-esr)
command -v pulseaudio >/dev/null || need_apt+=(pulseaudio)
[ -x /usr/bin/WebKitWebDriver ] && [ -x /usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser ] || need_apt+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null || need_apt+=(xvfb)
# A missing sox is an empty list here, not an abort (pipefail would fail the whole pipeline).
sox_formats=$(sox -h 2>/dev/null | grep 'AUDIO FILE FORMATS' || true)
[[ $sox_formats == *" mp3 "* && $sox_formats == *" ogg "* ]] || need_apt+=(sox libsox-fmt-all)
command -v lame >/dev/null || need_apt+=(lame)
if [ ${#need_apt[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { echo "test-web.sh: install ${need_apt[*]} and re-run" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# The Sakha words the interface's Sakha texts are checked against (www/tests/interface-languages.test.mjs):
# the sakhaspell counts, downloaded once into ~/.cache, so that the test itself needs no network.
python3 scripts/sakhaspell_data.py >/dev/null

scripts/build-wasm.sh
# The native CLI gives the reference transcripts and packs the two-language test model.
cargo build -p sakha-asr --bin sakha-asr
cli=${CARGO_TARGET_DIR:-target}/debug/sakha-asr

work=out/web-test
rm -rf "$work"
mkdir -p "$work/audio" "$work/models"

# Test audio from the bundled sample, band-limited to 3 kHz: then the page's resampler
# (js/stream-resampler.js) and the CLI's (different filters, identical in their pass band) give the
# same 16 kHz signal, and even a random-weight model, whose text flips at the slightest difference,
# must give the same text.
# The right channel of the stereo file is the sample reversed, so a wrong downmix shows.
base="$work/audio/base.wav"
sox -D www/samples/sakha-sample.wav -b 16 "$base" sinc -3000
sox -D "$base" -r 8000 "$work/audio/sample_8k.wav"
sox -D "$base" -r 48000 "$work/audio/sample_48k.wav"
sox -D "$base" -r 44100 "$work/audio/left.wav"
sox -D "$base" -r 44100 "$work/audio/right.wav" reverse vol 0.5
sox -D -M "$work/audio/left.wav" "$work/audio/right.wav" "$work/audio/sample_44k1_stereo.wav"
rm "$base" "$work/audio/left.wav" "$work/audio/right.wav"
for name in sample_8k:32:8 sample_48k:128:48 sample_44k1_stereo:128:44.1; do
  IFS=: read -r stem kbps khz <<<"$name"
  # lame (not sox) so the MP3 has a LAME header: both decoders then trim the encoder delay.
  lame --quiet -b "$kbps" --resample "$khz" "$work/audio/$stem.wav" "$work/audio/$stem.mp3"
  sox -D "$work/audio/$stem.wav" -C 3 "$work/audio/$stem.ogg"
done

# Packages with two languages (sah, kaz) in f32 and q8_0; copies of the default package claiming a
# format version from the future, and a 20 GB base (more than wasm32's 4 GiB memory).
for quant in f32 q8_0; do
  "$cli" convert --from crate/tests/fixtures/mms_separate_adapters --quant $quant --out "$work/models/two-languages-$quant" >/dev/null
done
cp -r crate/models/default "$work/models/future-version"
sed -i 's/"format_version": 1,/"format_version": 2,/' "$work/models/future-version/model.json"
cp -r crate/models/default "$work/models/huge"
sed -i '0,/"bytes": [0-9]*/s//"bytes": 20000000000/' "$work/models/huge/model.json"

# Every test file, files added to www/tests/ included: the JS API first (the quickest to point at a
# broken build), the pages last. One node --test per file, as it would sort the files by name; a
# failing file does not keep the others from running, and fails the script at the end.
tests=(www/tests/wasm-api.test.mjs)
for file in www/tests/*.test.mjs; do
  case $file in */wasm-api.test.mjs | */e2e.test.mjs) ;; *) tests+=("$file") ;; esac
done
tests+=(www/tests/e2e.test.mjs)
failed=()
for file in "${tests[@]}"; do
  SAKHA_ASR_CLI="$cli" WEB_TEST_DIR="$work" SCREENSHOT_DIR=out/screenshots node --test "$file" || failed+=("$file")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-web.sh: failed: ${failed[*]}" >&2
  exit 1
fi

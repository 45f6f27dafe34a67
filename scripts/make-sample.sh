#!/usr/bin/env bash
# Regenerates www/samples/sakha-sample.wav: a synthetic Sakha sentence (espeak-ng's Kazakh voice reads
# Sakha once ҕ and ҥ are swapped for their Kazakh look-alikes ғ and ң, for the synthesiser only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh --speech
text="саха тыла оҕо үөрэҕэ киһиэхэ саҥа кыаҕы биэрэр"
tmp=$(mktemp --suffix=.wav)
trap 'rm -f "$tmp"' EXIT
espeak-ng -v kk -s 150 -w "$tmp" "$(printf '%s' "$text" | sed 's/ҕ/ғ/g; s/ҥ/ң/g')"
sox "$tmp" -r 16000 -c 1 -b 16 www/samples/sakha-sample.wav
echo "$text" > www/samples/sakha-sample.txt

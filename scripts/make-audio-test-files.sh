#!/usr/bin/env bash
# Regenerates the small audio fixtures used by crate/tests/audio_decoding.rs.
# Needs sox with MP3 and Ogg/Vorbis support, and lame (Debian: apt-get install sox libsox-fmt-all lame).
# `-D` turns off dither so the outputs are deterministic.
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/crate/tests/audio"
mkdir -p "$out"
cd "$out"

# 440 Hz sine at half scale in every supported container / sample format.
sox -D -n -r 8000 -c 1 -b 16 -e signed-integer tone440_8k_s16.wav synth 1 sine 440 vol 0.5
sox -D -n -r 48000 -c 1 -b 32 -e floating-point tone440_48k_f32.wav synth 0.25 sine 440 vol 0.5
sox -D -n -r 22050 -c 1 -b 8 -e unsigned-integer tone440_22k05_u8.wav synth 0.5 sine 440 vol 0.5
sox -D -n -r 44100 -c 1 -b 16 tone440_44k1.flac synth 0.5 sine 440 vol 0.5
sox -D -n -r 44100 -c 1 -C 3 tone440_44k1.ogg synth 1 sine 440 vol 0.5
# sox writes MP3 without a Xing/LAME header (length unknown, encoder delay kept); the lame CLI
# writes one (exact length, gapless), so there is one MP3 of each kind.
sox -D -n -r 44100 -c 1 -C 64 tone440_44k1_untagged.mp3 synth 1 sine 440 vol 0.5
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sox -D -n -r 44100 -c 1 -b 16 "$tmp/tone.wav" synth 1 sine 440 vol 0.5
lame --quiet -b 64 -m m "$tmp/tone.wav" tone440_44k1_lame.mp3

# Stereo with different content per channel (left 440 Hz at 0.8, right 1000 Hz at 0.4),
# so the mono mix-down must contain both tones at half their channel amplitude.
sox -D -n -r 44100 -c 2 -b 24 -e signed-integer stereo_440l_1000r_44k1_s24.wav \
    synth 0.25 sine 440 sine 1000 remix 1v0.8 2v0.4

# 1 kHz plus 9 kHz: the 9 kHz tone is above the 8 kHz Nyquist limit of 16 kHz output and
# would alias to 7 kHz without an anti-aliasing filter.
sox -D -n -r 44100 -c 1 -b 16 -e signed-integer tones_1k_9k_44k1.wav \
    synth 0.25 sine 1000 sine 9000 remix 1v0.4,2v0.4

# A well-formed WAV header with an empty data chunk.
sox -D -n -r 16000 -c 1 -b 16 -e signed-integer no_samples.wav trim 0 0

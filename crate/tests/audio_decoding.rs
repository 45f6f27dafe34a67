#![cfg(feature = "cli")]
//! Decoding, mix-down and resampling of real audio files (made by
//! scripts/make-audio-test-files.sh), plus the error for each kind of bad input.

use std::f32::consts::PI;
use std::path::{Path, PathBuf};

use sakha_asr::audio::{
    decode_audio_bytes, load_audio_file, resample_to_16k, AudioError, TARGET_SAMPLE_RATE,
};

const RATE: f32 = TARGET_SAMPLE_RATE as f32;
/// Tolerances on the decoded level of a 0.5 tone: lossless formats only see the resampler's
/// passband ripple; 64 kbit/s MP3 loses about 0.025.
const LOSSLESS: f32 = 0.005;
const LOSSY: f32 = 0.05;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/audio")
        .join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// Writes `bytes` to a file called `name` in a fresh temporary directory.
fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// Amplitude of the `frequency` component of 16 kHz `samples`.
fn amplitude_at(samples: &[f32], frequency: f32) -> f32 {
    amplitude_at_rate(samples, frequency, RATE)
}

/// Amplitude of the `frequency` component of `samples` (a Hann-windowed single DFT bin).
fn amplitude_at_rate(samples: &[f32], frequency: f32, rate: f32) -> f32 {
    let n = samples.len() as f32;
    let (mut re, mut im, mut window_sum) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &x) in samples.iter().enumerate() {
        let window = 0.5 - 0.5 * (2.0 * PI * i as f32 / n).cos();
        let phase = 2.0 * std::f64::consts::PI * f64::from(frequency) * i as f64 / f64::from(rate);
        re += f64::from(x * window) * phase.cos();
        im -= f64::from(x * window) * phase.sin();
        window_sum += f64::from(window);
    }
    (2.0 * (re * re + im * im).sqrt() / window_sum) as f32
}

/// The strongest frequency between 50 Hz and 7950 Hz, to the nearest 10 Hz.
fn dominant_frequency(samples: &[f32]) -> f32 {
    (5..=795)
        .map(|step| step as f32 * 10.0)
        .map(|frequency| (frequency, amplitude_at(samples, frequency)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0
}

/// Largest difference from `amplitude * sin(2π f t)` sampled at 16 kHz, over `range`.
fn max_deviation_from_sine(
    samples: &[f32],
    frequency: f32,
    amplitude: f32,
    range: std::ops::Range<usize>,
) -> f32 {
    samples[range.clone()]
        .iter()
        .zip(range)
        .map(|(&x, i)| (x - amplitude * (2.0 * PI * frequency * i as f32 / RATE).sin()).abs())
        .fold(0.0, f32::max)
}

/// Checks a decoded 440 Hz half-scale tone: its length, pitch and level.
fn assert_tone_440(
    samples: &[f32],
    expected_len: std::ops::RangeInclusive<usize>,
    amplitude_tolerance: f32,
) {
    assert!(
        expected_len.contains(&samples.len()),
        "length {} not in {expected_len:?}",
        samples.len()
    );
    let frequency = dominant_frequency(samples);
    assert!(
        (frequency - 440.0).abs() <= 10.0,
        "dominant frequency {frequency} Hz"
    );
    let amplitude = amplitude_at(samples, 440.0);
    assert!(
        (amplitude - 0.5).abs() < amplitude_tolerance,
        "440 Hz amplitude {amplitude}"
    );
}

/// The samples of a canonical 44-byte-header 16-bit mono WAV, read directly.
fn wav_mono_s16_samples(bytes: &[u8]) -> Vec<f32> {
    assert_eq!(&bytes[36..40], b"data");
    bytes[44..]
        .chunks_exact(2)
        .map(|pair| f32::from(i16::from_le_bytes([pair[0], pair[1]])) / 32768.0)
        .collect()
}

fn assert_names_file(error: &AudioError, file_name: &str) {
    let message = error.to_string();
    assert!(
        message.contains(file_name),
        "{message:?} does not name {file_name}"
    );
}

#[test]
fn wav_8khz_16bit_is_upsampled_in_time_with_the_original() {
    let samples = load_audio_file(&fixture("tone440_8k_s16.wav")).unwrap();
    assert_tone_440(&samples, 16_000..=16_000, LOSSLESS);
    // A delay or rate error of even one output sample would put this off by ~0.08.
    let deviation = max_deviation_from_sine(&samples, 440.0, 0.5, 400..15_600);
    assert!(
        deviation < 0.01,
        "deviation from the ideal sine {deviation}"
    );
}

#[test]
fn wav_48khz_float_is_decoded() {
    let samples = load_audio_file(&fixture("tone440_48k_f32.wav")).unwrap();
    assert_tone_440(&samples, 4_000..=4_000, LOSSLESS);
    let deviation = max_deviation_from_sine(&samples, 440.0, 0.5, 400..3_600);
    assert!(
        deviation < 0.01,
        "deviation from the ideal sine {deviation}"
    );
}

#[test]
fn wav_22050hz_unsigned_8bit_is_decoded() {
    let samples = load_audio_file(&fixture("tone440_22k05_u8.wav")).unwrap();
    assert_tone_440(&samples, 8_000..=8_000, LOSSLESS);
    // 8-bit quantisation alone is up to 1/256.
    let deviation = max_deviation_from_sine(&samples, 440.0, 0.5, 400..7_600);
    assert!(
        deviation < 0.015,
        "deviation from the ideal sine {deviation}"
    );
}

#[test]
fn flac_is_decoded() {
    let samples = load_audio_file(&fixture("tone440_44k1.flac")).unwrap();
    assert_tone_440(&samples, 8_000..=8_000, LOSSLESS);
    let deviation = max_deviation_from_sine(&samples, 440.0, 0.5, 400..7_600);
    assert!(
        deviation < 0.01,
        "deviation from the ideal sine {deviation}"
    );
}

#[test]
fn ogg_vorbis_is_decoded_in_time() {
    let samples = load_audio_file(&fixture("tone440_44k1.ogg")).unwrap();
    // symphonia 0.5 leaves the encoder's end padding in (under one 2048-frame Vorbis block).
    assert_tone_440(&samples, 16_000..=16_743, LOSSY);
    let deviation = max_deviation_from_sine(&samples, 440.0, 0.5, 400..15_600);
    assert!(
        deviation < 0.03,
        "deviation from the ideal sine {deviation}"
    );
}

#[test]
fn mp3_with_lame_header_is_decoded_gapless() {
    let samples = load_audio_file(&fixture("tone440_44k1_lame.mp3")).unwrap();
    assert_tone_440(&samples, 16_000..=16_000, LOSSY);
    let deviation = max_deviation_from_sine(&samples, 440.0, 0.5, 400..15_600);
    assert!(
        deviation < 0.05,
        "deviation from the ideal sine {deviation}"
    );
}

#[test]
fn mp3_without_header_keeps_encoder_padding_only() {
    let samples = load_audio_file(&fixture("tone440_44k1_untagged.mp3")).unwrap();
    // Without a LAME header the encoder delay and padding (under two 1152-frame MP3 frames
    // at 44.1 kHz, i.e. < 836 samples at 16 kHz) stay in.
    assert_tone_440(&samples, 16_000..=16_836, LOSSY);
}

#[test]
fn stereo_is_mixed_down_by_averaging_the_channels() {
    // Left: 440 Hz at 0.8, right: 1000 Hz at 0.4, 24-bit at 44.1 kHz.
    let samples = load_audio_file(&fixture("stereo_440l_1000r_44k1_s24.wav")).unwrap();
    assert_eq!(samples.len(), 4_000);
    let left_tone = amplitude_at(&samples, 440.0);
    let right_tone = amplitude_at(&samples, 1000.0);
    assert!(
        (left_tone - 0.4).abs() < LOSSLESS,
        "440 Hz amplitude {left_tone}"
    );
    assert!(
        (right_tone - 0.2).abs() < LOSSLESS,
        "1000 Hz amplitude {right_tone}"
    );
}

#[test]
fn tone_above_8khz_is_filtered_out_not_aliased() {
    // 1 kHz and 9 kHz at 0.4 each; without an anti-aliasing filter the 9 kHz tone would
    // fold back to 16 - 9 = 7 kHz at full strength.
    let input = wav_mono_s16_samples(&fixture_bytes("tones_1k_9k_44k1.wav"));
    let input_tone = amplitude_at_rate(&input, 9000.0, 44_100.0);
    assert!(
        (input_tone - 0.4).abs() < 0.01,
        "9 kHz in the input {input_tone}"
    );

    let samples = load_audio_file(&fixture("tones_1k_9k_44k1.wav")).unwrap();
    let kept = amplitude_at(&samples, 1000.0);
    let alias = amplitude_at(&samples, 7000.0);
    assert!((kept - 0.4).abs() < LOSSLESS, "1 kHz amplitude {kept}");
    // -72 dB below the tone; the filter actually reaches about -115 dB.
    assert!(alias < 1e-4, "7 kHz alias amplitude {alias}");
}

#[test]
fn bytes_decode_like_the_file() {
    let from_file = load_audio_file(&fixture("tone440_8k_s16.wav")).unwrap();
    let bytes = fixture_bytes("tone440_8k_s16.wav");
    assert_eq!(
        decode_audio_bytes(bytes.clone(), Some("wav")).unwrap(),
        from_file
    );
    assert_eq!(decode_audio_bytes(bytes, None).unwrap(), from_file);
}

#[test]
fn streamed_wav_with_placeholder_length_is_not_called_truncated() {
    // sox and ffmpeg write these RIFF/data sizes when streaming a WAV into a pipe.
    for (riff_len, data_len) in [(0x7fff_f024u32, 0x7fff_f000u32), (u32::MAX, u32::MAX)] {
        let mut bytes = fixture_bytes("tone440_8k_s16.wav");
        assert_eq!(&bytes[36..40], b"data");
        bytes[4..8].copy_from_slice(&riff_len.to_le_bytes());
        bytes[40..44].copy_from_slice(&data_len.to_le_bytes());
        let samples = decode_audio_bytes(bytes, Some("wav")).unwrap();
        assert_eq!(samples.len(), 16_000, "data size {data_len:#x}");
    }
}

#[test]
fn resampling_16khz_is_the_identity() {
    let samples: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
    assert_eq!(resample_to_16k(&samples, 16_000).unwrap(), samples);
}

#[test]
fn resampled_length_is_the_rounded_duration() {
    for (rate, len) in [
        (44_100, 12_345),
        (44_100, 1),
        (8_000, 3),
        (22_050, 0),
        (48_000, 48_000),
        (11_025, 999),
        (44_101, 5_000),
        (96_000, 100_000),
    ] {
        let expected = (len as f64 * 16_000.0 / rate as f64).round() as usize;
        let output = resample_to_16k(&vec![0.1; len], rate).unwrap();
        assert_eq!(output.len(), expected, "{len} samples at {rate} Hz");
    }
}

#[test]
fn resampled_impulse_stays_at_the_same_time() {
    // 0.1 s into the input, at several rates: the output peak must be at 0.1 s too.
    for rate in [8_000, 22_050, 44_100, 48_000, 44_101] {
        let mut input = vec![0.0; rate as usize / 2];
        input[rate as usize / 10] = 1.0;
        let output = resample_to_16k(&input, rate).unwrap();
        let peak = (0..output.len())
            .max_by(|&a, &b| output[a].total_cmp(&output[b]))
            .unwrap();
        assert_eq!(peak, 1_600, "at {rate} Hz");
    }
}

#[test]
fn resampled_sine_matches_the_ideal_sine() {
    let frequency = 3_000.0;
    let input: Vec<f32> = (0..44_100)
        .map(|i| 0.5 * (2.0 * PI * frequency * i as f32 / 44_100.0).sin())
        .collect();
    let output = resample_to_16k(&input, 44_100).unwrap();
    assert_eq!(output.len(), 16_000);
    let deviation = max_deviation_from_sine(&output, frequency, 0.5, 800..15_200);
    assert!(
        deviation < 0.005,
        "deviation from the ideal sine {deviation}"
    );
}

#[test]
fn unusable_sample_rates_are_rejected() {
    for rate in [0, 999, 768_001, u32::MAX] {
        let error = resample_to_16k(&[0.0; 10], rate).unwrap_err();
        assert!(
            matches!(error, AudioError::BadSampleRate { rate: r, .. } if r == rate),
            "{error}"
        );
        assert!(error.to_string().contains(&format!("{rate} Hz")), "{error}");
    }
}

#[test]
fn wav_with_unusable_sample_rate_is_rejected_naming_the_file() {
    let mut bytes = fixture_bytes("tone440_8k_s16.wav");
    bytes[24..28].copy_from_slice(&100u32.to_le_bytes());
    let (_dir, path) = temp_file("slow.wav", &bytes);
    let error = load_audio_file(&path).unwrap_err();
    assert!(
        matches!(error, AudioError::BadSampleRate { rate: 100, .. }),
        "{error}"
    );
    assert_names_file(&error, "slow.wav");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let error = load_audio_file(Path::new("/nonexistent/dir/clip.wav")).unwrap_err();
    assert!(matches!(error, AudioError::Io { .. }), "{error}");
    assert_names_file(&error, "/nonexistent/dir/clip.wav");
}

#[test]
fn directory_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recordings.wav");
    std::fs::create_dir(&path).unwrap();
    let error = load_audio_file(&path).unwrap_err();
    assert!(matches!(error, AudioError::Io { .. }), "{error}");
    assert_names_file(&error, "recordings.wav");
}

#[test]
fn zero_byte_file_is_empty() {
    let (_dir, path) = temp_file("empty.wav", &[]);
    let error = load_audio_file(&path).unwrap_err();
    assert!(matches!(error, AudioError::Empty { .. }), "{error}");
    assert_names_file(&error, "empty.wav");
    assert!(matches!(
        decode_audio_bytes(Vec::new(), None),
        Err(AudioError::Empty { .. })
    ));
}

#[test]
fn wav_without_samples_is_empty() {
    let error = load_audio_file(&fixture("no_samples.wav")).unwrap_err();
    assert!(matches!(error, AudioError::Empty { .. }), "{error}");
    assert_names_file(&error, "no_samples.wav");
    assert!(
        error.to_string().contains("contains no audio samples"),
        "{error}"
    );
}

#[test]
fn garbage_is_not_a_supported_format() {
    // xorshift bytes: deterministic noise with no container signature.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let garbage: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let (_dir, path) = temp_file("clip.mp3", &garbage);
    let error = load_audio_file(&path).unwrap_err();
    assert!(matches!(error, AudioError::Unsupported { .. }), "{error}");
    assert_names_file(&error, "clip.mp3");
    assert!(
        error.to_string().contains("not a supported audio format"),
        "{error}"
    );

    let error = decode_audio_bytes(garbage, Some("mp3")).unwrap_err();
    assert!(matches!(error, AudioError::Unsupported { .. }), "{error}");
    assert_names_file(&error, "in-memory audio");
}

#[test]
fn wav_cut_inside_its_data_is_truncated() {
    let bytes = fixture_bytes("tone440_8k_s16.wav");
    // Cut mid-sample too, which must not count as a frame.
    let (_dir, path) = temp_file("x.wav", &bytes[..bytes.len() / 2 + 1]);
    let error = load_audio_file(&path).unwrap_err();
    assert!(
        matches!(
            error,
            AudioError::Truncated {
                decoded_frames: 3_989,
                declared_frames: 8_000,
                ..
            }
        ),
        "{error}"
    );
    assert_names_file(&error, "x.wav");
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn wav_cut_right_after_its_header_is_truncated() {
    let bytes = fixture_bytes("tone440_8k_s16.wav");
    let (_dir, path) = temp_file("x.wav", &bytes[..44]);
    let error = load_audio_file(&path).unwrap_err();
    assert!(
        matches!(
            error,
            AudioError::Truncated {
                decoded_frames: 0,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn wav_cut_inside_its_header_is_corrupt() {
    let bytes = fixture_bytes("stereo_440l_1000r_44k1_s24.wav");
    let (_dir, path) = temp_file("x.wav", &bytes[..30]);
    let error = load_audio_file(&path).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt { .. }), "{error}");
    assert_names_file(&error, "x.wav");
    assert!(
        error.to_string().contains("truncated or corrupt"),
        "{error}"
    );
}

#[test]
fn flac_cut_short_is_truncated() {
    let bytes = fixture_bytes("tone440_44k1.flac");
    let (_dir, path) = temp_file("x.flac", &bytes[..bytes.len() * 3 / 4]);
    let error = load_audio_file(&path).unwrap_err();
    assert!(
        matches!(
            error,
            AudioError::Truncated {
                declared_frames: 22_050,
                ..
            }
        ),
        "{error}"
    );
    assert_names_file(&error, "x.flac");
}

#[test]
fn mp3_with_lame_header_cut_short_is_truncated() {
    let bytes = fixture_bytes("tone440_44k1_lame.mp3");
    let (_dir, path) = temp_file("x.mp3", &bytes[..bytes.len() / 2]);
    let error = load_audio_file(&path).unwrap_err();
    assert!(
        matches!(
            error,
            AudioError::Truncated {
                declared_frames: 44_100,
                ..
            }
        ),
        "{error}"
    );
    assert_names_file(&error, "x.mp3");
}

#[test]
fn mp3_without_header_cut_short_yields_at_most_what_is_there() {
    // Nothing in an untagged MP3 states its length, and symphonia drops a partial last frame
    // silently, so a cut here is not detectable: the result is just shorter audio.
    let bytes = fixture_bytes("tone440_44k1_untagged.mp3");
    let full_len = load_audio_file(&fixture("tone440_44k1_untagged.mp3"))
        .unwrap()
        .len();
    let half = decode_audio_bytes(bytes[..bytes.len() / 2].to_vec(), Some("mp3")).unwrap();
    assert!(
        half.len() <= full_len / 2 + 1,
        "{} of {full_len}",
        half.len()
    );
    // Cut inside the first frames there is not even a stream to find.
    let error = decode_audio_bytes(bytes[..200].to_vec(), Some("mp3")).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt { .. }), "{error}");
}

#[test]
fn ogg_cut_short_is_corrupt() {
    let bytes = fixture_bytes("tone440_44k1.ogg");
    let (_dir, path) = temp_file("x.ogg", &bytes[..bytes.len() / 2]);
    let error = load_audio_file(&path).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt { .. }), "{error}");
    assert_names_file(&error, "x.ogg");
}

#[test]
fn mp3_header_that_crashes_symphonia_is_corrupt() {
    // A LAME header claiming one frame but more delay + padding than that makes symphonia
    // 0.5 subtract with overflow (Symphonia issue #439): a panic where overflow checks are on,
    // a bogus huge length where not. Either way it must come back as an error.
    let mut bytes = fixture_bytes("tone440_44k1_lame.mp3");
    let info = bytes.windows(4).position(|w| w == b"Info").unwrap();
    // Flags (frames, bytes, TOC, quality) are followed by the frame count.
    bytes[info + 8..info + 12].copy_from_slice(&1u32.to_be_bytes());
    // "Lavf" instead of "LAME" turns off the tag's CRC; the delay/padding field follows the
    // 9-byte encoder string and 12 more bytes.
    let lame = bytes.windows(4).position(|w| w == b"LAME").unwrap();
    bytes[lame..lame + 4].copy_from_slice(b"Lavf");
    bytes[lame + 21..lame + 24].copy_from_slice(&[0xff, 0xff, 0xff]);
    let (_dir, path) = temp_file("bad.mp3", &bytes);
    let error = load_audio_file(&path).unwrap_err();
    assert!(
        matches!(
            error,
            AudioError::Corrupt { .. } | AudioError::Truncated { .. }
        ),
        "{error}"
    );
    assert_names_file(&error, "bad.mp3");
}

/// The fixture FLAC with `edit` applied to its bytes, as a file and as bytes: the error of each.
fn flac_errors(edit: impl Fn(&mut Vec<u8>)) -> [AudioError; 2] {
    let mut bytes = fixture_bytes("tone440_44k1.flac");
    edit(&mut bytes);
    let (_dir, path) = temp_file("lying.flac", &bytes);
    let from_file = load_audio_file(&path).unwrap_err();
    assert_names_file(&from_file, "lying.flac");
    [from_file, decode_audio_bytes(bytes, Some("flac")).unwrap_err()]
}

/// Offset of the fixture FLAC's Vorbis comment block (after "fLaC" and the 34-byte STREAMINFO).
const FLAC_COMMENT_BLOCK: usize = 42;

#[test]
fn flac_comment_longer_than_its_block_is_corrupt_without_allocating_it() {
    // symphonia 0.5 would allocate the declared ~1.9 GB before finding the data missing.
    for errors in [
        // The vendor string's length, then the first comment's (after the 4-byte count).
        flac_errors(|bytes| bytes[FLAC_COMMENT_BLOCK + 4..][..4].copy_from_slice(&0x7070_7070u32.to_le_bytes())),
        flac_errors(|bytes| {
            let vendor = u32::from_le_bytes(bytes[FLAC_COMMENT_BLOCK + 4..][..4].try_into().unwrap()) as usize;
            let first_comment = FLAC_COMMENT_BLOCK + 4 + 4 + vendor + 4;
            bytes[first_comment..][..4].copy_from_slice(&u32::MAX.to_le_bytes());
        }),
    ] {
        for error in errors {
            assert!(matches!(error, AudioError::Corrupt { .. }), "{error}");
            assert!(error.to_string().contains("Vorbis comment block declares more bytes than its 68"), "{error}");
        }
    }
}

#[test]
fn flac_metadata_block_past_the_end_is_corrupt() {
    for error in flac_errors(|bytes| bytes[FLAC_COMMENT_BLOCK + 1..][..3].copy_from_slice(&[0xff, 0xff, 0xff])) {
        assert!(error.to_string().contains("metadata block of 16777215 bytes runs past the end"), "{error}");
    }
}

#[test]
fn flac_picture_longer_than_its_block_is_corrupt() {
    // A picture block (type 6, last) in place of the comment block, its media type length a lie.
    let errors = flac_errors(|bytes| {
        let mut picture = vec![0u8; 68];
        picture[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        bytes[FLAC_COMMENT_BLOCK] = 0x86;
        bytes[FLAC_COMMENT_BLOCK + 4..][..68].copy_from_slice(&picture);
    });
    for error in errors {
        assert!(error.to_string().contains("picture block declares more bytes"), "{error}");
    }
}

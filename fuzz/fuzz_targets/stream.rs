//! Streams against offline recognition, over fuzzed configs, audio, chunking and push sizes.
//!
//! From the input: a small config, built as `config.json` so `Config::validate` judges it (a refused
//! one ends the run), a model of seeded random weights for it (f32, or with q8_0 matrices, which
//! run our low-bit kernels), chunking within `Chunking::check`'s bounds, and audio of tones, noise
//! and silences (which the pause cutter cuts at) pushed in pieces of any size, empty ones too.
//!
//! What must hold: a config that validates runs, on any audio offline accepts; a file stream gives
//! offline's words and times exactly, and where offline refuses too short an input, the same error
//! or nothing; a live stream, whose text differs from offline's by design, gives segments that
//! follow each other, within the audio, with their words inside them and in order; and either holds
//! no more than its open piece and the second after it.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sakha_asr::{Chunking, Decoding, LiveWindows, Recognizer, Segment, Transcript};

const RATE: usize = 16_000;
/// Frames the audio yields at most, and pushes at most (the rest is one last push): enough for
/// several pieces and chunks, few enough that attention over them stays quick.
const MAX_FRAMES: usize = 300;
const MAX_PUSHES: usize = 48;

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});

fn run(u: &mut Unstructured) -> Result<()> {
    let json = config_json(u)?;
    let Ok(config) = sakha_asr::wav2vec2::Config::from_json(json.to_string().as_bytes()) else {
        return Ok(());
    };
    let letters = u.int_in_range(1..=6)?;
    let seed = u.arbitrary()?;
    let mut recognizer = sakha_asr_fuzz::random_recognizer(config, letters, seed, u.arbitrary()?)
        .unwrap_or_else(|e| panic!("a config that validates must load: {e}\n{json}"));
    recognizer.set_chunking(chunking(u)?).expect("chunking within its bounds");
    let decoding = if u.arbitrary()? { Decoding::Greedy } else { Decoding::BeamSearch { options: Default::default(), language_model: false } };
    recognizer.set_decoding(decoding).expect("the default beam options");

    let max_samples = (MAX_FRAMES * recognizer.config().samples_per_frame() + recognizer.config().min_samples()).min(3 * RATE);
    let samples = audio(u, max_samples)?;
    let pushes = push_sizes(u, samples.len())?;
    let windows = LiveWindows { context_seconds: seconds(u, 0, 150)?, lookahead_seconds: seconds(u, 0, 150)? };
    let last_push_finishes = u.arbitrary()?;

    let offline = recognizer.transcribe(&samples);
    if let Err(e) = &offline {
        let too_short = samples.len() < recognizer.config().min_samples();
        assert!(too_short && matches!(e, sakha_asr::Error::InvalidAudio(_)), "a config that validates must run on {} samples: {e}\n{json}", samples.len());
    }
    for live in [None, Some(windows)] {
        let streamed = stream(&recognizer, &samples, &pushes, live, last_push_finishes);
        match (&offline, streamed) {
            (Ok(offline), Ok(segments)) if live.is_none() => {
                let words = segments.iter().flat_map(|s| s.words.clone()).collect();
                assert_eq!(&Transcript::from_words(words, offline.duration), offline, "file stream against offline\n{json}");
            }
            (Ok(_), Ok(_)) => {}
            // too short: the stream ends as offline recognition does, or with nothing
            (Err(refused), Err(e)) => assert_eq!(e.to_string(), refused.to_string()),
            (Err(_), Ok(segments)) => assert!(segments.is_empty(), "a stream too short for offline gave {segments:?}"),
            (Ok(_), Err(e)) => panic!("offline recognised what a stream ({live:?}) refused: {e}\n{json}"),
        }
    }
    Ok(())
}

/// A config of a few tiny layers; its conv kernels may be shorter than their strides, its sizes may
/// not divide and its activations may be swiglu, for `Config::validate` to refuse.
fn config_json(u: &mut Unstructured) -> Result<serde_json::Value> {
    let layers = u.int_in_range(1..=5)?;
    let (mut dims, mut kernels, mut strides) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..layers {
        let stride = u.int_in_range(1..=8)?;
        dims.push(*u.choose(&[1, 2, 3, 8, 32])?);
        kernels.push(u.int_in_range(stride.max(2) - 1..=stride + 4)?);
        strides.push(stride);
    }
    let heads = u.int_in_range(1..=3)?;
    let activations = ["gelu", "relu", "gelu_new", "silu", "swiglu"];
    let hidden_act = *u.choose(&activations)?;
    let feat_extract_activation = *u.choose(&activations)?;
    let adapter_attn_dim = if u.arbitrary()? { Some(*u.choose(&[1, 4, 32])?) } else { None };
    Ok(serde_json::json!({
        "hidden_size": heads * *u.choose(&[1, 2, 4, 32])?,
        "num_hidden_layers": u.int_in_range(1..=2)?,
        "num_attention_heads": heads,
        "intermediate_size": *u.choose(&[1, 7, 32, 64])?,
        "hidden_act": hidden_act,
        "feat_extract_norm": if u.arbitrary()? { "layer" } else { "group" },
        "feat_extract_activation": feat_extract_activation,
        "conv_dim": dims,
        "conv_kernel": kernels,
        "conv_stride": strides,
        "conv_bias": u.arbitrary::<bool>()?,
        "num_conv_pos_embeddings": u.int_in_range(1..=16)?,
        "num_conv_pos_embedding_groups": u.int_in_range(1..=4)?,
        "do_stable_layer_norm": u.arbitrary::<bool>()?,
        "adapter_attn_dim": adapter_attn_dim,
    }))
}

/// Seconds from `min` to `max` hundredths.
fn seconds(u: &mut Unstructured, min: u32, max: u32) -> Result<f64> {
    Ok(u.int_in_range(min..=max)? as f64 / 100.0)
}

/// Chunking within `Chunking::check`'s bounds, short enough to cut the few seconds of audio into
/// pieces and chunks.
fn chunking(u: &mut Unstructured) -> Result<Chunking> {
    Ok(Chunking {
        chunk_seconds: seconds(u, 100, 300)?,
        context_seconds: seconds(u, 0, 100)?,
        min_pause_seconds: if u.arbitrary()? { Some(seconds(u, 2, 50)?) } else { None },
        max_piece_seconds: Some(seconds(u, 10, 300)?),
    })
}

/// Up to `max` samples: runs of tones, noise and silence, whose lengths and levels the input picks.
fn audio(u: &mut Unstructured, max: usize) -> Result<Vec<f32>> {
    let length = u.int_in_range(0..=max)?;
    let mut state: u32 = u.arbitrary()?;
    let mut noise = move || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    };
    let mut samples = Vec::with_capacity(length);
    while samples.len() < length {
        let run = u.int_in_range(1..=RATE)?.min(length - samples.len());
        let amplitude = *u.choose(&[0.0, 1e-4, 0.01, 0.3, 1.0])?;
        let hiss = *u.choose(&[0.0, 1e-4, 0.05])?;
        let step = u.int_in_range(1..=100u8)? as f32 * 0.01;
        let start = samples.len();
        samples.extend((start..start + run).map(|i| amplitude * (i as f32 * step).sin() + hiss * noise()));
    }
    Ok(samples)
}

/// Push sizes that add up to `length`: empty, tiny (within a frame) or up to a second.
fn push_sizes(u: &mut Unstructured, length: usize) -> Result<Vec<usize>> {
    let mut sizes = Vec::new();
    let mut pushed = 0;
    while pushed < length && sizes.len() < MAX_PUSHES {
        let size = match u.int_in_range(0..=3u8)? {
            0 => 0,
            1 => u.int_in_range(1..=400)?,
            _ => u.int_in_range(1..=RATE)?,
        }
        .min(length - pushed);
        sizes.push(size);
        pushed += size;
    }
    sizes.push(length - pushed);
    Ok(sizes)
}

/// Pushes `samples` in pieces of `pushes` into a file stream (no `live` windows) or a live one, the
/// last piece with `Stream::finish_with` where `last_push_finishes`, and returns the segments it
/// finished, after checking each push's; or how it failed to finish.
fn stream(
    recognizer: &Recognizer,
    samples: &[f32],
    pushes: &[usize],
    live: Option<LiveWindows>,
    last_push_finishes: bool,
) -> Result<Vec<Segment>, sakha_asr::Error> {
    let mut stream = match live {
        Some(windows) => recognizer.start_live_stream(windows),
        None => recognizer.start_stream(),
    }
    .expect("a stream of valid settings");
    let mut segments = Vec::new();
    let mut pushed = 0;
    let most_held = most_held(recognizer);
    let (pushes, last) = match pushes.split_last() {
        Some((&last, earlier)) if last_push_finishes => (earlier, last),
        _ => (pushes, 0),
    };
    for &size in pushes {
        let update = stream.push(recognizer, &samples[pushed..pushed + size]).expect("a push of finite samples");
        pushed += size;
        assert!(stream.held_samples() <= most_held, "{} samples held, at most {most_held} expected", stream.held_samples());
        segments.extend(update.finals);
        check_segments(&segments, pushed);
        match (live, update.partial) {
            (None, partial) => assert_eq!(partial, None, "a file stream shows no partial text"),
            (Some(_), partial) => {
                // the open piece's text so far: after the last final one, within the audio heard
                let partial = partial.expect("a live stream's partial text");
                check_segments(&[segments.clone(), vec![partial]].concat(), pushed);
            }
        }
    }
    segments.extend(stream.finish_with(recognizer, &samples[pushed..pushed + last])?);
    check_segments(&segments, pushed + last);
    Ok(segments)
}

/// The samples a stream holds at most: the open piece, the frames the cutter has yet to judge (a
/// second's worth and the newest), and the samples short of the next frame.
fn most_held(recognizer: &Recognizer) -> usize {
    let config = recognizer.config();
    let per_frame = config.samples_per_frame();
    let frames = |seconds: f64| (seconds * RATE as f64 / per_frame as f64).round() as usize;
    let max_piece = frames(recognizer.chunking().max_piece_seconds.expect("a stream's chunking")).max(2);
    (max_piece + frames(1.0) + 1) * per_frame + config.min_samples()
}

/// Segments that follow each other from the start, end within the `samples` heard so far, and hold
/// their words in order.
fn check_segments(segments: &[Segment], samples: usize) {
    let heard = samples as f64 / RATE as f64;
    let mut time = 0.0;
    for segment in segments {
        assert_eq!(segment.start, time, "segments follow each other: {segments:?}");
        assert!(segment.start <= segment.end && segment.end <= heard + 1e-9, "segment past {heard} s: {segments:?}");
        for word in &segment.words {
            assert!(time <= word.start && word.start <= word.end && word.end <= segment.end, "word out of place: {segments:?}");
            time = word.end;
        }
        time = segment.end;
    }
}

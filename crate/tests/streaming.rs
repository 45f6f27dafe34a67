//! Streaming recognition gives what offline recognition gives for the same audio, whatever sizes the
//! audio arrives in, never shows text ahead of the audio, and holds no more than its open piece.
#![cfg(feature = "cli")]

use std::path::Path;

use sakha_asr::audio::load_audio_file;
use sakha_asr::evaluation::read_tsv;
use sakha_asr::hf_dir::HfModelDir;
use sakha_asr::package::PackageDir;
use sakha_asr::metrics::{char_errors, word_errors, ErrorCounts};
use sakha_asr::{text, Chunking, Decoding, LiveWindows, Recognizer, Segment, Transcript};

const RATE: f64 = 16_000.0;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn demo_recognizer() -> Recognizer {
    PackageDir::open(root().join("models/default")).unwrap().load(None).unwrap()
}

/// The demo-eval clips (held-out voices and sentences) joined into one recording, every other one
/// 14 dB quieter; and the sentences, normalised.
fn joined_clips(range: std::ops::Range<usize>) -> (Vec<f32>, String) {
    let subset = root().join("tests/demo-eval");
    let items = read_tsv(&subset.join("test.tsv"), &subset.join("clips")).unwrap();
    let mut samples = Vec::new();
    for (i, item) in items[range.clone()].iter().enumerate() {
        let gain = if i % 2 == 1 { 0.2 } else { 1.0 };
        samples.extend(load_audio_file(&item.clip).unwrap().into_iter().map(|s| s * gain));
    }
    let reference = items[range].iter().map(|item| text::normalize(&item.sentence)).collect::<Vec<_>>().join(" ");
    (samples, reference)
}

/// Piece sizes from one sample to `max` samples, from a fixed seed.
fn random_sizes(seed: u64, max: usize) -> impl FnMut() -> usize {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // one piece in eight is tiny (a few samples up to a frame), the rest up to `max`
        let r = (state >> 11) as usize;
        if r.is_multiple_of(8) { 1 + r / 8 % 400 } else { 1 + r / 8 % max }
    }
}

/// Feeds `samples` to a file stream (`live` unset) or a live stream in pieces of `next_size()`
/// samples and returns every finished segment. After each push it checks that a file stream shows no
/// partial text; that a live stream's partial is the open piece's text, not ahead of the audio, and
/// that a push runs the model over no more than its own audio, the windows' context and lookahead
/// (so a push costs the same however long the piece has grown); and that the
/// stream holds no more than its open piece.
fn stream(recognizer: &Recognizer, samples: &[f32], live: Option<LiveWindows>, mut next_size: impl FnMut() -> usize) -> Vec<Segment> {
    let mut stream = match live {
        Some(windows) => recognizer.start_live_stream(windows).unwrap(),
        None => recognizer.start_stream().unwrap(),
    };
    let mut segments: Vec<Segment> = Vec::new();
    let mut pushed = 0;
    let max_piece = recognizer.chunking().max_piece_seconds.unwrap();
    while pushed < samples.len() {
        let end = (pushed + next_size()).min(samples.len());
        let pushing = (end - pushed) as f64 / RATE;
        let computed = stream.frames_computed();
        let update = stream.push(recognizer, &samples[pushed..end]).unwrap();
        pushed = end;
        let heard = pushed as f64 / RATE;
        let finished_pieces = update.finals.len();
        segments.extend(update.finals);
        let finished = segments.last().map_or(0.0, |s| s.end);
        match (live, update.partial) {
            (None, partial) => assert_eq!(partial, None, "a file stream shows no partial text"),
            (Some(windows), partial) => {
                let partial = partial.expect("a live stream's partial text");
                assert_eq!(partial.start, finished, "the partial is the open piece, after the last final one");
                assert!(partial.end <= heard, "partial to {} s, audio to {heard} s", partial.end);
                // a frame and the model's window past it at most, unless too little audio for a frame
                assert!(partial.end == partial.start || heard - partial.end < 0.03, "partial to {} s, audio to {heard} s", partial.end);
                assert!(partial.words.iter().all(|w| partial.start <= w.start && w.end <= partial.end));
                // frames settled past a cut carry over, so a push that finishes pieces costs no more
                let window = (pushing + windows.context_seconds + windows.lookahead_seconds) / 0.02 + 2.0;
                let ran = stream.frames_computed() - computed;
                assert!(ran as f64 <= window, "{ran} frames computed for a push of {pushing} s finishing {finished_pieces} pieces");
            }
        }
        // the open piece, the second after its last cut, this push
        assert!(stream.held_samples() as f64 / RATE <= max_piece + 1.03 + pushing, "{} samples held", stream.held_samples());
    }
    segments.extend(stream.finish(recognizer).unwrap());
    segments
}

/// The segments' words, joined as offline recognition joins them.
fn joined(segments: &[Segment], duration: f64) -> Transcript {
    Transcript::from_words(segments.iter().flat_map(|s| s.words.clone()).collect(), duration)
}

fn assert_same_as_offline(recognizer: &Recognizer, samples: &[f32], seeds: std::ops::Range<u64>, max_piece: usize) {
    let offline = recognizer.transcribe(samples).unwrap();
    assert!(!offline.words.is_empty());
    for seed in seeds {
        let segments = stream(recognizer, samples, None, random_sizes(seed, max_piece));
        assert!(segments.windows(2).all(|w| w[0].end == w[1].start), "segments follow each other");
        assert_eq!(joined(&segments, offline.duration), offline, "seed {seed}");
    }
}

#[test]
fn joined_sentences_in_random_pieces_give_the_offline_text_and_times_with_the_word_lm() {
    let recognizer = demo_recognizer();
    assert!(recognizer.language_model().is_some());
    let (samples, _) = joined_clips(0..12);
    // pieces of up to 3 s; one seed with pieces of up to half a second
    assert_same_as_offline(&recognizer, &samples, 0..2, 48_000);
    assert_same_as_offline(&recognizer, &samples, 2..3, 8_000);
}

#[test]
fn greedy_decoding_and_forced_cuts_stream_as_offline() {
    let mut recognizer = demo_recognizer();
    recognizer.set_decoding(Decoding::Greedy).unwrap();
    let (samples, _) = joined_clips(12..24);
    assert_same_as_offline(&recognizer, &samples, 3..4, 24_000);
    // pieces of at most 3 s: most are forced cuts, and pieces of over 2 s are chunked with context
    recognizer.set_chunking(Chunking { max_piece_seconds: Some(3.0), chunk_seconds: 2.0, context_seconds: 0.5, ..Chunking::default() }).unwrap();
    let offline_cuts = recognizer.piece_logits(&samples).unwrap().len();
    assert!(offline_cuts as f64 > samples.len() as f64 / RATE / 3.0, "{offline_cuts} pieces");
    assert_same_as_offline(&recognizer, &samples, 4..5, 24_000);
    let sample = load_audio_file(&root().join("../www/samples/sakha-sample.wav")).unwrap();
    assert_same_as_offline(&recognizer, &sample, 5..6, 6_000);
}

/// Each piece is a sentence to the word LM (streaming.rs says why). Measured on the two joined halves
/// of demo-eval: WER per piece against one search across the pieces (the decoding before streams).
#[test]
fn decoding_each_piece_as_a_sentence_costs_no_accuracy_on_joined_sentences() {
    let recognizer = demo_recognizer();
    let (mut per_piece, mut across) = (0.0, 0.0);
    for range in [0..12, 12..24] {
        let (samples, reference) = joined_clips(range);
        let pieces = recognizer.piece_logits(&samples).unwrap();
        let wer = |t: Transcript| 100.0 * word_errors(&reference, &text::normalize(&t.text)).rate();
        let each = wer(recognizer.decode_pieces(&pieces, recognizer.decoding()).unwrap());
        let all = recognizer.logits(&samples).unwrap();
        let one = wer(recognizer.decode(&all).unwrap());
        println!("{} pieces: WER {each:.2} % each piece a sentence, {one:.2} % one search across", pieces.len());
        per_piece += each;
        across += one;
    }
    assert!(per_piece <= across + 2.0, "WER summed over both: {per_piece:.2} % per piece, {across:.2} % across");
}

/// Silence and steady noise have no pauses (nothing louder to compare with): the stream cuts them
/// at the maximum piece length and holds no more than that, however long they go on: an hour through
/// the small test model, in pieces of 20 s, silence and noise by turns.
#[test]
fn long_silence_and_noise_stay_bounded() {
    let mut recognizer = HfModelDir::new(root().join("tests/fixtures/mms_adapter_in_base")).load(None).unwrap();
    recognizer.set_chunking(Chunking { max_piece_seconds: Some(5.0), ..Chunking::default() }).unwrap();
    let mut stream = recognizer.start_stream().unwrap();
    let piece = 20 * 16_000;
    let mut state = 1u32;
    let mut most_held = 0;
    let mut finals = 0;
    for i in 0..180 {
        let samples: Vec<f32> = (0..piece)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if i % 2 == 0 { 0.0 } else { ((state >> 8) as f32 / (1 << 24) as f32 - 0.5) * 0.01 }
            })
            .collect();
        let update = stream.push(&recognizer, &samples).unwrap();
        finals += update.finals.len();
        assert!(update.finals.iter().all(|s| s.end - s.start <= 5.0 + 1e-9));
        most_held = most_held.max(stream.held_samples());
    }
    assert_eq!(stream.seconds(), 3600.0);
    // 5 s of open piece, the second after it, a push
    assert!(most_held <= (5 + 1 + 20) * 16_000 + 400, "{most_held} samples held");
    assert!(finals >= 3600 / 5 - 5, "{finals} pieces");
    let rest = stream.finish(&recognizer).unwrap();
    assert!(rest.last().is_some_and(|s| (s.end - 3600.0).abs() < 0.03));
}

#[test]
fn streams_refuse_bad_audio_and_settings_with_a_message() {
    let mut recognizer = HfModelDir::new(root().join("tests/fixtures/mms_adapter_in_base")).load(None).unwrap();
    let mut stream = recognizer.start_stream().unwrap();
    let error = stream.push(&recognizer, &[0.0, 0.1, f32::NAN]).unwrap_err();
    assert_eq!(error.to_string(), "sample 2 of the stream is not a finite number");
    // a short stream: no text while it is pushed, and at its end the error offline gives for its samples
    assert_eq!(stream.push(&recognizer, &[0.0; 100]).unwrap().partial, None);
    let offline = recognizer.transcribe(&[0.0; 100]).unwrap_err().to_string();
    assert!(offline.contains("too short"), "{offline}");
    assert_eq!(stream.finish(&recognizer).unwrap_err().to_string(), offline);
    let mut live = recognizer.start_live_stream(LiveWindows::default()).unwrap();
    assert_eq!(live.push(&recognizer, &[0.0; 100]).unwrap().partial.unwrap().words, vec![]);
    assert_eq!(live.finish(&recognizer).unwrap_err().to_string(), offline);
    let empty = recognizer.start_stream().unwrap().finish(&recognizer).unwrap_err();
    assert_eq!(empty.to_string(), recognizer.transcribe(&[]).unwrap_err().to_string());
    assert_eq!(empty.kind(), sakha_asr::ErrorKind::Audio);
    for bad in [-0.5, f64::NAN, f64::INFINITY, 1e30] {
        let windows = LiveWindows { context_seconds: bad, ..LiveWindows::default() };
        let error = recognizer.start_live_stream(windows).unwrap_err();
        assert_eq!(error.to_string(), format!("live context_seconds must be a number of seconds from 0 to 10 (got {bad})"));
        let windows = LiveWindows { lookahead_seconds: bad, ..LiveWindows::default() };
        assert!(recognizer.start_live_stream(windows).unwrap_err().to_string().contains("lookahead_seconds"));
    }
    recognizer.set_chunking(Chunking { max_piece_seconds: None, ..Chunking::default() }).unwrap();
    let error = recognizer.start_stream().unwrap_err();
    assert!(error.to_string().contains("maximum piece length"), "{error}");
}

/// A live stream finishes the pieces offline recognition finds (the same cutter), and its final
/// text, from short windows each normalised on its own, stays close to offline's: measured on both
/// joined halves of demo-eval, pushes of up to 0.25 s (a microphone on a fast machine) and up to 1.5 s
/// (one that waits for a slow recognizer), with the word LM and greedy.
#[test]
fn live_streams_cut_where_offline_does_and_keep_its_accuracy() {
    let mut recognizer = demo_recognizer();
    for decoding in [Decoding::default(), Decoding::Greedy] {
        recognizer.set_decoding(decoding).unwrap();
        let (mut offline_errors, mut live_errors) = (ErrorCounts::default(), ErrorCounts::default());
        for (range, seed, max_push) in [(0..12, 7, 4_000), (12..24, 8, 24_000)] {
            let (samples, reference) = joined_clips(range);
            let offline = recognizer.transcribe(&samples).unwrap();
            let pieces = recognizer.piece_logits(&samples).unwrap();
            let segments = stream(&recognizer, &samples, Some(LiveWindows::default()), random_sizes(seed, max_push));
            let starts: Vec<f64> = segments.iter().map(|s| s.start).collect();
            let offline_starts: Vec<f64> = pieces.iter().map(|p| p.first_frame as f64 * 0.02).collect();
            assert_eq!(starts, offline_starts, "live pieces start where offline's do");
            let live = joined(&segments, offline.duration);
            let errors = |t: &Transcript| char_errors(&reference, &text::normalize(&t.text));
            offline_errors += errors(&offline);
            live_errors += errors(&live);
        }
        let (offline, live) = (100.0 * offline_errors.rate(), 100.0 * live_errors.rate());
        println!("{decoding:?}: CER offline {offline:.2} %, live {live:.2} %");
        assert!(live <= offline + 1.5, "live CER {live:.2} %, offline {offline:.2} %");
    }
}

/// Speech with no pause the cutter accepts is cut at the maximum piece length; a live stream keeps
/// up there too, as `stream` checks push by push, and still finds offline's pieces.
#[test]
fn live_streams_through_forced_cuts() {
    let mut recognizer = demo_recognizer();
    recognizer.set_chunking(Chunking { max_piece_seconds: Some(3.0), min_pause_seconds: None, ..Chunking::default() }).unwrap();
    let (samples, _) = joined_clips(0..6);
    let offline: Vec<f64> = recognizer.piece_logits(&samples).unwrap().iter().map(|p| p.first_frame as f64 * 0.02).collect();
    assert!(offline.len() as f64 >= samples.len() as f64 / RATE / 3.0, "{} pieces", offline.len());
    let segments = stream(&recognizer, &samples, Some(LiveWindows::default()), random_sizes(9, 12_000));
    assert_eq!(segments.iter().map(|s| s.start).collect::<Vec<_>>(), offline);
    assert!(segments.iter().any(|s| !s.words.is_empty()));
}

/// Streamed against offline on the demo model's held-out set, one clip (a sentence) at a time, fed in
/// pushes of up to a quarter second (a microphone on a fast machine: the shortest windows): the live
/// stream's final text may differ from offline's, by this much (CER against the references, and of
/// the live text against the offline one, both printed).
#[test]
fn live_streams_on_held_out_sentences_stay_close_to_offline() {
    let recognizer = demo_recognizer();
    let subset = root().join("tests/demo-eval");
    let items = read_tsv(&subset.join("test.tsv"), &subset.join("clips")).unwrap();
    let (mut live_errors, mut offline_errors, mut apart) = (ErrorCounts::default(), ErrorCounts::default(), ErrorCounts::default());
    for (k, item) in items.iter().enumerate() {
        let samples = load_audio_file(&item.clip).unwrap();
        let reference = text::normalize(&item.sentence);
        let offline = recognizer.transcribe(&samples).unwrap();
        let live = joined(&stream(&recognizer, &samples, Some(LiveWindows::default()), random_sizes(k as u64, 4_000)), offline.duration);
        live_errors += char_errors(&reference, &text::normalize(&live.text));
        offline_errors += char_errors(&reference, &text::normalize(&offline.text));
        apart += char_errors(&offline.text, &live.text);
    }
    let (live, offline, apart) = (100.0 * live_errors.rate(), 100.0 * offline_errors.rate(), 100.0 * apart.rate());
    println!("{} clips: CER live {live:.2} %, offline {offline:.2} %; live text against offline's {apart:.2} %", items.len());
    assert!(live <= offline + 1.5, "CER live {live:.2} %, offline {offline:.2} %");
    assert!(apart <= 2.0, "live text against offline's: {apart:.2} %");
}

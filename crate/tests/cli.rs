//! The `sakha-asr` binary as a script would use it: outputs, exit codes and error messages.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use candle_core::Tensor;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sakha-asr")).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The expected text of a fixture case, read from its manifest (HF text without special tokens).
fn expected_text(fixture_dir: &Path, input: &str, lang: Option<&str>) -> String {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture_dir.join("manifest.json")).unwrap()).unwrap();
    let case = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["input"] == input && c["lang"].as_str() == lang)
        .unwrap();
    let text = ["<s>", "</s>", "<unk>"].iter().fold(case["text"].as_str().unwrap().to_string(), |t, s| t.replace(s, ""));
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn json_output_has_the_reference_text_and_word_times() {
    let dir = fixture("mms_separate_adapters");
    let wav = dir.join("input_2.wav");
    let output = run(&["transcribe", "--model", path(&dir), "--lang", "kaz", "--format", "json", path(&wav)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let record: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(record["file"], path(&wav));
    assert_eq!(record["transcript"]["text"], expected_text(&dir, "input_2.wav", Some("kaz")));
    let words = record["transcript"]["words"].as_array().unwrap();
    assert!(!words.is_empty());
    for word in words {
        assert!(word["start"].as_f64().unwrap() < word["end"].as_f64().unwrap());
        let confidence = word["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{word}");
        assert_eq!(confidence, (confidence * 1000.0).round() / 1000.0, "three decimals: {word}");
    }
    assert!((record["transcript"]["duration"].as_f64().unwrap() - 99.0 * 0.02).abs() < 1e-9);
}

#[test]
fn dump_logits_writes_what_transformers_computes() {
    let dir = fixture("mms_adapter_in_base");
    let npy = tempfile::Builder::new().suffix(".npy").tempfile().unwrap();
    let output =
        run(&["transcribe", "--model", path(&dir), "--dump-logits", path(npy.path()), path(&dir.join("input_1.wav"))]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), expected_text(&dir, "input_1.wav", None));
    let ours = Tensor::read_npy(npy.path()).unwrap();
    let reference = Tensor::read_npy(dir.join("logits_wav_1.npy")).unwrap();
    let diff: f32 = (ours - reference).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar().unwrap();
    assert!(diff <= 1e-4, "max |Δlogit| = {diff}");
}

#[test]
fn a_bad_file_in_a_batch_is_reported_and_the_rest_still_transcribed() {
    let dir = fixture("w2v2_base_style");
    let garbage = tempfile::Builder::new().suffix(".wav").tempfile().unwrap();
    std::fs::write(garbage.path(), b"RIFF\x10\x00\x00\x00WAVEnot really audio").unwrap();
    let good = dir.join("input_2.wav");
    let output = run(&["transcribe", "--model", path(&dir), path(garbage.path()), path(&good)]);
    assert_eq!(output.status.code(), Some(1));
    let expected = format!("{}\t{}\n", path(&good), expected_text(&dir, "input_2.wav", None));
    assert_eq!(stdout(&output), expected);
    let errors = stderr(&output);
    assert!(errors.contains(path(garbage.path())), "{errors}");
    assert!(errors.contains("1 of 2 inputs failed"), "{errors}");
}

#[test]
fn subtitles_go_to_one_file_per_input() {
    let dir = fixture("mms_adapter_in_base");
    let out = tempfile::tempdir().unwrap();
    let inputs = [dir.join("input_1.wav"), dir.join("input_2.wav")];
    let output = run(&[
        "transcribe", "--model", path(&dir), "--format", "vtt", "--output-dir", path(out.path()),
        path(&inputs[0]), path(&inputs[1]),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    for (input, stem) in inputs.iter().zip(["input_1", "input_2"]) {
        let vtt = std::fs::read_to_string(out.path().join(format!("{stem}.vtt"))).unwrap();
        assert!(vtt.starts_with("WEBVTT\n\n"), "{vtt}");
        let text = expected_text(&dir, input.file_name().unwrap().to_str().unwrap(), None);
        let cue_text: Vec<&str> = vtt.lines().filter(|l| !l.is_empty() && !l.contains("-->") && *l != "WEBVTT").collect();
        assert_eq!(cue_text.join(" "), text);
    }
}

#[test]
fn usage_errors_exit_2_and_model_errors_exit_3() {
    let dir = fixture("mms_adapter_in_base");
    let wav = dir.join("input_1.wav");
    let srt_for_two = run(&["transcribe", "--model", path(&dir), "--format", "srt", path(&wav), path(&wav)]);
    assert_eq!(srt_for_two.status.code(), Some(2));
    assert!(stderr(&srt_for_two).contains("--output-dir"));
    assert_eq!(run(&["transcribe"]).status.code(), Some(2));
    // the beam search's settings, checked by the library (BeamOptions::check), named as flags
    for (flags, says) in [
        (["--unknown-word-penalty", "1"], "--unknown-word-penalty must be at most 0"),
        (["--lm-weight", "inf"], "take finite numbers"),
        (["--beam", "0"], "--beam"),
        // the chunking's, checked by the library (Chunking::check), named as flags
        (["--context-seconds", "1e30"], "--context-seconds must be a number of seconds from 0 to 30 (got 1000000000000000000000000000000)"),
        (["--chunk-seconds", "1e30"], "--chunk-seconds must be a number of seconds from 1 to 60"),
        (["--max-piece-seconds", "1e300"], "--max-piece-seconds must be a number of seconds from 0.1 to 3600"),
        (["--min-pause-seconds", "inf"], "--min-pause-seconds must be a number of seconds from 0.02 to 10 (got inf)"),
        (["--min-pause-seconds", "11"], "--min-pause-seconds must be a number of seconds from 0.02 to 10 (got 11)"),
        (["--stream", "1e-30"], "--stream must be a number of seconds from 0.02 to 3600"),
        (["--stream", "NaN"], "--stream must be"),
    ] {
        let refused = run(&["transcribe", "--model", path(&dir), flags[0], flags[1], path(&wav)]);
        assert_eq!(refused.status.code(), Some(2), "{flags:?}");
        assert!(stderr(&refused).contains(says), "{flags:?}: {}", stderr(&refused));
    }

    let missing = run(&["transcribe", "--model", "/nonexistent/model", path(&wav)]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(stderr(&missing).contains("/nonexistent/model/config.json"), "{}", stderr(&missing));

    let unknown_lang = run(&["transcribe", "--model", path(&fixture("mms_separate_adapters")), "--lang", "eng", path(&wav)]);
    assert_eq!(unknown_lang.status.code(), Some(3));
    assert!(stderr(&unknown_lang).contains("no language \"eng\"; it has: kaz, sah"), "{}", stderr(&unknown_lang));
}

#[test]
fn the_built_in_model_transcribes_without_any_model_files() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/samples/sakha-sample.wav");
    let output = run(&["transcribe", "--format", "json", path(&sample)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let record: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let duration = record["transcript"]["duration"].as_f64().unwrap();
    // 67 765 samples at 16 kHz give 211 frames of 20 ms.
    assert!((duration - 211.0 * 0.02).abs() < 1e-9, "{duration}");
    // The built-in package decodes with its word LM, which puts the space greedy decoding misses.
    let reference = std::fs::read_to_string(sample.with_extension("txt")).unwrap();
    assert_eq!(record["transcript"]["text"], reference.trim());
    let greedy = run(&["transcribe", "--greedy", path(&sample)]);
    assert_eq!(stdout(&greedy).trim(), "сахатыла оҕо үөрэҕэ киһиэхэ саҥа кыаҕы биэрэр");
}

#[test]
fn streamed_in_pieces_the_sample_reads_the_same_and_each_push_is_timed() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/samples/sakha-sample.wav");
    let whole = run(&["transcribe", "--format", "json", path(&sample)]);
    let streamed = run(&["transcribe", "--format", "json", "--stream", "0.25", "--timings", path(&sample)]);
    assert!(streamed.status.success(), "{}", stderr(&streamed));
    assert_eq!(stdout(&streamed), stdout(&whole));
    let pushes: Vec<serde_json::Value> =
        stderr(&streamed).lines().map(|l| serde_json::from_str(l).unwrap()).filter(|r: &serde_json::Value| r.get("push_s").is_some()).collect();
    // 67 765 samples in pieces of 4000; a file stream shows no partial text and computes no windows
    assert_eq!(pushes.len(), 17);
    assert!(pushes.iter().all(|push| push["partial_end_s"].is_null() && push["frames_computed"] == 0), "{pushes:?}");
    // a live stream shows the open piece's text after every push, never ahead of the audio
    let live = run(&["transcribe", "--format", "json", "--stream", "0.25", "--live", "--timings", path(&sample)]);
    assert!(live.status.success(), "{}", stderr(&live));
    let pushes: Vec<serde_json::Value> =
        stderr(&live).lines().map(|l| serde_json::from_str(l).unwrap()).filter(|r: &serde_json::Value| r.get("push_s").is_some()).collect();
    assert_eq!(pushes.len(), 17);
    for push in &pushes {
        assert!(push["partial_end_s"].as_f64().unwrap() <= push["audio_s"].as_f64().unwrap());
    }
    assert!(pushes.last().unwrap()["frames_computed"].as_u64().unwrap() > 0);
    let refused = run(&["transcribe", "--stream", "0", path(&sample)]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

#[test]
fn help_documents_every_flag_and_the_exit_codes() {
    let help = stdout(&run(&["transcribe", "--help"]));
    for flag in ["--model", "--lang", "--format", "--output-dir", "--dump-logits", "--timings", "--stream", "--max-piece-seconds", "Exit status"] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn eval_scores_a_test_set_and_reports_unreadable_clips() {
    let dir = fixture("mms_adapter_in_base");
    let exact = expected_text(&dir, "input_1.wav", None);
    let hypothesis = expected_text(&dir, "input_2.wav", None);
    let (exact_words, hypothesis_words) = (exact.split_whitespace().count(), hypothesis.split_whitespace().count());
    let set = tempfile::tempdir().unwrap();
    let tsv = set.path().join("test.tsv");
    // The second reference has one word the model does not say: one deletion.
    std::fs::write(
        &tsv,
        format!("client_id\tpath\tsentence\nx\tinput_1.wav\t{}\ny\tinput_2.wav\t{hypothesis} Саха!\nz\tmissing.wav\tкыыс\n", exact.to_uppercase()),
    )
    .unwrap();
    let json = set.path().join("results.json");
    let output = run(&[
        "eval", "--model", path(&dir), "--tsv", path(&tsv), "--clips", path(&dir), "--per-utterance", path(&json),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let expected_wer = 100.0 / (exact_words + hypothesis_words + 1) as f64;
    assert!(stdout(&output).contains(&format!("WER: {expected_wer:.2} %")), "{}", stdout(&output));
    assert!(stdout(&output).contains("utterances: 2 scored, 1 failed"));
    assert!(stderr(&output).contains("missing.wav"));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["utterances"][0]["reference"], exact, "references are normalised");
    assert_eq!(report["utterances"][1]["word_errors"], 1);
}

#[test]
fn chunking_flags_change_memory_not_results_when_context_covers_the_audio() {
    let dir = fixture("mms_adapter_in_base");
    let wav = dir.join("input_2.wav");
    let whole = run(&["transcribe", "--model", path(&dir), "--format", "json", path(&wav)]);
    let chunked = run(&[
        "transcribe", "--model", path(&dir), "--format", "json", "--chunk-seconds", "1", "--context-seconds", "3", path(&wav),
    ]);
    assert!(chunked.status.success(), "{}", stderr(&chunked));
    assert_eq!(stdout(&chunked), stdout(&whole));
    let bad = run(&["transcribe", "--model", path(&dir), "--chunk-seconds", "0", path(&wav)]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = run(&["transcribe", "--model", path(&dir), "--min-pause-seconds=-1", path(&wav)]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--min-pause-seconds"), "{}", stderr(&bad));
}

//! The word LM: the Rust reader against the Python builder, and LMs in packages and on the command line.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sakha_asr::lm::WordLm;
use sakha_asr::package::{Manifest, PackageDir};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tiny_lm() -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/lm/tiny.lm")).unwrap()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sakha-asr")).args(args).output().unwrap()
}

fn text(output: &[u8]) -> String {
    String::from_utf8(output.to_vec()).unwrap()
}

/// A copy of the built-in package in a temporary folder, to change.
fn package_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    std::fs::create_dir(&package).unwrap();
    for entry in std::fs::read_dir(root().join("models/default")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), package.join(entry.file_name())).unwrap();
    }
    (dir, package)
}

#[test]
fn the_reader_scores_sentences_as_the_python_builder_does() {
    let lm = WordLm::from_bytes(tiny_lm(), "tiny.lm").unwrap();
    let scores = std::fs::read_to_string(root().join("tests/fixtures/lm/scores.tsv")).unwrap();
    let mut compared = 0;
    for line in scores.lines() {
        let (score, sentence) = line.split_once('\t').unwrap();
        let expected: f32 = score.parse().unwrap();
        let actual = lm.sentence_score(sentence);
        // The builder sums the same f32 parameters in f64 and prints 6 decimals.
        assert!((actual - expected).abs() < 1e-4, "{sentence:?}: reader {actual}, builder {expected}");
        compared += 1;
    }
    assert!(compared >= 10);
}

#[test]
fn add_lm_lists_the_file_in_the_manifest_and_transcribe_decodes_with_it() {
    let (_dir, package) = package_copy();
    let lm_path = root().join("tests/fixtures/lm/tiny.lm");
    let sample = root().join("../www/samples/sakha-sample.wav");
    let greedy = run(&["transcribe", "--model", package.to_str().unwrap(), "--greedy", sample.to_str().unwrap()]);
    assert!(greedy.status.success(), "{}", text(&greedy.stderr));

    let added = run(&["add-lm", "--model", package.to_str().unwrap(), lm_path.to_str().unwrap()]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let manifest = Manifest::from_json(&std::fs::read(package.join("model.json")).unwrap()).unwrap();
    let entry = &manifest.language_models["sah"];
    assert_eq!((entry.file.as_str(), entry.bytes), ("sah.lm", tiny_lm().len() as u64));
    let loaded = PackageDir::open(&package).unwrap().load(None).unwrap();
    assert_eq!(loaded.language_model().map(WordLm::words), Some(14));

    // The tiny LM knows none of the sample's words: with a strong unknown-word penalty the text
    // changes; `--greedy` still gives the greedy text.
    let with_lm = run(&["transcribe", "--model", package.to_str().unwrap(), "--unknown-word-penalty", "-30", sample.to_str().unwrap()]);
    assert!(with_lm.status.success(), "{}", text(&with_lm.stderr));
    assert_ne!(text(&with_lm.stdout), text(&greedy.stdout));
    let greedy_again = run(&["transcribe", "--model", package.to_str().unwrap(), "--greedy", sample.to_str().unwrap()]);
    assert_eq!(text(&greedy_again.stdout), text(&greedy.stdout));
    let no_lm = run(&["transcribe", "--model", package.to_str().unwrap(), "--no-lm", sample.to_str().unwrap()]);
    assert_eq!(text(&no_lm.stdout), text(&greedy.stdout), "beam search without an LM takes the greedy path");
}

#[test]
fn damaged_lm_files_are_clear_errors() {
    let (dir, package) = package_copy();
    let sample = root().join("../www/samples/sakha-sample.wav");
    let truncated = dir.path().join("truncated.lm");
    std::fs::write(&truncated, &tiny_lm()[..300]).unwrap();
    let output = run(&["transcribe", "--lm", truncated.to_str().unwrap(), sample.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("truncated.lm: size:"), "{}", text(&output.stderr));

    let refused = run(&["add-lm", "--model", package.to_str().unwrap(), package.join("sah.gguf").to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("not a sakha-asr word LM"), "{}", text(&refused.stderr));

    // A package whose LM was damaged after it was listed: the checksum names the file.
    let added = run(&["add-lm", "--model", package.to_str().unwrap(), root().join("tests/fixtures/lm/tiny.lm").to_str().unwrap()]);
    assert!(added.status.success());
    let mut bytes = tiny_lm();
    bytes[100] ^= 0x40;
    std::fs::write(package.join("sah.lm"), bytes).unwrap();
    let output = run(&["transcribe", "--model", package.to_str().unwrap(), sample.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("sah.lm: sha256"), "{}", text(&output.stderr));
}

#[test]
fn a_manifest_may_not_list_an_lm_for_a_language_it_lacks_or_under_another_name() {
    let manifest = std::fs::read_to_string(root().join("models/default/model.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let entry = serde_json::json!({"file": "sah.lm", "bytes": 584, "sha256": "0".repeat(64)});
    value["language_models"] = serde_json::json!({"kaz": entry});
    let error = Manifest::from_json(value.to_string().as_bytes()).unwrap_err().to_string();
    assert!(error.contains("language_models.kaz"), "{error}");
    value["language_models"] = serde_json::json!({"sah": {"file": "sah.gguf", "bytes": 584, "sha256": "0".repeat(64)}});
    let error = Manifest::from_json(value.to_string().as_bytes()).unwrap_err().to_string();
    assert!(error.contains("ending in .lm"), "{error}");
}

//! The built-in demo model still scores what was recorded for it (`scripts/install-demo-model.sh`) on
//! the committed subset of its held-out test set: held-out sentences spoken by held-out voices.
#![cfg(feature = "cli")]

use std::path::Path;

use sakha_asr::evaluation::{evaluate, read_tsv};
use sakha_asr::package::PackageDir;

/// Reads `WER: x %` / `CER: x %` and the model's sha256 from the recorded scores.
fn recorded(scores: &str, key: &str) -> String {
    scores.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("no {key} in scores.txt")).trim().to_string()
}

#[test]
fn the_built_in_model_keeps_its_recorded_error_rates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let subset = root.join("tests/demo-eval");
    let scores = std::fs::read_to_string(subset.join("scores.txt")).unwrap();
    let package = PackageDir::open(root.join("models/default")).unwrap();
    assert_eq!(
        package.manifest.base.sha256,
        recorded(&scores, "model base.gguf sha256:"),
        "the built-in model changed: re-run scripts/install-demo-model.sh to record its scores"
    );
    let recognizer = package.load(None).unwrap();
    let items = read_tsv(&subset.join("test.tsv"), &subset.join("clips")).unwrap();
    assert!(items.len() >= 20);
    let report = evaluate(&recognizer, &items, |_| {});
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let percent = |key: &str| recorded(&scores, key).trim_end_matches('%').trim().parse::<f64>().unwrap();
    // Recorded with two decimals; the same model and audio give the same counts on any x86-64 or arm CPU
    // unless a quantized kernel rounds differently, which may move a letter or two.
    assert!(report.cer * 100.0 <= percent("CER:") + 0.5, "CER {:.2} % vs recorded {}", report.cer * 100.0, percent("CER:"));
    assert!(report.wer * 100.0 <= percent("WER:") + 2.0, "WER {:.2} % vs recorded {}", report.wer * 100.0, percent("WER:"));
}

//! Packages: HF → package round trips against the transformers references, corrupt or mismatched
//! packages, language switching, and chunked long audio.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use candle_core::Tensor;
use sakha_asr::convert::{convert_hf_dir, Quantization};
use sakha_asr::hf_dir::HfModelDir;
use sakha_asr::package::{PackageDir, FORMAT_VERSION, MANIFEST_FILE};
use sakha_asr::{Chunking, Error, ErrorKind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn npy(path: PathBuf) -> Tensor {
    Tensor::read_npy(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn package(name: &str, quantization: Quantization, languages: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let languages: Vec<String> = languages.iter().map(|l| l.to_string()).collect();
    convert_hf_dir(&fixture(name), out.path(), quantization, &languages).unwrap();
    out
}

/// Relative error ‖a − b‖ / ‖b‖ and the share of frames whose argmax agrees.
fn compare(ours: &Tensor, reference: &Tensor) -> (f32, f32) {
    let norm = |t: &Tensor| t.sqr().unwrap().sum_all().unwrap().sqrt().unwrap().to_scalar::<f32>().unwrap();
    let relative = norm(&(ours - reference).unwrap()) / norm(reference);
    let a = ours.argmax(1).unwrap().to_vec1::<u32>().unwrap();
    let b = reference.argmax(1).unwrap().to_vec1::<u32>().unwrap();
    let agree = a.iter().zip(&b).filter(|(x, y)| x == y).count() as f32 / b.len() as f32;
    (relative, agree)
}

/// Largest relative logit error each storage type may add on the fixtures. Measured (run with
/// `--nocapture`): f32 2e-6, f16 1.8e-3–3.2e-3, q8_0 2.3e-2–3.3e-2, q4_0 0.33–0.57; q4_k equals q8_0
/// here because the fixtures' 32-wide matrices fall back to q8_0 (q4_k blocks are 256 wide). The
/// fixtures' random weights (std 0.3) make them far more sensitive than a trained model.
fn tolerance(quantization: Quantization) -> f32 {
    match quantization {
        Quantization::F32 => 1e-5,
        Quantization::F16 => 5e-3,
        Quantization::Q8_0 | Quantization::Q4K => 5e-2,
        Quantization::Q4_0 => 0.7,
    }
}

#[test]
fn every_quantization_round_trips_within_its_tolerance_of_transformers() {
    let mut results = Vec::new();
    for quantization in Quantization::ALL {
        for (name, lang, reference) in [
            ("mms_adapter_in_base", "sah", "logits_2.npy"),
            ("mms_separate_adapters", "kaz", "logits_2_kaz.npy"),
            ("w2v2_base_style", "eng", "logits_2.npy"),
        ] {
            let dir = package(name, quantization, &[lang]);
            let recognizer = PackageDir::open(dir.path()).unwrap().load(Some(lang)).unwrap();
            let samples: Vec<f32> = npy(fixture(name).join("input_2.npy")).to_vec1().unwrap();
            let logits = recognizer.logits(&samples).unwrap();
            let (relative, agree) = compare(&logits, &npy(fixture(name).join(reference)));
            println!("{name} {}: relative error {relative:.2e}, argmax agreement {agree:.3}", quantization.name());
            results.push((name, quantization, relative));
        }
    }
    for (name, quantization, relative) in results {
        assert!(relative <= tolerance(quantization), "{name} {}: {relative}", quantization.name());
    }
}

#[test]
fn a_package_switches_languages_without_reloading_the_base() {
    let dir = package("mms_separate_adapters", Quantization::F32, &[]);
    let package = PackageDir::open(dir.path()).unwrap();
    assert_eq!(package.manifest.languages.keys().collect::<Vec<_>>(), ["kaz", "sah"]);
    let mut recognizer = package.load(None).unwrap();
    assert_eq!(recognizer.language(), Some("kaz"), "the first language is the default");
    let samples: Vec<f32> = npy(fixture("mms_separate_adapters").join("input_1.npy")).to_vec1().unwrap();
    for lang in ["sah", "kaz"] {
        recognizer.set_language(package.language(recognizer.config(), lang).unwrap());
        let reference = npy(fixture("mms_separate_adapters").join(format!("logits_1_{lang}.npy")));
        let (relative, _) = compare(&recognizer.logits(&samples).unwrap(), &reference);
        assert!(relative < 1e-5, "{lang}: {relative}");
    }
    let unknown = package.language(recognizer.config(), "eng").err().unwrap();
    assert!(matches!(unknown, Error::UnknownLanguage { .. }), "{unknown}");
}

fn load_error(dir: &Path) -> String {
    load_failure(dir).to_string()
}

fn load_failure(dir: &Path) -> Error {
    match PackageDir::open(dir).and_then(|p| p.load(None)) {
        Ok(_) => panic!("a damaged package loaded"),
        Err(e) => e,
    }
}

#[test]
fn damaged_packages_are_rejected_with_the_reason() {
    let dir = package("mms_adapter_in_base", Quantization::Q8_0, &["sah"]);
    let base = dir.path().join("base.gguf");
    let original = std::fs::read(&base).unwrap();

    let mut flipped = original.clone();
    flipped[original.len() / 2] ^= 0x40;
    std::fs::write(&base, &flipped).unwrap();
    let flipped_error = load_failure(dir.path());
    let message = flipped_error.to_string();
    assert!(message.contains("base.gguf: sha256") && message.contains("corrupt"), "{message}");
    assert_eq!(flipped_error.kind(), ErrorKind::Corrupt);

    std::fs::write(&base, &original[..original.len() - 100]).unwrap();
    let message = load_error(dir.path());
    assert!(message.contains("base.gguf") && message.contains("incomplete"), "{message}");

    std::fs::remove_file(&base).unwrap();
    assert!(load_error(dir.path()).contains("base.gguf"));
    std::fs::write(&base, &original).unwrap();

    let manifest_path = dir.path().join(MANIFEST_FILE);
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let with_version = |v: u32| manifest.replace(&format!("\"format_version\": {FORMAT_VERSION}"), &format!("\"format_version\": {v}"));
    std::fs::write(&manifest_path, with_version(FORMAT_VERSION + 1)).unwrap();
    let newer = load_failure(dir.path());
    assert!(newer.to_string().contains("newer than this sakha-asr understands"));
    assert_eq!(newer.kind(), ErrorKind::Version);
    std::fs::write(&manifest_path, with_version(0)).unwrap();
    let older = load_failure(dir.path());
    assert!(older.to_string().contains("convert the model again"));
    assert_eq!(older.kind(), ErrorKind::Version);
    std::fs::write(&manifest_path, "{\"name\": \"something else\"}").unwrap();
    let foreign = load_failure(dir.path());
    assert!(foreign.to_string().contains("not a sakha-asr model manifest"));
    assert_eq!(foreign.kind(), ErrorKind::Format);
}

#[test]
fn a_gguf_without_our_metadata_is_rejected_even_with_a_matching_manifest() {
    let dir = package("mms_adapter_in_base", Quantization::F32, &["sah"]);
    let foreign = tempfile::NamedTempFile::new().unwrap();
    let tensor = candle_core::quantized::QTensor::quantize(
        &Tensor::zeros(32, candle_core::DType::F32, &candle_core::Device::Cpu).unwrap(),
        candle_core::quantized::GgmlDType::F32,
    )
    .unwrap();
    let mut file = std::fs::File::create(foreign.path()).unwrap();
    candle_core::quantized::gguf_file::write(&mut file, &[], &[("x", &tensor)]).unwrap();
    let bytes = std::fs::read(foreign.path()).unwrap();
    std::fs::write(dir.path().join("base.gguf"), &bytes).unwrap();
    let manifest_path = dir.path().join(MANIFEST_FILE);
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["base"]["bytes"] = bytes.len().into();
    manifest["base"]["sha256"] = sakha_asr::package::sha256_hex(&bytes).into();
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    assert!(load_error(dir.path()).contains("base.gguf: no model format version"));
}

#[test]
fn converting_needs_a_language_name_when_the_folder_has_no_adapter_files() {
    let out = tempfile::tempdir().unwrap();
    let error = convert_hf_dir(&fixture("w2v2_base_style"), out.path(), Quantization::F32, &[]).err().unwrap();
    assert!(error.to_string().contains("--lang"), "{error}");
}

/// Long audio: the fixture inputs end to end (16 s), cut into 2 s chunks. Frames, times and text
/// line up with one pass over the whole; how far the logits move depends on how much context each
/// chunk sees, which is what the chunk and context lengths were measured against.
#[test]
fn chunked_inference_stitches_to_the_same_frames_as_one_pass() {
    let dir = fixture("mms_adapter_in_base");
    let mut recognizer = HfModelDir::new(&dir).load(None).unwrap();
    let pieces: Vec<Vec<f32>> =
        (0..3).map(|k| npy(dir.join(format!("input_{k}.npy"))).to_vec1().unwrap()).collect();
    let samples: Vec<f32> = pieces.iter().cycle().take(11).flatten().copied().collect();
    recognizer.set_chunking(Chunking { chunk_seconds: Chunking::MAX_CHUNK_SECONDS, context_seconds: 0.0, min_pause_seconds: None, max_piece_seconds: None }).unwrap();
    let whole = recognizer.logits(&samples).unwrap();
    // Measured agreement: 0.79 (2 s, 1 s context), 0.95 (4 s context), 0.73 (no context); with more
    // context than audio every chunk sees all of it, so only the stitching could make a difference.
    for (chunk_seconds, context_seconds, min_agreement) in [(2.0, 1.0, 0.75), (2.0, 4.0, 0.93), (3.0, 0.0, 0.7), (2.0, 20.0, 1.0)] {
        recognizer.set_chunking(Chunking { chunk_seconds, context_seconds, min_pause_seconds: None, max_piece_seconds: None }).unwrap();
        let mut reports = Vec::new();
        let transcript = recognizer
            .transcribe_with_progress(&samples, |p| {
                reports.push(p);
                ControlFlow::Continue(())
            })
            .unwrap();
        let chunked = recognizer.logits(&samples).unwrap();
        assert_eq!(chunked.dims(), whole.dims());
        let (relative, agree) = compare(&chunked, &whole);
        println!("chunk {chunk_seconds} s, context {context_seconds} s: relative error {relative:.2e}, argmax agreement {agree:.3}");
        assert!(agree >= min_agreement, "chunk {chunk_seconds} s context {context_seconds} s: agreement {agree}");
        if context_seconds > 16.0 {
            assert!(relative < 1e-5, "stitching moved the logits: {relative}");
        }
        assert!(reports.len() > 1);
        assert!(reports.windows(2).all(|w| w[0].done_seconds < w[1].done_seconds));
        let last = reports.last().unwrap();
        assert_eq!(last.partial, transcript);
        assert!((last.done_seconds - last.total_seconds).abs() < 0.03);

        // A caller that asks to stop gets no more reports and no transcript.
        let mut calls = 0;
        let stopped = recognizer.transcribe_with_progress(&samples, |_| {
            calls += 1;
            if calls == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        assert!(matches!(stopped, Err(sakha_asr::Error::Stopped)), "{stopped:?}");
        assert_eq!(calls, 2, "{} chunks, stopped at the second", reports.len());
    }
}

//! Parity with transformers' `Wav2Vec2ForCTC`: logits within 1e-4, the same frame argmax, the same
//! text and word times, on every case of every fixture made by `scripts/make_fixtures.py`.

use std::path::{Path, PathBuf};

use candle_core::Tensor;
use sakha_asr::decoding::greedy;
use sakha_asr::hf_dir::HfModelDir;
use sakha_asr::wav2vec2::model::normalize_waveform;
use sakha_asr::{Language, Recognizer};
use serde::Deserialize;

const MAX_LOGIT_DIFF: f32 = 1e-4;
const SPECIAL_TOKENS: [&str; 3] = ["<s>", "</s>", "<unk>"];

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    input: String,
    source: String,
    input_values: String,
    lang: Option<String>,
    tokenizer_lang: Option<String>,
    logits: String,
    pred_ids: Vec<u32>,
    /// What the HF pipeline returns: specials such as `<unk>` stay in, as literal text.
    text: String,
    word_offsets: Vec<WordOffsets>,
}

#[derive(Deserialize)]
struct WordOffsets {
    word: String,
    start_offset: usize,
    end_offset: usize,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn manifest(dir: &Path) -> Manifest {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn npy(dir: &Path, name: &str) -> Tensor {
    Tensor::read_npy(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The case's audio as the product would receive it: float samples, or a decoded 16 kHz WAV.
fn samples(dir: &Path, case: &Case) -> Vec<f32> {
    match case.source.as_str() {
        "npy" => npy(dir, &case.input).to_vec1().unwrap(),
        _ => sakha_asr::audio::load_audio_file(&dir.join(&case.input)).unwrap(),
    }
}

/// A recognizer set up as the case's reference was: the adapter file of `lang` when it has one,
/// otherwise the base checkpoint's own head with the tokenizer's vocabulary table.
fn recognizer(dir: &Path, case: &Case) -> Recognizer {
    let model_dir = HfModelDir::new(dir);
    match &case.lang {
        Some(lang) => model_dir.load(Some(lang)).unwrap(),
        None => {
            let (config, base) = (model_dir.config().unwrap(), model_dir.base_weights().unwrap());
            let lang = case.tokenizer_lang.as_deref();
            let vocab = model_dir.vocab(lang).unwrap();
            let language = Language::load(&config, lang, &base, vocab, "model.safetensors").unwrap();
            Recognizer::new(config, &base, language).unwrap()
        }
    }
}

/// The pipeline's text with the special tokens removed and whitespace collapsed: what our decoder
/// promises (proper CTC merging as with skip_special_tokens=False, but no `<unk>` in the text).
fn without_specials(text: &str) -> String {
    let text = SPECIAL_TOKENS.iter().fold(text.to_string(), |t, special| t.replace(special, ""));
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar().unwrap()
}

fn check_fixture(name: &str) {
    let dir = fixture(name);
    let manifest = manifest(&dir);
    assert!(!manifest.cases.is_empty());
    for case in &manifest.cases {
        let label = format!("{name}/{} lang={:?}", case.input, case.lang);
        let samples = samples(&dir, case);
        let normalized = Tensor::new(normalize_waveform(&samples), &candle_core::Device::Cpu).unwrap();
        let normalized_diff = max_abs_diff(&normalized, &npy(&dir, &case.input_values).flatten_all().unwrap());
        assert!(normalized_diff < 1e-5, "{label}: normalisation differs by {normalized_diff}");

        let recognizer = recognizer(&dir, case);
        let logits = recognizer.logits(&samples).unwrap();
        let diff = max_abs_diff(&logits, &npy(&dir, &case.logits));
        assert!(diff <= MAX_LOGIT_DIFF, "{label}: max |Δlogit| = {diff}");
        let ids: Vec<u32> = logits.to_vec2::<f32>().unwrap().iter().map(|frame| greedy::best_label(frame).label).collect();
        assert_eq!(ids, case.pred_ids, "{label}: frame argmax");

        let transcript = recognizer.transcribe(&samples).unwrap();
        assert_eq!(transcript.text, without_specials(&case.text), "{label}: text");
        // HF times a word from its first token even when that is `<unk>`; compare plain words only.
        let plain_words = case.word_offsets.iter().filter(|w| !SPECIAL_TOKENS.iter().any(|s| w.word.contains(s)));
        for expected in plain_words {
            let word = transcript.words.iter().find(|w| {
                w.text == expected.word && (w.start / 0.02).round() as usize == expected.start_offset
            });
            let word = word.unwrap_or_else(|| panic!("{label}: no word {:?} at frame {}", expected.word, expected.start_offset));
            assert_eq!((word.end / 0.02).round() as usize, expected.end_offset, "{label}: end of {:?}", word.text);
        }
    }
}

#[test]
fn mms_with_adapters_in_the_base_checkpoint_matches_transformers() {
    check_fixture("mms_adapter_in_base");
}

#[test]
fn mms_with_separate_adapter_files_and_nested_vocab_matches_transformers() {
    check_fixture("mms_separate_adapters");
}

#[test]
fn wav2vec2_base_style_with_old_weight_norm_keys_matches_transformers() {
    check_fixture("w2v2_base_style");
}

/// Switching language swaps adapters and head in place and gives that language's reference, both ways.
#[test]
fn switching_adapters_without_reloading_gives_each_languages_reference() {
    let dir = fixture("mms_separate_adapters");
    let model_dir = HfModelDir::new(&dir);
    let mut recognizer = model_dir.load(Some("sah")).unwrap();
    assert_eq!(model_dir.adapter_languages().unwrap(), ["kaz", "sah"]);
    let samples: Vec<f32> = npy(&dir, "input_2.npy").to_vec1().unwrap();
    for lang in ["kaz", "sah", "kaz"] {
        recognizer.set_language(model_dir.language(Some(lang)).unwrap());
        assert_eq!(recognizer.language(), Some(lang));
        let diff = max_abs_diff(&recognizer.logits(&samples).unwrap(), &npy(&dir, &format!("logits_2_{lang}.npy")));
        assert!(diff <= MAX_LOGIT_DIFF, "{lang}: max |Δlogit| = {diff}");
    }
}

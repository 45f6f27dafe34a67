//! Bad models and bad audio give errors that say what is wrong, never panics.

use std::path::{Path, PathBuf};

use sakha_asr::hf_dir::HfModelDir;
use sakha_asr::wav2vec2::WeightStore;
use sakha_asr::{Error, Recognizer};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A copy of a fixture's model files in a temporary folder, for damaging.
fn model_copy(name: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().into_string().unwrap();
        if file.ends_with(".json") || file.ends_with(".safetensors") {
            std::fs::copy(entry.path(), copy.path().join(file)).unwrap();
        }
    }
    copy
}

fn load_error(dir: &Path, lang: Option<&str>) -> String {
    match HfModelDir::new(dir).load(lang) {
        Ok(_) => panic!("loading {} succeeded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn truncated_weights_name_the_file() {
    let dir = model_copy("mms_adapter_in_base");
    let weights = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let message = load_error(dir.path(), None);
    assert!(message.contains("model.safetensors"), "{message}");
}

#[test]
fn garbage_weights_name_the_file() {
    let dir = model_copy("mms_adapter_in_base");
    std::fs::write(dir.path().join("model.safetensors"), vec![0xAB; 4096]).unwrap();
    assert!(load_error(dir.path(), None).contains("model.safetensors"));
}

#[test]
fn a_config_from_another_model_is_a_shape_error_not_a_panic() {
    let dir = model_copy("mms_adapter_in_base");
    let config = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    std::fs::write(dir.path().join("config.json"), config.replace("\"hidden_size\": 32", "\"hidden_size\": 64")).unwrap();
    let message = load_error(dir.path(), None);
    assert!(message.contains("model.safetensors") && message.contains("shape"), "{message}");
}

#[test]
fn unsupported_architectures_are_named() {
    let dir = model_copy("mms_adapter_in_base");
    let config = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    std::fs::write(dir.path().join("config.json"), config.replace("\"wav2vec2\"", "\"hubert\"")).unwrap();
    let message = load_error(dir.path(), None);
    assert!(message.starts_with("config.json: model_type is \"hubert\""), "{message}");

    std::fs::write(dir.path().join("config.json"), "{ not json").unwrap();
    assert!(load_error(dir.path(), None).starts_with("config.json: "));
}

#[test]
fn a_vocab_larger_than_the_head_is_a_mismatch() {
    let dir = model_copy("mms_adapter_in_base");
    let mut vocab: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("vocab.json")).unwrap()).unwrap();
    vocab.insert("ꙗ".into(), 99.into());
    std::fs::write(dir.path().join("vocab.json"), serde_json::to_vec(&vocab).unwrap()).unwrap();
    let message = load_error(dir.path(), None);
    assert!(message.contains("different models"), "{message}");
}

#[test]
fn a_per_language_vocab_needs_a_known_language() {
    let dir = HfModelDir::new(fixture("mms_separate_adapters"));
    let no_lang = dir.vocab(None).err().unwrap();
    assert!(no_lang.to_string().contains("kaz, sah"), "{no_lang}");
    let unknown = dir.load(Some("eng")).err().unwrap();
    assert!(matches!(unknown, Error::UnknownLanguage { .. }), "{unknown}");
}

#[test]
fn a_pretrained_only_checkpoint_is_explained() {
    let dir = HfModelDir::new(fixture("mms_adapter_in_base"));
    let tensors = candle_core::safetensors::load(fixture("mms_adapter_in_base").join("model.safetensors"), &candle_core::Device::Cpu).unwrap();
    let bare = WeightStore::from_float(
        tensors.into_iter().map(|(name, tensor)| (name.trim_start_matches("wav2vec2.").to_string(), tensor)).collect(),
    );
    let error = Recognizer::new(dir.config().unwrap(), &bare, dir.language(None).unwrap()).err().unwrap();
    assert!(error.to_string().contains("not a Wav2Vec2ForCTC checkpoint"), "{error}");
}

#[test]
fn empty_short_and_non_finite_audio_are_rejected_and_silence_is_not() {
    let recognizer = HfModelDir::new(fixture("mms_adapter_in_base")).load(None).unwrap();
    let message = |samples: &[f32]| recognizer.transcribe(samples).err().unwrap().to_string();
    assert!(message(&[]).contains("empty"));
    assert!(message(&[0.1; 399]).contains("too short: 399 samples; the model needs at least 400"));
    let mut with_nan = vec![0.1; 1000];
    with_nan[500] = f32::NAN;
    assert!(message(&with_nan).contains("sample 500 is not a finite number"));
    let silence = recognizer.transcribe(&[0.0; 16_000]).unwrap();
    assert!((silence.duration - 49.0 * 0.02).abs() < 1e-9);
}

/// A copy of the fixture with `patch` applied to the JSON file `name`.
fn with_json(name: &str, patch: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let dir = model_copy("mms_adapter_in_base");
    let path = dir.path().join(name);
    let mut value: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    patch(&mut value);
    std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
    dir
}

#[test]
fn config_values_the_model_cannot_run_are_named() {
    for (field, value, message) in [
        ("conv_stride", serde_json::json!([5, 2, 0, 2, 2, 2, 2]), "config.json: conv_stride[2] is 0"),
        // frames would outnumber whole frame lengths of audio, which the stream reads levels from
        ("conv_kernel", serde_json::json!([10, 3, 1, 3, 3, 2, 2]), "config.json: conv_kernel[2] (1) is shorter than conv_stride[2] (2)"),
        ("num_conv_pos_embedding_groups", serde_json::json!(0), "config.json: num_conv_pos_embedding_groups is 0"),
        // fuzz target stream: the feed-forward's output layer got half the width it takes
        ("hidden_act", serde_json::json!("swiglu"), "config.json: hidden_act is swiglu, which halves the width"),
        ("hidden_size", serde_json::json!(1_000_000_000), "config.json: hidden_size is 1000000000"),
    ] {
        let dir = with_json("config.json", |config| config[field] = value.clone());
        let error = HfModelDir::new(dir.path()).load(None).err().unwrap();
        assert!(matches!(&error, Error::Config(e) if e.field.as_deref().is_some_and(|f| f.starts_with(field))), "{error:?}");
        assert!(error.to_string().starts_with(message), "{error}");
    }
}

#[test]
fn a_vocab_id_far_beyond_the_head_is_refused_without_allocating_for_it() {
    let dir = with_json("vocab.json", |vocab| vocab["ꙗ"] = 4_000_000_000u32.into());
    let message = load_error(dir.path(), None);
    assert!(message.contains("\"ꙗ\" has id 4000000000") && message.contains("different models"), "{message}");
    let dir = with_json("vocab.json", |vocab| vocab["ꙗ"] = 5.into());
    assert!(load_error(dir.path(), None).contains("the same id 5"));
}

/// Every setting of the library, walked through values no caller should get away with: each is an
/// error naming the setting and its bounds, and the settings before stay in force.
#[test]
fn out_of_range_settings_are_refused_by_name_and_change_nothing() {
    use sakha_asr::recognizer::SettingError;
    use sakha_asr::{BeamOptions, Chunking, Decoding, LiveWindows};
    let mut recognizer = HfModelDir::new(fixture("mms_adapter_in_base")).load(None).unwrap();
    let absurd = [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e-30, 1e30];
    type Setter = fn(&mut Chunking, f64);
    let chunking_settings: [(&str, Setter); 4] = [
        ("chunk_seconds", |c, v| c.chunk_seconds = v),
        ("context_seconds", |c, v| c.context_seconds = v),
        ("min_pause_seconds", |c, v| c.min_pause_seconds = Some(v)),
        ("max_piece_seconds", |c, v| c.max_piece_seconds = Some(v)),
    ];
    for (name, set) in chunking_settings {
        for value in absurd {
            let mut chunking = Chunking::default();
            set(&mut chunking, value);
            // 0 and 1e-30 are fine context; everything else here is out of bounds
            if name == "context_seconds" && (value == 0.0 || value == 1e-30) {
                recognizer.set_chunking(chunking).unwrap();
                recognizer.set_chunking(Chunking::default()).unwrap();
                continue;
            }
            let error: SettingError = recognizer.set_chunking(chunking).unwrap_err();
            assert_eq!(error.setting, name);
            assert!(error.to_string().starts_with(&format!("{name} must be a number of seconds from ")), "{error}");
            assert_eq!(recognizer.chunking(), Chunking::default(), "{name} = {value} changed nothing");
        }
    }
    for value in absurd {
        for windows in [LiveWindows { context_seconds: value, ..LiveWindows::default() }, LiveWindows { lookahead_seconds: value, ..LiveWindows::default() }] {
            let fine = (0.0..=LiveWindows::MAX_SECONDS).contains(&value);
            assert_eq!(recognizer.start_live_stream(windows).is_ok(), fine, "{windows:?}");
        }
    }
    for value in absurd.map(|v| v as f32) {
        for options in [
            BeamOptions { lm_weight: value, ..BeamOptions::default() },
            BeamOptions { word_bonus: value, ..BeamOptions::default() },
            BeamOptions { unknown_word_penalty: value, ..BeamOptions::default() },
        ] {
            recognizer.set_decoding(Decoding::default()).unwrap();
            let result = recognizer.set_decoding(Decoding::BeamSearch { options, language_model: true });
            // finite weights are the caller's to choose; a reward for unknown words is not
            let fine = value.is_finite() && options.unknown_word_penalty <= 0.0;
            assert_eq!(result.is_ok(), fine, "{options:?}");
            if !fine {
                assert_eq!(recognizer.decoding(), Decoding::default(), "{options:?} changed nothing");
            }
        }
    }
    let too_wide = BeamOptions { beam_width: BeamOptions::MAX_BEAM_WIDTH + 1, ..BeamOptions::default() };
    assert!(recognizer.set_decoding(Decoding::BeamSearch { options: too_wide, language_model: true }).is_err());
    let none = BeamOptions { beam_width: 0, ..BeamOptions::default() };
    assert!(recognizer.set_decoding(Decoding::BeamSearch { options: none, language_model: true }).is_err());
}

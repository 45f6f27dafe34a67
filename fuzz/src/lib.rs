//! What the fuzz targets share: a valid tiny model (the `mms_separate_adapters` test fixture and its
//! q8_0 package, the seeds of the GGUF targets) to pair with the half of a model a target fuzzes,
//! and the recognizer check every model-reading target ends with.

use sakha_asr::package::{read_base, read_language};
use sakha_asr::vocab::Vocab;
use sakha_asr::wav2vec2::{Config, WeightStore};
use sakha_asr::{Language, Recognizer};

pub const CONFIG_JSON: &[u8] = include_bytes!("../../crate/tests/fixtures/mms_separate_adapters/config.json");
pub const VOCAB_JSON: &[u8] = include_bytes!("../../crate/tests/fixtures/mms_separate_adapters/vocab.json");
pub const BASE_GGUF: &[u8] = include_bytes!("../seeds/gguf_base/base_q8_0.gguf");
pub const LANGUAGE_GGUF: &[u8] = include_bytes!("../seeds/gguf_language/sah_q8_0.gguf");

pub fn config() -> Config {
    Config::from_json(CONFIG_JSON).expect("the fixture's config.json is valid")
}

pub fn vocab() -> Vocab {
    Vocab::from_json(VOCAB_JSON, Some("sah")).expect("the fixture's vocab.json is valid")
}

pub fn base() -> (Config, WeightStore) {
    read_base(BASE_GGUF, "base.gguf").expect("the seed base.gguf is valid")
}

pub fn language(config: &Config) -> Option<Language> {
    read_language(config, LANGUAGE_GGUF, "sah.gguf", "sah").ok()
}

/// Builds a recognizer and runs it on a quarter second of audio: a model whose parts each read
/// without error may still lie about how they fit together, and that too must be an error.
pub fn recognize(config: Config, base: &WeightStore, language: Language) {
    if let Ok(recognizer) = Recognizer::new(config, base, language) {
        let samples: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.07).sin() * 0.3).collect();
        let _ = recognizer.transcribe(&samples);
    }
}

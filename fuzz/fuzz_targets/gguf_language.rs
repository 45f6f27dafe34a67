//! A package's `<lang>.gguf` (adapters, CTC head, vocabulary), paired with the seed base.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sakha_asr::package::read_language;
use sakha_asr::wav2vec2::{Config, WeightStore};

static BASE: OnceLock<(Config, WeightStore)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (config, weights) = BASE.get_or_init(sakha_asr_fuzz::base);
    if let Ok(language) = read_language(config, data, "sah.gguf", "sah") {
        sakha_asr_fuzz::recognize(config.clone(), weights, language);
    }
});

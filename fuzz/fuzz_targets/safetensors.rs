//! A safetensors checkpoint of an HF model folder, as the base and the language head both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sakha_asr::hf_dir::read_safetensors_bytes;
use sakha_asr::Language;

fuzz_target!(|data: &[u8]| {
    if let Ok(weights) = read_safetensors_bytes(data, "model.safetensors") {
        let config = sakha_asr_fuzz::config();
        if let Ok(language) = Language::load(&config, None, &weights, sakha_asr_fuzz::vocab(), "model.safetensors") {
            sakha_asr_fuzz::recognize(config, &weights, language);
        }
    }
});

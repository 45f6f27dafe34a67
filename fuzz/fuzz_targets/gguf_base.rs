//! `base.gguf` of a package (its config rides in the metadata), paired with the seed language file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sakha_asr::package::read_base;

fuzz_target!(|data: &[u8]| {
    if let Ok((config, weights)) = read_base(data, "base.gguf") {
        if let Some(language) = sakha_asr_fuzz::language(&config) {
            sakha_asr_fuzz::recognize(config, &weights, language);
        }
    }
});

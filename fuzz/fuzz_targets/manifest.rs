//! A package's `model.json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sakha_asr::package::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = Manifest::from_json(data) {
        let _ = manifest.language_entry(None);
    }
});

//! `vocab.json`, flat or per language, checked against a head and used for greedy decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sakha_asr::decoding::greedy;
use sakha_asr::vocab::Vocab;

fuzz_target!(|data: &[u8]| {
    for language in [None, Some("sah")] {
        if let Ok(vocab) = Vocab::from_json(data, language) {
            if vocab.check_head(64, "vocab.json").is_ok() {
                let frames: Vec<_> = (0..66).chain([u32::MAX]).map(|label| greedy::FrameBest { label, log_prob: -0.5 }).collect();
                let _ = greedy::decode(&vocab, &frames, 0.02);
            }
        }
    }
});

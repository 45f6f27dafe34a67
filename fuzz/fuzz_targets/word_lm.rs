//! The word LM file (`<lang>.lm`), read and then scored, as a package or `--lm` hands it over.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sakha_asr::lm::WordLm;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    // A random mutation almost always breaks the checksum; mending it lets the fuzzer reach the
    // checks of the tables behind it, which a hostile file with a right checksum meets.
    if bytes.len() >= 32 {
        let checksum = crc32fast::hash(&bytes[32..]);
        bytes[28..32].copy_from_slice(&checksum.to_le_bytes());
    }
    if let Ok(lm) = WordLm::from_bytes(bytes, "fuzz.lm") {
        for sentence in ["бу киһи кэллэ", "саха тыла оҕо", "</s> <s> ааа", ""] {
            let _ = lm.sentence_score(sentence);
        }
    }
});

//! The native audio decoder (symphonia) and resampler, from bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // `decode_audio_bytes` turns symphonia's known panics on malformed files into errors with
        // catch_unwind; libfuzzer-sys's hook would abort on them before they are caught. With the
        // default hook a caught panic only prints, and one escaping the library still fails the run
        // (libfuzzer-sys aborts when the target unwinds).
        drop(std::panic::take_hook());
    },
    |data: &[u8]| {
        let _ = sakha_asr::audio::decode_audio_bytes(data.to_vec(), None);
    }
);

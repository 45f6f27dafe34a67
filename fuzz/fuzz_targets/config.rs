//! `config.json`, and the frame arithmetic its conv strides and kernels drive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sakha_asr::wav2vec2::Config;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = Config::from_json(data) {
        let _ = (config.samples_per_frame(), config.min_samples(), config.has_adapters());
        for samples in [0, 1, 400, 16_000 * 3600] {
            let _ = config.frames_for(samples);
        }
    }
});

//! What the fuzz targets share: a valid tiny model (the `mms_separate_adapters` test fixture and its
//! q8_0 package, the seeds of the GGUF targets) to pair with the half of a model a target fuzzes,
//! the recognizer check every model-reading target ends with, and models of random weights for
//! any config.

use sakha_asr::package::{read_base, read_language};
use sakha_asr::vocab::Vocab;
use candle_core::quantized::{GgmlDType, QTensor};
use sakha_asr::wav2vec2::random::random_checkpoint;
use sakha_asr::wav2vec2::weights::WeightStoreBuilder;
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

/// A recognizer for `config` with seeded random weights (`random::random_checkpoint`) and a
/// vocabulary of `letters` letters after the CTC specials. With `q8_0_matrices`, the linear layers
/// whose input width is whole q8_0 blocks are stored so, and the convs in f16, as a package stores
/// them: that runs the low-bit kernels (and the convs in bf16 where the CPU has them).
pub fn random_recognizer(config: Config, letters: usize, seed: u64, q8_0_matrices: bool) -> Result<Recognizer, sakha_asr::Error> {
    let specials = ["<pad>", "<s>", "</s>", "<unk>", "|"];
    let tokens = specials.iter().map(|s| s.to_string()).chain(('а'..).take(letters).map(String::from));
    let vocab = Vocab::from_table(tokens.zip(0..).collect())?;
    let tensors = random_checkpoint(&config, specials.len() + letters, seed)?;
    let weights = if q8_0_matrices {
        let mut builder = WeightStoreBuilder::new();
        for (name, tensor) in tensors {
            let storage = match tensor.dims() {
                [_] => GgmlDType::F32,
                [_, depth] if depth.is_multiple_of(GgmlDType::Q8_0.block_size()) => GgmlDType::Q8_0,
                _ => GgmlDType::F16,
            };
            builder.add(name, QTensor::quantize(&tensor, storage)?)?;
        }
        builder.finish()
    } else {
        WeightStore::from_float(tensors)
    };
    let language = Language::load(&config, None, &weights, vocab, "random weights")?;
    Recognizer::new(config, &weights, language)
}

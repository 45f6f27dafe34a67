//! The library's front door: a loaded model plus one language, turning 16 kHz samples into a
//! [`Transcript`]. The CLI and the wasm bindings are thin shells over this.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::transcript::Transcript;
use crate::vocab::Vocab;
use crate::wav2vec2::{model, Config, LanguageHead, Wav2Vec2, SAMPLE_RATE};
use crate::Error;

/// Tensors of one safetensors file, by name.
pub type Weights = HashMap<String, Tensor>;

/// Reads a safetensors file held in memory; `name` is used in error messages.
pub fn weights_from_safetensors(bytes: &[u8], name: &str) -> Result<Weights, Error> {
    candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(Error::weights(name))
}

pub struct Recognizer {
    config: Config,
    model: Wav2Vec2,
    /// The CTC head stored in the base checkpoint itself, used when no adapter file is given.
    base_head: Option<LanguageHead>,
    head: LanguageHead,
    vocab_json: Vec<u8>,
    vocab: Vocab,
    language: Option<String>,
}

impl Recognizer {
    /// Builds a recognizer from the parts of an HF `Wav2Vec2ForCTC` model: `config.json`, the weights of
    /// `model.safetensors`, `vocab.json`, and for MMS the language's `adapter.<lang>.safetensors`.
    pub fn new(
        config_json: &[u8],
        base: Weights,
        vocab_json: Vec<u8>,
        language: Option<&str>,
        adapter: Option<Weights>,
    ) -> Result<Self, Error> {
        let config = Config::from_json(config_json).map_err(Error::Config)?;
        if !base.keys().any(|k| k.starts_with("wav2vec2.")) {
            return Err(Error::weights("model.safetensors")(candle_core::Error::Msg(
                "no wav2vec2.* tensors: this is not a Wav2Vec2ForCTC checkpoint (a pretrained-only \
                 model such as facebook/mms-300m needs fine-tuning with a CTC head first)"
                    .into(),
            )));
        }
        let vb = VarBuilder::from_tensors(base, DType::F32, &Device::Cpu);
        let model = Wav2Vec2::load(&config, vb.pp("wav2vec2")).map_err(Error::weights("model.safetensors"))?;
        let base_head = if vb.contains_tensor("lm_head.weight") {
            Some(LanguageHead::load(&config, vb).map_err(Error::weights("model.safetensors"))?)
        } else {
            None
        };
        let (head, vocab) = language_head(&config, base_head.as_ref(), &vocab_json, language, adapter)?;
        Ok(Self { config, model, base_head, head, vocab_json, vocab, language: language.map(Into::into) })
    }

    /// Switches language: the adapter file's weights when given (MMS), else the base checkpoint's own
    /// head with the language's vocabulary table. The base model is kept as it is.
    pub fn set_language(&mut self, language: Option<&str>, adapter: Option<Weights>) -> Result<(), Error> {
        let (head, vocab) =
            language_head(&self.config, self.base_head.as_ref(), &self.vocab_json, language, adapter)?;
        self.head = head;
        self.vocab = vocab;
        self.language = language.map(Into::into);
        Ok(())
    }

    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Seconds of audio per output frame (0.02 for MMS).
    pub fn seconds_per_frame(&self) -> f64 {
        self.config.samples_per_frame() as f64 / SAMPLE_RATE as f64
    }

    /// CTC logits `[frames, vocab]` for 16 kHz mono samples, as transformers' `Wav2Vec2ForCTC` returns
    /// them after its feature extractor normalised the input.
    pub fn logits(&self, samples: &[f32]) -> Result<Tensor, Error> {
        self.check_audio(samples)?;
        let normalized = model::normalize_waveform(samples);
        let input = Tensor::from_vec(normalized, (1, samples.len()), &Device::Cpu)?;
        Ok(self.model.forward(&input, &self.head)?.squeeze(0)?)
    }

    pub fn transcribe(&self, samples: &[f32]) -> Result<Transcript, Error> {
        let logits = self.logits(samples)?;
        let ids = model::argmax_per_frame(&logits)?;
        Ok(self.vocab.decode(&ids, self.seconds_per_frame()))
    }

    fn check_audio(&self, samples: &[f32]) -> Result<(), Error> {
        let min = self.config.min_samples();
        if samples.is_empty() {
            return Err(Error::InvalidAudio("the audio is empty (no samples)".into()));
        }
        if samples.len() < min {
            return Err(Error::InvalidAudio(format!(
                "the audio is too short: {} samples; the model needs at least {min} ({} ms at 16 kHz)",
                samples.len(),
                min * 1000 / SAMPLE_RATE
            )));
        }
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::InvalidAudio(format!("sample {i} is not a finite number")));
        }
        Ok(())
    }
}

/// The CTC head and vocabulary for `language`: from the adapter's weights when given, else the base's.
fn language_head(
    config: &Config,
    base_head: Option<&LanguageHead>,
    vocab_json: &[u8],
    language: Option<&str>,
    adapter: Option<Weights>,
) -> Result<(LanguageHead, Vocab), Error> {
    let vocab = Vocab::from_json(vocab_json, language)?;
    let head = match (adapter, base_head) {
        (Some(weights), _) => {
            let name = format!("adapter.{}.safetensors", language.unwrap_or("?"));
            let vb = VarBuilder::from_tensors(weights, DType::F32, &Device::Cpu);
            LanguageHead::load(config, vb).map_err(Error::weights(name))?
        }
        (None, Some(head)) => head.clone(),
        (None, None) => {
            return Err(Error::weights("model.safetensors")(candle_core::Error::Msg(
                "the checkpoint has no lm_head; give the language's adapter file".into(),
            )))
        }
    };
    if head.vocab_size() < vocab.len() {
        return Err(Error::Vocab(format!(
            "vocab.json has {} tokens but the model's CTC head scores only {}: they are from different models",
            vocab.len(),
            head.vocab_size()
        )));
    }
    Ok((head, vocab))
}

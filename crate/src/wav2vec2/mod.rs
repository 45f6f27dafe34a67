//! wav2vec2 for CTC speech recognition, as Facebook's MMS uses it.
//!
//! - Paper: wav2vec 2.0 (<https://arxiv.org/abs/2006.11477>); MMS (<https://arxiv.org/abs/2305.13516>).
//! - Reference implementation: transformers' `models/wav2vec2/modeling_wav2vec2.py` (`Wav2Vec2ForCTC`).
//!
//! The model reads raw 16 kHz samples (no spectrogram): a strided conv stack turns them into one frame
//! per 20 ms, a transformer encoder contextualises the frames, and a linear CTC head scores the
//! vocabulary for every frame. MMS adds small per-language adapters inside each encoder layer; they and
//! the CTC head form a [`LanguageHead`] that can be swapped without reloading the base.

mod kernels;
pub mod model;
pub mod random;
pub mod weights;

pub use model::{LanguageHead, Wav2Vec2};
pub use weights::WeightStore;

use candle_nn::Activation;
use serde::Deserialize;

/// The sample rate every wav2vec2 / MMS checkpoint is trained on.
pub const SAMPLE_RATE: usize = 16_000;

/// How the conv feature encoder normalises its layers (`feat_extract_norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatExtractNorm {
    /// GroupNorm with one group per channel on the first conv layer only (wav2vec2-base).
    Group,
    /// LayerNorm over channels after every conv layer (MMS, XLS-R, large-lv60).
    Layer,
}

/// The subset of HF `Wav2Vec2Config` (`config.json`) that inference needs; training-only keys are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    #[serde(default = "default_model_type")]
    pub model_type: String,
    #[serde(default = "default_vocab_size")]
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default)]
    pub hidden_act: Activation,
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    pub feat_extract_norm: FeatExtractNorm,
    #[serde(default)]
    pub feat_extract_activation: Activation,
    pub conv_dim: Vec<usize>,
    pub conv_kernel: Vec<usize>,
    pub conv_stride: Vec<usize>,
    #[serde(default)]
    pub conv_bias: bool,
    pub num_conv_pos_embeddings: usize,
    pub num_conv_pos_embedding_groups: usize,
    /// Pre-LN encoder ("stable layer norm", MMS) when true; post-LN (wav2vec2-base) when false.
    #[serde(default)]
    pub do_stable_layer_norm: bool,
    /// Bottleneck width of MMS attention adapters; `None` means the model has none.
    #[serde(default)]
    pub adapter_attn_dim: Option<usize>,
    /// transformers' other adapter kind (a conv downsampler after the encoder); MMS never sets it.
    #[serde(default)]
    pub add_adapter: bool,
    #[serde(default)]
    pub pad_token_id: Option<u32>,
}

fn default_model_type() -> String {
    "wav2vec2".to_string()
}
fn default_vocab_size() -> usize {
    32
}
fn default_layer_norm_eps() -> f64 {
    1e-5
}

/// A `config.json` this implementation cannot run: malformed, unsupported, or with a value no real
/// model has. `field` names the offending key (`None` when the JSON itself is malformed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{why}")]
pub struct ConfigError {
    pub field: Option<String>,
    pub why: String,
}

impl ConfigError {
    fn field(field: impl Into<String>, why: impl Into<String>) -> Self {
        Self { field: Some(field.into()), why: why.into() }
    }
}

/// Bound on every size in a config, far above any real wav2vec2 (MMS-1B's largest is
/// intermediate_size 5120) and low enough that a hostile config is refused with a message before
/// anything it sizes is attempted.
const MAX_SIZE: usize = 1 << 16;

impl Config {
    /// Parses `config.json` and rejects what this implementation does not run, with the reason.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config: Config =
            serde_json::from_slice(bytes).map_err(|e| ConfigError { field: None, why: e.to_string() })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value before it sizes a tensor, a loop or a division: sizes positive and bounded,
    /// the conv lists of one length, the conv stack's frame and receptive field at most a second of
    /// audio (MMS: 20 ms and 25 ms), with products computed without overflow, and activations that
    /// keep their input's width.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.model_type != "wav2vec2" {
            return Err(ConfigError::field(
                "model_type",
                format!("model_type is {:?}; only wav2vec2 (MMS) models are supported", self.model_type),
            ));
        }
        if self.add_adapter {
            return Err(ConfigError::field("add_adapter", "add_adapter (the conv downsampling adapter) is not supported"));
        }
        let layers = self.conv_dim.len();
        if layers == 0 || self.conv_kernel.len() != layers || self.conv_stride.len() != layers {
            return Err(ConfigError::field(
                "conv_dim",
                format!(
                    "conv_dim, conv_kernel and conv_stride must be non-empty and of equal length (they have {}, {} and {} entries)",
                    layers,
                    self.conv_kernel.len(),
                    self.conv_stride.len()
                ),
            ));
        }
        let lists = [("conv_dim", &self.conv_dim), ("conv_kernel", &self.conv_kernel), ("conv_stride", &self.conv_stride)];
        for (name, values) in lists {
            for (i, &value) in values.iter().enumerate() {
                check_size(&format!("{name}[{i}]"), value)?;
            }
        }
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("num_conv_pos_embeddings", self.num_conv_pos_embeddings),
            ("num_conv_pos_embedding_groups", self.num_conv_pos_embedding_groups),
        ];
        for (name, value) in sizes {
            check_size(name, value)?;
        }
        if let Some(dim) = self.adapter_attn_dim {
            check_size("adapter_attn_dim", dim)?;
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(ConfigError::field("num_attention_heads", "hidden_size must be a multiple of num_attention_heads"));
        }
        if !self.hidden_size.is_multiple_of(self.num_conv_pos_embedding_groups) {
            return Err(ConfigError::field(
                "num_conv_pos_embedding_groups",
                "hidden_size must be a multiple of num_conv_pos_embedding_groups",
            ));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err(ConfigError::field(
                "layer_norm_eps",
                format!("layer_norm_eps is {}; it must be a small positive number", self.layer_norm_eps),
            ));
        }
        // candle's swiglu gates one half of its input with the other: the layers after it would get
        // half the width (transformers' wav2vec2 has no such activation).
        for (name, activation) in [("hidden_act", self.hidden_act), ("feat_extract_activation", self.feat_extract_activation)] {
            if activation == Activation::Swiglu {
                return Err(ConfigError::field(name, format!("{name} is swiglu, which halves the width of its input; wav2vec2's layers keep it")));
            }
        }
        let per_frame = self.conv_stride.iter().try_fold(1usize, |product, &stride| product.checked_mul(stride));
        if per_frame.is_none_or(|samples| samples > SAMPLE_RATE) {
            return Err(ConfigError::field(
                "conv_stride",
                format!("the conv strides {:?} make frames longer than a second of audio", self.conv_stride),
            ));
        }
        if self.min_samples() > SAMPLE_RATE {
            return Err(ConfigError::field(
                "conv_kernel",
                format!(
                    "the conv kernels {:?} with strides {:?} need more than a second of audio per frame",
                    self.conv_kernel, self.conv_stride
                ),
            ));
        }
        // Frames, streamed or not, are cut from the audio `samples_per_frame` apart and each reads its
        // window: a kernel shorter than its stride would give more frames than whole frame lengths.
        if let Some(i) = (0..layers).find(|&i| self.conv_kernel[i] < self.conv_stride[i]) {
            return Err(ConfigError::field(
                "conv_kernel",
                format!("conv_kernel[{i}] ({}) is shorter than conv_stride[{i}] ({}): the conv would skip samples", self.conv_kernel[i], self.conv_stride[i]),
            ));
        }
        Ok(())
    }

    /// Input samples per output frame: the product of the conv strides (320 = 20 ms for MMS).
    pub fn samples_per_frame(&self) -> usize {
        self.conv_stride.iter().product()
    }

    /// Seconds of audio per output frame (0.02 for MMS).
    pub fn seconds_per_frame(&self) -> f64 {
        self.samples_per_frame() as f64 / SAMPLE_RATE as f64
    }

    /// The fewest samples that yield one output frame: the conv stack's receptive field (400 for MMS).
    /// Saturates instead of overflowing, so [`Config::validate`] can compute it on any config.
    pub fn min_samples(&self) -> usize {
        let mut field = 1usize;
        let mut jump = 1usize;
        for (kernel, stride) in self.conv_kernel.iter().zip(&self.conv_stride) {
            field = field.saturating_add(kernel.saturating_sub(1).saturating_mul(jump));
            jump = jump.saturating_mul(*stride);
        }
        field
    }

    /// Output frames for `samples` input samples, as the conv stack computes them.
    pub fn frames_for(&self, samples: usize) -> usize {
        self.conv_kernel
            .iter()
            .zip(&self.conv_stride)
            .fold(samples, |len, (kernel, stride)| {
                if len < *kernel {
                    0
                } else {
                    (len - kernel) / stride + 1
                }
            })
    }

    /// Adapters only exist in the pre-LN encoder layers (transformers adds none to post-LN layers).
    pub fn has_adapters(&self) -> bool {
        self.do_stable_layer_norm && self.adapter_attn_dim.is_some()
    }
}

fn check_size(field: &str, value: usize) -> Result<(), ConfigError> {
    if value == 0 || value > MAX_SIZE {
        return Err(ConfigError::field(field, format!("{field} is {value}; it must be between 1 and {MAX_SIZE}")));
    }
    Ok(())
}

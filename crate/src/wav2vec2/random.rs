//! Models of any shape without a checkpoint: every tensor a `Wav2Vec2ForCTC` of a config reads,
//! filled with seeded pseudo-random values. For fuzzing the recognizer over configs no real model
//! has, and for benchmarking shapes no checkpoint at hand has; the text such a model gives means
//! nothing.

use std::collections::HashMap;

use candle_core::{Device, Result, Tensor};

use super::{Config, FeatExtractNorm};

/// The tensors of a `Wav2Vec2ForCTC` checkpoint for `config` with a CTC head of `labels` rows, under
/// transformers' names (the positional conv's weight already folded, as in our packages), as
/// `WeightStore::from_float` takes them. The same `seed` gives the same values, whatever the order
/// the tensors are made in. Matrices are scaled by their input width, as a trained model's roughly
/// are, so activations stay in range however deep the model.
pub fn random_checkpoint(config: &Config, labels: usize, seed: u64) -> Result<HashMap<String, Tensor>> {
    let mut tensors = Tensors { seed, tensors: HashMap::new() };
    let hidden = config.hidden_size;
    let extractor = "wav2vec2.feature_extractor.conv_layers";
    let mut in_channels = 1;
    for (i, (&channels, &kernel)) in config.conv_dim.iter().zip(&config.conv_kernel).enumerate() {
        tensors.matrix(&format!("{extractor}.{i}.conv.weight"), &[channels, in_channels, kernel])?;
        if config.conv_bias {
            tensors.bias(&format!("{extractor}.{i}.conv.bias"), channels)?;
        }
        if config.feat_extract_norm == FeatExtractNorm::Layer || i == 0 {
            tensors.norm(&format!("{extractor}.{i}.layer_norm"), channels)?;
        }
        in_channels = channels;
    }
    tensors.norm("wav2vec2.feature_projection.layer_norm", in_channels)?;
    tensors.linear("wav2vec2.feature_projection.projection", hidden, in_channels)?;
    let group_channels = hidden / config.num_conv_pos_embedding_groups;
    tensors.matrix("wav2vec2.encoder.pos_conv_embed.conv.weight", &[hidden, group_channels, config.num_conv_pos_embeddings])?;
    tensors.bias("wav2vec2.encoder.pos_conv_embed.conv.bias", hidden)?;
    tensors.norm("wav2vec2.encoder.layer_norm", hidden)?;
    for i in 0..config.num_hidden_layers {
        let layer = format!("wav2vec2.encoder.layers.{i}");
        for projection in ["q_proj", "k_proj", "v_proj", "out_proj"] {
            tensors.linear(&format!("{layer}.attention.{projection}"), hidden, hidden)?;
        }
        tensors.norm(&format!("{layer}.layer_norm"), hidden)?;
        tensors.linear(&format!("{layer}.feed_forward.intermediate_dense"), config.intermediate_size, hidden)?;
        tensors.linear(&format!("{layer}.feed_forward.output_dense"), hidden, config.intermediate_size)?;
        tensors.norm(&format!("{layer}.final_layer_norm"), hidden)?;
        if let Some(dim) = config.adapter_attn_dim.filter(|_| config.has_adapters()) {
            tensors.norm(&format!("{layer}.adapter_layer.norm"), hidden)?;
            tensors.linear(&format!("{layer}.adapter_layer.linear_1"), dim, hidden)?;
            tensors.linear(&format!("{layer}.adapter_layer.linear_2"), hidden, dim)?;
        }
    }
    tensors.linear("lm_head", labels, hidden)?;
    Ok(tensors.tensors)
}

struct Tensors {
    seed: u64,
    tensors: HashMap<String, Tensor>,
}

impl Tensors {
    /// Values uniform in `-scale..scale` plus `offset`, from the seed and the tensor's name.
    fn add(&mut self, name: &str, dims: &[usize], scale: f32, offset: f32) -> Result<()> {
        let mut state = name.bytes().fold(self.seed ^ 0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ byte as u64).wrapping_mul(0x100_0000_01b3));
        let count = dims.iter().product();
        let values = (0..count)
            .map(|_| {
                // splitmix64
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
                offset + (2.0 * unit - 1.0) * scale
            })
            .collect();
        self.tensors.insert(name.to_string(), Tensor::from_vec(values, dims, &Device::Cpu)?);
        Ok(())
    }

    /// A weight whose output sums its other dimensions: PyTorch's default initialisation's range.
    fn matrix(&mut self, name: &str, dims: &[usize]) -> Result<()> {
        let fan_in: usize = dims[1..].iter().product();
        self.add(name, dims, 1.0 / (fan_in as f32).sqrt(), 0.0)
    }

    fn bias(&mut self, name: &str, size: usize) -> Result<()> {
        self.add(name, &[size], 0.5, 0.0)
    }

    fn linear(&mut self, prefix: &str, out_dim: usize, in_dim: usize) -> Result<()> {
        self.matrix(&format!("{prefix}.weight"), &[out_dim, in_dim])?;
        self.bias(&format!("{prefix}.bias"), out_dim)
    }

    fn norm(&mut self, prefix: &str, size: usize) -> Result<()> {
        self.add(&format!("{prefix}.weight"), &[size], 0.2, 1.0)?;
        self.bias(&format!("{prefix}.bias"), size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wav2vec2::WeightStore;
    use crate::{vocab::Vocab, Language, Recognizer};

    #[test]
    fn a_random_model_of_any_layout_runs_and_its_seed_fixes_it() -> std::result::Result<(), crate::Error> {
        // post-LN with the GroupNorm conv stack, and pre-LN with MMS adapters
        for (norm, stable, adapters) in [("group", false, "null"), ("layer", true, "4")] {
            let json = format!(
                r#"{{"hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 16,
                    "feat_extract_norm": "{norm}", "conv_dim": [4, 4], "conv_kernel": [10, 3], "conv_stride": [5, 2],
                    "conv_bias": true, "num_conv_pos_embeddings": 4, "num_conv_pos_embedding_groups": 2,
                    "do_stable_layer_norm": {stable}, "adapter_attn_dim": {adapters}}}"#
            );
            let config = Config::from_json(json.as_bytes()).map_err(crate::Error::Config)?;
            let tensors = random_checkpoint(&config, 6, 7)?;
            let again = random_checkpoint(&config, 6, 7)?;
            let other = random_checkpoint(&config, 6, 8)?;
            let values = |tensors: &HashMap<String, Tensor>| tensors["lm_head.weight"].flatten_all()?.to_vec1::<f32>();
            assert_eq!(values(&tensors)?, values(&again)?);
            assert_ne!(values(&tensors)?, values(&other)?);
            let weights = WeightStore::from_float(tensors);
            let tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", "а"];
            let vocab = Vocab::from_table(tokens.iter().map(|t| t.to_string()).zip(0..).collect())?;
            let language = Language::load(&config, None, &weights, vocab, "random weights")?;
            let recognizer = Recognizer::new(config, &weights, language)?;
            let samples: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.2).collect();
            assert_eq!(recognizer.logits(&samples)?.dims(), [1599, 6], "{norm}");
        }
        Ok(())
    }
}

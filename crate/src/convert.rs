//! HF checkpoint folder → our package (see `package.rs`).
//!
//! What is stored how (chosen by measurement, see BENCHMARKS.md):
//! - linear-layer matrices of the base: the requested type; a matrix whose input width is not a
//!   multiple of that type's block falls back to q8_0 (32-wide blocks), then to the float type;
//! - convolutions (the feature encoder and the positional conv, weight norm folded): f32 in an f32
//!   package, f16 otherwise; they are dequantized to f32 at load, so this only costs download size;
//! - norms and biases: f32 (tiny);
//! - each language file (MMS adapters and CTC head, about 1 M parameters): the float type, since the
//!   head decides every output letter and is too small for quantization to save much.

use std::io::Cursor;
use std::path::Path;
use std::str::FromStr;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Tensor;

use crate::hf_dir::HfModelDir;
use crate::package::{self, FileEntry, Manifest};
use crate::vocab;
use crate::wav2vec2::{model, Config, WeightStore};
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantization {
    F32,
    F16,
    Q8_0,
    Q4_0,
    Q4K,
}

impl Quantization {
    pub const ALL: [Quantization; 5] =
        [Quantization::F32, Quantization::F16, Quantization::Q8_0, Quantization::Q4_0, Quantization::Q4K];

    pub fn name(self) -> &'static str {
        match self {
            Quantization::F32 => "f32",
            Quantization::F16 => "f16",
            Quantization::Q8_0 => "q8_0",
            Quantization::Q4_0 => "q4_0",
            Quantization::Q4K => "q4_k",
        }
    }

    fn matrix_type(self) -> GgmlDType {
        match self {
            Quantization::F32 => GgmlDType::F32,
            Quantization::F16 => GgmlDType::F16,
            Quantization::Q8_0 => GgmlDType::Q8_0,
            Quantization::Q4_0 => GgmlDType::Q4_0,
            Quantization::Q4K => GgmlDType::Q4K,
        }
    }

    fn float_type(self) -> GgmlDType {
        match self {
            Quantization::F32 => GgmlDType::F32,
            _ => GgmlDType::F16,
        }
    }

    /// The storage type of a base tensor of this shape.
    fn base_type(self, dims: &[usize]) -> GgmlDType {
        match dims {
            [_] => GgmlDType::F32,
            [_, in_dim] => [self.matrix_type(), GgmlDType::Q8_0, self.float_type()]
                .into_iter()
                .find(|t| in_dim.is_multiple_of(t.block_size()))
                .unwrap_or(GgmlDType::F32),
            _ => self.float_type(),
        }
    }

    /// The storage type of a language-file tensor of this shape.
    fn language_type(self, dims: &[usize]) -> GgmlDType {
        if dims.len() == 1 {
            GgmlDType::F32
        } else {
            self.float_type()
        }
    }
}

impl FromStr for Quantization {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|q| q.name() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|q| q.name()).collect();
            format!("unknown quantization {s:?}; use one of {}", names.join(", "))
        })
    }
}

/// Converts the HF folder `from` into a package in `out`, with one file per language in `languages`
/// (empty: every `adapter.<lang>.safetensors` in the folder). A folder without adapter files holds one
/// language, whose name must then be given.
pub fn convert_hf_dir(from: &Path, out: &Path, quantization: Quantization, languages: &[String]) -> Result<Manifest, Error> {
    let source = HfModelDir::new(from);
    let config_json = String::from_utf8_lossy(&source.read("config.json")?).into_owned();
    let config = Config::from_json(config_json.as_bytes()).map_err(Error::Config)?;
    let base = source.base_weights()?;
    let adapter_languages = source.adapter_languages()?;
    let languages: Vec<String> = match (languages.is_empty(), adapter_languages.is_empty()) {
        (true, false) => adapter_languages.clone(),
        (false, _) => languages.to_vec(),
        (true, true) => {
            return Err(Error::Package(format!(
                "{}: no adapter.<lang>.safetensors files; name the model's language with --lang",
                from.display()
            )))
        }
    };
    for language in &languages {
        // It names a file in `out`.
        package::check_language_name(language, &from.display().to_string())?;
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io { path: out.to_path_buf(), source })?;

    let base_tensors = base_tensors(&config, &base, quantization)?;
    let base_entry = write_gguf(
        out,
        "base.gguf",
        &[
            (package::META_FORMAT_VERSION, gguf_file::Value::U32(package::FORMAT_VERSION)),
            (package::META_CONFIG, gguf_file::Value::String(config_json)),
        ],
        &base_tensors,
    )?;
    drop(base_tensors);

    let vocab_json = source.read("vocab.json")?;
    let mut entries = std::collections::BTreeMap::new();
    for language in &languages {
        let weights = match source.adapter_weights(language)? {
            Some(adapter) => adapter,
            None if !adapter_languages.is_empty() => {
                return Err(Error::UnknownLanguage { lang: language.clone(), available: adapter_languages })
            }
            None => base.clone(),
        };
        let table = vocab::language_table(&vocab_json, Some(language))?;
        let table_json = serde_json::to_string(&table).map_err(|e| Error::Vocab(e.to_string()))?;
        let tensors = language_tensors(&config, &weights, quantization)?;
        let file = format!("{language}.gguf");
        let entry = write_gguf(
            out,
            &file,
            &[
                (package::META_FORMAT_VERSION, gguf_file::Value::U32(package::FORMAT_VERSION)),
                (package::META_LANGUAGE, gguf_file::Value::String(language.clone())),
                (package::META_VOCAB, gguf_file::Value::String(table_json)),
            ],
            &tensors,
        )?;
        entries.insert(language.clone(), entry);
    }

    let manifest = Manifest {
        format: package::FORMAT.to_string(),
        format_version: package::FORMAT_VERSION,
        quantization: quantization.name().to_string(),
        base: base_entry,
        default_language: languages[0].clone(),
        languages: entries,
        language_models: Default::default(),
    };
    manifest.write_to(out)?;
    Ok(manifest)
}

fn is_language_tensor(name: &str) -> bool {
    name.starts_with("lm_head.") || name.contains(".adapter_layer.")
}

/// The base's tensors with their storage types: `wav2vec2.*` without adapters, the training-only
/// `masked_spec_embed`, and with the positional conv's weight norm folded into a plain weight.
fn base_tensors(config: &Config, base: &WeightStore, quantization: Quantization) -> Result<Vec<(String, QTensor)>, Error> {
    let pos_conv = "wav2vec2.encoder.pos_conv_embed.conv";
    let mut tensors = Vec::new();
    let mut names: Vec<&String> = base.names().collect();
    names.sort();
    for name in names {
        let weight_norm_part = name.starts_with(&format!("{pos_conv}.")) && !name.ends_with(".bias");
        if !name.starts_with("wav2vec2.") || is_language_tensor(name) || name.ends_with("masked_spec_embed") || weight_norm_part {
            continue;
        }
        tensors.push((name.clone(), base.get_any(name).map_err(Error::weights("model.safetensors"))?));
    }
    let folded =
        model::positional_conv_weight(config, &base.pp(pos_conv)).map_err(Error::weights("model.safetensors"))?;
    tensors.push((format!("{pos_conv}.weight"), folded));
    quantize_all(tensors, |dims| quantization.base_type(dims))
}

fn language_tensors(config: &Config, weights: &WeightStore, quantization: Quantization) -> Result<Vec<(String, QTensor)>, Error> {
    let mut tensors = Vec::new();
    let mut names: Vec<&String> = weights.names().filter(|n| is_language_tensor(n)).collect();
    names.sort();
    for name in names {
        if name.contains(".adapter_layer.") && !config.has_adapters() {
            continue;
        }
        tensors.push((name.clone(), weights.get_any(name).map_err(Error::weights(name.as_str()))?));
    }
    quantize_all(tensors, |dims| quantization.language_type(dims))
}

fn quantize_all(
    tensors: Vec<(String, Tensor)>,
    storage_type: impl Fn(&[usize]) -> GgmlDType,
) -> Result<Vec<(String, QTensor)>, Error> {
    tensors
        .into_iter()
        .map(|(name, tensor)| {
            let quantized = QTensor::quantize(&tensor, storage_type(tensor.dims())).map_err(Error::weights(name.as_str()))?;
            Ok((name, quantized))
        })
        .collect()
}

fn write_gguf(
    out: &Path,
    file: &str,
    metadata: &[(&str, gguf_file::Value)],
    tensors: &[(String, QTensor)],
) -> Result<FileEntry, Error> {
    let mut bytes = Cursor::new(Vec::new());
    let metadata: Vec<(&str, &gguf_file::Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    gguf_file::write(&mut bytes, &metadata, &tensors).map_err(Error::weights(file))?;
    let bytes = bytes.into_inner();
    let path = out.join(file);
    std::fs::write(&path, &bytes).map_err(|source| Error::Io { path, source })?;
    Ok(FileEntry { file: file.to_string(), bytes: bytes.len() as u64, sha256: package::sha256_hex(&bytes) })
}

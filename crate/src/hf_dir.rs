//! HF-style model folders on disk: `config.json`, `model.safetensors`, `vocab.json` and, for MMS,
//! one `adapter.<lang>.safetensors` per language.

use std::path::{Path, PathBuf};
use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::recognizer::Language;
use crate::vocab::Vocab;
use crate::wav2vec2::{Config, WeightStore};
use crate::{Error, Recognizer};

pub struct HfModelDir {
    dir: PathBuf,
}

impl HfModelDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn config(&self) -> Result<Config, Error> {
        Config::from_json(&self.read("config.json")?).map_err(Error::Config)
    }

    /// The base checkpoint's tensors (`model.safetensors`).
    pub fn base_weights(&self) -> Result<WeightStore, Error> {
        self.safetensors("model.safetensors")
    }

    /// Loads the base model and `language`'s head: see [`HfModelDir::language`].
    pub fn load(&self, language: Option<&str>) -> Result<Recognizer, Error> {
        let config = self.config()?;
        let base = self.base_weights()?;
        let language = self.resolve_language(&config, language, || Ok(base.clone()))?;
        Recognizer::new(config, &base, language)
    }

    /// A language's head: its `adapter.<lang>.safetensors` when the folder has one, else the head
    /// stored in the base checkpoint, with the language's table of `vocab.json`.
    pub fn language(&self, language: Option<&str>) -> Result<Language, Error> {
        self.resolve_language(&self.config()?, language, || self.base_weights())
    }

    /// `base` is only called when there is no adapter file, so switching to an adapter language never
    /// reads the base checkpoint.
    fn resolve_language(
        &self,
        config: &Config,
        language: Option<&str>,
        base: impl FnOnce() -> Result<WeightStore, Error>,
    ) -> Result<Language, Error> {
        let vocab = self.vocab(language)?;
        if let Some((store, file)) = self.adapter(language)? {
            return Language::load(config, language, &store, vocab, &file);
        }
        let base = base()?;
        if !base.contains("lm_head.weight") {
            return Err(Error::Vocab(format!(
                "{}: model.safetensors has no CTC head (lm_head) and there is no adapter file for {}",
                self.dir.display(),
                language.unwrap_or("the default language")
            )));
        }
        Language::load(config, language, &base, vocab, "model.safetensors")
    }

    pub fn vocab(&self, language: Option<&str>) -> Result<Vocab, Error> {
        Vocab::from_json(&self.read("vocab.json")?, language)
    }

    /// The weights of `adapter.<language>.safetensors`, when the folder has it.
    pub fn adapter_weights(&self, language: &str) -> Result<Option<WeightStore>, Error> {
        Ok(self.adapter(Some(language))?.map(|(weights, _)| weights))
    }

    /// The weights of `adapter.<language>.safetensors` with its file name, when the folder has it.
    fn adapter(&self, language: Option<&str>) -> Result<Option<(WeightStore, String)>, Error> {
        let Some(language) = language else { return Ok(None) };
        let name = format!("adapter.{language}.safetensors");
        if self.dir.join(&name).is_file() {
            Ok(Some((self.safetensors(&name)?, name)))
        } else {
            Ok(None)
        }
    }

    /// Languages with an adapter file in the folder, sorted.
    pub fn adapter_languages(&self) -> Result<Vec<String>, Error> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| io_error(&self.dir, source))?;
        let mut languages: Vec<String> = entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                Some(name.strip_prefix("adapter.")?.strip_suffix(".safetensors")?.to_string())
            })
            .collect();
        languages.sort();
        Ok(languages)
    }

    pub(crate) fn read(&self, name: &str) -> Result<Vec<u8>, Error> {
        let path = self.dir.join(name);
        std::fs::read(&path).map_err(|source| io_error(&path, source))
    }

    fn safetensors(&self, name: &str) -> Result<WeightStore, Error> {
        let path = self.dir.join(name);
        let tensors = read_safetensors(&path).map_err(|e| match e {
            SafetensorsError::Io(source) => io_error(&path, source),
            SafetensorsError::Invalid(why) => Error::weights(path.display().to_string())(candle_core::Error::Msg(why)),
            SafetensorsError::Tensor(e) => Error::weights(path.display().to_string())(e),
        })?;
        Ok(WeightStore::from_float(tensors))
    }
}

enum SafetensorsError {
    Io(std::io::Error),
    Invalid(String),
    Tensor(candle_core::Error),
}

impl From<std::io::Error> for SafetensorsError {
    fn from(e: std::io::Error) -> Self {
        SafetensorsError::Io(e)
    }
}

#[derive(Deserialize)]
struct TensorEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (u64, u64),
}

/// Reads a safetensors file tensor by tensor, so loading holds the tensors plus one tensor's bytes
/// instead of the whole file and the tensors (an MMS-1B checkpoint is 3.9 GB).
fn read_safetensors(path: &Path) -> Result<HashMap<String, Tensor>, SafetensorsError> {
    const MAX_HEADER_BYTES: u64 = 100 << 20;
    let mut file = BufReader::new(std::fs::File::open(path)?);
    let file_len = file.get_ref().metadata()?.len();
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|_| SafetensorsError::Invalid("not a safetensors file (too short)".into()))?;
    let header_len = u64::from_le_bytes(len);
    if header_len > MAX_HEADER_BYTES || 8 + header_len > file_len {
        return Err(SafetensorsError::Invalid("not a safetensors file (bad header length)".into()));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)?;
    let mut header: HashMap<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| SafetensorsError::Invalid(format!("not a safetensors file ({e})")))?;
    header.remove("__metadata__");
    let mut entries: Vec<(String, TensorEntry)> = header
        .into_iter()
        .map(|(name, value)| {
            serde_json::from_value(value).map(|entry| (name.clone(), entry)).map_err(|e| {
                SafetensorsError::Invalid(format!("bad header entry for {name}: {e}"))
            })
        })
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|(_, entry)| entry.data_offsets.0);
    let data_start = 8 + header_len;
    let mut tensors = HashMap::with_capacity(entries.len());
    for (name, entry) in entries {
        let dtype = match entry.dtype.as_str() {
            "F32" => DType::F32,
            "F16" => DType::F16,
            "BF16" => DType::BF16,
            "F64" => DType::F64,
            other => return Err(SafetensorsError::Invalid(format!("{name}: unsupported dtype {other}"))),
        };
        let (begin, end) = entry.data_offsets;
        let expected = entry.shape.iter().product::<usize>() * dtype.size_in_bytes();
        if end < begin || (end - begin) as usize != expected {
            return Err(SafetensorsError::Invalid(format!("{name}: data size does not match its shape")));
        }
        if data_start + end > file_len {
            return Err(SafetensorsError::Invalid(format!(
                "truncated: {name} ends at byte {} of a {file_len}-byte file",
                data_start + end
            )));
        }
        let mut bytes = vec![0u8; expected];
        file.seek(SeekFrom::Start(data_start + begin))?;
        file.read_exact(&mut bytes)?;
        let tensor = Tensor::from_raw_buffer(&bytes, dtype, &entry.shape, &Device::Cpu).map_err(SafetensorsError::Tensor)?;
        tensors.insert(name, tensor);
    }
    Ok(tensors)
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

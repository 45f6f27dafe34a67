//! HF-style model folders on disk: `config.json`, `model.safetensors`, `vocab.json` and, for MMS,
//! one `adapter.<lang>.safetensors` per language.

use std::path::{Path, PathBuf};
use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::recognizer::Language;
use crate::vocab::Vocab;
use crate::wav2vec2::weights::checked_product;
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
        let io_error = |source| io_error(&path, source);
        let file = std::fs::File::open(&path).map_err(io_error)?;
        let file_len = file.metadata().map_err(io_error)?.len();
        read_safetensors(BufReader::new(file), file_len, &path.display().to_string()).map_err(|e| match e {
            SafetensorsError::Io(source) => io_error(source),
            SafetensorsError::Invalid(error) => error,
        })
    }
}

/// Reads safetensors `bytes` (the same checks as a file in a model folder); `name` names them in errors.
pub fn read_safetensors_bytes(bytes: &[u8], name: &str) -> Result<WeightStore, Error> {
    read_safetensors(Cursor::new(bytes), bytes.len() as u64, name).map_err(|e| match e {
        // The checks keep every read inside the slice, so this is not expected; still an error, not a panic.
        SafetensorsError::Io(source) => Error::Io { path: name.into(), source },
        SafetensorsError::Invalid(error) => error,
    })
}

enum SafetensorsError {
    Io(std::io::Error),
    Invalid(Error),
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

/// A tensor's checked place in the data section.
struct TensorSpan {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    begin: u64,
    end: u64,
}

/// Checks one header entry against the data section of `data_len` bytes: a dtype we read, a shape
/// whose byte size neither overflows nor differs from its `data_offsets` span, and a span inside the data.
fn tensor_span(name: String, entry: TensorEntry, data_len: u64) -> Result<TensorSpan, String> {
    let dtype = match entry.dtype.as_str() {
        "F32" => DType::F32,
        "F16" => DType::F16,
        "BF16" => DType::BF16,
        "F64" => DType::F64,
        other => return Err(format!("tensor {name:?}: dtype {other:?} is not supported (F32, F16, BF16 or F64)")),
    };
    let shape_bytes = checked_product(entry.shape.iter().map(|&dim| dim as u64))
        .and_then(|elements| elements.checked_mul(dtype.size_in_bytes() as u64));
    let Some(shape_bytes) = shape_bytes else {
        return Err(format!("tensor {name:?}: shape {:?} is too large to address", entry.shape));
    };
    let (begin, end) = entry.data_offsets;
    if begin > end || end > data_len {
        return Err(format!(
            "tensor {name:?}: data_offsets [{begin}, {end}) are not within the {data_len} bytes of tensor data"
        ));
    }
    if end - begin != shape_bytes {
        return Err(format!(
            "tensor {name:?}: data_offsets [{begin}, {end}) hold {} bytes, but {} of shape {:?} takes {shape_bytes}",
            end - begin,
            entry.dtype,
            entry.shape
        ));
    }
    Ok(TensorSpan { name, dtype, shape: entry.shape, begin, end })
}

/// Reads a safetensors file tensor by tensor, so loading holds the tensors plus one tensor's bytes
/// instead of the whole file and the tensors (an MMS-1B checkpoint is 3.9 GB).
///
/// Every size and offset in the header is checked against the file's length `file_len` before it sizes
/// an allocation or a read, and tensors may not overlap, so a hostile header cannot make loading take
/// more memory than the file holds.
fn read_safetensors<R: Read + Seek>(
    mut file: R,
    file_len: u64,
    file_name: &str,
) -> Result<WeightStore, SafetensorsError> {
    const MAX_HEADER_BYTES: u64 = 100 << 20;
    let invalid = |why: String| {
        SafetensorsError::Invalid(Error::weights(file_name)(candle_core::Error::Msg(format!(
            "not a valid safetensors file: {why}"
        ))))
    };
    let mut len = [0u8; 8];
    if file_len < 8 {
        return Err(invalid(format!("{file_len} bytes, too short for the 8-byte header length")));
    }
    file.read_exact(&mut len)?;
    let header_len = u64::from_le_bytes(len);
    let data_start = match 8u64.checked_add(header_len) {
        Some(start) if header_len <= MAX_HEADER_BYTES && start <= file_len => start,
        _ => {
            return Err(invalid(format!(
                "header length {header_len} exceeds the file ({file_len} bytes) or the {MAX_HEADER_BYTES}-byte limit"
            )))
        }
    };
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)?;
    let mut header: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| invalid(format!("header: {e}")))?;
    header.remove("__metadata__");
    let data_len = file_len - data_start;
    let mut spans = header
        .into_iter()
        .map(|(name, value)| {
            let entry = serde_json::from_value(value).map_err(|e| format!("tensor {name:?}: {e}"))?;
            tensor_span(name, entry, data_len)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    spans.sort_by_key(|span| (span.begin, span.end));
    for pair in spans.windows(2) {
        if pair[1].begin < pair[0].end {
            return Err(invalid(format!("tensors {:?} and {:?} overlap in the data", pair[0].name, pair[1].name)));
        }
    }
    let mut tensors = HashMap::with_capacity(spans.len());
    for span in spans {
        // Within the file's length (checked above), so this fits in memory as the file does.
        let mut bytes = vec![0u8; (span.end - span.begin) as usize];
        file.seek(SeekFrom::Start(data_start + span.begin))?;
        file.read_exact(&mut bytes)?;
        let tensor = Tensor::from_raw_buffer(&bytes, span.dtype, &span.shape, &Device::Cpu)
            .map_err(|e| SafetensorsError::Invalid(Error::weights(format!("{file_name}: tensor {:?}", span.name))(e)))?;
        tensors.insert(span.name, tensor);
    }
    Ok(WeightStore::from_float(tensors))
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

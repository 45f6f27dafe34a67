//! Our packaged model format, what the browser downloads and the CLI runs:
//!
//! - `model.json`: the manifest — format and version, quantization, and for every file its byte size
//!   and sha256, so a download can be checked before it is cached or run;
//! - `base.gguf`: the language-independent model; the HF `config.json` rides in its metadata, matrices
//!   are quantized (GGUF, so candle's quantized kernels and tooling apply);
//! - `<lang>.gguf`: one small file per language with its MMS adapters, CTC head and vocabulary.
//!
//! `sakha-asr convert` (see `convert.rs`) writes packages from HF checkpoints.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read, Seek};

use candle_core::quantized::gguf_file;
use candle_core::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::recognizer::Language;
use crate::vocab::Vocab;
use crate::wav2vec2::{Config, WeightStore};
use crate::{Error, Recognizer};

pub const FORMAT: &str = "sakha-asr-model";
/// Bumped whenever a file written by an older converter could be misread by this code.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "model.json";

/// GGUF metadata keys.
pub(crate) const META_FORMAT_VERSION: &str = "sakha_asr.format_version";
pub(crate) const META_CONFIG: &str = "sakha_asr.config";
pub(crate) const META_LANGUAGE: &str = "sakha_asr.language";
pub(crate) const META_VOCAB: &str = "sakha_asr.vocab";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// How the matrices of the base are stored: f32, f16, q8_0, q4_0 or q4_k.
    pub quantization: String,
    pub base: FileEntry,
    pub languages: BTreeMap<String, FileEntry>,
    pub default_language: String,
}

impl Manifest {
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let invalid = |why: String| Error::Package(format!("{MANIFEST_FILE}: {why}"));
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(invalid(format!("not a sakha-asr model manifest (no \"format\": \"{FORMAT}\")")));
        }
        check_version(value.get("format_version").and_then(|v| v.as_u64()), MANIFEST_FILE)?;
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
    }

    /// The language file for `language`, or the default language's.
    pub fn language_entry(&self, language: Option<&str>) -> Result<(&str, &FileEntry), Error> {
        let name = language.unwrap_or(&self.default_language);
        self.languages.get_key_value(name).map(|(k, v)| (k.as_str(), v)).ok_or_else(|| Error::UnknownLanguage {
            lang: name.to_string(),
            available: self.languages.keys().cloned().collect(),
        })
    }
}

fn check_version(version: Option<u64>, file: &str) -> Result<(), Error> {
    match version {
        Some(v) if v == FORMAT_VERSION as u64 => Ok(()),
        Some(v) if v > FORMAT_VERSION as u64 => Err(Error::Package(format!(
            "{file}: model format version {v} is newer than this sakha-asr understands ({FORMAT_VERSION}); \
             update sakha-asr"
        ))),
        Some(v) => Err(Error::Package(format!(
            "{file}: model format version {v} is older than this sakha-asr reads ({FORMAT_VERSION}); \
             convert the model again with this version"
        ))),
        None => Err(Error::Package(format!("{file}: no model format version"))),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a file's size and sha256 against its manifest entry.
pub fn verify(entry: &FileEntry, bytes: &[u8]) -> Result<(), Error> {
    check_digest(entry, bytes.len() as u64, &sha256_hex(bytes))
}

fn check_digest(entry: &FileEntry, size: u64, actual: &str) -> Result<(), Error> {
    if size != entry.bytes {
        return Err(Error::Package(format!(
            "{}: {size} bytes, but the manifest says {} (incomplete or wrong file)",
            entry.file, entry.bytes
        )));
    }
    if actual != entry.sha256 {
        return Err(Error::Package(format!(
            "{}: sha256 {actual} does not match the manifest's {} (corrupt or wrong file)",
            entry.file, entry.sha256
        )));
    }
    Ok(())
}

/// A GGUF file's metadata and tensors, read from memory.
struct GgufFile {
    metadata: HashMap<String, gguf_file::Value>,
    weights: WeightStore,
}

impl GgufFile {
    /// Reads tensor by tensor, so only the tensors end up in memory, not a copy of the file too.
    fn read<R: Read + Seek>(mut reader: R, name: &str) -> Result<Self, Error> {
        let in_file = Error::weights(name);
        let content = gguf_file::Content::read(&mut reader).map_err(Error::weights(name))?;
        let version = content.metadata.get(META_FORMAT_VERSION).and_then(|v| v.to_u32().ok());
        check_version(version.map(u64::from), name)?;
        let tensors = content.tensor_infos.keys().map(|tensor_name| {
            Ok((tensor_name.clone(), content.tensor(&mut reader, tensor_name, &Device::Cpu)?))
        });
        let weights = WeightStore::from_quantized(tensors).map_err(in_file)?;
        Ok(Self { metadata: content.metadata, weights })
    }

    fn string(&self, key: &str, name: &str) -> Result<&str, Error> {
        let value = self.metadata.get(key).and_then(|v| v.to_string().ok());
        value.map(String::as_str).ok_or_else(|| Error::Package(format!("{name}: no {key} in the metadata")))
    }
}

/// The base model from `base.gguf` bytes (already verified against the manifest).
pub fn read_base(bytes: &[u8], name: &str) -> Result<(Config, WeightStore), Error> {
    base_from_gguf(GgufFile::read(Cursor::new(bytes), name)?, name)
}

fn base_from_gguf(file: GgufFile, name: &str) -> Result<(Config, WeightStore), Error> {
    let config = Config::from_json(file.string(META_CONFIG, name)?.as_bytes()).map_err(Error::Config)?;
    Ok((config, file.weights))
}

/// A language from `<lang>.gguf` bytes (already verified against the manifest).
pub fn read_language(config: &Config, bytes: &[u8], name: &str) -> Result<Language, Error> {
    language_from_gguf(config, GgufFile::read(Cursor::new(bytes), name)?, name)
}

fn language_from_gguf(config: &Config, file: GgufFile, name: &str) -> Result<Language, Error> {
    let language = file.string(META_LANGUAGE, name)?;
    let table = serde_json::from_str(file.string(META_VOCAB, name)?)
        .map_err(|e| Error::Package(format!("{name}: vocabulary: {e}")))?;
    Language::load(config, Some(language), &file.weights, Vocab::from_table(table)?, name)
}

/// A recognizer from the bytes of a package's files; every file is verified first.
pub fn recognizer_from_bytes(
    manifest: &Manifest,
    base: &[u8],
    language_file: &[u8],
    language: Option<&str>,
) -> Result<Recognizer, Error> {
    let (_, language_entry) = manifest.language_entry(language)?;
    verify(&manifest.base, base)?;
    verify(language_entry, language_file)?;
    let (config, weights) = read_base(base, &manifest.base.file)?;
    let language = read_language(&config, language_file, &language_entry.file)?;
    Recognizer::new(config, &weights, language)
}

/// A package folder on disk.
#[cfg(not(target_arch = "wasm32"))]
pub struct PackageDir {
    dir: std::path::PathBuf,
    pub manifest: Manifest,
}

#[cfg(not(target_arch = "wasm32"))]
impl PackageDir {
    pub fn is_package(dir: &std::path::Path) -> bool {
        dir.join(MANIFEST_FILE).is_file()
    }

    pub fn open(dir: impl Into<std::path::PathBuf>) -> Result<Self, Error> {
        let dir = dir.into();
        let manifest = Manifest::from_json(&read_file(&dir.join(MANIFEST_FILE))?)?;
        Ok(Self { dir, manifest })
    }

    /// Opens one of the package's files after checking its size and sha256, streaming the hash so
    /// that a 200 MB base is never held in memory twice.
    fn open_verified(&self, entry: &FileEntry) -> Result<GgufFile, Error> {
        let path = self.dir.join(&entry.file);
        let io_error = |source| Error::Io { path: path.clone(), source };
        let mut file = std::io::BufReader::new(std::fs::File::open(&path).map_err(io_error)?);
        let mut hasher = Sha256::new();
        let size = std::io::copy(&mut file, &mut hasher).map_err(io_error)?;
        let digest = hex(&hasher.finalize());
        check_digest(entry, size, &digest)?;
        file.rewind().map_err(io_error)?;
        GgufFile::read(file, &entry.file)
    }

    pub fn load(&self, language: Option<&str>) -> Result<Recognizer, Error> {
        let (_, entry) = self.manifest.language_entry(language)?;
        let (config, weights) = base_from_gguf(self.open_verified(&self.manifest.base)?, &self.manifest.base.file)?;
        let language = language_from_gguf(&config, self.open_verified(entry)?, &entry.file)?;
        Recognizer::new(config, &weights, language)
    }

    /// Loads another language of the package, for [`Recognizer::set_language`].
    pub fn language(&self, config: &Config, language: &str) -> Result<Language, Error> {
        let (_, entry) = self.manifest.language_entry(Some(language))?;
        language_from_gguf(config, self.open_verified(entry)?, &entry.file)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

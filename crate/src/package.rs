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

use candle_core::quantized::{gguf_file, GgmlDType};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::recognizer::Language;
use crate::vocab::Vocab;
use crate::wav2vec2::weights::checked_product;
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
        let manifest: Self = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// A manifest's values are joined to a folder and fetched: file names must stay in the package
    /// folder, sizes and digests must be ones a file can have, and the default language must exist.
    fn validate(&self) -> Result<(), Error> {
        check_entry("base", &self.base)?;
        if self.languages.is_empty() {
            return Err(Error::invalid(MANIFEST_FILE, "languages", "there are none; a package needs at least one language file"));
        }
        for (language, entry) in &self.languages {
            check_language_name(language, MANIFEST_FILE)?;
            check_entry(&format!("languages.{language}"), entry)?;
        }
        if !self.languages.contains_key(&self.default_language) {
            return Err(Error::invalid(
                MANIFEST_FILE,
                "default_language",
                format!(
                    "{:?} is not one of the package's languages ({})",
                    self.default_language,
                    self.languages.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        Ok(())
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

/// No GGUF file is smaller: its fixed header alone is 24 bytes.
const MIN_FILE_BYTES: u64 = 24;
/// Far above any wav2vec2 package (MMS-1B in f32 is 4 GB), so only impossible sizes are refused.
const MAX_FILE_BYTES: u64 = 1 << 40;

fn check_entry(field: &str, entry: &FileEntry) -> Result<(), Error> {
    if !is_plain_name(&entry.file) || !entry.file.ends_with(".gguf") {
        return Err(Error::invalid(
            MANIFEST_FILE,
            format!("{field}.file"),
            format!(
                "{:?} is not a plain file name ending in .gguf (letters, digits, '.', '-', '_'): a package's \
                 files sit next to its model.json",
                entry.file
            ),
        ));
    }
    if !(MIN_FILE_BYTES..=MAX_FILE_BYTES).contains(&entry.bytes) {
        return Err(Error::invalid(
            MANIFEST_FILE,
            format!("{field}.bytes"),
            format!("{} bytes is not a possible size for {}", entry.bytes, entry.file),
        ));
    }
    let is_digest = entry.sha256.len() == 64 && entry.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_digest {
        return Err(Error::invalid(
            MANIFEST_FILE,
            format!("{field}.sha256"),
            format!("{:?} is not a sha256 digest (64 lowercase hex digits)", entry.sha256),
        ));
    }
    Ok(())
}

/// Language names become file names (`<lang>.gguf`) and URL parameters, so they are plain names.
pub(crate) fn check_language_name(language: &str, file: &str) -> Result<(), Error> {
    if is_plain_name(language) && language.len() <= 64 {
        return Ok(());
    }
    Err(Error::invalid(
        file,
        "languages",
        format!("{language:?} is not a language name (at most 64 letters, digits, '.', '-', '_', not starting with '.')"),
    ))
}

/// A name that cannot leave the folder it is joined to: no separators, no `..`, not absolute.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
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
    /// candle's reader is only given headers [`check_gguf_header`] accepted.
    fn read<R: Read + Seek>(mut reader: R, name: &str) -> Result<Self, Error> {
        let in_file = Error::weights(name);
        check_gguf_header(&mut reader, name)?;
        reader.rewind().map_err(|e| Error::invalid(name, "header", e.to_string()))?;
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

/// The tensor types our packages hold, by their GGUF ids (ggml.h's `ggml_type`).
const TENSOR_TYPES: [(u32, GgmlDType); 5] =
    [(0, GgmlDType::F32), (1, GgmlDType::F16), (2, GgmlDType::Q4_0), (8, GgmlDType::Q8_0), (12, GgmlDType::Q4K)];
/// Bounds far above what a package holds (MMS-1B: about 900 tensors, 4 metadata keys, no arrays),
/// which keep what candle's reader allocates for the header itself small.
const MAX_TENSORS: u64 = 1 << 16;
const MAX_METADATA: u64 = 1 << 12;
const MAX_ARRAY: u64 = 1 << 16;
const MAX_NAME_BYTES: u64 = 1 << 16;
const MAX_VALUE_DEPTH: u32 = 8;
/// What candle's reader takes when the metadata has no `general.alignment`.
const DEFAULT_ALIGNMENT: u64 = 32;

/// Walks a GGUF header (version 2 or 3, as candle writes them) the way candle's reader will, checking
/// every count, length, alignment, shape and offset against the file first: candle's reader divides
/// by the alignment and multiplies dims unchecked. Tensors must lie in the file without overlapping,
/// so what is allocated for them is at most the file's size.
fn check_gguf_header<R: Read + Seek>(reader: &mut R, name: &str) -> Result<(), Error> {
    let mut header = HeaderReader::new(reader, name)?;
    if header.bytes::<4>("magic")? != *b"GGUF" {
        return Err(header.invalid("magic", "not a GGUF file"));
    }
    let version = header.u32("version")?;
    if !matches!(version, 2 | 3) {
        return Err(header.invalid("version", format!("GGUF version {version}; packages are GGUF 2 or 3")));
    }
    let tensor_count = header.count("tensor_count", MAX_TENSORS)?;
    let metadata_count = header.count("metadata_kv_count", MAX_METADATA)?;
    let mut alignment = DEFAULT_ALIGNMENT;
    for _ in 0..metadata_count {
        let key = header.string("metadata key")?;
        let value_type = header.u32(&key)?;
        if key == "general.alignment" {
            alignment = header.alignment(value_type)?;
        } else {
            header.skip_value(value_type, &key, 0)?;
        }
    }
    let mut names = std::collections::HashSet::new();
    let mut tensors = Vec::new();
    for _ in 0..tensor_count {
        let tensor = header.string("tensor name")?;
        let (offset, bytes) = header.tensor_info(&tensor)?;
        if !names.insert(tensor.clone()) {
            return Err(header.invalid(tensor, "the file has two tensors of this name"));
        }
        tensors.push((offset, bytes, tensor));
    }
    let data_start = header.position()?.div_ceil(alignment).saturating_mul(alignment);
    tensors.sort();
    let mut free_from = 0u64;
    for (offset, bytes, tensor) in tensors {
        if offset < free_from {
            return Err(header.invalid(tensor, format!("its data at offset {offset} overlaps the previous tensor's")));
        }
        let end = data_start.checked_add(offset).and_then(|start| start.checked_add(bytes));
        if end.is_none_or(|end| end > header.size) {
            return Err(header.invalid(
                tensor,
                format!("{bytes} bytes at offset {offset} after the header do not fit in the {}-byte file", header.size),
            ));
        }
        free_from = offset + bytes;
    }
    Ok(())
}

/// Reads a GGUF header; every failure names the file and the field being read.
struct HeaderReader<'a, R> {
    reader: &'a mut R,
    file: &'a str,
    size: u64,
}

impl<'a, R: Read + Seek> HeaderReader<'a, R> {
    fn new(reader: &'a mut R, file: &'a str) -> Result<Self, Error> {
        let size = reader.seek(std::io::SeekFrom::End(0)).and_then(|size| reader.rewind().map(|()| size));
        let size = size.map_err(|e| Error::invalid(file, "header", e.to_string()))?;
        Ok(Self { reader, file, size })
    }

    fn invalid(&self, field: impl Into<String>, why: impl Into<String>) -> Error {
        Error::invalid(self.file, field, why)
    }

    fn truncated(&self, field: &str) -> Error {
        self.invalid(field, "the file ends inside its header (truncated or not a GGUF file)")
    }

    fn position(&mut self) -> Result<u64, Error> {
        self.reader.stream_position().map_err(|e| Error::invalid(self.file, "header", e.to_string()))
    }

    fn bytes<const N: usize>(&mut self, field: &str) -> Result<[u8; N], Error> {
        let mut bytes = [0; N];
        self.reader.read_exact(&mut bytes).map_err(|_| self.truncated(field))?;
        Ok(bytes)
    }

    fn u32(&mut self, field: &str) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.bytes(field)?))
    }

    fn u64(&mut self, field: &str) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.bytes(field)?))
    }

    fn count(&mut self, field: &str, max: u64) -> Result<u64, Error> {
        let count = self.u64(field)?;
        if count > max {
            return Err(self.invalid(field, format!("{count} is more than a model package has (at most {max})")));
        }
        Ok(count)
    }

    /// Moves past `bytes` bytes of the header, which must be in the file.
    fn skip(&mut self, bytes: u64, field: &str) -> Result<(), Error> {
        let end = self.position()?.checked_add(bytes);
        if end.is_none_or(|end| end > self.size) {
            return Err(self.truncated(field));
        }
        let offset = i64::try_from(bytes).map_err(|_| self.truncated(field))?;
        self.reader.seek(std::io::SeekFrom::Current(offset)).map_err(|_| self.truncated(field))?;
        Ok(())
    }

    fn string_length(&mut self, field: &str, max: u64) -> Result<u64, Error> {
        let length = self.u64(field)?;
        if length > max {
            return Err(self.invalid(field, format!("a string of {length} bytes is longer than the file allows")));
        }
        Ok(length)
    }

    /// A key or tensor name, read only after its length is checked.
    fn string(&mut self, field: &str) -> Result<String, Error> {
        let length = self.string_length(field, MAX_NAME_BYTES)?;
        if self.position()? + length > self.size {
            return Err(self.truncated(field));
        }
        let mut bytes = vec![0; length as usize];
        self.reader.read_exact(&mut bytes).map_err(|_| self.truncated(field))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `general.alignment`, which candle's reader divides by: a power of two, in one of the integer
    /// types candle's reader honours (it would silently use 32 for others).
    fn alignment(&mut self, value_type: u32) -> Result<u64, Error> {
        const FIELD: &str = "general.alignment";
        let value: i64 = match value_type {
            0 => u8::from_le_bytes(self.bytes(FIELD)?).into(),
            1 => i8::from_le_bytes(self.bytes(FIELD)?).into(),
            2 => u16::from_le_bytes(self.bytes(FIELD)?).into(),
            3 => i16::from_le_bytes(self.bytes(FIELD)?).into(),
            4 => u32::from_le_bytes(self.bytes(FIELD)?).into(),
            5 => i32::from_le_bytes(self.bytes(FIELD)?).into(),
            other => return Err(self.invalid(FIELD, format!("stored as GGUF type {other}; it must be a 32-bit integer"))),
        };
        match u64::try_from(value) {
            Ok(alignment) if alignment.is_power_of_two() => Ok(alignment),
            _ => Err(self.invalid(FIELD, format!("{value}; it must be a power of two (1, 2, 4, ... 32)"))),
        }
    }

    fn skip_value(&mut self, value_type: u32, field: &str, depth: u32) -> Result<(), Error> {
        match value_type {
            0 | 1 | 7 => self.skip(1, field),
            2 | 3 => self.skip(2, field),
            4..=6 => self.skip(4, field),
            10..=12 => self.skip(8, field),
            8 => {
                let length = self.string_length(field, self.size)?;
                self.skip(length, field)
            }
            9 if depth < MAX_VALUE_DEPTH => {
                let element_type = self.u32(field)?;
                let length = self.u64(field)?;
                if length > MAX_ARRAY {
                    return Err(self.invalid(field, format!("an array of {length} values is more than a package has (at most {MAX_ARRAY})")));
                }
                (0..length).try_for_each(|_| self.skip_value(element_type, field, depth + 1))
            }
            9 => Err(self.invalid(field, format!("arrays nested more than {MAX_VALUE_DEPTH} deep"))),
            other => Err(self.invalid(field, format!("unknown GGUF value type {other}"))),
        }
    }

    /// Checks one tensor's dims, type and size; returns its offset from the data start and its bytes.
    fn tensor_info(&mut self, tensor: &str) -> Result<(u64, u64), Error> {
        let rank = self.u32(tensor)?;
        if !(1..=4).contains(&rank) {
            return Err(self.invalid(tensor, format!("{rank} dimensions; tensors have 1 to 4")));
        }
        // GGUF lists the innermost dimension first, the one quantization blocks run along.
        let dims = (0..rank).map(|_| self.u64(tensor)).collect::<Result<Vec<_>, _>>()?;
        let type_id = self.u32(tensor)?;
        let Some(&(_, dtype)) = TENSOR_TYPES.iter().find(|(id, _)| *id == type_id) else {
            return Err(self.invalid(tensor, format!("GGUF tensor type {type_id}; packages hold f32, f16, q8_0, q4_0 and q4_k")));
        };
        let offset = self.u64(tensor)?;
        let block = dtype.block_size() as u64;
        if dims.contains(&0) || dims[0] % block != 0 {
            return Err(self.invalid(
                tensor,
                format!("dims {dims:?} (innermost first): none may be 0, and the first must be a multiple of {dtype:?}'s block of {block}"),
            ));
        }
        // candle counts elements in a usize: 32 bits in wasm.
        let elements = checked_product(dims.iter().copied()).filter(|&elements| usize::try_from(elements).is_ok());
        let bytes = elements.and_then(|elements| (elements / block).checked_mul(dtype.type_size() as u64));
        match bytes {
            Some(bytes) if bytes <= self.size => Ok((offset, bytes)),
            _ => Err(self.invalid(tensor, format!("dims {dims:?} need more bytes than the {}-byte file has", self.size))),
        }
    }
}

/// The base model from `base.gguf` bytes (already verified against the manifest).
pub fn read_base(bytes: &[u8], name: &str) -> Result<(Config, WeightStore), Error> {
    base_from_gguf(GgufFile::read(Cursor::new(bytes), name)?, name)
}

fn base_from_gguf(file: GgufFile, name: &str) -> Result<(Config, WeightStore), Error> {
    let config = Config::from_json(file.string(META_CONFIG, name)?.as_bytes())
        .map_err(|e| Error::invalid(name, META_CONFIG, e.why))?;
    Ok((config, file.weights))
}

/// `language`'s file from `<lang>.gguf` bytes (already verified against the manifest).
pub fn read_language(config: &Config, bytes: &[u8], name: &str, language: &str) -> Result<Language, Error> {
    language_from_gguf(config, GgufFile::read(Cursor::new(bytes), name)?, name, language)
}

/// The file must hold the language the manifest lists it under.
fn language_from_gguf(config: &Config, file: GgufFile, name: &str, expected: &str) -> Result<Language, Error> {
    let language = file.string(META_LANGUAGE, name)?;
    if language != expected {
        return Err(Error::invalid(
            name,
            META_LANGUAGE,
            format!("the file holds language {language:?}, but the manifest lists it for {expected:?}"),
        ));
    }
    let table = serde_json::from_str(file.string(META_VOCAB, name)?)
        .map_err(|e| Error::invalid(name, META_VOCAB, format!("not a token table: {e}")))?;
    let vocab = Vocab::from_table(table).map_err(|e| Error::invalid(name, META_VOCAB, e.to_string()))?;
    Language::load(config, Some(language), &file.weights, vocab, name)
}

/// A recognizer from the bytes of a package's files; every file is verified first.
pub fn recognizer_from_bytes(
    manifest: &Manifest,
    base: &[u8],
    language_file: &[u8],
    language: Option<&str>,
) -> Result<Recognizer, Error> {
    let (language, language_entry) = manifest.language_entry(language)?;
    verify(&manifest.base, base)?;
    verify(language_entry, language_file)?;
    let (config, weights) = read_base(base, &manifest.base.file)?;
    let language = read_language(&config, language_file, &language_entry.file, language)?;
    Recognizer::from_file(config, &weights, language, &manifest.base.file)
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
        let (language, entry) = self.manifest.language_entry(language)?;
        let (config, weights) = base_from_gguf(self.open_verified(&self.manifest.base)?, &self.manifest.base.file)?;
        let language = language_from_gguf(&config, self.open_verified(entry)?, &entry.file, language)?;
        Recognizer::from_file(config, &weights, language, &self.manifest.base.file)
    }

    /// Loads another language of the package, for [`Recognizer::set_language`].
    pub fn language(&self, config: &Config, language: &str) -> Result<Language, Error> {
        let (language, entry) = self.manifest.language_entry(Some(language))?;
        language_from_gguf(config, self.open_verified(entry)?, &entry.file, language)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

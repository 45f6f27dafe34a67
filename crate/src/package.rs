//! Our packaged model format, what the browser downloads and the CLI runs:
//!
//! - `model.json`: the manifest — format and version, quantization, and for every file its byte size
//!   and sha256, so a download can be checked before it is cached or run;
//! - `base.gguf`: the language-independent model; the HF `config.json` rides in its metadata, matrices
//!   are quantized (GGUF, so candle's quantized kernels and tooling apply);
//! - `<lang>.gguf`: one small file per language with its MMS adapters, CTC head and vocabulary;
//! - `<lang>.lm` (optional): the language's word LM for beam-search decoding ([`crate::lm`]).
//!
//! `sakha-asr convert` (see `convert.rs`) writes packages from HF checkpoints.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{Cursor, Read, Seek, SeekFrom};

use candle_core::quantized::{gguf_file, ggml_file, GgmlDType};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lm::WordLm;
use crate::recognizer::Language;
use crate::vocab::Vocab;
use crate::wav2vec2::weights::checked_product;
use crate::wav2vec2::weights::WeightStoreBuilder;
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
    /// Word LMs by language, for those that have one. Older readers ignore the field and decode
    /// greedily, so it needs no new format version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub language_models: BTreeMap<String, FileEntry>,
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
        check_entry("base", &self.base, GGUF)?;
        if self.languages.is_empty() {
            return Err(Error::invalid(MANIFEST_FILE, "languages", "there are none; a package needs at least one language file"));
        }
        for (language, entry) in &self.languages {
            check_language_name(language, MANIFEST_FILE)?;
            check_entry(&format!("languages.{language}"), entry, GGUF)?;
        }
        for (language, entry) in &self.language_models {
            if !self.languages.contains_key(language) {
                return Err(Error::invalid(
                    MANIFEST_FILE,
                    format!("language_models.{language}"),
                    "a word LM for a language the package does not have",
                ));
            }
            check_entry(&format!("language_models.{language}"), entry, LANGUAGE_MODEL)?;
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

    /// Writes `model.json` into the package folder `dir`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn write_to(&self, dir: &std::path::Path) -> Result<(), Error> {
        let path = dir.join(MANIFEST_FILE);
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::Package(e.to_string()))? + "\n";
        std::fs::write(&path, json).map_err(|source| Error::Io { path, source })
    }

    /// The word LM file of `language` (the default language when `None`), if it has one.
    pub fn language_model_entry(&self, language: Option<&str>) -> Option<&FileEntry> {
        self.language_models.get(language.unwrap_or(&self.default_language))
    }
}

/// File name endings by kind; a file is read as the kind its name says.
const GGUF: &str = ".gguf";
const LANGUAGE_MODEL: &str = ".lm";

fn check_version(version: Option<u64>, file: &str) -> Result<(), Error> {
    match version {
        Some(v) if v == FORMAT_VERSION as u64 => Ok(()),
        Some(v) if v > FORMAT_VERSION as u64 => Err(Error::Version(format!(
            "{file}: model format version {v} is newer than this sakha-asr understands ({FORMAT_VERSION}); \
             update sakha-asr"
        ))),
        Some(v) => Err(Error::Version(format!(
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

fn check_entry(field: &str, entry: &FileEntry, ending: &str) -> Result<(), Error> {
    if !is_plain_name(&entry.file) || !entry.file.ends_with(ending) {
        return Err(Error::invalid(
            MANIFEST_FILE,
            format!("{field}.file"),
            format!(
                "{:?} is not a plain file name ending in {ending} (letters, digits, '.', '-', '_'): a package's \
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

fn check_digest(entry: &FileEntry, size: u64, actual: &str) -> Result<(), Error> {
    let mismatch = |why| Error::FileMismatch { file: entry.file.clone(), why };
    if size != entry.bytes {
        return Err(mismatch(format!("{size} bytes, but the manifest says {} (incomplete or wrong file)", entry.bytes)));
    }
    if actual != entry.sha256 {
        return Err(mismatch(format!("sha256 {actual} does not match the manifest's {} (corrupt or wrong file)", entry.sha256)));
    }
    Ok(())
}

/// A GGUF file's metadata and tensors.
struct GgufFile {
    metadata: HashMap<String, gguf_file::Value>,
    weights: WeightStore,
}

impl GgufFile {
    /// A whole file in memory, read as if it arrived in one piece.
    fn read(bytes: &[u8], name: &str) -> Result<Self, Error> {
        let mut stream = GgufStream::new(name, bytes.len() as u64);
        stream.push(bytes)?;
        stream.finish()
    }

    fn string(&self, key: &str, name: &str) -> Result<&str, Error> {
        let value = self.metadata.get(key).and_then(|v| v.to_string().ok());
        value.map(String::as_str).ok_or_else(|| Error::Package(format!("{name}: no {key} in the metadata")))
    }
}

/// One file of a package read as it arrives, in pieces of any size, and checked against its
/// manifest entry: the sha256 is computed on the way, the GGUF header is checked and parsed once it
/// is complete, and each tensor takes its final form (for our int8 kernel: packed) as soon as its
/// bytes are in. So no copy of the whole file is ever held, only the tensor being filled. A word LM
/// (`.lm`) is read in place once complete ([`WordLm`]), so its bytes are collected as they are.
///
/// Nothing it parsed is handed out before [`FileLoader::finish`] has compared size and digest with
/// the manifest, and a damaged file is reported as such ([`Error::FileMismatch`]) even when the
/// damage also broke its header.
pub struct FileLoader {
    entry: FileEntry,
    /// `None` for a copy that was verified before it was stored.
    hasher: Option<Sha256>,
    received: u64,
    /// The first error the file's contents gave; later bytes are then only hashed.
    parsed: Result<Contents, Error>,
}

enum Contents {
    Gguf(GgufStream),
    LanguageModel(Vec<u8>),
}

impl FileLoader {
    pub fn new(entry: &FileEntry) -> Self {
        Self::with_hasher(entry, Some(Sha256::new()))
    }

    /// For a copy of the file that was verified before it was stored (the browser's Cache API holds
    /// only such copies): only its size is checked. Hashing is most of the time a load takes in wasm
    /// (software sha256), and the header and tensor checks keep a damaged copy from doing harm.
    pub fn verified_before(entry: &FileEntry) -> Self {
        Self::with_hasher(entry, None)
    }

    /// The manifest's checks tie each kind of file to its name's ending.
    fn with_hasher(entry: &FileEntry, hasher: Option<Sha256>) -> Self {
        let contents = if entry.file.ends_with(LANGUAGE_MODEL) {
            // Room for the whole file at once (wasm memory never shrinks, so no doubling growth), but
            // not on a manifest's word alone beyond any real LM's size.
            Contents::LanguageModel(Vec::with_capacity(entry.bytes.min(1 << 26) as usize))
        } else {
            Contents::Gguf(GgufStream::new(&entry.file, entry.bytes))
        };
        Self { entry: entry.clone(), hasher, received: 0, parsed: Ok(contents) }
    }

    /// The file's next bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.received = self.received.saturating_add(chunk.len() as u64);
        if self.received > self.entry.bytes {
            // `finish` reports the size; nothing past it is worth hashing or parsing.
            self.parsed = Err(self.size_mismatch());
            return;
        }
        if let Some(hasher) = &mut self.hasher {
            hasher.update(chunk);
        }
        match &mut self.parsed {
            Ok(Contents::Gguf(stream)) => {
                if let Err(e) = stream.push(chunk) {
                    self.parsed = Err(e);
                }
            }
            Ok(Contents::LanguageModel(bytes)) => bytes.extend_from_slice(chunk),
            Err(_) => {}
        }
    }

    /// Whether more bytes arrived than the manifest says the file has: reading on is pointless.
    pub fn is_overlong(&self) -> bool {
        self.received > self.entry.bytes
    }

    fn size_mismatch(&self) -> Error {
        let why = format!("{} bytes, but the manifest says {} (incomplete or wrong file)", self.received, self.entry.bytes);
        Error::FileMismatch { file: self.entry.file.clone(), why }
    }

    /// The file, once all of it arrived and matched its manifest entry.
    pub fn finish(self) -> Result<LoadedFile, Error> {
        if self.received != self.entry.bytes {
            return Err(self.size_mismatch());
        }
        if let Some(hasher) = self.hasher {
            check_digest(&self.entry, self.received, &hex(&hasher.finalize()))?;
        }
        let contents = match self.parsed? {
            Contents::Gguf(stream) => Loaded::Gguf(stream.finish()?),
            Contents::LanguageModel(bytes) => Loaded::LanguageModel(WordLm::from_bytes(bytes, &self.entry.file)?),
        };
        Ok(LoadedFile { name: self.entry.file, contents })
    }
}

/// A package file that arrived whole and matched its manifest entry, parsed.
pub struct LoadedFile {
    name: String,
    contents: Loaded,
}

enum Loaded {
    Gguf(GgufFile),
    LanguageModel(WordLm),
}

impl LoadedFile {
    /// A file whose bytes are all in memory, through the same loader as one arriving in pieces.
    pub fn from_bytes(entry: &FileEntry, bytes: &[u8]) -> Result<Self, Error> {
        let mut loader = FileLoader::new(entry);
        loader.push(bytes);
        loader.finish()
    }

    /// `language`'s adapters, CTC head and vocabulary, from its file, for a base of `config`.
    pub fn into_language(self, config: &Config, language: &str) -> Result<Language, Error> {
        let (name, gguf) = self.into_gguf()?;
        language_from_gguf(config, gguf, &name, language)
    }

    /// The word LM of a `.lm` file.
    pub fn into_language_model(self) -> Result<WordLm, Error> {
        match self.contents {
            Loaded::LanguageModel(lm) => Ok(lm),
            Loaded::Gguf(_) => Err(Error::Package(format!("{} is a model file, not a word LM", self.name))),
        }
    }

    fn into_gguf(self) -> Result<(String, GgufFile), Error> {
        match self.contents {
            Loaded::Gguf(gguf) => Ok((self.name, gguf)),
            Loaded::LanguageModel(_) => Err(Error::Package(format!("{} is a word LM, not a model file", self.name))),
        }
    }
}

/// Parses a GGUF file from pieces of any size; the caller guarantees no more than `size` bytes.
struct GgufStream {
    name: String,
    size: u64,
    state: StreamState,
}

enum StreamState {
    /// The start of the file, until its header is complete; parsed again once `retry_at` bytes are in.
    Header { arrived: Vec<u8>, retry_at: u64 },
    Tensors(Box<TensorFiller>),
}

impl GgufStream {
    fn new(name: &str, size: u64) -> Self {
        let state = StreamState::Header { arrived: Vec::new(), retry_at: MIN_FILE_BYTES.min(size) };
        Self { name: name.to_string(), size, state }
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let (arrived, retry_at) = match &mut self.state {
            StreamState::Tensors(filler) => return filler.push(chunk, &self.name),
            StreamState::Header { arrived, retry_at } => (arrived, *retry_at),
        };
        arrived.extend_from_slice(chunk);
        if (arrived.len() as u64) < retry_at {
            return Ok(());
        }
        let arrived = std::mem::take(arrived);
        match read_header(&arrived, self.size, &self.name)? {
            Header::Complete { mut filler, header_end } => {
                // header_end is within what arrived: read_header checked it.
                let pushed = filler.push(&arrived[header_end as usize..], &self.name);
                self.state = StreamState::Tensors(filler);
                pushed
            }
            Header::Needs(bytes) => {
                // At least doubling what is parsed keeps a header that arrives byte by byte linear.
                let retry_at = bytes.max(2 * arrived.len() as u64).min(self.size);
                self.state = StreamState::Header { arrived, retry_at };
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<GgufFile, Error> {
        match self.state {
            StreamState::Tensors(filler) => filler.finish(&self.name),
            // The whole file is always parsed as a header once it is in, so it ended early.
            StreamState::Header { .. } => Err(Error::invalid(&self.name, "header", "the file ends inside its header")),
        }
    }
}

enum Header {
    Complete { filler: Box<TensorFiller>, header_end: u64 },
    /// The header goes on past what arrived: try again once this many bytes are in.
    Needs(u64),
}

/// Checks and parses the header at the start of `arrived` (of a `size`-byte file).
fn read_header(arrived: &[u8], size: u64, name: &str) -> Result<Header, Error> {
    let mut reader = Arrived { bytes: arrived, position: 0, size, wanted: None };
    let checked = check_gguf_header(&mut reader, size, name);
    if let (Err(_), Some(wanted)) = (&checked, reader.wanted) {
        return Ok(Header::Needs(wanted));
    }
    let layout = checked?;
    if layout.header_end > arrived.len() as u64 {
        return Ok(Header::Needs(layout.header_end));
    }
    let content = gguf_file::Content::read(&mut Cursor::new(arrived)).map_err(Error::weights(name))?;
    let version = content.metadata.get(META_FORMAT_VERSION).and_then(|v| v.to_u32().ok());
    check_version(version.map(u64::from), name)?;
    let mut pending: Vec<PendingTensor> = content
        .tensor_infos
        .into_iter()
        .map(|(name, info)| PendingTensor {
            start: layout.data_start + info.offset,
            // check_gguf_header bounded every tensor by the file's size and usize.
            bytes: info.shape.elem_count() / info.ggml_dtype.block_size() * info.ggml_dtype.type_size(),
            dtype: info.ggml_dtype,
            dims: info.shape.dims().to_vec(),
            name,
        })
        .collect();
    pending.sort_by_key(|tensor| tensor.start);
    let filler = Box::new(TensorFiller {
        metadata: content.metadata,
        pending: pending.into(),
        position: layout.header_end,
        filling: Vec::new(),
        weights: WeightStoreBuilder::new(),
    });
    Ok(Header::Complete { filler, header_end: layout.header_end })
}

/// The part of a file that has arrived, as a reader for the header check: a read past it (but not
/// past the file's end) records in `wanted` how much of the file the header needs.
struct Arrived<'a> {
    bytes: &'a [u8],
    position: u64,
    size: u64,
    wanted: Option<u64>,
}

impl Read for Arrived<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = usize::try_from(self.position).ok();
        let available = start.and_then(|start| self.bytes.get(start..)).unwrap_or_default();
        let n = buf.len().min(available.len());
        buf[..n].copy_from_slice(&available[..n]);
        let want = self.position.saturating_add(buf.len() as u64).min(self.size);
        if n < buf.len() && want > self.bytes.len() as u64 {
            self.wanted = Some(self.wanted.unwrap_or(0).max(want));
        }
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Arrived<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek out of range");
        self.position = match to {
            SeekFrom::Start(position) => Some(position),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
        }
        .ok_or_else(invalid)?;
        Ok(self.position)
    }
}

struct PendingTensor {
    name: String,
    /// Where its data starts in the file.
    start: u64,
    bytes: usize,
    dtype: GgmlDType,
    dims: Vec<usize>,
}

/// Turns a GGUF file's data section into tensors as it arrives: the tensors come in offset order
/// (checked not to overlap), so only the one being filled is held as raw bytes.
struct TensorFiller {
    metadata: HashMap<String, gguf_file::Value>,
    pending: VecDeque<PendingTensor>,
    /// The file position of the next byte pushed.
    position: u64,
    /// The raw bytes of `pending`'s first tensor so far.
    filling: Vec<u8>,
    weights: WeightStoreBuilder,
}

impl TensorFiller {
    fn push(&mut self, mut chunk: &[u8], name: &str) -> Result<(), Error> {
        while !chunk.is_empty() {
            let Some(tensor) = self.pending.front() else {
                // Bytes after the last tensor's data belong to no tensor.
                self.position += chunk.len() as u64;
                return Ok(());
            };
            // Padding before the tensor's data.
            let gap = tensor.start.saturating_sub(self.position).min(chunk.len() as u64) as usize;
            let take = (tensor.bytes - self.filling.len()).min(chunk.len() - gap);
            if take > 0 && self.filling.is_empty() {
                self.filling.reserve_exact(tensor.bytes);
            }
            self.filling.extend_from_slice(&chunk[gap..gap + take]);
            chunk = &chunk[gap + take..];
            self.position += (gap + take) as u64;
            if self.filling.len() < tensor.bytes {
                continue;
            }
            if let Some(tensor) = self.pending.pop_front() {
                // A fresh allocation, aligned for candle's block types (a chunk's slice may not be).
                let raw = std::mem::take(&mut self.filling);
                let qtensor = ggml_file::qtensor_from_ggml(tensor.dtype, &raw, tensor.dims, &Device::Cpu);
                drop(raw);
                let added = qtensor.and_then(|qtensor| self.weights.add(tensor.name, qtensor));
                added.map_err(Error::weights(name))?;
            }
        }
        Ok(())
    }

    fn finish(self, name: &str) -> Result<GgufFile, Error> {
        if let Some(tensor) = self.pending.front() {
            return Err(Error::invalid(name, &tensor.name, "the file ends before this tensor's data does"));
        }
        Ok(GgufFile { metadata: self.metadata, weights: self.weights.finish() })
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

/// Where a checked GGUF header ends, and where the data its tensor offsets count from starts.
struct Layout {
    header_end: u64,
    data_start: u64,
}

/// Walks a GGUF header (version 2 or 3, as candle writes them) of a `size`-byte file the way candle's
/// reader will, checking every count, length, alignment, shape and offset against the file first:
/// candle's reader divides by the alignment and multiplies dims unchecked. Tensors must lie in the
/// file without overlapping, so what is allocated for them is at most the file's size.
fn check_gguf_header<R: Read + Seek>(reader: &mut R, size: u64, name: &str) -> Result<Layout, Error> {
    let mut header = HeaderReader { reader, file: name, size };
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
    let header_end = header.position()?;
    let data_start = header_end.div_ceil(alignment).saturating_mul(alignment);
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
    Ok(Layout { header_end, data_start })
}

/// Reads a GGUF header; every failure names the file and the field being read.
struct HeaderReader<'a, R> {
    reader: &'a mut R,
    file: &'a str,
    size: u64,
}

impl<R: Read + Seek> HeaderReader<'_, R> {
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
        self.reader.seek(SeekFrom::Current(offset)).map_err(|_| self.truncated(field))?;
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
    base_from_gguf(GgufFile::read(bytes, name)?, name)
}

fn base_from_gguf(file: GgufFile, name: &str) -> Result<(Config, WeightStore), Error> {
    let config = Config::from_json(file.string(META_CONFIG, name)?.as_bytes())
        .map_err(|e| Error::invalid(name, META_CONFIG, e.why))?;
    Ok((config, file.weights))
}

/// `language`'s file from `<lang>.gguf` bytes (already verified against the manifest).
pub fn read_language(config: &Config, bytes: &[u8], name: &str, language: &str) -> Result<Language, Error> {
    language_from_gguf(config, GgufFile::read(bytes, name)?, name, language)
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

/// A recognizer from the bytes of a package's files, with the language's word LM when
/// `language_model` holds its file's bytes; every file is verified first.
pub fn recognizer_from_bytes(
    manifest: &Manifest,
    base: &[u8],
    language_file: &[u8],
    language_model: Option<&[u8]>,
    language: Option<&str>,
) -> Result<Recognizer, Error> {
    let (language, language_entry) = manifest.language_entry(language)?;
    let base = LoadedFile::from_bytes(&manifest.base, base)?;
    let mut recognizer = recognizer_from_files(base, LoadedFile::from_bytes(language_entry, language_file)?, language)?;
    if let Some(bytes) = language_model {
        let entry = manifest.language_model_entry(Some(language)).ok_or_else(|| {
            Error::Package(format!("{MANIFEST_FILE} lists no word LM for {language:?}"))
        })?;
        let lm = LoadedFile::from_bytes(entry, bytes)?.into_language_model()?;
        recognizer.language_mut().set_language_model(Some(std::sync::Arc::new(lm)));
    }
    Ok(recognizer)
}

/// A recognizer from a package's base file and `language`'s file.
pub fn recognizer_from_files(base: LoadedFile, language_file: LoadedFile, language: &str) -> Result<Recognizer, Error> {
    let (name, gguf) = base.into_gguf()?;
    let (config, weights) = base_from_gguf(gguf, &name)?;
    let language = language_file.into_language(&config, language)?;
    Recognizer::from_file(config, &weights, language, &name)
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

    /// Reads one of the package's files through a [`FileLoader`], so that a 350 MB base is read once
    /// and never held in memory besides its tensors.
    fn open_verified(&self, entry: &FileEntry) -> Result<LoadedFile, Error> {
        let path = self.dir.join(&entry.file);
        let io_error = |source| Error::Io { path: path.clone(), source };
        let mut file = std::fs::File::open(&path).map_err(io_error)?;
        let mut loader = FileLoader::new(entry);
        let mut chunk = vec![0; 1 << 20];
        while !loader.is_overlong() {
            match file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => loader.push(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
        loader.finish()
    }

    /// A recognizer for `language` (the default language when `None`), with its word LM if the
    /// package has one.
    pub fn load(&self, language: Option<&str>) -> Result<Recognizer, Error> {
        let (language, entry) = self.manifest.language_entry(language)?;
        let base = self.open_verified(&self.manifest.base)?;
        let mut recognizer = recognizer_from_files(base, self.open_verified(entry)?, language)?;
        let lm = self.language_model(language)?;
        recognizer.language_mut().set_language_model(lm);
        Ok(recognizer)
    }

    /// Loads another language of the package, with its word LM, for [`Recognizer::set_language`].
    pub fn language(&self, config: &Config, language: &str) -> Result<Language, Error> {
        let (language, entry) = self.manifest.language_entry(Some(language))?;
        let mut loaded = self.open_verified(entry)?.into_language(config, language)?;
        loaded.set_language_model(self.language_model(language)?);
        Ok(loaded)
    }

    fn language_model(&self, language: &str) -> Result<Option<std::sync::Arc<WordLm>>, Error> {
        let Some(entry) = self.manifest.language_model_entry(Some(language)) else { return Ok(None) };
        Ok(Some(std::sync::Arc::new(self.open_verified(entry)?.into_language_model()?)))
    }

    /// Puts the word LM file `lm_bytes` into the package as `language`'s (replacing one it had):
    /// checked as an LM first, written as `<language>.lm`, and listed in `model.json`.
    pub fn add_language_model(&mut self, language: Option<&str>, lm_bytes: &[u8]) -> Result<&FileEntry, Error> {
        let (language, _) = self.manifest.language_entry(language)?;
        let language = language.to_string();
        let file = format!("{language}{LANGUAGE_MODEL}");
        WordLm::from_bytes(lm_bytes.to_vec(), &file)?;
        let path = self.dir.join(&file);
        std::fs::write(&path, lm_bytes).map_err(|source| Error::Io { path, source })?;
        let entry = FileEntry { file, bytes: lm_bytes.len() as u64, sha256: sha256_hex(lm_bytes) };
        self.manifest.language_models.insert(language.clone(), entry);
        self.manifest.write_to(&self.dir)?;
        Ok(&self.manifest.language_models[&language])
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

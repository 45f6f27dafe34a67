//! A package file read as it arrives, checked against its manifest entry on the way.

use std::io::{Cursor, Read, Seek, SeekFrom};

use candle_core::quantized::gguf_file;
use sha2::{Digest, Sha256};

use super::gguf::{check_gguf_header, language_from_gguf, META_FORMAT_VERSION};
use super::manifest::{check_digest, check_version, hex, FileEntry, LANGUAGE_MODEL, MIN_FILE_BYTES};
use super::tensors::{GgufFile, TensorFiller};
use crate::lm::WordLm;
use crate::recognizer::Language;
use crate::wav2vec2::Config;
use crate::Error;

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

    pub(super) fn into_gguf(self) -> Result<(String, GgufFile), Error> {
        match self.contents {
            Loaded::Gguf(gguf) => Ok((self.name, gguf)),
            Loaded::LanguageModel(_) => Err(Error::Package(format!("{} is a word LM, not a model file", self.name))),
        }
    }
}

impl GgufFile {
    /// A whole file in memory, read as if it arrived in one piece.
    pub(super) fn read(bytes: &[u8], name: &str) -> Result<Self, Error> {
        let mut stream = GgufStream::new(name, bytes.len() as u64);
        stream.push(bytes)?;
        stream.finish()
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
    let filler = TensorFiller::new(content, layout.data_start, layout.header_end);
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

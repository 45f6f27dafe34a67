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

// Native only: the browser gets its files from the network, not a folder.
#[cfg(not(target_arch = "wasm32"))]
mod dir;
mod gguf;
mod loading;
mod manifest;
mod tensors;

#[cfg(not(target_arch = "wasm32"))]
pub use dir::PackageDir;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use gguf::{META_CONFIG, META_FORMAT_VERSION, META_LANGUAGE, META_VOCAB};
pub use loading::{FileLoader, LoadedFile};
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use manifest::check_language_name;
pub use manifest::{sha256_hex, FileEntry, Manifest, FORMAT, FORMAT_VERSION, MANIFEST_FILE};

use gguf::{base_from_gguf, language_from_gguf};
use tensors::GgufFile;

use crate::recognizer::Language;
use crate::wav2vec2::{Config, WeightStore};
use crate::{Error, Recognizer};

/// The base model from `base.gguf` bytes (already verified against the manifest).
pub fn read_base(bytes: &[u8], name: &str) -> Result<(Config, WeightStore), Error> {
    base_from_gguf(GgufFile::read(bytes, name)?, name)
}

/// `language`'s file from `<lang>.gguf` bytes (already verified against the manifest).
pub fn read_language(config: &Config, bytes: &[u8], name: &str, language: &str) -> Result<Language, Error> {
    language_from_gguf(config, GgufFile::read(bytes, name)?, name, language)
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

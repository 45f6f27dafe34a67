//! `model.json`: the manifest that lists a package's files with their sizes and sha256, and the
//! checks on its values and on the files it names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

pub const FORMAT: &str = "sakha-asr-model";
/// Bumped whenever a file written by an older converter could be misread by this code.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "model.json";

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
pub(super) const GGUF: &str = ".gguf";
pub(super) const LANGUAGE_MODEL: &str = ".lm";

pub(super) fn check_version(version: Option<u64>, file: &str) -> Result<(), Error> {
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
pub(super) const MIN_FILE_BYTES: u64 = 24;
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

pub(super) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn check_digest(entry: &FileEntry, size: u64, actual: &str) -> Result<(), Error> {
    let mismatch = |why| Error::FileMismatch { file: entry.file.clone(), why };
    if size != entry.bytes {
        return Err(mismatch(format!("{size} bytes, but the manifest says {} (incomplete or wrong file)", entry.bytes)));
    }
    if actual != entry.sha256 {
        return Err(mismatch(format!("sha256 {actual} does not match the manifest's {} (corrupt or wrong file)", entry.sha256)));
    }
    Ok(())
}

//! A package folder on disk, its files read through the same loader as the browser's downloads.

use std::io::Read;

use super::loading::{FileLoader, LoadedFile};
use super::manifest::{sha256_hex, FileEntry, Manifest, LANGUAGE_MODEL, MANIFEST_FILE};
use super::recognizer_from_files;
use crate::lm::WordLm;
use crate::recognizer::Language;
use crate::wav2vec2::Config;
use crate::{Error, Recognizer};

/// A package folder on disk.
pub struct PackageDir {
    dir: std::path::PathBuf,
    pub manifest: Manifest,
}

impl PackageDir {
    pub fn is_package(dir: &std::path::Path) -> bool {
        dir.join(MANIFEST_FILE).is_file()
    }

    pub fn open(dir: impl Into<std::path::PathBuf>) -> Result<Self, Error> {
        let dir = dir.into();
        let manifest = Manifest::from_json(&read_file(&dir.join(MANIFEST_FILE))?)?;
        Ok(Self { dir, manifest })
    }

    /// Reads one of the package's files through a [`FileLoader`], so that a base of hundreds of MB is
    /// read once and never held in memory besides its tensors.
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

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

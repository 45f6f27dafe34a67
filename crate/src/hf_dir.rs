//! HF-style model folders on disk: `config.json`, `model.safetensors`, `vocab.json` and, for MMS,
//! one `adapter.<lang>.safetensors` per language.

use std::path::{Path, PathBuf};

use crate::recognizer::{weights_from_safetensors, Weights};
use crate::{Error, Recognizer};

pub struct HfModelDir {
    dir: PathBuf,
}

impl HfModelDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Loads the base model and the head for `language`: its adapter file when the folder has one.
    pub fn load(&self, language: Option<&str>) -> Result<Recognizer, Error> {
        let config = self.read("config.json")?;
        let base = self.safetensors("model.safetensors")?;
        let vocab = self.read("vocab.json")?;
        let adapter = language.map(|lang| self.adapter(lang)).transpose()?.flatten();
        Recognizer::new(&config, base, vocab, language, adapter)
    }

    /// The weights of `adapter.<language>.safetensors`, or `None` when the folder has no such file.
    pub fn adapter(&self, language: &str) -> Result<Option<Weights>, Error> {
        let name = format!("adapter.{language}.safetensors");
        if self.dir.join(&name).is_file() {
            self.safetensors(&name).map(Some)
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

    fn read(&self, name: &str) -> Result<Vec<u8>, Error> {
        let path = self.dir.join(name);
        std::fs::read(&path).map_err(|source| io_error(&path, source))
    }

    fn safetensors(&self, name: &str) -> Result<Weights, Error> {
        let path = self.dir.join(name);
        weights_from_safetensors(&self.read(name)?, &path.display().to_string())
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

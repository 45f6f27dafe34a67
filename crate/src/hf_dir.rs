//! HF-style model folders on disk: `config.json`, `model.safetensors`, `vocab.json` and, for MMS,
//! one `adapter.<lang>.safetensors` per language.

use std::path::{Path, PathBuf};

use crate::recognizer::{weights_from_safetensors, Language};
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
        let language = self.language_with_base(&config, &base, language)?;
        Recognizer::new(config, &base, language)
    }

    /// A language's head: its `adapter.<lang>.safetensors` when the folder has one, else the head
    /// stored in the base checkpoint, with the language's table of `vocab.json`.
    pub fn language(&self, language: Option<&str>) -> Result<Language, Error> {
        let config = self.config()?;
        match self.adapter(language)? {
            Some((store, file)) => Language::load(&config, language, &store, self.vocab(language)?, &file),
            None => self.language_with_base(&config, &self.base_weights()?, language),
        }
    }

    fn language_with_base(
        &self,
        config: &Config,
        base: &WeightStore,
        language: Option<&str>,
    ) -> Result<Language, Error> {
        let vocab = self.vocab(language)?;
        match self.adapter(language)? {
            Some((store, file)) => Language::load(config, language, &store, vocab, &file),
            None if base.contains("lm_head.weight") => {
                Language::load(config, language, base, vocab, "model.safetensors")
            }
            None => Err(Error::Vocab(format!(
                "{}: model.safetensors has no CTC head (lm_head) and there is no adapter file for {}",
                self.dir.display(),
                language.unwrap_or("the default language")
            ))),
        }
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
        weights_from_safetensors(&self.read(name)?, &path.display().to_string())
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

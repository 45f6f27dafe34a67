use std::path::PathBuf;

/// Everything the library can fail with, each message written for the person running it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("config.json: {0}")]
    Config(crate::wav2vec2::ConfigError),

    #[error("{0}")]
    Vocab(String),

    #[error("this model has no language {lang:?}; it has: {}", available.join(", "))]
    UnknownLanguage { lang: String, available: Vec<String> },

    /// Unreadable, truncated or mismatched weights; `context` names the file or part.
    #[error("{context}: {source}")]
    Weights { context: String, source: candle_core::Error },

    /// A packaged model that is incomplete, corrupt, or of another format version.
    #[error("{0}")]
    Package(String),

    /// A package file whose size or sha256 is not its manifest's: a damaged download or another file.
    #[error("{file}: {why}")]
    FileMismatch { file: String, why: String },

    /// A value in a model file that no real model has (a corrupt or hostile file, whatever its
    /// checksum): `field` names it within `file`. Found before the value sizes an allocation or a loop.
    #[error("{file}: {field}: {why}")]
    InvalidModel { file: String, field: String, why: String },

    #[error("{0}")]
    InvalidAudio(String),

    /// Settings that cannot work together (a stream without a maximum piece length).
    #[error("{0}")]
    InvalidSettings(String),

    /// A malformed evaluation TSV.
    #[error("{0}")]
    TestSet(String),

    #[cfg(feature = "cli")]
    #[error(transparent)]
    AudioFile(#[from] crate::audio::AudioError),

    #[error("model computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

impl Error {
    pub(crate) fn invalid(file: impl Into<String>, field: impl Into<String>, why: impl Into<String>) -> Self {
        Error::InvalidModel { file: file.into(), field: field.into(), why: why.into() }
    }

    pub(crate) fn weights(context: impl Into<String>) -> impl FnOnce(candle_core::Error) -> Self {
        let context = context.into();
        move |source| Error::Weights { context, source }
    }
}

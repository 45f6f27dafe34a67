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

    /// A packaged model that is incomplete or not in this format.
    #[error("{0}")]
    Package(String),

    /// A packaged model of another format version than this build reads.
    #[error("{0}")]
    Version(String),

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

    /// A progress callback asked to stop.
    #[error("the transcription was stopped")]
    Stopped,

    #[error("model computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

/// Which remedy an error calls for, the same whatever path (a file, samples, a stream) met it: what
/// the browser side shows as `AsrError.kind` (`js/protocol.js` has the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The audio cannot be used: undecodable, empty, too short, not finite.
    Audio,
    /// The model is not a sakha-asr package, or is incomplete.
    Format,
    /// A model file is damaged: another size or sha256 than its manifest's, or values no model has.
    Corrupt,
    /// The model was made for another version of sakha-asr.
    Version,
    /// A setting or an argument out of its bounds, or an unknown language.
    Settings,
    /// The computation itself failed (or the CLI could not read a file).
    Recognizer,
}

impl ErrorKind {
    /// The name the browser side uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Audio => "audio",
            ErrorKind::Format => "format",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Version => "version",
            ErrorKind::Settings => "settings",
            ErrorKind::Recognizer => "recognizer",
        }
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidAudio(_) => ErrorKind::Audio,
            #[cfg(feature = "cli")]
            Error::AudioFile(_) => ErrorKind::Audio,
            Error::Config(_) | Error::Vocab(_) | Error::Package(_) | Error::TestSet(_) => ErrorKind::Format,
            Error::FileMismatch { .. } | Error::InvalidModel { .. } | Error::Weights { .. } => ErrorKind::Corrupt,
            Error::Version(_) => ErrorKind::Version,
            Error::UnknownLanguage { .. } | Error::InvalidSettings(_) => ErrorKind::Settings,
            Error::Io { .. } | Error::Stopped | Error::Compute(_) => ErrorKind::Recognizer,
        }
    }

    pub(crate) fn invalid(file: impl Into<String>, field: impl Into<String>, why: impl Into<String>) -> Self {
        Error::InvalidModel { file: file.into(), field: field.into(), why: why.into() }
    }

    pub(crate) fn weights(context: impl Into<String>) -> impl FnOnce(candle_core::Error) -> Self {
        let context = context.into();
        move |source| Error::Weights { context, source }
    }
}

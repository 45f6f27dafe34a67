//! Speech recognition for Sakha (Yakut) with MMS / wav2vec2 on candle, natively and in the browser.
//!
//! - [`wav2vec2`]: the model, read from HF `config.json` and safetensors.
//! - [`vocab`]: the CTC vocabulary.
//! - [`decoding`]: greedy or beam-search decoding with the word language model of [`lm`].
//! - [`transcript`]: the result and its text / SRT / WebVTT renderings.
//! - [`recognizer`]: model + language, samples in, transcript out.
//! - [`streaming`]: audio recognised as it arrives, piece by piece.
//! - [`hf_dir`] and [`audio`] (native `cli` feature): model folders and audio files on disk.

#[cfg(feature = "cli")]
pub mod audio;
#[cfg(not(target_arch = "wasm32"))]
pub mod convert;
pub mod decoding;
mod error;
#[cfg(feature = "cli")]
pub mod evaluation;
#[cfg(not(target_arch = "wasm32"))]
pub mod hf_dir;
pub mod lm;
pub mod metrics;
pub mod package;
mod pauses;
pub mod recognizer;
pub mod streaming;
pub mod text;
pub mod transcript;
pub mod vocab;
pub mod wav2vec2;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Error, ErrorKind};
pub use decoding::{BeamOptionError, BeamOptions, Decoding};
pub use recognizer::{Chunking, Language, PieceLogits, Progress, Recognizer};
pub use streaming::{LiveWindows, Stream, StreamUpdate};
pub use transcript::{Segment, Transcript, Word};

//! The library's front door: a loaded model plus one language, turning 16 kHz samples into a
//! [`Transcript`]. The CLI and the wasm bindings are thin shells over this.

use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use candle_core::{Device, Tensor};

use crate::decoding::{BeamOptionError, Decoding, FrameDecoder, Labels};
use crate::lm::WordLm;
use crate::pauses::Cutter;
use crate::transcript::{Segment, Transcript, Word};
use crate::vocab::Vocab;
use crate::wav2vec2::{model, Config, LanguageHead, Wav2Vec2, WeightStore, SAMPLE_RATE};
use crate::Error;

/// One language of a model: its CTC head (with MMS adapters), its vocabulary, and its word LM when
/// it has one.
#[derive(Debug, Clone)]
pub struct Language {
    name: Option<String>,
    head: LanguageHead,
    vocab: Vocab,
    labels: Labels,
    lm: Option<Arc<WordLm>>,
}

impl Language {
    /// `weights` holds `lm_head.*` and, for MMS, `wav2vec2.encoder.layers.N.adapter_layer.*`;
    /// `source` names where they came from, for error messages.
    pub fn load(
        config: &Config,
        name: Option<&str>,
        weights: &WeightStore,
        vocab: Vocab,
        source: &str,
    ) -> Result<Self, Error> {
        let head = LanguageHead::load(config, weights).map_err(Error::weights(source))?;
        vocab.check_head(head.vocab_size(), source)?;
        let labels = Labels::new(&vocab, head.vocab_size(), config.seconds_per_frame());
        Ok(Self { name: name.map(Into::into), head, vocab, labels, lm: None })
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The word LM beam search decodes with (`None`: greedy decoding only).
    pub fn set_language_model(&mut self, lm: Option<Arc<WordLm>>) {
        self.lm = lm;
    }

    pub fn language_model(&self) -> Option<&WordLm> {
        self.lm.as_deref()
    }
}

/// How long audio is cut up. First into pieces: at pauses of at least `min_pause_seconds` (when set),
/// and, where no pause comes within `max_piece_seconds` (when set), at the piece's quietest frame in
/// its second half (`pauses.rs` has the rule). Each piece is recognised as an utterance of its own,
/// normalised on its own and decoded on its own, as the model was trained. Pieces longer than
/// `chunk_seconds` are then cut into chunks whose logits keep only their core frames, computed with
/// `context_seconds` of audio on either side so the frames near a cut still see their surroundings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chunking {
    pub chunk_seconds: f64,
    pub context_seconds: f64,
    pub min_pause_seconds: Option<f64>,
    /// A [`Stream`](crate::Stream) needs it: it bounds the open piece, which a stream holds and recognises again on
    /// every push.
    pub max_piece_seconds: Option<f64>,
}

/// A setting outside the bounds the library documents: which one (its Rust field name, which each
/// shell renders in its own words: `--chunk-seconds` in the CLI, `chunkSeconds` in JavaScript), its
/// value, and the bounds.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{setting} must be a number of seconds from {min} to {max} (got {value})")]
pub struct SettingError {
    pub setting: &'static str,
    pub value: f64,
    pub min: f64,
    pub max: f64,
}

impl SettingError {
    /// Checks that `value` lies in `min..=max` (NaN does not).
    pub fn check(setting: &'static str, value: f64, min: f64, max: f64) -> Result<(), Self> {
        if (min..=max).contains(&value) { Ok(()) } else { Err(Self { setting, value, min, max }) }
    }
}

impl Chunking {
    /// The longest window: attention's cost and memory grow with its square.
    pub const MAX_CHUNK_SECONDS: f64 = 60.0;
    /// Context on either side of a window.
    pub const MAX_CONTEXT_SECONDS: f64 = 30.0;
    /// A pause this long cuts (`None`: pauses never do); a frame is 0.02 s.
    pub const PAUSE_SECONDS: (f64, f64) = (0.02, 10.0);
    /// A piece's longest length (`None`: unbounded, offline only); it holds at least a frame's window.
    pub const MAX_PIECE_SECONDS: (f64, f64) = (0.1, 3600.0);

    /// Checks every setting against the bounds above; the first one out of them is the error.
    pub fn check(&self) -> Result<(), SettingError> {
        SettingError::check("chunk_seconds", self.chunk_seconds, 1.0, Self::MAX_CHUNK_SECONDS)?;
        SettingError::check("context_seconds", self.context_seconds, 0.0, Self::MAX_CONTEXT_SECONDS)?;
        if let Some(seconds) = self.min_pause_seconds {
            SettingError::check("min_pause_seconds", seconds, Self::PAUSE_SECONDS.0, Self::PAUSE_SECONDS.1)?;
        }
        if let Some(seconds) = self.max_piece_seconds {
            SettingError::check("max_piece_seconds", seconds, Self::MAX_PIECE_SECONDS.0, Self::MAX_PIECE_SECONDS.1)?;
        }
        Ok(())
    }
}

/// Chosen with scripts/measure-chunking.sh on the built-in demo model's held-out sentences joined:
/// longer windows than 10 s gained nothing for a model trained on utterances of up to 15 s, and need
/// more activation memory, which a browser tab feels; shorter ones suited only the demo model's
/// one-sentence training. Cutting at pauses first matters far more than the window (see `pauses.rs`
/// for how a pause is found); the pause length is the one that scored best there. Pieces of at most
/// 20 s: longer than any training utterance, so a forced cut is rare in speech with pauses, and two
/// chunks at most.
impl Default for Chunking {
    fn default() -> Self {
        Self { chunk_seconds: 10.0, context_seconds: 2.0, min_pause_seconds: Some(0.26), max_piece_seconds: Some(20.0) }
    }
}

/// The logits of one piece of audio (see [`Chunking`]), which is decoded on its own.
#[derive(Debug, Clone)]
pub struct PieceLogits {
    /// The audio's frame the piece starts at.
    pub first_frame: usize,
    /// `[frames, labels]`.
    pub logits: Tensor,
}

/// Progress through long audio, reported after every chunk.
#[derive(Debug, Clone)]
pub struct Progress {
    pub done_seconds: f64,
    pub total_seconds: f64,
    /// The transcript of everything recognised so far.
    pub partial: Transcript,
}

pub struct Recognizer {
    config: Config,
    model: Wav2Vec2,
    language: Language,
    chunking: Chunking,
    decoding: Decoding,
}

impl Recognizer {
    /// `base` is a store at the checkpoint root holding the `wav2vec2.*` tensors.
    pub fn new(config: Config, base: &WeightStore, language: Language) -> Result<Self, Error> {
        Self::from_file(config, base, language, "model weights")
    }

    /// [`Recognizer::new`] for a base read from the file `source`, which errors name.
    pub(crate) fn from_file(config: Config, base: &WeightStore, language: Language, source: &str) -> Result<Self, Error> {
        // A config built in code has not been through `Config::from_json`.
        config.validate().map_err(Error::Config)?;
        if !base.names().any(|k| k.starts_with("wav2vec2.")) {
            return Err(Error::weights(source)(candle_core::Error::Msg(
                "no wav2vec2.* tensors: this is not a Wav2Vec2ForCTC checkpoint (a pretrained-only \
                 model such as facebook/mms-300m needs fine-tuning with a CTC head first)"
                    .into(),
            )));
        }
        let model = Wav2Vec2::load(&config, &base.pp("wav2vec2")).map_err(Error::weights(source))?;
        Ok(Self { config, model, language, chunking: Chunking::default(), decoding: Decoding::default() })
    }

    /// Switches language (MMS adapters, CTC head, vocabulary and word LM); the base model is kept as
    /// it is.
    pub fn set_language(&mut self, language: Language) {
        self.language = language;
    }

    /// The current language, to give it a word LM ([`Language::set_language_model`]).
    pub fn language_mut(&mut self) -> &mut Language {
        &mut self.language
    }

    pub fn language_model(&self) -> Option<&WordLm> {
        self.language.language_model()
    }

    pub fn language(&self) -> Option<&str> {
        self.language.name()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Refuses settings outside [`Chunking::check`]'s bounds, keeping the ones before.
    pub fn set_chunking(&mut self, chunking: Chunking) -> Result<(), SettingError> {
        chunking.check()?;
        self.chunking = chunking;
        Ok(())
    }

    pub fn chunking(&self) -> Chunking {
        self.chunking
    }

    /// Refuses beam-search options outside [`BeamOptions::check`]'s bounds, keeping the ones before.
    pub fn set_decoding(&mut self, decoding: Decoding) -> Result<(), BeamOptionError> {
        if let Decoding::BeamSearch { options, .. } = decoding {
            options.check()?;
        }
        self.decoding = decoding;
        Ok(())
    }

    pub fn decoding(&self) -> Decoding {
        self.decoding
    }

    /// Labels the CTC head scores per frame: the width of [`Recognizer::logits`].
    pub fn label_count(&self) -> usize {
        self.language.head.vocab_size()
    }

    /// Seconds of audio per output frame (0.02 for MMS).
    pub fn seconds_per_frame(&self) -> f64 {
        self.config.seconds_per_frame()
    }

    /// CTC logits `[frames, vocab]` for 16 kHz mono samples, as transformers' `Wav2Vec2ForCTC` returns
    /// them after its feature extractor normalised the input (chunked for long audio; each piece
    /// normalised on its own).
    pub fn logits(&self, samples: &[f32]) -> Result<Tensor, Error> {
        let pieces = self.piece_logits(samples)?;
        Ok(Tensor::cat(&pieces.iter().map(|piece| &piece.logits).collect::<Vec<_>>(), 0)?)
    }

    /// [`Recognizer::logits`] piece by piece, for [`Recognizer::decode_pieces`].
    pub fn piece_logits(&self, samples: &[f32]) -> Result<Vec<PieceLogits>, Error> {
        let mut pieces = Vec::new();
        self.for_each_piece(samples, |first_frame, piece| {
            let mut chunks = Vec::new();
            // Never stopped: every chunk continues.
            let _ = self.piece_chunks(piece, self.chunking, |_, logits| {
                chunks.push(logits);
                Ok(ControlFlow::Continue(()))
            })?;
            pieces.push(PieceLogits { first_frame, logits: Tensor::cat(&chunks, 0)? });
            Ok(())
        })?;
        Ok(pieces)
    }

    /// Decodes logits from [`Recognizer::logits`] as one piece, as set with
    /// [`Recognizer::set_decoding`] (equal to [`Recognizer::transcribe`] where the audio has no cuts).
    pub fn decode(&self, logits: &Tensor) -> Result<Transcript, Error> {
        let mut decoder = self.frame_decoder(self.decoding);
        decoder.push(logits)?;
        Ok(decoder.finish())
    }

    /// Decodes logits from [`Recognizer::piece_logits`] with `decoding`, each piece on its own, as
    /// [`Recognizer::transcribe`] does (to compare settings on the same logits, as `sakha-asr eval`'s
    /// grid search does).
    pub fn decode_pieces(&self, pieces: &[PieceLogits], decoding: Decoding) -> Result<Transcript, Error> {
        let mut words = Vec::new();
        let mut frames = 0;
        for piece in pieces {
            words.extend(self.decode_piece(&piece.logits, piece.first_frame, decoding)?.words);
            frames = piece.first_frame + piece.logits.dim(0)?;
        }
        Ok(Transcript::from_words(words, frames as f64 * self.seconds_per_frame()))
    }

    /// One piece's logits (it starts at the audio's frame `first_frame`) decoded on their own.
    pub(crate) fn decode_piece(&self, logits: &Tensor, first_frame: usize, decoding: Decoding) -> Result<Segment, Error> {
        let mut decoder = self.frame_decoder(decoding);
        decoder.push(logits)?;
        Ok(self.segment(decoder.finish(), first_frame, logits.dim(0)?))
    }

    fn frame_decoder(&self, decoding: Decoding) -> FrameDecoder<'_> {
        let language = &self.language;
        FrameDecoder::new(decoding, &language.vocab, &language.labels, language.lm.as_deref())
    }

    pub fn transcribe(&self, samples: &[f32]) -> Result<Transcript, Error> {
        self.transcribe_with_progress(samples, |_| ControlFlow::Continue(()))
    }

    /// Like [`Recognizer::transcribe`], reporting progress and the partial transcript after each chunk;
    /// `on_progress` returning `Break` stops there with [`Error::Stopped`].
    pub fn transcribe_with_progress(
        &self,
        samples: &[f32],
        mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Transcript, Error> {
        let total_seconds = samples.len() as f64 / SAMPLE_RATE as f64;
        let per_frame = self.config.samples_per_frame();
        let mut words: Vec<Word> = Vec::new();
        self.for_each_piece(samples, |first_frame, piece| {
            let segment = self.recognize_piece(piece, first_frame, self.chunking, self.decoding, |core_end, decoder| {
                let mut so_far = words.clone();
                so_far.extend(self.segment(decoder.partial(), first_frame, core_end).words);
                let done_frames = first_frame + core_end;
                on_progress(Progress {
                    done_seconds: (done_frames * per_frame).min(samples.len()) as f64 / SAMPLE_RATE as f64,
                    total_seconds,
                    partial: Transcript::from_words(so_far, done_frames as f64 * self.seconds_per_frame()),
                })
            })?;
            words.extend(segment.words);
            Ok(())
        })?;
        Ok(Transcript::from_words(words, self.config.frames_for(samples.len()) as f64 * self.seconds_per_frame()))
    }

    /// The cutter that finds the pieces for `chunking` (pauses, maximum piece length).
    pub(crate) fn cutter(&self, chunking: Chunking) -> Cutter {
        let to_frames = |seconds| self.to_frames(seconds);
        Cutter::new(
            self.config.samples_per_frame(),
            SAMPLE_RATE,
            chunking.min_pause_seconds.map(to_frames),
            chunking.max_piece_seconds.map(to_frames),
        )
    }

    pub(crate) fn to_frames(&self, seconds: f64) -> usize {
        ((seconds * SAMPLE_RATE as f64) / self.config.samples_per_frame() as f64).round() as usize
    }

    /// The samples a piece of `frames` frames needs, beyond `frames * samples_per_frame`: its last
    /// frame's window reaches past that frame's start.
    pub(crate) fn samples_for_frames(&self, frames: usize) -> usize {
        match frames {
            0 => 0,
            _ => (frames - 1) * self.config.samples_per_frame() + self.config.min_samples(),
        }
    }

    /// Hands each piece between cuts to `consume`, in order, with the frame it starts at and its
    /// samples (those behind its frames).
    fn for_each_piece(&self, samples: &[f32], mut consume: impl FnMut(usize, &[f32]) -> Result<(), Error>) -> Result<(), Error> {
        self.check_audio(samples)?;
        let per_frame = self.config.samples_per_frame();
        let total_frames = self.config.frames_for(samples.len());
        let cuts = self.cutter(self.chunking).whole_recording(samples, per_frame, total_frames);
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts).chain(std::iter::once(total_frames)).collect();
        for piece in bounds.windows(2) {
            let (start, end) = (piece[0], piece[1]);
            let stop = if end == total_frames { samples.len() } else { start * per_frame + self.samples_for_frames(end - start) };
            consume(start, &samples[start * per_frame..stop])?;
        }
        Ok(())
    }

    /// Recognises one piece (its samples; it starts at the audio's frame `first_frame`) with
    /// `decoding`, calling `on_chunk` with the piece's frames done and the decoder after each chunk.
    pub(crate) fn recognize_piece(
        &self,
        piece: &[f32],
        first_frame: usize,
        chunking: Chunking,
        decoding: Decoding,
        mut on_chunk: impl FnMut(usize, &FrameDecoder) -> ControlFlow<()>,
    ) -> Result<Segment, Error> {
        let mut decoder = self.frame_decoder(decoding);
        let flow = self.piece_chunks(piece, chunking, |core_end, logits| {
            decoder.push(&logits)?;
            Ok(on_chunk(core_end, &decoder))
        })?;
        if flow.is_break() {
            return Err(Error::Stopped);
        }
        Ok(self.segment(decoder.finish(), first_frame, self.config.frames_for(piece.len())))
    }

    /// A piece's transcript (times from the piece's start) as a segment of the audio. Every time is
    /// the audio's frame times the frame length, as for audio that is not cut, so one piece's end is
    /// exactly the next one's start and no word ends after its piece.
    fn segment(&self, transcript: Transcript, first_frame: usize, frames: usize) -> Segment {
        let per_frame = self.seconds_per_frame();
        let seconds = |frame: usize| frame as f64 * per_frame;
        // Word times are whole frames of the piece.
        let shift = |time: f64| seconds(first_frame + (time / per_frame).round() as usize);
        let words = transcript.words.into_iter().map(|w| Word { start: shift(w.start), end: shift(w.end), ..w }).collect();
        Segment { start: seconds(first_frame), end: seconds(first_frame + frames), text: transcript.text, words }
    }

    /// Runs the model over one piece (its samples), long ones in overlapping chunks, and hands each
    /// chunk's core logits, in order, to `consume` with the piece's frame its core ends at. The piece
    /// is normalised as a whole, as transformers normalises an utterance; chunking changes only what
    /// attention can see.
    fn piece_chunks(
        &self,
        piece: &[f32],
        chunking: Chunking,
        mut consume: impl FnMut(usize, Tensor) -> candle_core::Result<ControlFlow<()>>,
    ) -> Result<ControlFlow<()>, Error> {
        let frames = self.config.frames_for(piece.len());
        let chunk_frames = self.to_frames(chunking.chunk_seconds).max(1);
        let context_frames = self.to_frames(chunking.context_seconds);
        let normalization = model::Normalization::of(piece);
        let mut core_start = 0;
        while core_start < frames {
            let core_end = (core_start + chunk_frames).min(frames);
            let first = core_start.saturating_sub(context_frames);
            let last = (core_end + context_frames).min(frames);
            if consume(core_end, self.window_logits(piece, &normalization, first..last, core_start..core_end)?)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
            core_start = core_end;
        }
        Ok(ControlFlow::Continue(()))
    }

    /// The logits of frames `core` of `piece`, computed over its frames `window` (which hold `core`)
    /// normalised with `normalization`.
    pub(crate) fn window_logits(
        &self,
        piece: &[f32],
        normalization: &model::Normalization,
        window: Range<usize>,
        core: Range<usize>,
    ) -> Result<Tensor, Error> {
        let samples = self.window_samples(piece, window.clone());
        let input: Vec<f32> = samples.iter().map(|&s| normalization.apply(s)).collect();
        let input = Tensor::from_vec(input, (1, samples.len()), &Device::Cpu)?;
        let logits = self.model.forward(&input, &self.language.head)?.squeeze(0)?;
        Ok(logits.narrow(0, core.start - window.start, core.len())?)
    }

    /// Refuses audio of `samples` samples that the model cannot hear: none, or less than one frame's
    /// window. Streams check their whole length at the end, so that every path gives the same error.
    pub(crate) fn check_length(&self, samples: usize) -> Result<(), Error> {
        let min = self.config.min_samples();
        if samples == 0 {
            return Err(Error::InvalidAudio("the audio is empty (no samples)".into()));
        }
        if samples < min {
            return Err(Error::InvalidAudio(format!(
                "the audio is too short: {samples} samples; the model needs at least {min} ({} ms at 16 kHz)",
                min * 1000 / SAMPLE_RATE
            )));
        }
        Ok(())
    }

    /// The samples of `piece` behind its frames `window`: the last frame's window reaches past its
    /// start, and the piece's last frame takes every sample left.
    pub(crate) fn window_samples<'p>(&self, piece: &'p [f32], window: Range<usize>) -> &'p [f32] {
        let per_frame = self.config.samples_per_frame();
        let end = if window.end == self.config.frames_for(piece.len()) {
            piece.len()
        } else {
            window.start * per_frame + self.samples_for_frames(window.len())
        };
        &piece[window.start * per_frame..end]
    }

    fn check_audio(&self, samples: &[f32]) -> Result<(), Error> {
        self.check_length(samples.len())?;
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::InvalidAudio(format!("sample {i} is not a finite number")));
        }
        Ok(())
    }
}

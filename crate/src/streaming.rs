//! Streaming recognition: audio in as it arrives, text out piece by piece.
//!
//! Offline recognition cuts audio into pieces (`pauses.rs`: at pauses, and where a piece would
//! outgrow [`Chunking::max_piece_seconds`]) and recognises each on its own. A [`Stream`] runs the same
//! cutter as the audio arrives. A pause is judged against the loudest frame within a second on
//! either side, so a cut is settled once a second of audio after its pause run has arrived; then the
//! piece before it is final, returned, and its samples dropped. What follows the last cut is the
//! open piece. A stream comes in two kinds, for the two ways audio arrives:
//!
//! - **Files** ([`Recognizer::start_stream`]): each piece is recognised once, when its cut settles or
//!   the stream ends, exactly as [`Recognizer::transcribe`] recognises it, so a file read in slices
//!   costs what its samples cost and gives the same text. Pushes give no partial text.
//! - **Live** ([`Recognizer::start_live_stream`]): a speaker waits for the text, so every push gives
//!   the open piece's text so far, at a cost that does not grow with the piece. Each push runs the
//!   model once, over the audio no earlier push settled plus [`LiveWindows::context_seconds`] before
//!   it; the frames of that window that have [`LiveWindows::lookahead_seconds`] of audio after them
//!   are settled (kept, never computed again), the last ones are only shown. A cut or the end of the
//!   stream settles the rest of the piece, so the final text needs one short window more; frames
//!   settled past a cut (a cut is found a second after its pause) begin the next piece. Each window
//!   is normalised on its own (transformers' pipeline normalises its chunks so too), and attention
//!   sees only the window: the final text can differ from offline's, by the amount
//!   `tests/streaming.rs` measures on held-out speech.
//!
//! # Where a piece ends for the word LM
//!
//! Each piece is decoded on its own, offline and streamed, and to the word LM it is a sentence: the
//! beam search starts it from `<s>` and ends it with `</s>`. The acoustic model already hears each
//! piece as an utterance (normalised on its own, as it was trained on one sentence per example), and
//! the pauses that cut are mostly between sentences (`pauses.rs`). Above all, a piece's text then
//! depends on its audio alone, so a stream can call a finished piece's text final; it also reads
//! better (`tests/streaming.rs` compares it with one search across the pieces).

use candle_core::Tensor;

use crate::decoding::Decoding;
use crate::pauses::{self, Cutter};
use crate::recognizer::{Chunking, Recognizer};
use crate::transcript::Segment;
use crate::wav2vec2::model::Normalization;
use crate::Error;

/// The windows a live stream recognises the open piece in (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveWindows {
    /// Audio before the unsettled frames that each window includes, so they are not heard cold.
    pub context_seconds: f64,
    /// Audio a frame needs after it, within its window, to be settled.
    pub lookahead_seconds: f64,
}

impl LiveWindows {
    /// The most either setting takes: a piece is at most a few tens of seconds anyway.
    pub const MAX_SECONDS: f64 = 10.0;

    /// Checks both settings: finite, and from 0 to [`LiveWindows::MAX_SECONDS`].
    pub fn check(&self) -> Result<(), Error> {
        for (name, value) in [("context_seconds", self.context_seconds), ("lookahead_seconds", self.lookahead_seconds)] {
            if !(0.0..=Self::MAX_SECONDS).contains(&value) {
                return Err(Error::InvalidSettings(format!(
                    "live {name} must be a number of seconds from 0 to {} (got {value})",
                    Self::MAX_SECONDS
                )));
            }
        }
        Ok(())
    }
}

/// A second each: each window stays a few seconds long, so a push stays cheap, and on the demo
/// model's held-out sentences the live text stays close to offline's (`tests/streaming.rs` prints how
/// close and bounds it). The demo model, trained on single sentences, may favour short windows more
/// than MMS does.
impl Default for LiveWindows {
    fn default() -> Self {
        Self { context_seconds: 1.0, lookahead_seconds: 1.0 }
    }
}

/// Audio recognised as it arrives; made by [`Recognizer::start_stream`] (files) or
/// [`Recognizer::start_live_stream`], fed by [`Stream::push`] and ended by [`Stream::finish`], each
/// given the recognizer it was started from. It keeps the chunking and decoding the recognizer had
/// when the stream started.
#[derive(Debug, Clone)]
pub struct Stream {
    chunking: Chunking,
    decoding: Decoding,
    cutter: Cutter,
    /// The samples from the open piece's first on.
    samples: Vec<f32>,
    /// The stream's frame the open piece starts at.
    piece_start: usize,
    /// Samples pushed since the start.
    received: usize,
    /// Frames the model has computed for a live stream's windows (context included): its cost.
    frames_computed: usize,
    live: Option<Live>,
}

/// A live stream's open piece: its settled logits and the windows that make them.
#[derive(Debug, Clone)]
struct Live {
    context_frames: usize,
    lookahead_frames: usize,
    /// `[frames, labels]`: the open piece's first frames, final.
    settled: Option<Tensor>,
}

/// What a push brings: the pieces it finished (in order, times from the start of the stream), and,
/// for a live stream, the text of the open piece so far.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamUpdate {
    pub finals: Vec<Segment>,
    pub partial: Option<Segment>,
}

// The recognizer's way in to streams is here, with them: streams are built on the recognizer, and
// recognizer.rs needs to know nothing of them.
impl Recognizer {
    /// A stream for audio that arrives piece by piece (a file read in slices): each piece is
    /// recognised once, as [`Recognizer::transcribe`] recognises it, when a cut or the end closes it;
    /// pushes give no partial text. It keeps the current chunking and decoding, and needs a maximum
    /// piece length ([`Chunking::max_piece_seconds`]).
    pub fn start_stream(&self) -> Result<Stream, Error> {
        Stream::new(self, self.chunking(), self.decoding(), None)
    }

    /// A stream for audio as it is recorded, with partial text after every push at a bounded cost:
    /// the open piece is recognised in `windows` as the audio arrives (see [`Stream`]).
    pub fn start_live_stream(&self, windows: LiveWindows) -> Result<Stream, Error> {
        Stream::new(self, self.chunking(), self.decoding(), Some(windows))
    }
}

impl Stream {
    fn new(recognizer: &Recognizer, chunking: Chunking, decoding: Decoding, live: Option<LiveWindows>) -> Result<Self, Error> {
        if chunking.max_piece_seconds.is_none_or(|seconds| !(seconds > 0.0 && seconds.is_finite())) {
            return Err(Error::InvalidSettings(
                "a stream needs a maximum piece length (Chunking::max_piece_seconds, a positive number of seconds): \
                 it holds the open piece"
                    .into(),
            ));
        }
        let live = live
            .map(|windows| {
                windows.check()?;
                Ok::<_, Error>(Live {
                    context_frames: recognizer.to_frames(windows.context_seconds),
                    lookahead_frames: recognizer.to_frames(windows.lookahead_seconds),
                    settled: None,
                })
            })
            .transpose()?;
        Ok(Self {
            chunking,
            decoding,
            cutter: recognizer.cutter(chunking),
            samples: Vec::new(),
            piece_start: 0,
            received: 0,
            frames_computed: 0,
            live,
        })
    }

    /// The next 16 kHz mono samples, any number of them: finishes the pieces they settle and, for a
    /// live stream, recognises the open piece's new audio for the partial text.
    pub fn push(&mut self, recognizer: &Recognizer, samples: &[f32]) -> Result<StreamUpdate, Error> {
        self.append(samples)?;
        let finals = self.settle(recognizer, false)?;
        let partial = match self.live {
            Some(_) => Some(self.recognize_open_piece(recognizer, self.samples.len(), false)?),
            None => None,
        };
        Ok(StreamUpdate { finals, partial })
    }

    /// Ends the stream: the pieces not yet returned, the open one last. A stream shorter than the
    /// model's shortest input fails as [`Recognizer::transcribe`] fails for the same samples.
    pub fn finish(self, recognizer: &Recognizer) -> Result<Vec<Segment>, Error> {
        self.finish_with(recognizer, &[])
    }

    /// [`Stream::finish`] after one last push of `samples`, whose partial text nobody would see.
    pub fn finish_with(mut self, recognizer: &Recognizer, samples: &[f32]) -> Result<Vec<Segment>, Error> {
        self.append(samples)?;
        recognizer.check_length(self.received)?;
        let mut finals = self.settle(recognizer, true)?;
        if recognizer.config().frames_for(self.received) > self.piece_start {
            finals.push(self.recognize_open_piece(recognizer, self.samples.len(), true)?);
        }
        Ok(finals)
    }

    fn append(&mut self, samples: &[f32]) -> Result<(), Error> {
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::InvalidAudio(format!("sample {} of the stream is not a finite number", self.received + i)));
        }
        self.samples.extend_from_slice(samples);
        self.received += samples.len();
        Ok(())
    }

    /// Samples held: the open piece and the second or so after its last cut that the cutter still
    /// needs. However long the stream, at most the maximum piece length, a second, and one push.
    pub fn held_samples(&self) -> usize {
        self.samples.len()
    }

    /// Seconds of audio pushed so far.
    pub fn seconds(&self) -> f64 {
        self.received as f64 / crate::wav2vec2::SAMPLE_RATE as f64
    }

    /// Frames the model has computed so far for a live stream's windows, context included: what
    /// the stream has cost (0 for a file stream, whose pieces cost what offline recognition's do).
    pub fn frames_computed(&self) -> usize {
        self.frames_computed
    }

    /// Gives the cutter the levels of the frames the audio now has, and finishes the pieces before
    /// the cuts it settles (all of them once the audio has `ended`).
    fn settle(&mut self, recognizer: &Recognizer, ended: bool) -> Result<Vec<Segment>, Error> {
        let per_frame = recognizer.config().samples_per_frame();
        let frames = recognizer.config().frames_for(self.received);
        while self.cutter.frames() < frames {
            let at = (self.cutter.frames() - self.piece_start) * per_frame;
            self.cutter.push_level(pauses::level(&self.samples[at..at + per_frame]));
        }
        let mut finals = Vec::new();
        for cut in self.cutter.cuts(ended) {
            let piece_frames = cut - self.piece_start;
            finals.push(self.recognize_open_piece(recognizer, recognizer.samples_for_frames(piece_frames), true)?);
            self.samples.drain(..piece_frames * per_frame);
            self.piece_start = cut;
        }
        Ok(finals)
    }

    /// The open piece's first `len` samples, recognised: all of it settled where the piece `ends`
    /// there, else (live) with its last frames shown but not settled.
    fn recognize_open_piece(&mut self, recognizer: &Recognizer, len: usize, ends: bool) -> Result<Segment, Error> {
        let piece = &self.samples[..len];
        let frames = recognizer.config().frames_for(piece.len());
        if frames == 0 {
            let start = self.piece_start as f64 * recognizer.seconds_per_frame();
            return Ok(Segment { start, end: start, text: String::new(), words: Vec::new() });
        }
        let Some(live) = &mut self.live else {
            return recognizer.recognize_piece(piece, self.piece_start, self.chunking, self.decoding, |_, _| std::ops::ControlFlow::Continue(()));
        };
        let earlier = live.settled.take();
        let earlier_frames = earlier.as_ref().map_or(Ok(0), |logits| logits.dim(0))?;
        let settled = earlier_frames.min(frames);
        let mut blocks = Vec::with_capacity(2);
        if let Some(earlier) = earlier.as_ref().filter(|_| settled > 0) {
            blocks.push(earlier.narrow(0, 0, settled)?);
        }
        if settled < frames {
            let window = settled.saturating_sub(live.context_frames)..frames;
            let normalization = Normalization::of(recognizer.window_samples(piece, window.clone()));
            blocks.push(recognizer.window_logits(piece, &normalization, window.clone(), settled..frames)?);
            self.frames_computed += window.len();
        }
        let logits = Tensor::cat(&blocks, 0)?;
        live.settled = if ends {
            // Frames settled past a cut begin the next piece: they are not computed again.
            match earlier {
                Some(earlier) if earlier_frames > frames => Some(earlier.narrow(0, frames, earlier_frames - frames)?),
                _ => None,
            }
        } else {
            let settle_to = frames.saturating_sub(live.lookahead_frames).max(settled);
            (settle_to > 0).then(|| logits.narrow(0, 0, settle_to)).transpose()?
        };
        recognizer.decode_piece(&logits, self.piece_start, self.decoding)
    }
}

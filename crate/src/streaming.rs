//! Streaming recognition: audio in as it is recorded, text out piece by piece, the same text and word
//! times as [`Recognizer::transcribe`] gives for the whole recording.
//!
//! Offline recognition cuts audio into pieces (`pauses.rs`: at pauses, and where a piece would
//! outgrow [`Chunking::max_piece_seconds`]) and recognises each on its own. A [`Stream`] runs the same
//! cutter as the audio arrives. A pause is judged against the loudest frame within a second on
//! either side, so a cut is settled once a second of audio after its pause run has arrived; then the
//! piece before it is final: recognised once, returned, and its samples dropped. What follows the
//! last cut is the open piece. Each push recognises it again, as if the audio ended there, for the
//! partial text; its cost is bounded by the maximum piece length, not by the length of the stream.
//!
//! # Where a piece ends for the word LM
//!
//! Each piece is decoded on its own, offline and streamed, and to the word LM it is a sentence: the
//! beam search starts it from `<s>` and ends it with `</s>`. The acoustic model already hears each
//! piece as an utterance (normalised on its own, as it was trained on one sentence per example), and
//! the pauses that cut are mostly between sentences (`pauses.rs`: 253 of 299 joins found on the demo
//! test set, 7 cuts elsewhere). Above all, a piece's text then depends on its audio alone: one beam
//! search across pieces (as before streaming) could still change a finished piece's words when
//! later audio came in, so a stream could never call any text final. It also reads better: the
//! demo-eval clips joined into two recordings (8 and 9 pieces) score WER 36.2 % and 45.8 % decoded
//! piece by piece, against 40.6 % and 56.6 % in one search across the pieces (`tests/streaming.rs`,
//! which prints both).

use crate::decoding::Decoding;
use crate::pauses::{self, Cutter};
use crate::recognizer::{Chunking, Recognizer};
use crate::transcript::Segment;
use crate::Error;

/// Audio recognised as it arrives; made by [`Recognizer::start_stream`], fed by [`Stream::push`] and
/// ended by [`Stream::finish`], each given the recognizer it was started from. It keeps the chunking
/// and decoding the recognizer had when the stream started.
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
}

/// What a push brings: the pieces it finished (in order, times from the start of the stream), and
/// the text of the open piece so far.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamUpdate {
    pub finals: Vec<Segment>,
    pub partial: Segment,
}

impl Stream {
    pub(crate) fn new(recognizer: &Recognizer, chunking: Chunking, decoding: Decoding) -> Result<Self, Error> {
        if chunking.max_piece_seconds.is_none_or(|seconds| !(seconds > 0.0 && seconds.is_finite())) {
            return Err(Error::InvalidSettings(
                "a stream needs a maximum piece length (Chunking::max_piece_seconds, a positive number of seconds): \
                 it holds and recognises again the open piece"
                    .into(),
            ));
        }
        Ok(Self { chunking, decoding, cutter: recognizer.cutter(chunking), samples: Vec::new(), piece_start: 0, received: 0 })
    }

    /// The next 16 kHz mono samples, any number of them: finishes the pieces they settle and
    /// recognises the open piece again for the partial text.
    pub fn push(&mut self, recognizer: &Recognizer, samples: &[f32]) -> Result<StreamUpdate, Error> {
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::InvalidAudio(format!("sample {} of the stream is not a finite number", self.received + i)));
        }
        self.samples.extend_from_slice(samples);
        self.received += samples.len();
        let finals = self.settle(recognizer, false)?;
        let partial = self.recognize(recognizer, self.samples.len())?;
        Ok(StreamUpdate { finals, partial })
    }

    /// Ends the stream: the pieces not yet returned, the open one last (none for a stream shorter
    /// than the model's shortest input).
    pub fn finish(mut self, recognizer: &Recognizer) -> Result<Vec<Segment>, Error> {
        let mut finals = self.settle(recognizer, true)?;
        if recognizer.config().frames_for(self.received) > self.piece_start {
            finals.push(self.recognize(recognizer, self.samples.len())?);
        }
        Ok(finals)
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
            finals.push(self.recognize(recognizer, recognizer.samples_for_frames(cut - self.piece_start))?);
            self.samples.drain(..(cut - self.piece_start) * per_frame);
            self.piece_start = cut;
        }
        Ok(finals)
    }

    /// The open piece's first `len` samples, recognised.
    fn recognize(&self, recognizer: &Recognizer, len: usize) -> Result<Segment, Error> {
        let piece = &self.samples[..len];
        if recognizer.config().frames_for(piece.len()) == 0 {
            let start = self.piece_start as f64 * recognizer.seconds_per_frame();
            return Ok(Segment { start, end: start, text: String::new(), words: Vec::new() });
        }
        recognizer.recognize_piece(piece, self.piece_start, self.chunking, self.decoding, |_, _| {})
    }
}

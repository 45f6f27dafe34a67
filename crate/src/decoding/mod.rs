//! CTC decoding: the model's per-frame logits into words with times and confidences.
//!
//! - [`greedy`]: the most likely label per frame;
//! - [`beam`]: prefix beam search with the language's word LM ([`crate::lm`]).
//!
//! Both take frames as they come, chunk by chunk, so progress reports can show the text so far.

pub mod beam;
pub mod greedy;

use candle_core::Tensor;

pub use beam::{BeamOptionError, BeamOptions};
use beam::BeamSearch;

use crate::lm::WordLm;
use crate::transcript::{Transcript, Word};
use crate::vocab::{Label, Vocab};

/// How logits become text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoding {
    /// The most likely label per frame.
    Greedy,
    /// Beam search, with the language's LM when `language_model` is set and the language has one.
    /// Without an LM, beam search finds the greedy path (see [`beam`]), so it runs only when asked
    /// for with `language_model: false`; otherwise greedy decoding stands in for it.
    BeamSearch { options: BeamOptions, language_model: bool },
}

/// The LM when there is one, greedy decoding otherwise.
impl Default for Decoding {
    fn default() -> Self {
        Decoding::BeamSearch { options: BeamOptions::default(), language_model: true }
    }
}

/// The vocabulary as the beam search reads it: a kind and a text per label id.
#[derive(Debug, Clone)]
pub(crate) struct Labels {
    kinds: Vec<Label>,
    texts: Vec<String>,
    blanks: Vec<u32>,
    delimiter: Option<u32>,
    seconds_per_frame: f64,
}

impl Labels {
    pub(crate) fn new(vocab: &Vocab, head_size: usize, seconds_per_frame: f64) -> Self {
        let (mut kinds, mut texts) = (Vec::with_capacity(head_size), Vec::with_capacity(head_size));
        for id in 0..head_size as u32 {
            let (kind, text) = vocab.label(id);
            kinds.push(kind);
            texts.push(text.to_string());
        }
        let ids_of = |wanted| (0..head_size as u32).filter(|&id| kinds[id as usize] == wanted).collect::<Vec<_>>();
        let blanks = ids_of(Label::Blank);
        let delimiter = ids_of(Label::Delimiter).first().copied();
        Self { blanks, delimiter, kinds, texts, seconds_per_frame }
    }

    fn kind(&self, label: u32) -> Label {
        self.kinds.get(label as usize).copied().unwrap_or(Label::Blank)
    }

    fn text(&self, label: u32) -> &str {
        self.texts.get(label as usize).map_or("", String::as_str)
    }

    fn best_blank(&self, frame_scores: &[f32]) -> f32 {
        self.blanks.iter().map(|&id| frame_scores[id as usize]).fold(f32::NEG_INFINITY, beam::larger)
    }

    fn delimiter_score(&self, frame_scores: &[f32]) -> f32 {
        self.delimiter.map_or(f32::NEG_INFINITY, |id| frame_scores[id as usize])
    }
}

/// ln Σ exp(logit − `best`) over a frame's logits, `best` the largest: a label's ln-posterior (its
/// log-softmax) is its logit − `best` − this. Greedy decoding and the beam search both take it from
/// here, so that the same path gets the same confidences, to the bit, from either.
pub(crate) fn log_normalizer(logits: &[f32], best: f32) -> f32 {
    logits.iter().map(|&x| (x - best).exp()).sum::<f32>().ln()
}

/// The words of a path given as its runs of one label each (`label`, first frame, last frame, the
/// sum of the label's ln-posteriors over those frames), in order: a word spans from the first frame
/// of its first letter to the end of the last frame of its last letter, and `|` ends it. Greedy
/// decoding and the beam search both time words this way.
///
/// A word's confidence is that of its least certain letter, a letter's the geometric mean of its
/// posterior over the frames it was emitted on (exp of the mean ln-posterior). Blank frames between
/// letters do not count: CTC spends most frames on blank, confidently, whatever the letters. The
/// minimum, not a mean over the word: one doubtful letter spoils a long Sakha word, and a mean over
/// its ten other letters would hide it.
pub(crate) fn transcript_from_runs<'v>(
    runs: impl IntoIterator<Item = (u32, u32, u32, f32)>,
    label_of: impl Fn(u32) -> (Label, &'v str),
    frames: usize,
    seconds_per_frame: f64,
) -> Transcript {
    let seconds = |frame: usize| frame as f64 * seconds_per_frame;
    let mut words = Vec::new();
    let mut current: Option<Word> = None;
    for (label, start, end, log_prob) in runs {
        match label_of(label) {
            (Label::Letter, letters) => {
                let word = current.get_or_insert_with(|| Word::starting_at(seconds(start as usize)));
                word.text.push_str(letters);
                word.end = seconds(end as usize + 1);
                let letter_confidence = (log_prob / (end - start + 1) as f32).exp();
                word.confidence = word.confidence.min(letter_confidence);
            }
            (Label::Delimiter, _) => words.extend(current.take()),
            (Label::Blank, _) => {}
        }
    }
    words.extend(current);
    Transcript::from_words(words, seconds(frames))
}

/// Decodes a stream of logit chunks.
pub(crate) enum FrameDecoder<'a> {
    Greedy { vocab: &'a Vocab, frames: Vec<greedy::FrameBest>, seconds_per_frame: f64 },
    Beam(Box<BeamSearch<'a>>),
}

impl<'a> FrameDecoder<'a> {
    pub(crate) fn new(decoding: Decoding, vocab: &'a Vocab, labels: &'a Labels, lm: Option<&'a WordLm>) -> Self {
        match decoding {
            Decoding::BeamSearch { options, language_model: false } => Self::Beam(Box::new(BeamSearch::new(labels, None, options))),
            Decoding::BeamSearch { options, language_model: true } if lm.is_some() => {
                Self::Beam(Box::new(BeamSearch::new(labels, lm, options)))
            }
            _ => Self::Greedy { vocab, frames: Vec::new(), seconds_per_frame: labels.seconds_per_frame },
        }
    }

    /// The next `[frames, labels]` logits.
    pub(crate) fn push(&mut self, logits: &Tensor) -> candle_core::Result<()> {
        let labels = logits.dim(1)?;
        let logits = logits.flatten_all()?.to_vec1::<f32>()?;
        let frames = logits.chunks_exact(labels);
        match self {
            Self::Greedy { frames: best, .. } => best.extend(frames.map(greedy::best_label)),
            Self::Beam(search) => frames.for_each(|frame| search.push_frame(frame)),
        }
        Ok(())
    }

    /// The text so far.
    pub(crate) fn partial(&self) -> Transcript {
        match self {
            Self::Greedy { vocab, frames, seconds_per_frame } => greedy::decode(vocab, frames, *seconds_per_frame),
            Self::Beam(search) => search.best(),
        }
    }

    pub(crate) fn finish(self) -> Transcript {
        match self {
            Self::Greedy { .. } => self.partial(),
            Self::Beam(mut search) => search.finish(),
        }
    }
}

//! Greedy CTC decoding: the most likely label per frame, into words with times and confidences.
//!
//! The `tokenizers` crate has a CTC decoder, but it maps token strings to text and drops the frame
//! index of every token, and per-word start/end times are what subtitles and the UI need. Greedy CTC is
//! a dozen lines once the frame positions are kept, so it is done here on token ids.

use crate::transcript::Transcript;
use crate::vocab::Vocab;

use super::{log_normalizer, transcript_from_runs};

/// A frame's most likely label (token id) and its ln-posterior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameBest {
    pub label: u32,
    pub log_prob: f32,
}

/// The most likely label of one frame's logits (the first of equals, as candle's `argmax` picks).
pub fn best_label(logits: &[f32]) -> FrameBest {
    let (mut label, mut best) = (0, f32::NEG_INFINITY);
    for (i, &x) in logits.iter().enumerate() {
        if x > best {
            (label, best) = (i, x);
        }
    }
    FrameBest { label: label as u32, log_prob: -log_normalizer(logits, best) }
}

/// Greedy CTC decoding of per-frame best labels: merge runs of the same id, drop blanks and special
/// tokens, split words at `|` (words timed, and their confidence taken, as [`transcript_from_runs`]
/// says).
pub fn decode(vocab: &Vocab, frames: &[FrameBest], seconds_per_frame: f64) -> Transcript {
    let mut runs: Vec<(u32, u32, u32, f32)> = Vec::new();
    for (frame, best) in frames.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.0 == best.label => {
                run.2 = frame as u32;
                run.3 += best.log_prob;
            }
            _ => runs.push((best.label, frame as u32, frame as u32, best.log_prob)),
        }
    }
    transcript_from_runs(runs, |id| vocab.label(id), frames.len(), seconds_per_frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_label_takes_the_first_of_equals_and_its_log_softmax() {
        let best = best_label(&[1.0, 3.0, 3.0, 0.0]);
        assert_eq!(best.label, 1);
        let expected = 3.0 - (1f32.exp() + 2.0 * 3f32.exp() + 1.0).ln();
        assert!((best.log_prob - expected).abs() < 1e-6, "{} vs {expected}", best.log_prob);
    }

    #[test]
    fn a_words_confidence_is_its_least_certain_letters_over_its_frames_without_blanks() {
        let table = [("<pad>", 0), ("|", 1), ("к", 2), ("и", 3), ("н", 4)];
        let vocab = Vocab::from_table(table.iter().map(|&(t, id)| (t.to_string(), id)).collect()).unwrap();
        let frame = |label, p: f32| FrameBest { label, log_prob: p.ln() };
        // к over two frames (0.9, 0.4), a doubtful blank, и (0.7), |, н (0.99)
        let frames = [frame(2, 0.9), frame(2, 0.4), frame(0, 0.1), frame(3, 0.7), frame(1, 0.5), frame(4, 0.99)];
        let transcript = decode(&vocab, &frames, 0.02);
        assert_eq!(transcript.text, "ки н");
        let confidences: Vec<f32> = transcript.words.iter().map(|w| w.confidence).collect();
        assert!((confidences[0] - 0.6).abs() < 1e-6, "к's frames give (0.9 · 0.4)^½ = 0.6: {confidences:?}");
        assert!((confidences[1] - 0.99).abs() < 1e-6, "{confidences:?}");
    }
}

//! Greedy CTC decoding: the most likely label per frame, into words with times.
//!
//! The `tokenizers` crate has a CTC decoder, but it maps token strings to text and drops the frame
//! index of every token, and per-word start/end times are what subtitles and the UI need. Greedy CTC is
//! a dozen lines once the frame positions are kept, so it is done here on token ids.

use crate::transcript::Transcript;
use crate::vocab::Vocab;

use super::transcript_from_runs;

/// Greedy CTC decoding of per-frame token ids: merge runs of the same id, drop blanks and special
/// tokens, split words at `|` (words timed as [`transcript_from_runs`] says).
pub fn decode(vocab: &Vocab, frame_ids: &[u32], seconds_per_frame: f64) -> Transcript {
    let mut runs: Vec<(u32, u32, u32)> = Vec::new();
    for (frame, &id) in frame_ids.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.0 == id => run.2 = frame as u32,
            _ => runs.push((id, frame as u32, frame as u32)),
        }
    }
    transcript_from_runs(runs, |id| vocab.label(id), frame_ids.len(), seconds_per_frame)
}

//! Finding the pauses in long audio, so it can be cut between sentences rather than at fixed times.
//!
//! Why: CTC models such as MMS are fine-tuned on single utterances. Given several sentences in one
//! window, the demo model ran words together across the pauses between them (scripts/
//! measure-chunking.sh: CER 34 % on 40 joined sentences against 8.6 % one by one), and sentences
//! recorded at different levels shared one normalisation. Cut at pauses, each piece is an utterance.
//!
//! A pause is a run of frames that are all much quieter than the sound on both sides of them: the
//! loudest frame within a second before and the loudest within a second after. Relative levels
//! need no fixed threshold for quiet speakers or background noise, and taking the quieter side
//! keeps a quiet sentence that follows a loud one from counting as a pause.
//!
//! The 15 dB and 0.26 s were chosen on the demo test set (300 held-out sentences with 0.26-0.58 s of
//! trailing silence, white or pink noise at 10-30 dB SNR, levels from -12 to -39 dBFS) joined end to
//! end, with a NumPy twin of this rule (not kept): 253 of the 299 joins found, 7 cuts elsewhere (at
//! long gaps between words), 2 more than 2 frames into the next sentence; 12 dB or 0.2 s cut inside
//! sentences far more often, 20 dB missed more joins. What the repo reproduces: the CER by pause
//! length in scripts/measure-chunking.sh, and the joins found in `tests/demo_model.rs`.

/// How far below both sides' loudest frames a frame must be to count as quiet.
const QUIET_BELOW_PEAK_DB: f32 = 15.0;
/// Each side's loudest frame is taken over this many seconds.
const PEAK_WINDOW_SECONDS: f64 = 1.0;

/// The frames at which to cut: the middle of every run of at least `min_pause_frames` quiet frames.
/// Frame `f` is `samples[f * samples_per_frame..][..samples_per_frame]`, for `frames` frames
/// (the model's output frames); cuts are in `1..frames`, ascending.
pub fn cuts(samples: &[f32], samples_per_frame: usize, frames: usize, sample_rate: usize, min_pause_frames: usize) -> Vec<usize> {
    let levels: Vec<f32> = (0..frames)
        .map(|f| {
            let frame = samples.get(f * samples_per_frame..((f + 1) * samples_per_frame).min(samples.len())).unwrap_or(&[]);
            let power = frame.iter().map(|s| s * s).sum::<f32>() / frame.len().max(1) as f32;
            10.0 * (power + 1e-10).log10()
        })
        .collect();
    let reach = (PEAK_WINDOW_SECONDS * sample_rate as f64 / samples_per_frame as f64).round() as usize;
    let quiet: Vec<bool> = (0..frames)
        .map(|f| {
            let loudest = |range: &[f32]| range.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let before = loudest(&levels[f.saturating_sub(reach)..=f]);
            let after = loudest(&levels[f..(f + reach + 1).min(frames)]);
            levels[f] < before.min(after) - QUIET_BELOW_PEAK_DB
        })
        .collect();
    let mut cuts = Vec::new();
    let mut f = 0;
    while f < frames {
        let run = quiet[f..].iter().take_while(|&&q| q).count();
        if run >= min_pause_frames.max(1) {
            let middle = f + run / 2;
            if middle > 0 && middle < frames {
                cuts.push(middle);
            }
        }
        f += run.max(1);
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: usize = 16_000;
    const PER_FRAME: usize = 320;

    /// A tone of `seconds` at `amplitude` over a noise floor of `noise` (deterministic).
    fn tone(seconds: f64, amplitude: f32, noise: f32, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..(seconds * RATE as f64) as usize)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let hiss = ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0 * noise;
                amplitude * (i as f32 * 0.07).sin() + hiss
            })
            .collect()
    }

    fn frames(samples: &[f32]) -> usize {
        samples.len() / PER_FRAME
    }

    #[test]
    fn cuts_in_the_middle_of_each_pause_whatever_the_levels() {
        // loud speech, a 0.4 s pause, quiet speech 25 dB down, a 0.5 s pause, loud again; noise 30 dB
        // under the quiet part, so a fixed threshold for the loud part would call the quiet one a pause
        let noise = 0.001;
        let pieces = [tone(2.0, 0.5, noise, 1), tone(0.4, 0.0, noise, 2), tone(2.0, 0.03, noise, 3), tone(0.5, 0.0, noise, 4), tone(1.0, 0.5, noise, 5)];
        let samples: Vec<f32> = pieces.concat();
        let found = cuts(&samples, PER_FRAME, frames(&samples), RATE, 13);
        assert_eq!(found.len(), 2, "{found:?}");
        // pauses span frames 100..120 and 220..245
        assert!((108..=112).contains(&found[0]), "{found:?}");
        assert!((230..=234).contains(&found[1]), "{found:?}");
    }

    #[test]
    fn short_gaps_and_steady_sound_are_not_pauses() {
        let noise = 0.001;
        let gap = [tone(1.5, 0.5, noise, 1), tone(0.2, 0.0, noise, 2), tone(1.5, 0.5, noise, 3)].concat();
        assert!(cuts(&gap, PER_FRAME, frames(&gap), RATE, 13).is_empty(), "0.2 s between words");
        let steady = tone(5.0, 0.2, noise, 4);
        assert!(cuts(&steady, PER_FRAME, frames(&steady), RATE, 13).is_empty());
        let silence = vec![0.0; 3 * RATE];
        assert!(cuts(&silence, PER_FRAME, frames(&silence), RATE, 13).is_empty(), "nothing louder to compare with");
        assert!(cuts(&[], PER_FRAME, 0, RATE, 13).is_empty());
    }
}

//! CTC prefix beam search with a word language model applied where words end (`|`).
//!
//! Each hypothesis is one alignment path, and hypotheses meet by keeping the better path (Viterbi,
//! as torchaudio's and flashlight's CTC decoders do by default), not by summing paths. That choice
//! buys three things: a hypothesis knows exactly which frames each letter took, so word times come out
//! as greedy decoding gives them, with no second alignment pass; two hypotheses whose futures score
//! alike (same LM context, same letters of the unfinished word, same last label) merge exactly,
//! whatever words came before, so the beam holds distinct futures; and with beam width 1, or without
//! an LM at any width, the result is the greedy one (the most likely path), which the tests check.
//!
//! The search runs frame by frame without allocating: candidate and hypothesis vectors, the merge map
//! and the word lookup cache are reused, and the letter runs of every path live in one arena that is
//! compacted when it grows.

use rustc_hash::FxHashMap as HashMap;

use super::Labels;
use crate::lm::{Context, WordLm};
use crate::transcript::Transcript;
use crate::vocab::Label;

/// Settings of the beam search (the CLI's `--beam`, `--lm-weight`, `--word-bonus`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamOptions {
    /// Hypotheses kept after each frame.
    pub beam_width: usize,
    /// α: the weight of the LM's ln-probability of each word against the acoustic ln-probabilities.
    pub lm_weight: f32,
    /// β: added for each word, against the LM's pull towards fewer, longer words.
    pub word_bonus: f32,
    /// Added (at most 0) for each word the LM does not know. The LM's own unknown-word probability is
    /// that of the whole class of rarer words (several percent of all words), far likelier than any
    /// one misspelling, so without it a one-letter slip would outscore the word it spoils.
    pub unknown_word_penalty: f32,
    /// Labels less likely than the frame's most likely one by more than this (in ln) are not tried.
    pub prune_log_prob: f32,
}

/// A setting outside what the beam search takes ([`BeamOptions::check`]); the CLI and the wasm API
/// each name it in their own words (flags, JS option names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeamOptionError {
    /// The width is not within `1..=BeamOptions::MAX_BEAM_WIDTH`.
    BeamWidth,
    /// The LM weight, the word bonus or the unknown-word penalty is infinite or NaN.
    NotFinite,
    /// The unknown-word penalty is above 0: a reward would prefer misspellings.
    UnknownWordReward,
}

impl BeamOptions {
    /// The widest beam taken, from the CLI and the wasm API alike.
    pub const MAX_BEAM_WIDTH: usize = 1024;

    /// The first setting the beam search cannot take, if any.
    pub fn check(&self) -> Result<(), BeamOptionError> {
        if !(1..=Self::MAX_BEAM_WIDTH).contains(&self.beam_width) {
            return Err(BeamOptionError::BeamWidth);
        }
        if ![self.lm_weight, self.word_bonus, self.unknown_word_penalty].iter().all(|v| v.is_finite()) {
            return Err(BeamOptionError::NotFinite);
        }
        if self.unknown_word_penalty > 0.0 {
            return Err(BeamOptionError::UnknownWordReward);
        }
        Ok(())
    }
}

/// α, β and the penalty: the best of the grid on the demo model's synthetic dev set for the built-in
/// package's LM (scripts/measure-lm.sh; BENCHMARKS.md).
impl Default for BeamOptions {
    fn default() -> Self {
        Self { beam_width: 16, lm_weight: 0.6, word_bonus: 5.0, unknown_word_penalty: -9.0, prune_log_prob: 8.0 }
    }
}

const NONE: u32 = u32::MAX;

/// A finished run of one label over frames `start..=end` on some path; `parent` is the run before it.
#[derive(Debug, Clone, Copy)]
struct Run {
    label: u32,
    start: u32,
    end: u32,
    parent: u32,
    /// The sum of the label's ln-posteriors over the run's frames, for the word's confidence.
    log_prob: f32,
}

#[derive(Debug, Clone, Copy)]
struct Hypothesis {
    /// Acoustic ln-probability of the path, plus α·LM and β per word. In f64: over an hour of frames
    /// an f32 sum would round away differences between paths.
    score: f64,
    context: Context,
    word: PartialWord,
    /// The path's label runs before the open one (an arena index, `NONE` for none).
    history: u32,
    /// The last label run; `label` is `NONE` before the first.
    open: Run,
    /// Whether the last frame was blank (or silent): the open run can no longer grow.
    after_blank: bool,
}

/// The letters of a hypothesis's unfinished word.
#[derive(Debug, Clone, Copy)]
struct PartialWord {
    hash: u64,
    letters: u32,
    /// Whether some word of the LM starts with these letters (always, without an LM). The unknown-word
    /// penalty is paid as soon as this turns false, not where the word ends: otherwise a hypothesis
    /// that never ends its word would defer every cost and crowd the others out of the beam.
    known_prefix: bool,
}

impl PartialWord {
    const EMPTY: Self = Self { hash: 0, letters: 0, known_prefix: true };
}

/// What makes two hypotheses' futures alike: then only the better one is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct MergeKey {
    context: Context,
    word_hash: u64,
    last_label: u32,
    after_blank: bool,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    /// A blank frame: the path's labels are unchanged.
    Blank,
    /// The open run's label again.
    Repeat,
    /// A new label starts a run.
    Emit(u32),
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f64,
    from: usize,
    step: Step,
    context: Context,
    word: PartialWord,
}

pub(crate) struct BeamSearch<'a> {
    labels: &'a Labels,
    lm: Option<&'a WordLm>,
    options: BeamOptions,
    frame: u32,
    beams: Vec<Hypothesis>,
    next_beams: Vec<Hypothesis>,
    candidates: Vec<Candidate>,
    merge: HashMap<MergeKey, usize>,
    runs: Vec<Run>,
    /// The arena size at which it is next compacted.
    compact_at: usize,
    /// LM ids of the words met so far, and whether the LM has words starting so, by the hash of their
    /// letters.
    word_ids: HashMap<u64, Option<u32>>,
    known_prefixes: HashMap<u64, bool>,
    word_text: String,
    spelled: Vec<u32>,
    frame_scores: Vec<f32>,
    /// The frame's [`super::log_normalizer`]: a label's ln-posterior is its score minus this.
    log_normalizer: f32,
    tried_labels: Vec<u32>,
}

const MIN_COMPACT_AT: usize = 4096;

impl<'a> BeamSearch<'a> {
    pub(crate) fn new(labels: &'a Labels, lm: Option<&'a WordLm>, options: BeamOptions) -> Self {
        let start = Hypothesis {
            score: 0.0,
            context: lm.map_or(Context::Unknown, WordLm::sentence_start),
            word: PartialWord::EMPTY,
            history: NONE,
            open: Run { label: NONE, start: 0, end: 0, parent: NONE, log_prob: 0.0 },
            after_blank: true,
        };
        Self {
            labels,
            lm,
            options: BeamOptions { beam_width: options.beam_width.max(1), ..options },
            frame: 0,
            beams: vec![start],
            next_beams: Vec::new(),
            candidates: Vec::new(),
            merge: HashMap::default(),
            runs: Vec::new(),
            compact_at: MIN_COMPACT_AT,
            word_ids: HashMap::default(),
            known_prefixes: HashMap::default(),
            word_text: String::new(),
            spelled: Vec::new(),
            frame_scores: Vec::new(),
            log_normalizer: 0.0,
            tried_labels: Vec::new(),
        }
    }

    /// One frame's logits (one per label).
    pub(crate) fn push_frame(&mut self, logits: &[f32]) {
        self.read_frame(logits);
        let (blank, delimiter) = (self.labels.best_blank(&self.frame_scores), self.labels.delimiter_score(&self.frame_scores));
        self.candidates.clear();
        self.merge.clear();
        for from in 0..self.beams.len() {
            let hypothesis = self.beams[from];
            // A word delimiter with no word before it changes nothing in the text: it counts as blank.
            let blank = if hypothesis.word.letters == 0 { larger(blank, delimiter) } else { blank };
            self.offer(Candidate {
                score: hypothesis.score + blank as f64,
                from,
                step: Step::Blank,
                context: hypothesis.context,
                word: hypothesis.word,
            });
            for i in 0..self.tried_labels.len() {
                let label = self.tried_labels[i];
                let repeat = Candidate {
                    score: hypothesis.score + self.frame_scores[label as usize] as f64,
                    from,
                    step: Step::Repeat,
                    context: hypothesis.context,
                    word: hypothesis.word,
                };
                if label == hypothesis.open.label && !hypothesis.after_blank {
                    self.offer(repeat);
                    continue;
                }
                match self.labels.kind(label) {
                    Label::Delimiter if hypothesis.word.letters == 0 => {}
                    Label::Delimiter => {
                        let (word_score, context) = self.finish_word(&hypothesis);
                        let score = repeat.score + word_score;
                        self.offer(Candidate { score, step: Step::Emit(label), context, word: PartialWord::EMPTY, ..repeat });
                    }
                    Label::Letter => {
                        let word = self.extend_word(&hypothesis, label);
                        let penalty = if hypothesis.word.known_prefix && !word.known_prefix { self.options.unknown_word_penalty } else { 0.0 };
                        self.offer(Candidate { score: repeat.score + penalty as f64, step: Step::Emit(label), word, ..repeat });
                    }
                    Label::Blank => {}
                }
            }
        }
        self.keep_best();
        self.frame += 1;
    }

    /// The text of the best hypothesis so far (its unfinished word included).
    pub(crate) fn best(&self) -> Transcript {
        let best = self.beams.iter().max_by(|a, b| a.score.total_cmp(&b.score));
        self.transcript(best.expect("the beam is never empty"))
    }

    /// The best hypothesis once the audio has ended: unfinished words and the end of the sentence
    /// are scored by the LM.
    pub(crate) fn finish(&mut self) -> Transcript {
        let mut best: Option<(f64, Hypothesis)> = None;
        for i in 0..self.beams.len() {
            let hypothesis = self.beams[i];
            let mut score = hypothesis.score;
            let mut context = hypothesis.context;
            if hypothesis.word.letters > 0 {
                let (word_score, next) = self.finish_word(&hypothesis);
                score += word_score;
                context = next;
            }
            if let Some(lm) = self.lm {
                score += (self.options.lm_weight * lm.end_score(context)) as f64;
            }
            if best.is_none_or(|(best, _)| score > best) {
                best = Some((score, hypothesis));
            }
        }
        self.transcript(&best.expect("the beam is never empty").1)
    }

    /// The frame's scores, relative to its best label, and the labels worth trying. These are the
    /// logits, not log-probabilities: log-softmax subtracts the same log-sum from every label of a
    /// frame, and every hypothesis takes one label per frame, so it changes no comparison. The log-sum
    /// is taken once per frame, for the confidence of the letters emitted on it.
    fn read_frame(&mut self, logits: &[f32]) {
        let best = logits.iter().copied().fold(f32::NEG_INFINITY, larger);
        self.frame_scores.clear();
        self.frame_scores.extend(logits.iter().map(|&x| x - best));
        self.log_normalizer = super::log_normalizer(logits, best);
        self.tried_labels.clear();
        for (label, &score) in self.frame_scores.iter().enumerate() {
            if score >= -self.options.prune_log_prob && self.labels.kind(label as u32) != Label::Blank {
                self.tried_labels.push(label as u32);
            }
        }
    }

    fn offer(&mut self, candidate: Candidate) {
        let hypothesis = &self.beams[candidate.from];
        let (last_label, after_blank) = match candidate.step {
            Step::Blank => (hypothesis.open.label, true),
            Step::Repeat => (hypothesis.open.label, false),
            Step::Emit(label) => (label, false),
        };
        let key = MergeKey { context: candidate.context, word_hash: candidate.word.hash, last_label, after_blank };
        match self.merge.get(&key) {
            Some(&i) if self.candidates[i].score >= candidate.score => {}
            Some(&i) => self.candidates[i] = candidate,
            None => {
                self.merge.insert(key, self.candidates.len());
                self.candidates.push(candidate);
            }
        }
    }

    /// α·ln P(word | context) + β for the hypothesis's unfinished word, and the context after it.
    /// Without an LM, words cost nothing, so the search follows the acoustic model alone.
    fn finish_word(&mut self, hypothesis: &Hypothesis) -> (f64, Context) {
        let Some(lm) = self.lm else { return (0.0, Context::Unknown) };
        let id = match self.word_ids.get(&hypothesis.word.hash) {
            Some(&id) => id,
            None => {
                self.spell_word(hypothesis);
                let id = lm.word_id(&self.word_text);
                self.word_ids.insert(hypothesis.word.hash, id);
                id
            }
        };
        let (log_prob, context) = lm.score(hypothesis.context, id);
        // An unknown word whose letters all began known words has not paid its penalty yet.
        let penalty = if id.is_none() && hypothesis.word.known_prefix { self.options.unknown_word_penalty } else { 0.0 };
        ((self.options.lm_weight * log_prob + self.options.word_bonus + penalty) as f64, context)
    }

    /// The hypothesis's unfinished word with `label` added.
    fn extend_word(&mut self, hypothesis: &Hypothesis, label: u32) -> PartialWord {
        let hash = extend_hash(hypothesis.word.hash, label);
        let mut known_prefix = hypothesis.word.known_prefix;
        if let (Some(lm), true) = (self.lm, known_prefix) {
            known_prefix = match self.known_prefixes.get(&hash) {
                Some(&known) => known,
                None => {
                    self.spell_word(hypothesis);
                    self.word_text.push_str(self.labels.text(label));
                    let known = lm.has_prefix(&self.word_text);
                    self.known_prefixes.insert(hash, known);
                    known
                }
            };
        }
        PartialWord { hash, letters: hypothesis.word.letters + 1, known_prefix }
    }

    /// The unfinished word's letters into `word_text`: the open run's, then back to the last delimiter.
    fn spell_word(&mut self, hypothesis: &Hypothesis) {
        self.word_text.clear();
        self.spelled.clear();
        let mut run = hypothesis.open;
        loop {
            if self.labels.kind(run.label) != Label::Letter {
                break;
            }
            self.spelled.push(run.label);
            if run.parent == NONE {
                break;
            }
            run = self.runs[run.parent as usize];
        }
        for &label in self.spelled.iter().rev() {
            self.word_text.push_str(self.labels.text(label));
        }
    }

    /// Keeps the `beam_width` best candidates and makes them the hypotheses of this frame.
    fn keep_best(&mut self) {
        let width = self.options.beam_width;
        if self.candidates.len() > width {
            self.candidates.select_nth_unstable_by(width - 1, |a, b| b.score.total_cmp(&a.score));
            self.candidates.truncate(width);
        }
        self.next_beams.clear();
        for i in 0..self.candidates.len() {
            let candidate = self.candidates[i];
            let from = self.beams[candidate.from];
            let mut next = Hypothesis { score: candidate.score, context: candidate.context, word: candidate.word, ..from };
            match candidate.step {
                Step::Blank => next.after_blank = true,
                Step::Repeat => {
                    next.open.end = self.frame;
                    next.open.log_prob += self.log_prob(from.open.label);
                }
                Step::Emit(label) => {
                    if from.open.label != NONE {
                        next.history = self.runs.len() as u32;
                        self.runs.push(Run { parent: from.history, ..from.open });
                    }
                    let log_prob = self.log_prob(label);
                    next.open = Run { label, start: self.frame, end: self.frame, parent: next.history, log_prob };
                    next.after_blank = false;
                }
            }
            self.next_beams.push(next);
        }
        std::mem::swap(&mut self.beams, &mut self.next_beams);
        if self.runs.len() >= self.compact_at {
            self.compact_runs();
        }
    }

    /// `label`'s ln-posterior on the current frame.
    fn log_prob(&self, label: u32) -> f32 {
        self.frame_scores[label as usize] - self.log_normalizer
    }

    /// Drops the runs no hypothesis reaches any more. Parents precede their children in the arena,
    /// so one pass in order renumbers them.
    fn compact_runs(&mut self) {
        let mut new_index = vec![NONE; self.runs.len()];
        let mut live = Vec::new();
        for hypothesis in &self.beams {
            let mut run = hypothesis.history;
            while run != NONE && new_index[run as usize] == NONE {
                new_index[run as usize] = 0;
                live.push(run);
                run = self.runs[run as usize].parent;
            }
        }
        live.sort_unstable();
        let mut kept = Vec::with_capacity(live.len());
        for &old in &live {
            let run = self.runs[old as usize];
            let parent = if run.parent == NONE { NONE } else { new_index[run.parent as usize] };
            new_index[old as usize] = kept.len() as u32;
            kept.push(Run { parent, ..run });
        }
        for hypothesis in &mut self.beams {
            if hypothesis.history != NONE {
                hypothesis.history = new_index[hypothesis.history as usize];
            }
            hypothesis.open.parent = hypothesis.history;
        }
        self.runs = kept;
        self.compact_at = (2 * self.runs.len()).max(MIN_COMPACT_AT);
    }

    /// Words of a hypothesis's path, timed as greedy decoding times them.
    fn transcript(&self, hypothesis: &Hypothesis) -> Transcript {
        let mut path = Vec::new();
        if hypothesis.open.label != NONE {
            path.push(hypothesis.open);
        }
        let mut run = hypothesis.history;
        while run != NONE {
            path.push(self.runs[run as usize]);
            run = self.runs[run as usize].parent;
        }
        let runs = path.iter().rev().map(|run| (run.label, run.start, run.end, run.log_prob));
        let label_of = |label| (self.labels.kind(label), self.labels.text(label));
        super::transcript_from_runs(runs, label_of, self.frame as usize, self.labels.seconds_per_frame)
    }
}

/// `f32::max` without its NaN rule, which wasm has no instruction for (it calls libm's fmaxf); the
/// model's logits are finite.
pub(super) fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

fn extend_hash(hash: u64, label: u32) -> u64 {
    (hash.rotate_left(7) ^ (label as u64 + 1)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_refuses_each_setting_out_of_range() {
        let with = |change: fn(&mut BeamOptions)| {
            let mut options = BeamOptions::default();
            change(&mut options);
            options.check()
        };
        assert_eq!(BeamOptions::default().check(), Ok(()));
        assert_eq!(with(|o| o.beam_width = BeamOptions::MAX_BEAM_WIDTH), Ok(()));
        assert_eq!(with(|o| o.beam_width = 0), Err(BeamOptionError::BeamWidth));
        assert_eq!(with(|o| o.beam_width = BeamOptions::MAX_BEAM_WIDTH + 1), Err(BeamOptionError::BeamWidth));
        assert_eq!(with(|o| o.lm_weight = f32::NAN), Err(BeamOptionError::NotFinite));
        assert_eq!(with(|o| o.word_bonus = f32::INFINITY), Err(BeamOptionError::NotFinite));
        assert_eq!(with(|o| o.unknown_word_penalty = f32::NEG_INFINITY), Err(BeamOptionError::NotFinite));
        assert_eq!(with(|o| o.unknown_word_penalty = 0.5), Err(BeamOptionError::UnknownWordReward));
        assert_eq!(with(|o| o.unknown_word_penalty = 0.0), Ok(()));
    }
    use crate::decoding::greedy;
    use crate::lm::test_file;
    use crate::vocab::Vocab;

    /// Blank, `|`, a silent `<unk>` and five letters.
    fn labels() -> (Vocab, Labels) {
        let table = [("<pad>", 0), ("|", 1), ("<unk>", 2), ("к", 3), ("и", 4), ("н", 5), ("э", 6), ("а", 7)];
        let vocab = Vocab::from_table(table.iter().map(|&(t, id)| (t.to_string(), id)).collect()).unwrap();
        let labels = Labels::new(&vocab, table.len(), 0.02);
        (vocab, labels)
    }

    fn decode(labels: &Labels, lm: Option<&WordLm>, options: BeamOptions, frames: &[Vec<f32>]) -> Transcript {
        let mut search = BeamSearch::new(labels, lm, options);
        frames.iter().for_each(|frame| search.push_frame(frame));
        search.finish()
    }

    /// Logits that are mostly blank, with runs of letters and delimiters, and noise everywhere.
    fn random_frames(seed: u64, frames: usize, labels: usize) -> Vec<Vec<f32>> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        (0..frames)
            .map(|_| {
                let favoured = if uniform() < 0.5 { 0 } else { (uniform() * labels as f32) as usize % labels };
                (0..labels).map(|label| 3.0 * uniform() + if label == favoured { 2.5 } else { 0.0 }).collect()
            })
            .collect()
    }

    #[test]
    fn without_an_lm_any_beam_gives_the_greedy_text_and_times() {
        let (vocab, labels) = labels();
        for seed in 0..200 {
            let frames = random_frames(seed, 60, 8);
            let best: Vec<_> = frames.iter().map(|f| greedy::best_label(f)).collect();
            let greedy = greedy::decode(&vocab, &best, 0.02);
            assert!(!greedy.words.is_empty());
            for beam_width in [1, 4, 16] {
                let options = BeamOptions { beam_width, ..BeamOptions::default() };
                assert_eq!(decode(&labels, None, options, &frames), greedy, "seed {seed}, beam {beam_width}");
            }
        }
    }

    /// Frames that spell `letters` (one label each, `|` included), each label at ln 0.9 and the
    /// alternative given for a position at `alternative.1`.
    fn spelled(letters: &[u32], alternative: Option<(usize, u32, f32)>) -> Vec<Vec<f32>> {
        let mut frames = Vec::new();
        for (i, &label) in letters.iter().enumerate() {
            let mut frame = vec![-10.0; 8];
            frame[label as usize] = 0.9f32.ln();
            if let Some((_, other, log_prob)) = alternative.filter(|a| a.0 == i) {
                frame[other as usize] = log_prob;
            }
            frames.push(frame);
            let mut blank = vec![-10.0; 8];
            blank[0] = 0.0;
            frames.push(blank);
        }
        frames
    }

    #[test]
    fn the_lm_picks_the_known_word_when_the_audio_hesitates_but_unknown_words_stay_possible() {
        let (_, labels) = labels();
        let ln = |p: f32| p.ln();
        let file = test_file::write(
            &[("<s>", -20.0, 0.0), ("</s>", ln(0.2), 0.0), ("кини", ln(0.4), 0.0), ("кэнэ", ln(0.0001), 0.0)],
            &[],
            ln(0.001),
        );
        let lm = WordLm::from_bytes(file, "test.lm").unwrap();
        let options = BeamOptions { beam_width: 8, lm_weight: 1.0, word_bonus: 0.0, unknown_word_penalty: -3.0, prune_log_prob: 8.0 };
        // "кэнэ" by a hair (ln 0.9 against ln 0.8 at both vowels): greedy reads it; the LM, which finds
        // "кини" 4000 times likelier, turns both vowels.
        let (k, i, n, e) = (3, 4, 5, 6);
        let mut frames = spelled(&[k, e, n, e], Some((1, i, 0.8f32.ln())));
        frames[6][i as usize] = 0.8f32.ln();
        let no_lm = decode(&labels, None, options, &frames);
        assert_eq!(no_lm.text, "кэнэ");
        let with_lm = decode(&labels, Some(&lm), options, &frames);
        assert_eq!(with_lm.text, "кини");
        assert_eq!(with_lm.words[0].start, no_lm.words[0].start);
        // A word the LM has never seen, spoken clearly, is still written: a penalty, not a ban.
        let frames = spelled(&[k, i, n, i, 1, n, a(), k, a()], None);
        assert_eq!(decode(&labels, Some(&lm), options, &frames).text, "кини нака");
    }

    fn a() -> u32 {
        7
    }

    #[test]
    fn word_bonus_trades_against_the_lm_cost_of_each_word() {
        let (_, labels) = labels();
        let ln = |p: f32| p.ln();
        let file = test_file::write(&[("<s>", -20.0, 0.0), ("</s>", ln(0.5), 0.0), ("ка", ln(0.3), 0.0), ("кака", ln(0.2), 0.0)], &[], ln(0.001));
        let lm = WordLm::from_bytes(file, "test.lm").unwrap();
        // "ка ка" or "кака": the delimiter between the two is as likely as a blank.
        let (k, a, delimiter) = (3, 7, 1);
        let mut frames = spelled(&[k, a, delimiter, k, a], None);
        frames[4][delimiter as usize] = 0.0;
        frames[4][0] = 0.0;
        let text = |word_bonus| {
            let options = BeamOptions { beam_width: 8, lm_weight: 1.0, word_bonus, unknown_word_penalty: 0.0, prune_log_prob: 8.0 };
            decode(&labels, Some(&lm), options, &frames).text
        };
        assert_eq!(text(0.0), "кака", "without a bonus, one word costs the LM less than two");
        assert_eq!(text(10.0), "ка ка");
    }

    #[test]
    fn long_audio_keeps_the_run_arena_small() {
        let (vocab, labels) = labels();
        let frames = random_frames(7, 20_000, 8);
        let mut search = BeamSearch::new(&labels, None, BeamOptions::default());
        frames.iter().for_each(|frame| search.push_frame(frame));
        let path_runs = search.best().words.iter().map(|w| w.text.chars().count()).sum::<usize>();
        assert!(search.runs.len() < 4 * path_runs.max(MIN_COMPACT_AT), "{} runs for a path of {path_runs} letters", search.runs.len());
        let best: Vec<_> = frames.iter().map(|f| greedy::best_label(f)).collect();
        assert_eq!(search.finish(), greedy::decode(&vocab, &best, 0.02));
    }
}

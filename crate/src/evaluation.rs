//! `sakha-asr eval`: word and character error rates over a Common Voice-style test set (a TSV with
//! `path` and `sentence` columns, clips in a folder), normalised as training normalises.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::metrics::{char_errors, word_errors, ErrorCounts};
use crate::{audio, text, Decoding, Error, Recognizer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestItem {
    pub clip: PathBuf,
    pub sentence: String,
}

/// Reads a Common Voice TSV: a header row naming the columns, then one clip per line.
pub fn read_tsv(tsv: &Path, clips: &Path) -> Result<Vec<TestItem>, Error> {
    let content = std::fs::read_to_string(tsv).map_err(|source| Error::Io { path: tsv.to_path_buf(), source })?;
    let mut lines = content.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).ok_or_else(|| {
            Error::TestSet(format!("{}: no {name:?} column in the header", tsv.display()))
        })
    };
    let (path_column, sentence_column) = (column("path")?, column("sentence")?);
    lines
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            match (fields.get(path_column), fields.get(sentence_column)) {
                (Some(path), Some(sentence)) => Ok(TestItem { clip: clips.join(path), sentence: sentence.to_string() }),
                _ => Err(Error::TestSet(format!("{}: line {} has too few columns", tsv.display(), i + 2))),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct UtteranceResult {
    pub clip: PathBuf,
    pub reference: String,
    pub hypothesis: String,
    pub word_errors: usize,
    pub words: usize,
    pub char_errors: usize,
    pub chars: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub utterances: Vec<UtteranceResult>,
    /// Clips that could not be read or recognised, with the reason; not counted in the rates.
    pub failures: Vec<(PathBuf, String)>,
    pub wer: f64,
    pub cer: f64,
}

/// Transcribes every item and scores it; `on_item` sees each result as it comes (for progress).
pub fn evaluate(recognizer: &Recognizer, items: &[TestItem], mut on_item: impl FnMut(&UtteranceResult)) -> Report {
    let decoding = recognizer.decoding();
    let mut reports = evaluate_decodings(recognizer, items, &[decoding], |_, result| on_item(result));
    reports.remove(0)
}

/// Scores each of `decodings` on every item, running the model once per item (a grid search over
/// decoder settings costs one pass of the model). `on_item` sees each result with its decoding's index.
pub fn evaluate_decodings(
    recognizer: &Recognizer,
    items: &[TestItem],
    decodings: &[Decoding],
    mut on_item: impl FnMut(usize, &UtteranceResult),
) -> Vec<Report> {
    let mut reports = vec![Report::default(); decodings.len()];
    let mut counts = vec![(ErrorCounts::default(), ErrorCounts::default()); decodings.len()];
    for item in items {
        let logits = audio::load_audio_file(&item.clip).map_err(Error::from).and_then(|samples| recognizer.piece_logits(&samples));
        let reference = text::normalize(&item.sentence);
        for (i, &decoding) in decodings.iter().enumerate() {
            let hypothesis = match logits.as_ref().map_err(|e| e.to_string()).and_then(|logits| {
                recognizer.decode_pieces(logits, decoding).map_err(|e| e.to_string())
            }) {
                Ok(transcript) => text::normalize(&transcript.text),
                Err(e) => {
                    reports[i].failures.push((item.clip.clone(), e));
                    continue;
                }
            };
            let (w, c) = (word_errors(&reference, &hypothesis), char_errors(&reference, &hypothesis));
            counts[i].0 += w;
            counts[i].1 += c;
            let result = UtteranceResult {
                clip: item.clip.clone(),
                reference: reference.clone(),
                hypothesis,
                word_errors: w.edits,
                words: w.reference_length,
                char_errors: c.edits,
                chars: c.reference_length,
            };
            on_item(i, &result);
            reports[i].utterances.push(result);
        }
    }
    for (report, (words, chars)) in reports.iter_mut().zip(&counts) {
        report.wer = words.rate();
        report.cer = chars.rate();
    }
    reports
}

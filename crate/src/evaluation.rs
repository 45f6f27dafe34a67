//! `sakha-asr eval`: word and character error rates over a Common Voice-style test set (a TSV with
//! `path` and `sentence` columns, clips in a folder), normalised as training normalises.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::metrics::{char_errors, word_errors, ErrorCounts};
use crate::{audio, text, Error, Recognizer};

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
pub fn evaluate(
    recognizer: &Recognizer,
    items: &[TestItem],
    mut on_item: impl FnMut(&UtteranceResult),
) -> Report {
    let mut report = Report::default();
    let (mut words, mut chars) = (ErrorCounts::default(), ErrorCounts::default());
    for item in items {
        let hypothesis = audio::load_audio_file(&item.clip)
            .map_err(Error::from)
            .and_then(|samples| recognizer.transcribe(&samples));
        let hypothesis = match hypothesis {
            Ok(transcript) => text::normalize(&transcript.text),
            Err(e) => {
                report.failures.push((item.clip.clone(), e.to_string()));
                continue;
            }
        };
        let reference = text::normalize(&item.sentence);
        let (w, c) = (word_errors(&reference, &hypothesis), char_errors(&reference, &hypothesis));
        words += w;
        chars += c;
        let result = UtteranceResult {
            clip: item.clip.clone(),
            reference,
            hypothesis,
            word_errors: w.edits,
            words: w.reference_length,
            char_errors: c.edits,
            chars: c.reference_length,
        };
        on_item(&result);
        report.utterances.push(result);
    }
    report.wer = words.rate();
    report.cer = chars.rate();
    report
}

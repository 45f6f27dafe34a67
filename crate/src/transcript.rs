//! What recognition returns, and its renderings as plain text, JSON, SRT and WebVTT.

use serde::{Deserialize, Serialize, Serializer};

/// A recognised word with its time span in seconds from the start of the audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub start: f64,
    pub end: f64,
    /// How sure the model was of the word, 0..1: the posterior of its least certain letter, over the
    /// frames that letter was emitted on (see `decoding::transcript_from_runs`). Written with three
    /// decimals; a word read back without one (a page's edit, say) counts as certain.
    #[serde(serialize_with = "three_decimals", default = "certain")]
    pub confidence: f32,
}

impl Word {
    pub(crate) fn starting_at(start: f64) -> Self {
        Self { text: String::new(), start, end: start, confidence: 1.0 }
    }
}

/// As an f64, so that JS and JSON read 0.123, not the f32 nearest it (0.123000003…).
fn three_decimals<S: Serializer>(confidence: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((*confidence as f64 * 1000.0).round() / 1000.0)
}

fn certain() -> f32 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    /// The words joined by single spaces.
    pub text: String,
    pub words: Vec<Word>,
    /// Seconds of audio covered by the model's frames.
    pub duration: f64,
}

/// The recognised text of one piece of longer audio (between two cuts, see
/// [`crate::Chunking`]): its words, and where it starts and ends, in seconds from the start of the
/// audio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    /// The words joined by single spaces.
    pub text: String,
    pub words: Vec<Word>,
}

/// Subtitle cues close at this many characters, seconds, or at a pause this long.
const CUE_MAX_CHARS: usize = 42;
const CUE_MAX_SECONDS: f64 = 5.0;
const CUE_BREAK_PAUSE_SECONDS: f64 = 1.0;

impl Transcript {
    pub fn from_words(words: Vec<Word>, duration: f64) -> Self {
        let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        Self { text, words, duration }
    }

    /// Groups words into subtitle cues of readable length.
    fn cues(&self) -> Vec<(f64, f64, String)> {
        let mut cues: Vec<(f64, f64, String)> = Vec::new();
        for word in &self.words {
            match cues.last_mut() {
                Some((start, end, text))
                    if text.chars().count() + 1 + word.text.chars().count() <= CUE_MAX_CHARS
                        && word.end - *start <= CUE_MAX_SECONDS
                        && word.start - *end < CUE_BREAK_PAUSE_SECONDS =>
                {
                    text.push(' ');
                    text.push_str(&word.text);
                    *end = word.end;
                }
                _ => cues.push((word.start, word.end, word.text.clone())),
            }
        }
        cues
    }

    pub fn to_srt(&self) -> String {
        let mut out = String::new();
        for (i, (start, end, text)) in self.cues().iter().enumerate() {
            let (start, end) = (timestamp(*start, ','), timestamp(*end, ','));
            out.push_str(&format!("{}\n{start} --> {end}\n{text}\n\n", i + 1));
        }
        out
    }

    pub fn to_vtt(&self) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for (start, end, text) in self.cues() {
            out.push_str(&format!("{} --> {}\n{text}\n\n", timestamp(start, '.'), timestamp(end, '.')));
        }
        out
    }
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT).
fn timestamp(seconds: f64, decimal_separator: char) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    let (hours, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    format!("{hours:02}:{minutes:02}:{:02}{decimal_separator}{:03}", rest / 1000, rest % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start: f64, end: f64) -> Word {
        Word { text: text.into(), start, end, confidence: 1.0 }
    }

    #[test]
    fn confidence_is_written_with_three_decimals_and_read_back_as_certain_when_missing() {
        let json = serde_json::to_string(&Word { confidence: 0.123_456, ..word("кини", 0.02, 0.3) }).unwrap();
        assert_eq!(json, r#"{"text":"кини","start":0.02,"end":0.3,"confidence":0.123}"#);
        let read: Word = serde_json::from_str(r#"{"text":"кини","start":0.02,"end":0.3}"#).unwrap();
        assert_eq!(read, word("кини", 0.02, 0.3));
    }

    #[test]
    fn srt_and_vtt_break_cues_at_pauses_and_format_times() {
        let transcript = Transcript::from_words(
            vec![word("кини", 0.02, 0.30), word("кэллэ", 0.36, 0.8), word("дьиэтигэр", 3.5, 3725.125)],
            3726.0,
        );
        assert_eq!(transcript.text, "кини кэллэ дьиэтигэр");
        assert_eq!(
            transcript.to_srt(),
            "1\n00:00:00,020 --> 00:00:00,800\nкини кэллэ\n\n2\n00:00:03,500 --> 01:02:05,125\nдьиэтигэр\n\n"
        );
        assert_eq!(
            transcript.to_vtt(),
            "WEBVTT\n\n00:00:00.020 --> 00:00:00.800\nкини кэллэ\n\n00:00:03.500 --> 01:02:05.125\nдьиэтигэр\n\n"
        );
    }

    #[test]
    fn long_runs_of_words_split_into_cues_of_at_most_42_chars() {
        let words = (0..20).map(|i| word("сахалыы", i as f64 * 0.2, i as f64 * 0.2 + 0.15)).collect();
        let transcript = Transcript::from_words(words, 4.0);
        let cues = transcript.cues();
        assert!(cues.len() > 1);
        assert!(cues.iter().all(|(_, _, text)| text.chars().count() <= CUE_MAX_CHARS));
        let rejoined = cues.iter().map(|c| c.2.as_str()).collect::<Vec<_>>().join(" ");
        assert_eq!(rejoined, transcript.text);
    }
}

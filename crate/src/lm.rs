//! The word language model: a bigram back-off model in our own binary format (`<lang>.lm`, written by
//! `scripts/build_lm.py`), read in place from the file's bytes.
//!
//! Layout (little-endian; the builder's docstring has the same table):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `SAKHA-LM` |
//! | 4 | format version (u32) |
//! | 4 | words N (u32), including `<s>` and `</s>` |
//! | 4 | bigrams M (u32) |
//! | 4 | bytes of word text (u32) |
//! | 4 | ln P(unknown word) at unigram level (f32) |
//! | 4 | CRC-32 of everything after this 32-byte header (u32) |
//! | 4·N | end offset of each word in the text (u32), words in byte order, so an id is a rank |
//! | 4·N | ln P(word) at unigram level (f32) |
//! | 4·N | ln back-off weight of the word as a context (f32) |
//! | 4·N | end of each context's row in the bigram arrays (u32) |
//! | 4·M | next word of each bigram (u32), increasing within a row |
//! | 4·M | ln P(next word given context) (f32) |
//! | text | the words' UTF-8 bytes, then zero padding to a multiple of 4 |
//!
//! Every field is checked once at load, so lookups index without further checks and a corrupt or
//! hostile file is an error naming the field, never a panic.

use crate::Error;

const MAGIC: &[u8; 8] = b"SAKHA-LM";
pub const LM_FORMAT_VERSION: u32 = 1;
const HEADER_BYTES: usize = 32;
pub const SENTENCE_START: &str = "<s>";
pub const SENTENCE_END: &str = "</s>";

/// What a word is predicted from: the word before it, or nothing after an unknown word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Word(u32),
    Unknown,
}

/// A word bigram back-off model over the bytes of its file.
#[derive(Debug)]
pub struct WordLm {
    bytes: Vec<u8>,
    words: usize,
    unknown_log_prob: f32,
    sentence_start: u32,
    sentence_end: u32,
    sections: Sections,
}

/// Byte offsets of the arrays in the file.
#[derive(Debug, Clone, Copy)]
struct Sections {
    word_end: usize,
    unigram: usize,
    backoff: usize,
    row_end: usize,
    next_word: usize,
    bigram: usize,
    text: usize,
}

impl WordLm {
    /// Reads and checks an LM file; `name` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Result<Self, Error> {
        let invalid = |field: &str, why: String| Error::invalid(name, field, why);
        if bytes.len() < HEADER_BYTES || &bytes[..8] != MAGIC {
            return Err(invalid("magic", "not a sakha-asr word LM file (made by scripts/build_lm.py)".into()));
        }
        let header = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let version = header(8);
        if version != LM_FORMAT_VERSION {
            let advice = if version > LM_FORMAT_VERSION { "update sakha-asr" } else { "build the LM again with scripts/build_lm.py" };
            return Err(invalid(
                "version",
                format!("LM format version {version}, but this sakha-asr reads version {LM_FORMAT_VERSION}: {advice}"),
            ));
        }
        let (words, bigrams, text_bytes) = (header(12) as u64, header(16) as u64, header(20) as u64);
        let unknown_log_prob = f32::from_bits(header(24));
        let padding = (4 - text_bytes % 4) % 4;
        let expected = HEADER_BYTES as u64 + 16 * words + 8 * bigrams + text_bytes + padding;
        if bytes.len() as u64 != expected {
            return Err(invalid(
                "size",
                format!(
                    "{} bytes, but a file of {words} words, {bigrams} bigrams and {text_bytes} bytes of text has \
                     {expected} (truncated or damaged)",
                    bytes.len()
                ),
            ));
        }
        let checksum = crc32fast::hash(&bytes[HEADER_BYTES..]);
        if checksum != header(28) {
            return Err(invalid("checksum", format!("CRC-32 {checksum:08x} is not the header's {:08x} (damaged file)", header(28))));
        }
        // The size check bounds every count by the file's length, so these fit in usize.
        let (words, bigrams) = (words as usize, bigrams as usize);
        let word_end = HEADER_BYTES;
        let sections = Sections {
            word_end,
            unigram: word_end + 4 * words,
            backoff: word_end + 8 * words,
            row_end: word_end + 12 * words,
            next_word: word_end + 16 * words,
            bigram: word_end + 16 * words + 4 * bigrams,
            text: word_end + 16 * words + 8 * bigrams,
        };
        let mut lm = Self { bytes, words, unknown_log_prob, sentence_start: 0, sentence_end: 0, sections };
        lm.check(name, text_bytes as usize, bigrams)?;
        lm.sentence_start = lm.word_id(SENTENCE_START).ok_or_else(|| invalid("words", format!("no {SENTENCE_START}")))?;
        lm.sentence_end = lm.word_id(SENTENCE_END).ok_or_else(|| invalid("words", format!("no {SENTENCE_END}")))?;
        Ok(lm)
    }

    /// Everything lookups rely on: word ends inside the text and increasing, words valid UTF-8 and in
    /// strictly increasing byte order, rows inside the bigram arrays, next words known and increasing
    /// within a row, log probabilities finite and at most 0.
    fn check(&self, name: &str, text_bytes: usize, bigrams: usize) -> Result<(), Error> {
        let invalid = |field: &str, i: usize, why: &str| Error::invalid(name, format!("{field}[{i}]"), why);
        if self.words < 2 {
            return Err(Error::invalid(name, "words", "fewer than 2 (the model needs <s> and </s>)"));
        }
        if !self.unknown_log_prob.is_finite() || self.unknown_log_prob > 0.0 {
            return Err(Error::invalid(name, "unknown word log probability", "not a finite value at most 0"));
        }
        let text = &self.bytes[self.sections.text..self.sections.text + text_bytes];
        let mut previous_word: Option<&[u8]> = None;
        let mut start = 0;
        for i in 0..self.words {
            let end = self.u32_at(self.sections.word_end, i) as usize;
            if end <= start || end > text_bytes {
                return Err(invalid("word_end", i, "empty word or past the end of the text"));
            }
            let word = &text[start..end];
            if std::str::from_utf8(word).is_err() {
                return Err(invalid("word_end", i, "the word is not UTF-8"));
            }
            if previous_word.is_some_and(|previous| previous >= word) {
                return Err(invalid("word_end", i, "words are not in strictly increasing byte order"));
            }
            previous_word = Some(word);
            start = end;
            if !log_prob_ok(self.f32_at(self.sections.unigram, i)) {
                return Err(invalid("unigram", i, "not a finite log probability at most 0"));
            }
            if !self.f32_at(self.sections.backoff, i).is_finite() {
                return Err(invalid("backoff", i, "not finite"));
            }
        }
        if start != text_bytes {
            return Err(Error::invalid(name, "text", "bytes after the last word"));
        }
        let mut row_start = 0;
        for context in 0..self.words {
            let row_end = self.u32_at(self.sections.row_end, context) as usize;
            if row_end < row_start || row_end > bigrams {
                return Err(invalid("row_end", context, "decreasing or past the bigrams"));
            }
            let mut previous = None;
            for i in row_start..row_end {
                let next = self.u32_at(self.sections.next_word, i);
                if next as usize >= self.words || previous.is_some_and(|p| p >= next) {
                    return Err(invalid("next_word", i, "not a word id, or not increasing within its row"));
                }
                previous = Some(next);
                if !log_prob_ok(self.f32_at(self.sections.bigram, i)) {
                    return Err(invalid("bigram", i, "not a finite log probability at most 0"));
                }
            }
            row_start = row_end;
        }
        if row_start != bigrams {
            return Err(Error::invalid(name, "row_end", "the rows do not cover the bigrams"));
        }
        Ok(())
    }

    pub fn words(&self) -> usize {
        self.words
    }

    pub fn bigrams(&self) -> usize {
        (self.sections.text - self.sections.next_word) / 8
    }

    /// Bytes held: the file itself, nothing else.
    pub fn memory_bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn sentence_start(&self) -> Context {
        Context::Word(self.sentence_start)
    }

    /// The id of `word`, by binary search over the sorted word text.
    pub fn word_id(&self, word: &str) -> Option<u32> {
        let first = self.first_not_below(word.as_bytes());
        (first < self.words && self.word_bytes(first) == word.as_bytes()).then_some(first as u32)
    }

    /// Whether some word of the model starts with `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        let first = self.first_not_below(prefix.as_bytes());
        first < self.words && self.word_bytes(first).starts_with(prefix.as_bytes())
    }

    /// The id of the first word not before `bytes` in byte order (`words` if there is none).
    fn first_not_below(&self, bytes: &[u8]) -> usize {
        let (mut low, mut high) = (0, self.words);
        while low < high {
            let middle = (low + high) / 2;
            if self.word_bytes(middle) < bytes {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// ln P(`word` | `context`), `None` being a word the model does not know; and the context that
    /// follows it.
    pub fn score(&self, context: Context, word: Option<u32>) -> (f32, Context) {
        let lower_order = match word {
            Some(word) => self.f32_at(self.sections.unigram, word as usize),
            None => self.unknown_log_prob,
        };
        let next_context = word.map_or(Context::Unknown, Context::Word);
        let Context::Word(context) = context else { return (lower_order, next_context) };
        if let Some(word) = word {
            if let Some(i) = self.bigram_index(context, word) {
                return (self.f32_at(self.sections.bigram, i), next_context);
            }
        }
        (self.f32_at(self.sections.backoff, context as usize) + lower_order, next_context)
    }

    /// ln P(end of sentence | `context`).
    pub fn end_score(&self, context: Context) -> f32 {
        self.score(context, Some(self.sentence_end)).0
    }

    /// The score of a whole sentence of space-separated words, from `<s>` to `</s>`.
    pub fn sentence_score(&self, sentence: &str) -> f32 {
        let mut context = self.sentence_start();
        let mut total = 0.0;
        for word in sentence.split_whitespace() {
            let (score, next) = self.score(context, self.word_id(word));
            total += score;
            context = next;
        }
        total + self.end_score(context)
    }

    fn bigram_index(&self, context: u32, word: u32) -> Option<usize> {
        let context = context as usize;
        let start = if context == 0 { 0 } else { self.u32_at(self.sections.row_end, context - 1) as usize };
        let (mut low, mut high) = (start, self.u32_at(self.sections.row_end, context) as usize);
        while low < high {
            let middle = (low + high) / 2;
            match self.u32_at(self.sections.next_word, middle).cmp(&word) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(middle),
            }
        }
        None
    }

    fn word_bytes(&self, id: usize) -> &[u8] {
        let start = if id == 0 { 0 } else { self.u32_at(self.sections.word_end, id - 1) as usize };
        let end = self.u32_at(self.sections.word_end, id) as usize;
        &self.bytes[self.sections.text + start..self.sections.text + end]
    }

    fn u32_at(&self, section: usize, i: usize) -> u32 {
        let at = section + 4 * i;
        // In range: `from_bytes` checked every section against the file's size.
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap_or_default())
    }

    fn f32_at(&self, section: usize, i: usize) -> f32 {
        f32::from_bits(self.u32_at(section, i))
    }
}

fn log_prob_ok(value: f32) -> bool {
    value.is_finite() && value <= 0.0
}

/// Writes LM files for tests, from words and their scores, as scripts/build_lm.py lays them out.
#[cfg(test)]
pub(crate) mod test_file {
    use super::*;

    /// `unigrams`: (word, ln P, ln back-off); `bigrams`: (context, word, ln P). `<s>` and `</s>` must be
    /// among the words.
    pub(crate) fn write(unigrams: &[(&str, f32, f32)], bigrams: &[(&str, &str, f32)], unknown_log_prob: f32) -> Vec<u8> {
        let mut words: Vec<_> = unigrams.to_vec();
        words.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let id = |word: &str| words.iter().position(|w| w.0 == word).expect("bigram of a listed word") as u32;
        let mut rows: Vec<(u32, u32, f32)> = bigrams.iter().map(|&(c, w, p)| (id(c), id(w), p)).collect();
        rows.sort_by_key(|&(c, w, _)| (c, w));
        let text: Vec<u8> = words.iter().flat_map(|w| w.0.bytes()).collect();
        let mut body = Vec::new();
        let mut end = 0;
        for word in &words {
            end += word.0.len() as u32;
            body.extend(end.to_le_bytes());
        }
        words.iter().for_each(|w| body.extend(w.1.to_le_bytes()));
        words.iter().for_each(|w| body.extend(w.2.to_le_bytes()));
        for context in 0..words.len() as u32 {
            body.extend((rows.iter().filter(|r| r.0 <= context).count() as u32).to_le_bytes());
        }
        rows.iter().for_each(|r| body.extend(r.1.to_le_bytes()));
        rows.iter().for_each(|r| body.extend(r.2.to_le_bytes()));
        body.extend(&text);
        body.resize(body.len().next_multiple_of(4), 0);
        let mut file = MAGIC.to_vec();
        for field in [LM_FORMAT_VERSION, words.len() as u32, rows.len() as u32, text.len() as u32] {
            file.extend(field.to_le_bytes());
        }
        file.extend(unknown_log_prob.to_le_bytes());
        file.extend(crc32fast::hash(&body).to_le_bytes());
        file.extend(body);
        file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_lm() -> Vec<u8> {
        let ln = |p: f32| p.ln();
        test_file::write(
            &[("<s>", ln(1e-9), ln(0.5)), ("</s>", ln(0.3), 0.0), ("кини", ln(0.3), ln(0.4)), ("кэллэ", ln(0.4), ln(0.6))],
            &[("<s>", "кини", ln(0.6)), ("кини", "кэллэ", ln(0.5)), ("кэллэ", "</s>", ln(0.7))],
            ln(0.01),
        )
    }

    #[test]
    fn scores_follow_bigrams_then_back_off() {
        let lm = WordLm::from_bytes(small_lm(), "small.lm").unwrap();
        let (kini, kelle) = (lm.word_id("кини").unwrap(), lm.word_id("кэллэ").unwrap());
        assert_eq!(lm.word_id("кинилэр"), None);
        assert!(lm.has_prefix("кэл") && lm.has_prefix("кэллэ") && lm.has_prefix(""));
        assert!(!lm.has_prefix("кэллэр") && !lm.has_prefix("я"));
        let close = |a: f32, b: f32| assert!((a - b).abs() < 1e-6, "{a} != {b}");
        close(lm.score(lm.sentence_start(), Some(kini)).0, 0.6f32.ln());
        close(lm.score(Context::Word(kelle), Some(kini)).0, 0.6f32.ln() + 0.3f32.ln());
        close(lm.score(Context::Word(kini), None).0, 0.4f32.ln() + 0.01f32.ln());
        assert_eq!(lm.score(Context::Word(kini), None).1, Context::Unknown);
        close(lm.score(Context::Unknown, Some(kelle)).0, 0.4f32.ln());
        close(lm.sentence_score("кини кэллэ"), 0.6f32.ln() + 0.5f32.ln() + 0.7f32.ln());
        close(lm.sentence_score("кини баран кэллэ"), 0.6f32.ln() + (0.4f32 * 0.01).ln() + 0.4f32.ln() + 0.7f32.ln());
    }

    #[test]
    fn damaged_files_are_refused_with_the_reason() {
        let good = small_lm();
        let error = |bytes: Vec<u8>| WordLm::from_bytes(bytes, "sah.lm").unwrap_err().to_string();
        assert!(error(b"not an LM at all, just text".to_vec()).contains("not a sakha-asr word LM"));
        assert!(error(good[..good.len() - 4].to_vec()).contains("truncated"));
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(error(flipped).contains("damaged"));
        let mut newer = good.clone();
        newer[8] = 2;
        let message = error(newer);
        assert!(message.starts_with("sah.lm: version: LM format version 2") && message.contains("update sakha-asr"), "{message}");
    }

    #[test]
    fn files_with_consistent_checksums_but_broken_tables_are_refused() {
        let ln = |p: f32| p.ln();
        let with_checksum = |mut file: Vec<u8>| {
            let crc = crc32fast::hash(&file[HEADER_BYTES..]);
            file[28..32].copy_from_slice(&crc.to_le_bytes());
            WordLm::from_bytes(file, "x.lm").unwrap_err().to_string()
        };
        let mut unsorted = test_file::write(&[("<s>", 0.0, 0.0), ("</s>", ln(0.5), 0.0), ("ab", ln(0.5), 0.0), ("ba", ln(0.5), 0.0)], &[], ln(0.1));
        let text_start = unsorted.len() - 12;
        assert_eq!(&unsorted[text_start..text_start + 11], b"</s><s>abba");
        unsorted[text_start + 7..text_start + 11].copy_from_slice(b"baab");
        let message = with_checksum(unsorted);
        assert!(message.contains("strictly increasing byte order"), "{message}");
        let positive = test_file::write(&[("<s>", 0.0, 0.0), ("</s>", 0.5, 0.0)], &[], ln(0.1));
        let message = with_checksum(positive);
        assert!(message.contains("unigram[0]: not a finite log probability"), "{message}");
    }
}

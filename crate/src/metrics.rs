//! Word and character error rates, for `sakha-asr eval` and the training scripts' Python twin.

/// Edit counts of one hypothesis against its reference, summed over a test set before dividing:
/// the corpus-level rate weights every word equally, not every utterance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    pub edits: usize,
    pub reference_length: usize,
}

impl ErrorCounts {
    /// `edits / reference_length`; an empty reference counts every hypothesis token as an error.
    pub fn rate(&self) -> f64 {
        if self.reference_length == 0 {
            if self.edits == 0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            self.edits as f64 / self.reference_length as f64
        }
    }
}

impl std::ops::AddAssign for ErrorCounts {
    fn add_assign(&mut self, other: Self) {
        self.edits += other.edits;
        self.reference_length += other.reference_length;
    }
}

/// Word errors: substitutions + deletions + insertions between whitespace-separated words.
pub fn word_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let reference: Vec<&str> = reference.split_whitespace().collect();
    let hypothesis: Vec<&str> = hypothesis.split_whitespace().collect();
    ErrorCounts { edits: edit_distance(&reference, &hypothesis), reference_length: reference.len() }
}

/// Character errors over the characters of the words joined by single spaces (spaces count).
pub fn char_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let chars = |text: &str| -> Vec<char> { text.split_whitespace().collect::<Vec<_>>().join(" ").chars().collect() };
    let (reference, hypothesis) = (chars(reference), chars(hypothesis));
    ErrorCounts { edits: edit_distance(&reference, &hypothesis), reference_length: reference.len() }
}

/// Levenshtein distance with unit costs, in one row of memory.
fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(x != y);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_errors_count_substitutions_deletions_and_insertions() {
        // "кини" → "киниэхэ" (substitution), "бүгүн" missing (deletion): 2 of 4.
        let counts = word_errors("мин кини бүгүн кэлэбин", "мин киниэхэ кэлэбин");
        assert_eq!(counts, ErrorCounts { edits: 2, reference_length: 4 });
        assert_eq!(counts.rate(), 0.5);
        // Two inserted words against one reference word: 2 edits, rate 2.0 (WER can exceed 1).
        assert_eq!(word_errors("саха", "саха тыла тыла").rate(), 2.0);
        assert_eq!(word_errors("саха тыла", "  саха   тыла ").edits, 0);
    }

    #[test]
    fn char_errors_work_on_letters_not_bytes() {
        // ү → у and ө → о are one substitution each, although they differ in UTF-8 length.
        let counts = char_errors("үөрэх", "уорэх");
        assert_eq!(counts, ErrorCounts { edits: 2, reference_length: 5 });
        // "ат" → "аат": one insertion over 2 characters.
        assert_eq!(char_errors("ат", "аат").rate(), 0.5);
        // The space between words is a character: "а б" → "аб" is one deletion of 3.
        assert_eq!(char_errors("а б", "аб"), ErrorCounts { edits: 1, reference_length: 3 });
    }

    #[test]
    fn corpus_rates_sum_edits_before_dividing() {
        let mut total = ErrorCounts::default();
        total += word_errors("а", "б"); // 1 of 1
        total += word_errors("а б в г", "а б в г"); // 0 of 4
        assert_eq!(total.rate(), 0.2);
        assert_eq!(word_errors("", "").rate(), 0.0);
        assert!(word_errors("", "а").rate().is_infinite());
    }
}

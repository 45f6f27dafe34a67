//! Sakha text normalisation for evaluation: the Rust twin of `scripts/sakha_text.py`, whose docstring
//! numbers the rules; both are checked against `scripts/normalization_cases.tsv`.

use unicode_normalization::UnicodeNormalization;

/// Rule 2: apostrophes, invisible characters and combining marks are deleted outright.
fn is_deleted(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{2bc}' | '\u{2bb}' | '`' | '\u{b4}')
        || matches!(c, '\u{ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}')
        || ('\u{300}'..='\u{36f}').contains(&c)
}

/// Rule 3: Cyrillic letters of neighbouring languages that Sakha text uses for its own.
fn sakha_letter(c: char) -> char {
    match c {
        'ѳ' | 'ӧ' => 'ө',
        'Ѳ' | 'Ӧ' => 'Ө',
        'ң' | 'ӊ' => 'ҥ',
        'Ң' | 'Ӊ' => 'Ҥ',
        'ғ' => 'ҕ',
        'Ғ' => 'Ҕ',
        'ұ' => 'ү',
        'Ұ' => 'Ү',
        'ҋ' => 'й',
        'Ҋ' => 'Й',
        _ => c,
    }
}

/// Rule 4: glyph-identical Latin letters, mapped only inside words that have Cyrillic letters.
fn cyrillic_lookalike(c: char) -> char {
    match c {
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        'Y' => 'У',
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        'h' => 'һ',
        _ => c,
    }
}

fn is_cyrillic(c: char) -> bool {
    ('\u{400}'..='\u{4ff}').contains(&c)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphabetic() || is_cyrillic(c)
}

/// Rule 7: the output alphabet.
fn in_alphabet(c: char) -> bool {
    ('а'..='я').contains(&c) || matches!(c, 'ҕ' | 'ҥ' | 'ө' | 'һ' | 'ү') || c.is_ascii_lowercase() || c.is_ascii_digit()
}

pub fn normalize(text: &str) -> String {
    let chars: Vec<char> = text.nfc().filter(|&c| !is_deleted(c)).map(sakha_letter).collect();
    let mut mapped = String::with_capacity(text.len());
    for (is_word, run) in chars.chunk_by(|a, b| is_word_char(*a) == is_word_char(*b)).map(|run| (is_word_char(run[0]), run)) {
        let lookalikes = is_word && run.iter().any(|&c| is_cyrillic(c));
        mapped.extend(run.iter().map(|&c| if lookalikes { cyrillic_lookalike(c) } else { c }));
    }
    let lowered = mapped.to_lowercase().replace('ё', "е");
    let spaced: String = lowered.chars().map(|c| if in_alphabet(c) { c } else { ' ' }).collect();
    spaced.split(' ').filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
}

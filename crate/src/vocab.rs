//! The CTC vocabulary (HF `vocab.json`): each token id's text and what it does in decoding
//! ([`crate::decoding`] turns logits into words with it).

use std::collections::{BTreeMap, HashMap};

use crate::Error;

const BLANK: &str = "<pad>";
const WORD_DELIMITER: &str = "|";
const SPECIAL_TOKENS: [&str; 4] = ["<pad>", "<s>", "</s>", "<unk>"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Blank,
    WordDelimiter,
    /// `<s>`, `</s>`, `<unk>` and ids without an entry: they produce no text.
    Silent,
    Text(String),
}

/// What each label id of the CTC head does in decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    /// The CTC blank and the special tokens, which give no text.
    Blank,
    /// `|`, between words.
    Delimiter,
    Letter,
}

/// One language's token table, by id. A map, not a vector indexed by id: ids come from a file, and
/// a single id of 4e9 must not allocate 4e9 entries before [`Vocab::check_head`] refuses it.
#[derive(Debug, Clone)]
pub struct Vocab {
    tokens: HashMap<u32, Token>,
    /// The token with the highest id, for the check against the CTC head.
    highest: (u32, String),
}

impl Vocab {
    /// Reads HF `vocab.json`: either flat (`{"<pad>": 0, "a": 5, ...}`) or nested per language as in
    /// mms-1b-all (`{"sah": {...}, "kaz": {...}}`), where `lang` picks the table. A flat table serves
    /// any `lang`; a nested one with a single language needs none.
    pub fn from_json(bytes: &[u8], lang: Option<&str>) -> Result<Self, Error> {
        Self::from_table(language_table(bytes, lang)?)
    }

    /// A flat token table: token text to id. Two tokens with one id are refused: which of them the
    /// model meant cannot be known.
    pub fn from_table(table: HashMap<String, u32>) -> Result<Self, Error> {
        if !table.contains_key(BLANK) {
            return Err(Error::Vocab(format!("the vocabulary has no CTC blank token {BLANK:?}")));
        }
        let mut entries: Vec<(u32, String)> = table.into_iter().map(|(text, id)| (id, text)).collect();
        entries.sort();
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(Error::Vocab(format!(
                "the vocabulary gives the tokens {:?} and {:?} the same id {}",
                pair[0].1, pair[1].1, pair[0].0
            )));
        }
        let highest = entries.last().cloned().unwrap_or_default();
        let tokens = entries
            .into_iter()
            .map(|(id, text)| {
                let token = match text.as_str() {
                    BLANK => Token::Blank,
                    WORD_DELIMITER => Token::WordDelimiter,
                    t if SPECIAL_TOKENS.contains(&t) => Token::Silent,
                    _ => Token::Text(text),
                };
                (id, token)
            })
            .collect();
        Ok(Self { tokens, highest })
    }

    /// Refuses a vocabulary with ids the CTC head (`head_size` rows, from `source`) does not score.
    pub fn check_head(&self, head_size: usize, source: &str) -> Result<(), Error> {
        let (id, text) = &self.highest;
        if *id as u64 >= head_size as u64 {
            return Err(Error::Vocab(format!(
                "the vocabulary's token {text:?} has id {id}, but the CTC head in {source} scores only \
                 {head_size} tokens: they are from different models"
            )));
        }
        Ok(())
    }

    fn token(&self, id: u32) -> &Token {
        self.tokens.get(&id).unwrap_or(&Token::Silent)
    }

    /// What label `id` does in decoding, and its text.
    pub(crate) fn label(&self, id: u32) -> (Label, &str) {
        match self.token(id) {
            Token::Blank | Token::Silent => (Label::Blank, ""),
            Token::WordDelimiter => (Label::Delimiter, ""),
            Token::Text(letters) => (Label::Letter, letters),
        }
    }
}

/// The flat token table of `lang` in a `vocab.json` (see [`Vocab::from_json`]).
pub fn language_table(bytes: &[u8], lang: Option<&str>) -> Result<HashMap<String, u32>, Error> {
    Ok(match parse_tables(bytes)? {
        VocabTables::Flat(table) => table,
        VocabTables::PerLanguage(mut tables) => {
            let key = match lang {
                Some(lang) => lang.to_string(),
                None if tables.len() == 1 => tables.keys().next().cloned().unwrap_or_default(),
                None => {
                    return Err(Error::Vocab(format!(
                        "vocab.json has one table per language; choose one with a language ({})",
                        tables.keys().cloned().collect::<Vec<_>>().join(", ")
                    )))
                }
            };
            tables.remove(&key).ok_or_else(|| Error::UnknownLanguage {
                lang: key,
                available: tables.keys().cloned().collect(),
            })?
        }
    })
}

enum VocabTables {
    Flat(HashMap<String, u32>),
    PerLanguage(BTreeMap<String, HashMap<String, u32>>),
}

fn parse_tables(bytes: &[u8]) -> Result<VocabTables, Error> {
    let invalid = |e: serde_json::Error| Error::Vocab(format!("vocab.json is not a token table: {e}"));
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(invalid)?;
    let nested = value.as_object().is_some_and(|o| !o.is_empty() && o.values().all(|v| v.is_object()));
    Ok(if nested {
        VocabTables::PerLanguage(serde_json::from_value(value).map_err(invalid)?)
    } else {
        VocabTables::Flat(serde_json::from_value(value).map_err(invalid)?)
    })
}

//! The Rust normalisation gives exactly the outputs listed in the cases file that the Python twin
//! (`scripts/sakha_text.py --check`) is checked against too.

use std::path::Path;

/// Decodes a field of the cases file: `\t`, `\n`, `\\` and `\u{HEX}` escapes.
fn unescape(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            other => panic!("unknown escape \\{other:?} in {field:?}"),
        }
    }
    out
}

#[test]
fn rust_normalisation_matches_the_shared_cases() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/normalization_cases.tsv");
    let cases = std::fs::read_to_string(&path).unwrap();
    let mut lines = cases.split('\n');
    assert_eq!(lines.next(), Some("input\texpected"));
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (input, expected) = line.split_once('\t').unwrap();
        let (input, expected) = (unescape(input), unescape(expected));
        let got = sakha_asr::text::normalize(&input);
        if got != expected {
            failures.push(format!("{input:?} -> {got:?}, expected {expected:?}"));
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

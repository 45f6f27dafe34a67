#!/usr/bin/env python3
"""Sakha (Yakut) text normalisation shared by training data, references and hypotheses.

The Rust crate mirrors these rules exactly; `scripts/normalization_cases.tsv` holds the cases both
implementations must agree on. `normalize(text)` applies, in this order:

1. Unicode NFC, so that decomposed letters (и + U+0306, е + U+0308, о + U+0308) become single letters.
2. Delete, without leaving a space:
   - apostrophes and apostrophe-like marks: ' ’ ‘ ʼ ʻ ` ´ (U+0027 U+2019 U+2018 U+02BC U+02BB U+0060
     U+00B4), which sit inside words or around them as quotes;
   - invisible characters: soft hyphen U+00AD, U+200B U+200C U+200D, word joiner U+2060, BOM U+FEFF;
   - combining marks left after NFC, U+0300–U+036F (stress accents such as а́).
3. Non-Sakha Cyrillic letters that Sakha text uses in place of its own (the ones attested in the
   sakhaspell corpus inventory) become the Sakha letters, in either case:
   ѳ ӧ → ө, ң ӊ → ҥ, ғ → ҕ, ұ → ү, ҋ → й (Ѳ Ӧ → Ө, Ң Ӊ → Ҥ, Ғ → Ҕ, Ұ → Ү, Ҋ → Й).
4. Latin look-alikes become Cyrillic, but only inside a word that also has a Cyrillic letter (a word is
   a maximal run of ASCII letters and characters U+0400–U+04FF; a Cyrillic letter is one in
   U+0400–U+04FF). Words without Cyrillic ("Facebook", "CD") stay Latin. Only glyph-identical pairs:
   uppercase A B C E H K M O P T X Y → А В С Е Н К М О Р Т Х У;
   lowercase a c e o p x y h → а с е о р х у һ (h is how һ is typed without a Sakha keyboard).
   Not mapped: lowercase b k m n t u (в к м п т и look different in lowercase print) and i j s (their
   twins і ј ѕ are not Sakha letters).
5. Lowercase (full Unicode lowercase mapping: Python `str.lower`, Rust `str::to_lowercase`).
6. ё → е: Sakha writes ё only in Russian loanwords and the corpus spells them with е in over 99 % of
   cases, so both spellings are one word.
7. Every character outside the output alphabet becomes a space. The alphabet is:
   а–я (U+0430–U+044F, the 32 Russian letters without ё), ҕ ҥ ө һ ү, Latin a–z, digits 0–9.
   So punctuation, quotes «», dashes, hyphens inside words ("аа-дьуо" → "аа дьуо"), symbols, tabs and
   newlines all separate words; letters of other alphabets (і, ü, Greek…) do too.
8. Collapse runs of spaces into one and strip spaces at both ends.

Digits are kept as they are (rule 7), never spelled out: a reference with "2024" only matches a
hypothesis with "2024". The training data preparation drops utterances whose normalised text has a
digit, because a character-level model cannot learn how digits are read aloud from a few examples.

Usage:
    python scripts/sakha_text.py "Саха тыла!"        # prints: саха тыла
    echo "Саха тыла!" | python scripts/sakha_text.py  # one normalised line per input line
    python scripts/sakha_text.py --check scripts/normalization_cases.tsv
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from pathlib import Path

DELETED = frozenset(
    "'\u2019\u2018\u02bc\u02bb`\u00b4"  # apostrophes
    "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # invisible
) | frozenset(chr(c) for c in range(0x0300, 0x0370))  # combining marks

FOREIGN_CYRILLIC = str.maketrans(
    {
        "ѳ": "ө", "Ѳ": "Ө",
        "ӧ": "ө", "Ӧ": "Ө",
        "ң": "ҥ", "Ң": "Ҥ",
        "ӊ": "ҥ", "Ӊ": "Ҥ",
        "ғ": "ҕ", "Ғ": "Ҕ",
        "ұ": "ү", "Ұ": "Ү",
        "ҋ": "й", "Ҋ": "Й",
    }
)

LATIN_LOOKALIKES = str.maketrans(
    {
        "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К",
        "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х", "Y": "У",
        "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "h": "һ",
    }
)

WORD = re.compile(r"[A-Za-z\u0400-\u04ff]+")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
OUTSIDE_ALPHABET = re.compile(r"[^\u0430-\u044fҕҥөһүa-z0-9]")
SPACES = re.compile(r" +")


def _latin_to_cyrillic_in_cyrillic_word(match: re.Match[str]) -> str:
    word = match.group(0)
    return word.translate(LATIN_LOOKALIKES) if CYRILLIC.search(word) else word


def normalize(text: str) -> str:
    """Applies rules 1–8 of the module docstring."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if c not in DELETED)
    text = text.translate(FOREIGN_CYRILLIC)
    text = WORD.sub(_latin_to_cyrillic_in_cyrillic_word, text)
    text = text.lower().replace("ё", "е")
    text = OUTSIDE_ALPHABET.sub(" ", text)
    return SPACES.sub(" ", text).strip(" ")


def unescape_case_field(field: str) -> str:
    """Decodes a field of normalization_cases.tsv: \\t, \\n, \\\\ and \\u{HEX} escapes."""
    return re.sub(
        r"\\(t|n|\\|u\{([0-9A-Fa-f]+)\})",
        lambda m: {"t": "\t", "n": "\n", "\\": "\\"}.get(m.group(1)) or chr(int(m.group(2), 16)),
        field,
    )


def check_cases(path: Path) -> int:
    """Compares normalize() with the expected column of a cases file; returns the number of failures."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines[0] != "input\texpected":
        raise SystemExit(f"{path}: the first line must be the header 'input<TAB>expected'")
    failures = 0
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        raw_input, raw_expected = line.split("\t")
        text, expected = unescape_case_field(raw_input), unescape_case_field(raw_expected)
        got = normalize(text)
        if got != expected:
            failures += 1
            print(f"line {number}: {text!r} -> {got!r}, expected {expected!r}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="*", help="text to normalise (joined with spaces); stdin when absent")
    parser.add_argument("--check", type=Path, metavar="TSV", help="verify a normalization_cases.tsv file")
    args = parser.parse_args()
    if args.check:
        failures = check_cases(args.check)
        print(f"{failures} failure(s)")
        sys.exit(1 if failures else 0)
    if args.text:
        print(normalize(" ".join(args.text)))
    else:
        for line in sys.stdin:
            print(normalize(line))


if __name__ == "__main__":
    main()

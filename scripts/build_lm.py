#!/usr/bin/env python3
"""Builds sakha-asr's word bigram language model (`*.lm`, read by crate/src/lm.rs) from corpus counts
laid out like the `sakhaspell` package's `lm/` folder:
`unigrams.tsv.gz` (word, count; with <s> and </s>, only words seen at least `min_count` times),
`bigrams.tsv.gz` (w1, w2, count; only bigrams seen at least `min_count` times) and `meta.json`
(`tokens`: corpus tokens counting <s> and </s>; `bigrams_all`: bigram types before the cut). sakhaspell's
unigram counts add up to 1.07 M fewer than its `tokens`: the tokens of its 677 k words below min count.

Words are normalised with `sakha_text.normalize` (the acoustic model's alphabet); words that normalise
alike are merged, words that normalise to nothing or to several words (hyphenated ones) are dropped.

Smoothing: interpolated Kneser-Ney, adapted to a bigram list truncated at `min_count`. A context h
keeps its full corpus count c(h) (its unigram count), so the mass of its pruned bigrams (count below
`min_count`, about 40 % of sakhaspell's bigram tokens) is not lost but goes, with the discounts, to the
lower order. The lower order is KN's continuation distribution, P1(w) ∝ N1+(• w), the number of distinct
words seen before w; the truncated list only shows the frequent left contexts, so N1+(• w) is estimated
as the kept contexts plus w's tokens outside kept bigrams divided by the mean count of a pruned bigram
(from meta.json's `bigrams_all` when given, else 1.5). Without that estimate a word seen only in pruned
bigrams (most of the vocabulary) would get no lower-order mass at all. `--lower-order` chooses other
lower orders for comparison (see BENCHMARKS.md for the held-out perplexities that chose the default).
Words of the corpus below the unigram list's min count, and words pruned by --max-words, form <unk>.
The discount D of a kept bigram defaults to 1.0: Good-Turing's estimate from sakhaspell's kept counts of
counts, r - (r+1) n(r+1) / n(r), is 0.9-1.1 for every r from 5 to 12.

Pruning: --max-words keeps the most frequent words; --max-bigrams (or --target-mb) keeps the bigrams
whose removal would cost most (Stolcke's relative-entropy criterion, without the back-off weight change).
Back-off weights are computed last, so that every context's distribution sums to 1 under the file's
scoring rules; a self-check sums it over the whole vocabulary and <unk> for some contexts.

File format 1 (little-endian; natural logs; crate/src/lm.rs has the same table):
  | bytes | field |
  | 8     | magic `SAKHA-LM` |
  | 4     | format version (u32) = 1 |
  | 4     | words N (u32), including <s> and </s> |
  | 4     | bigrams M (u32) |
  | 4     | bytes of word text (u32) |
  | 4     | ln P(unknown word) at unigram level (f32) |
  | 4     | CRC-32 (zlib.crc32) of everything after this 32-byte header (u32) |
  | 4·N   | end offset of each word in the text (u32); words in UTF-8 byte order, so an id is a rank |
  | 4·N   | ln P(word) at unigram level (f32); -99 for <s>, which is never predicted |
  | 4·N   | ln back-off weight of the word as a context (f32); 0 for </s> |
  | 4·N   | end of each context's row in the bigram arrays (u32) |
  | 4·M   | next word of each bigram (u32), increasing within a row, never <s> |
  | 4·M   | ln P(next word | context) (f32) |
  | text  | the words' UTF-8 bytes, then zero padding to a multiple of 4 |
Scoring: a bigram in the context's row scores its stored value; a known word outside the row scores
back-off(context) + unigram(word); an unknown word back-off(context) + ln P(unknown word); after an unknown word
there is no context and a word scores its unigram value. A sentence scores from <s> to </s>.

Examples:
  python scripts/build_lm.py --out sah.lm --max-words 50000 --max-bigrams 300000 --heldout dev.tsv
  python scripts/build_lm.py --counts crate/tests/fixtures/lm/counts --out tiny.lm \\
      --score crate/tests/fixtures/lm/sentences.txt > scores.tsv
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sakha_text import normalize  # noqa: E402

MAGIC = b"SAKHA-LM"
VERSION = 1
HEADER_BYTES = 32
BOS, EOS = "<s>", "</s>"
# ln P(<s>) in the file: <s> is never predicted, so any finite value does (the ARPA convention).
BOS_LOGPROB = -99.0
# Mean count of a bigram below the list's min count when meta.json does not give the number of bigrams.
DEFAULT_PRUNED_BIGRAM_MEAN = 1.5


def f32(value: float) -> float:
    """The value as the file stores it, so that --score and the Rust reader see the same numbers."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


@dataclass
class Counts:
    unigrams: dict[str, int]  # normalised word (and <s>, </s>) -> count
    bigrams: dict[tuple[str, str], int]
    unk_count: int  # corpus tokens of words missing from the unigram list
    pruned_bigram_mean: float  # mean count of the bigrams missing from the list


def read_tsv_gz(path: Path, columns: int):
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        next(lines)  # header
        for number, line in enumerate(lines, start=2):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != columns:
                raise SystemExit(f"{path}:{number}: expected {columns} tab-separated fields")
            yield fields[:-1], int(fields[-1])


def read_counts(folder: Path, unk_count: int | None) -> Counts:
    """Counts of normalised words; a raw word maps to None when it normalises to nothing or to several words."""
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    mapping: dict[str, str | None] = {BOS: BOS, EOS: EOS}

    def word_of(raw: str) -> str | None:
        if raw not in mapping:
            word = normalize(raw)
            mapping[raw] = word if word and " " not in word and "|" not in word else None
        return mapping[raw]

    unigrams: dict[str, int] = {}
    raw_total = 0
    for (raw,), count in read_tsv_gz(folder / "unigrams.tsv.gz", 2):
        raw_total += count
        word = word_of(raw)
        if word is not None:
            unigrams[word] = unigrams.get(word, 0) + count
    if unigrams.get(BOS, 0) <= 0 or unigrams.get(EOS, 0) <= 0:
        raise SystemExit(f"{folder}/unigrams.tsv.gz: needs <s> and </s> with their counts (the sentence count)")

    bigrams: dict[tuple[str, str], int] = {}
    raw_bigram_tokens = 0
    raw_bigram_types = 0
    for (first_raw, second_raw), count in read_tsv_gz(folder / "bigrams.tsv.gz", 3):
        raw_bigram_tokens += count
        raw_bigram_types += 1
        first, second = word_of(first_raw), word_of(second_raw)
        if first is None or second is None or first == EOS or second == BOS:
            continue
        if first not in unigrams or second not in unigrams:
            raise SystemExit(f"bigram {first_raw} {second_raw}: a word missing from unigrams.tsv.gz")
        bigrams[first, second] = bigrams.get((first, second), 0) + count

    if unk_count is None:
        if "tokens" not in meta:
            raise SystemExit(f"{folder}: no meta.json with 'tokens': give --unk-count")
        unk_count = int(meta["tokens"]) - raw_total
    if unk_count <= 0:
        raise SystemExit("<unk> needs a positive count (meta.json tokens or --unk-count)")
    # Every corpus token but <s> ends a bigram, so the missing bigrams hold tokens - sentences - kept tokens.
    pruned_mean = DEFAULT_PRUNED_BIGRAM_MEAN
    if "tokens" in meta and "bigrams_all" in meta and int(meta["bigrams_all"]) > raw_bigram_types:
        pruned_tokens = int(meta["tokens"]) - unigrams[BOS] - raw_bigram_tokens
        pruned_mean = pruned_tokens / (int(meta["bigrams_all"]) - raw_bigram_types)
    return Counts(unigrams, bigrams, unk_count, max(pruned_mean, 1.0))


@dataclass
class Model:
    words: list[str]  # sorted by UTF-8 bytes: id = rank
    unigram: list[float]  # ln P1(w) (f32-rounded); BOS_LOGPROB for <s>
    unk: float  # ln P1(<unk>)
    backoff: list[float]  # ln back-off weight of each word as a context
    rows: list[dict[int, float]]  # per context id: word id -> ln P(w | context)

    def id_of(self) -> dict[str, int]:
        return {word: index for index, word in enumerate(self.words)}


def lower_order(counts: Counts, vocab: set[str], kind: str) -> tuple[dict[str, float], float]:
    """P1 over the vocabulary without <s>, and P1(<unk>), summing to 1. Words outside `vocab` join <unk>."""
    kept_contexts: dict[str, int] = {}
    kept_tokens: dict[str, int] = {}
    for (_, second), count in counts.bigrams.items():
        kept_contexts[second] = kept_contexts.get(second, 0) + 1
        kept_tokens[second] = kept_tokens.get(second, 0) + count
    weights: dict[str, float] = {}
    for word, count in counts.unigrams.items():
        if word == BOS:
            continue
        residual = max(count - kept_tokens.get(word, 0), 0)
        if kind == "kn-estimated":
            weights[word] = kept_contexts.get(word, 0) + residual / counts.pruned_bigram_mean
        elif kind == "kn-kept":
            # half a context for words seen only in pruned bigrams, else they could never be predicted
            weights[word] = kept_contexts.get(word, 0) or 0.5
        elif kind == "residual":
            weights[word] = residual or 0.5
        else:  # "unigram": maximum likelihood
            weights[word] = count
    # <unk>'s words occur only in pruned bigrams (a kept bigram has both words in the unigram list)
    unk_weight = counts.unk_count if kind in ("residual", "unigram") else counts.unk_count / counts.pruned_bigram_mean
    total = sum(weights.values()) + unk_weight
    p1 = {word: weight / total for word, weight in weights.items() if word in vocab}
    return p1, 1.0 - sum(p1.values())


def build(counts: Counts, max_words: int | None, max_bigrams: int | None, discount: float, kind: str) -> Model:
    ranked = sorted((w for w in counts.unigrams if w not in (BOS, EOS)), key=lambda w: (-counts.unigrams[w], w))
    vocab = {BOS, EOS, *ranked[:max_words]}
    p1, p_unk = lower_order(counts, vocab, kind)

    # Interpolated KN: P(w | h) = (c(h w) - D) / c(h) + gamma(h) P1(w), where gamma(h) holds the discounts and
    # the mass of h's bigrams missing from the list. Only the kept bigrams need a stored probability.
    kept_mass: dict[str, int] = {}
    kept_types: dict[str, int] = {}
    for (first, _), count in counts.bigrams.items():
        kept_mass[first] = kept_mass.get(first, 0) + count
        kept_types[first] = kept_types.get(first, 0) + 1
    gamma = {}
    for context in vocab - {EOS}:
        total = counts.unigrams[context]
        if kept_mass.get(context, 0) > total:
            raise SystemExit(f"bigrams after {context!r} count {kept_mass[context]} > its unigram count {total}")
        gamma[context] = (total - kept_mass.get(context, 0) + discount * kept_types.get(context, 0)) / total

    candidates = []  # (pruning score, context, word, P(w | h))
    for (first, second), count in counts.bigrams.items():
        if first not in vocab or second not in vocab:
            continue
        total = counts.unigrams[first]
        prob = (count - discount) / total + gamma[first] * p1[second]
        # Stolcke: P(h, w) times the log ratio to what back-off (before renormalisation) would give
        score = total * prob * math.log(prob / (gamma[first] * p1[second]))
        candidates.append((score, first, second, prob))
    if max_bigrams is not None and len(candidates) > max_bigrams:
        candidates.sort(key=lambda c: c[0], reverse=True)
        del candidates[max_bigrams:]

    words = sorted(vocab, key=lambda w: w.encode("utf-8"))
    ids = {word: index for index, word in enumerate(words)}
    unigram = [BOS_LOGPROB if w == BOS else f32(math.log(p1[w])) for w in words]
    unk = f32(math.log(p_unk))
    rows: list[dict[int, float]] = [{} for _ in words]
    for _, first, second, prob in candidates:
        rows[ids[first]][ids[second]] = f32(math.log(prob))
    backoff = []
    for context, row in zip(words, rows):
        if context == EOS:
            backoff.append(0.0)
            continue
        # computed from the stored (f32) values, so the file's distributions sum to 1 as the reader scores them
        row_mass = math.fsum(math.exp(lp) for lp in row.values())
        row_p1 = math.fsum(math.exp(unigram[w]) for w in row)
        backoff.append(f32(math.log((1.0 - row_mass) / (1.0 - row_p1))))
    return Model(words, unigram, unk, backoff, rows)


def score(model: Model, ids: dict[str, int], context: int | None, word: str) -> float:
    """ln P(word | context) by the file's scoring rules; context None follows an unknown word."""
    wid = ids.get(word)
    if context is None:
        return model.unigram[wid] if wid is not None else model.unk
    if wid is not None:
        logprob = model.rows[context].get(wid)
        return logprob if logprob is not None else model.backoff[context] + model.unigram[wid]
    return model.backoff[context] + model.unk


def sentence_score(model: Model, ids: dict[str, int], words: list[str]) -> tuple[float, int]:
    """ln P of the sentence with </s>, and the number of unknown words."""
    total, unknown, context = 0.0, 0, ids[BOS]
    for word in [*words, EOS]:
        total += score(model, ids, context, word)
        context = ids.get(word)
        unknown += context is None
    return total, unknown


def check_normalised(model: Model, ids: dict[str, int], contexts: list[str]) -> float:
    """Largest |1 - sum over every word and <unk>| for the given contexts (and the unigram level)."""
    worst = 0.0
    predicted = [w for w in model.words if w != BOS]
    for context in [None, *contexts]:
        cid = None if context is None else ids[context]
        total = math.fsum(math.exp(score(model, ids, cid, w)) for w in predicted)
        total += math.exp(score(model, ids, cid, "\x00unk"))
        worst = max(worst, abs(total - 1.0))
    return worst


def write(model: Model, path: Path) -> int:
    text = b""
    word_end = []
    for word in model.words:
        text += word.encode("utf-8")
        word_end.append(len(text))
    bigram_end, bigram_word, bigram_logprob = [], [], []
    for row in model.rows:
        for wid, logprob in sorted(row.items()):
            bigram_word.append(wid)
            bigram_logprob.append(logprob)
        bigram_end.append(len(bigram_word))
    n, m = len(model.words), len(bigram_word)
    body = b"".join([
        struct.pack(f"<{n}I", *word_end),
        struct.pack(f"<{n}f", *model.unigram),
        struct.pack(f"<{n}f", *model.backoff),
        struct.pack(f"<{n}I", *bigram_end),
        struct.pack(f"<{m}I", *bigram_word),
        struct.pack(f"<{m}f", *bigram_logprob),
        text,
        b"\0" * (-len(text) % 4),
    ])
    header = MAGIC + struct.pack("<IIIIfI", VERSION, n, m, len(text), model.unk, zlib.crc32(body))
    path.write_bytes(header + body)
    return len(header) + len(body)


def read_sentences(path: Path) -> list[list[str]]:
    """Normalised sentences of a text file (one a line) or of a TSV's `sentence` column (Common Voice)."""
    with open(path, encoding="utf-8") as lines:
        if path.suffix == ".tsv":
            rows = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
            texts = [row["sentence"] for row in rows]
        else:
            texts = [line for line in lines if not line.startswith("#")]
    return [words for words in (normalize(t).split() for t in texts) if words]


def heldout_stats(model: Model, ids: dict[str, int], sentences: list[list[str]]) -> dict[str, float]:
    scored = [sentence_score(model, ids, words) for words in sentences]
    logprob, unknown = sum(s for s, _ in scored), sum(u for _, u in scored)
    words = sum(len(s) for s in sentences)
    # perplexity per predicted token (words and </s>), <unk> scored as one word class
    return {"sentences": len(sentences), "words": words, "oov_rate": unknown / words,
            "perplexity": math.exp(-logprob / (words + len(sentences)))}


def bigram_budget(target_mb: float, model_words: list[str]) -> int:
    """Bigrams that fit in target_mb (10^6 bytes) next to the given words."""
    text = sum(len(w.encode("utf-8")) for w in model_words)
    fixed = HEADER_BYTES + 16 * len(model_words) + text + 3
    budget = (int(target_mb * 1e6) - fixed) // 8
    if budget < 0:
        raise SystemExit(f"--target-mb {target_mb}: the {len(model_words)} words alone take {fixed / 1e6:.2f} MB")
    return budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=Path,
                        help="folder with unigrams.tsv.gz, bigrams.tsv.gz (and meta.json); default: sakhaspell's lm/")
    parser.add_argument("--out", type=Path, help="the .lm file to write")
    parser.add_argument("--max-words", type=int, help="keep the most frequent words (plus <s>, </s>)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--max-bigrams", type=int, help="keep this many bigrams (the costliest to drop)")
    size.add_argument("--target-mb", type=float, help="as many bigrams as fit in this many MB (10^6 bytes)")
    parser.add_argument("--discount", type=float, default=1.0, help="KN discount D of a kept bigram (default 1.0)")
    parser.add_argument("--lower-order", choices=["kn-estimated", "kn-kept", "residual", "unigram"],
                        default="kn-estimated", help="lower-order distribution (default kn-estimated)")
    parser.add_argument("--unk-count", type=int, help="corpus tokens of unlisted words (default: from meta.json)")
    parser.add_argument("--heldout", type=Path, action="append", default=[],
                        help="text (one sentence a line) or Common Voice TSV: print OOV rate and perplexity")
    parser.add_argument("--score", type=Path, help="print ln P<TAB>normalised sentence for each line of this file")
    parser.add_argument("--stats-json", type=Path, help="also write the statistics to this JSON file")
    args = parser.parse_args()

    if args.counts is None:
        from sakhaspell_data import sakhaspell_dir
        folder = sakhaspell_dir(None) / "lm"
    else:
        folder = args.counts
    counts = read_counts(folder, args.unk_count)
    max_bigrams = args.max_bigrams
    if args.target_mb is not None:
        ranked = sorted((w for w in counts.unigrams if w not in (BOS, EOS)), key=lambda w: (-counts.unigrams[w], w))
        max_bigrams = bigram_budget(args.target_mb, [BOS, EOS, *ranked[:args.max_words]])
    model = build(counts, args.max_words, max_bigrams, args.discount, args.lower_order)
    ids = model.id_of()

    # The most frequent contexts have the longest rows, so they test the back-off weights hardest.
    busiest = sorted(range(len(model.words)), key=lambda i: -len(model.rows[i]))[:3]
    contexts = [model.words[i] for i in busiest] + [w for w in (BOS, model.words[-1]) if w != EOS]
    error = check_normalised(model, ids, contexts)
    if error > 1e-4:
        raise SystemExit(f"internal error: a context's distribution sums to 1 ± {error:.2e}")

    stats: dict[str, object] = {
        "counts": str(folder), "lower_order": args.lower_order, "discount": args.discount,
        "words": len(model.words), "bigrams": sum(len(r) for r in model.rows),
        "unk_logprob": model.unk, "normalisation_error": error,
    }
    if args.out:
        stats["file"] = str(args.out)
        stats["bytes"] = write(model, args.out)
    for path in args.heldout:
        stats[f"heldout:{path}"] = heldout_stats(model, ids, read_sentences(path))
    print(json.dumps(stats, ensure_ascii=False, indent=1), file=sys.stderr)
    if args.stats_json:
        args.stats_json.write_text(json.dumps(stats, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.score:
        for words in read_sentences(args.score):
            print(f"{sentence_score(model, ids, words)[0]:.6f}\t{' '.join(words)}")


if __name__ == "__main__":
    main()

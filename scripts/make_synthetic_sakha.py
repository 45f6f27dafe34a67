#!/usr/bin/env python3
"""Synthetic Sakha speech in a Common Voice-style folder, to train and test the pipeline end to end.

Text: sentences from a bounded bigram walk over the `sakhaspell` PyPI package's corpus counts (MIT,
`sakhaspell/lm/bigrams.tsv.gz`, 47 M tokens), normalised with `sakha_text.normalize` and deduplicated.
Each sentence belongs to one split for good, by a hash of its text (5 % test, 5 % dev, 90 % train), so
test and dev sentences never occur in any training set, whatever the seed, voices or run.

Speech: espeak-ng's Kazakh voice (`-v kk+VARIANT`), which reads Sakha plausibly once ҕ→ғ and ҥ→ң (for
the synthesiser only; transcripts keep Sakha spelling), with a random voice variant of the split's voice
set, speed, pitch and word gap; sox resamples to 16 kHz mono; then white or pink noise at a random SNR
(some utterances), a random peak level and sometimes a loudness ramp. Train utterances are also
speed-perturbed (sox `speed`, which scales formants with tempo, as a longer or shorter vocal tract
would), so that a few dozen synthetic voices cover more of the space between voices. Everything is
seeded per utterance, so the output does not depend on the number of jobs.

Voice sets (disjoint, so a test on "heldout" is on voices never trained on): "base" for the base
model's data, "adapter" for the adapter's data, "heldout" for test sets. The variants left out of all
three are whispered (no voiced speech to learn from), switch espeak to English, or derive from a
variant of another set (anikaRobot, iven2-4, edward2). Train and dev use --voices, test
uses --test-voices; both take comma lists of set names and variant names ("base,adapter", "m1,f2").

--sentences FILE speaks the given sentences instead (one a line, `#` lines skipped, normalised,
those with digits left out), all into test.tsv with the test voices: a test set of text from elsewhere.

Output: OUT/clips/*.wav (16 kHz mono PCM16), OUT/{train,dev,test}.tsv with Common Voice columns
(client_id = voice, path relative to clips/, sentence) plus the synthesis parameters, and
OUT/synthesis.json with the options used.

Examples:
  # base model data: ~5 h of train audio, dev and test
  python scripts/make_synthetic_sakha.py --out data/synth-base --voices base --train-hours 5 --seed 1 -j 2
  # adapter data: other voices and sentences, same held-out test voices
  python scripts/make_synthetic_sakha.py --out data/synth-adapter --voices adapter --train-hours 2 --seed 2 -j 2
  # a test set of other text (scripts/udhr_sakha_sentences.py writes one)
  python scripts/make_synthetic_sakha.py --out data/udhr --sentences udhr-sah.txt --seed 2 -j 2
"""

from __future__ import annotations

import argparse
import bisect
import csv
import gzip
import hashlib
import json
import multiprocessing
import random
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sakha_text import normalize  # noqa: E402
from sakhaspell_data import SAKHASPELL_VERSION, sakhaspell_dir  # noqa: E402
SAMPLE_RATE = 16000

VOICE_SETS = {
    "base": "m1 m2 m3 f1 f2 klatt klatt2 klatt6 adam Andy Annie AnxiousAndy benjamin boris david linda max paul steph "
            "steph2 steph3 travis announcer croak Demonic Diogo Gene Gene2 grandma grandpa Henrique Hugo Jacky "
            "kaukovalta Lee marcelo Marco Mario Michael miguel Nguyen pablo pedro quincy RicishayMax RicishayMax2 "
            "RicishayMax3 robosoft robosoft2 robosoft3 robosoft4 robosoft5 robosoft6 robosoft7 robosoft8 sandro "
            "shelby Tweaky UniRobot",
    "adapter": "m4 m5 m6 f3 f4 klatt3 klatt4 Alex aunty belinda edward iven john michel norbert rob zac Mike",
    "heldout": "m7 m8 f5 klatt5 Alicia Andrea anika antonio Denis gustave robert victor",
}

# Largest relative speed change of train utterances (sox `speed`); dev and test keep espeak's own voices.
TRAIN_SPEED_SPREAD = 0.13

# Percent of the sentence space per split, by hash; fixed so that splits stay disjoint across runs.
TEST_PERCENT = 5
DEV_PERCENT = 5

MIN_WORDS = 3
MAX_WORDS = 10
WALK_ATTEMPTS = 50

# Kazakh letters espeak's kk voice knows, for the Sakha ones it would spell out.
SYNTH_SPELLING = str.maketrans({"ҕ": "ғ", "ҥ": "ң"})

TSV_COLUMNS = [
    "client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accents", "locale", "segment",
    "duration_s", "voice", "rate_wpm", "pitch", "word_gap", "noise", "snr_db", "peak_dbfs", "ramp_db", "speed",
]


@dataclass
class Utterance:
    split: str
    index: int
    sentence: str
    voice: str
    rate_wpm: int
    pitch: int
    word_gap: int
    noise: str
    snr_db: float
    peak_dbfs: float
    ramp_db: float
    noise_seed: int
    speed: float

    @property
    def clip_name(self) -> str:
        return f"synth_sah_{self.split}_{self.index:06d}.wav"


class BigramWalker:
    """Samples sentences word by word from bigram counts, starting at <s> and ending at </s>."""

    def __init__(self, bigrams_path: Path):
        successors: dict[str, tuple[list[str], list[int]]] = {}
        with gzip.open(bigrams_path, "rt", encoding="utf-8") as lines:
            next(lines)  # header w1 w2 count
            for line in lines:
                first, second, count = line.rstrip("\n").split("\t")
                words, weights = successors.setdefault(first, ([], []))
                words.append(second)
                weights.append(int(count))
        # cumulative weights turn each draw into one bisect
        self.successors = {
            word: (nexts, list(np.cumsum(weights))) for word, (nexts, weights) in successors.items()
        }

    def _draw(self, word: str, rng: random.Random, allow_end: bool) -> str | None:
        nexts, cumulative = self.successors.get(word, ([], []))
        for _ in range(10):
            if not nexts:
                return None
            choice = nexts[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
            if choice != "</s>" or allow_end:
                return choice
        # a word that nearly always ends a sentence: a dead end before MIN_WORDS
        return None

    def sentence(self, rng: random.Random) -> list[str] | None:
        """A walk of MIN_WORDS..MAX_WORDS words, or None when it hit a dead end or ran too long."""
        words: list[str] = []
        word = "<s>"
        while len(words) <= MAX_WORDS:
            word = self._draw(word, rng, allow_end=len(words) >= MIN_WORDS)
            if word is None:
                return None
            if word == "</s>":
                return words
            words.append(word)
        return None


def sentence_split(sentence: str) -> str:
    bucket = int(hashlib.sha1(sentence.encode("utf-8")).hexdigest()[:8], 16) % 100
    if bucket < TEST_PERCENT:
        return "test"
    if bucket < TEST_PERCENT + DEV_PERCENT:
        return "dev"
    return "train"


def sentences_by_split(walker: BigramWalker, seed: int):
    """Yields (split, sentence) for new normalised sentences, forever."""
    rng = random.Random(f"text:{seed}")
    seen: set[str] = set()
    while True:
        for _ in range(WALK_ATTEMPTS):
            words = walker.sentence(rng)
            if words is not None:
                break
        else:
            raise RuntimeError("the bigram walk keeps hitting dead ends")
        sentence = normalize(" ".join(words))
        if sentence in seen or any(c.isdigit() for c in sentence) or len(sentence.split()) < MIN_WORDS:
            continue
        seen.add(sentence)
        yield sentence_split(sentence), sentence


def given_sentences(path: Path) -> list[str]:
    """The file's normalised sentences, in order, without repeats or digits."""
    lines = path.read_text(encoding="utf-8").splitlines()
    sentences = [normalize(line) for line in lines if not line.startswith("#")]
    return list(dict.fromkeys(s for s in sentences if s and not any(c.isdigit() for c in s)))


def plan_utterance(split: str, index: int, sentence: str, voices: list[str], seed: int) -> Utterance:
    rng = random.Random(f"voice:{seed}:{split}:{index}")
    noisy = rng.random() < 0.6
    return Utterance(
        split=split,
        index=index,
        sentence=sentence,
        voice=rng.choice(voices),
        rate_wpm=rng.randint(125, 205),
        pitch=rng.randint(25, 75),
        word_gap=rng.choice([0, 0, 0, 1, 2, 4]),
        noise=rng.choice(["white", "pink"]) if noisy else "none",
        snr_db=round(rng.uniform(10, 35), 1) if noisy else 0.0,
        peak_dbfs=round(rng.uniform(-26, -1), 1),
        ramp_db=round(rng.uniform(-8, 8), 1) if rng.random() < 0.3 else 0.0,
        noise_seed=rng.getrandbits(32),
        # drawn last so that dev and test utterances stay those of earlier versions of this script
        speed=round(rng.uniform(1 - TRAIN_SPEED_SPREAD, 1 + TRAIN_SPEED_SPREAD), 3) if split == "train" else 1.0,
    )


def synthesize(text: str, utterance: Utterance) -> np.ndarray:
    espeak = subprocess.run(
        ["espeak-ng", "-v", f"kk+{utterance.voice}", "-s", str(utterance.rate_wpm), "-p", str(utterance.pitch),
         "-g", str(utterance.word_gap), "--stdout", text.translate(SYNTH_SPELLING)],
        check=True, capture_output=True,
    )
    # espeak writes 22 050 Hz; sox changes the speed where asked, resamples and hands back raw float32
    speed = ["speed", str(utterance.speed)] if utterance.speed != 1.0 else []
    sox = subprocess.run(
        ["sox", "-V1", "-t", "wav", "-", "-t", "f32", "-r", str(SAMPLE_RATE), "-c", "1", "-", *speed],
        input=espeak.stdout, check=True, capture_output=True,
    )
    return np.frombuffer(sox.stdout, dtype=np.float32)


def augment(audio: np.ndarray, utterance: Utterance) -> np.ndarray:
    rng = np.random.default_rng(utterance.noise_seed)
    audio = audio.astype(np.float64)
    if utterance.noise != "none":
        noise = rng.standard_normal(len(audio))
        if utterance.noise == "pink":
            spectrum = np.fft.rfft(noise)
            spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
            noise = np.fft.irfft(spectrum, n=len(audio))
        signal_power = np.mean(audio**2) + 1e-12
        noise *= np.sqrt(signal_power / (np.mean(noise**2) + 1e-12) / 10 ** (utterance.snr_db / 10))
        audio = audio + noise
    if utterance.ramp_db:
        audio *= 10 ** (np.linspace(0, utterance.ramp_db, len(audio)) / 20)
    peak = np.max(np.abs(audio)) + 1e-12
    return (audio * 10 ** (utterance.peak_dbfs / 20) / peak).astype(np.float32)


def render(job: tuple[Utterance, str]) -> tuple[str, dict[str, str]]:
    """Synthesises one utterance into the clips folder and returns its split and TSV row."""
    utterance, clips_dir = job
    audio = augment(synthesize(utterance.sentence, utterance), utterance)
    soundfile.write(Path(clips_dir) / utterance.clip_name, audio, SAMPLE_RATE, subtype="PCM_16")
    fields = asdict(utterance)
    return utterance.split, {
        "client_id": f"kk+{utterance.voice}",
        "path": utterance.clip_name,
        "sentence": utterance.sentence,
        "up_votes": "2",
        "down_votes": "0",
        "locale": "sah",
        "duration_s": f"{len(audio) / SAMPLE_RATE:.3f}",
        **{key: str(fields[key]) for key in ("voice", "rate_wpm", "pitch", "word_gap", "noise", "snr_db",
                                             "peak_dbfs", "ramp_db", "speed")},
    }


def voice_list(spec: str) -> list[str]:
    """Variants from a comma list of set names and variant names, checked against espeak-ng's own list
    (espeak-ng silently falls back to the plain voice for an unknown variant)."""
    listing = subprocess.run(["espeak-ng", "--voices=variant"], check=True, capture_output=True, text=True).stdout
    known = {line.split()[-1].removeprefix("!v/") for line in listing.splitlines()[1:] if line.strip()}
    voices = [v for item in spec.split(",") for v in VOICE_SETS.get(item.strip(), item.strip()).split()]
    unknown = sorted(set(voices) - known)
    if unknown:
        raise SystemExit(f"unknown espeak-ng voice variant(s): {', '.join(unknown)} (see espeak-ng --voices=variant)")
    return voices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output folder (clips/ and TSV files)")
    parser.add_argument("--train-hours", type=float, default=5.0, help="audio hours in train.tsv (default 5)")
    parser.add_argument("--dev-utts", type=int, default=300, help="utterances in dev.tsv (default 300)")
    parser.add_argument("--test-utts", type=int, default=300, help="utterances in test.tsv (default 300)")
    parser.add_argument("--voices", default="base",
                        help=f"train/dev voice variants: comma list of set names ({', '.join(VOICE_SETS)}) "
                             "and variant names")
    parser.add_argument("--test-voices", default="heldout", help="test voice variants (default heldout)")
    parser.add_argument("--seed", type=int, default=1, help="seed for sentences and voices (default 1)")
    parser.add_argument("--sakhaspell", type=Path, help="unpacked sakhaspell package; default: pip download")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel synthesis processes (default 2)")
    parser.add_argument("--sentences", type=Path,
                        help="speak this file's sentences (one a line) into test.tsv instead of bigram walks")
    args = parser.parse_args()

    voices = {"train": voice_list(args.voices), "dev": voice_list(args.voices), "test": voice_list(args.test_voices)}
    clips_dir = args.out / "clips"
    if clips_dir.is_dir() and any(clips_dir.iterdir()):
        raise SystemExit(f"{clips_dir} already has clips: remove it or choose another --out")
    clips_dir.mkdir(parents=True, exist_ok=True)
    if args.sentences:
        given = given_sentences(args.sentences)
        sentences = iter([("test", sentence) for sentence in given])
        args.train_hours, args.dev_utts, args.test_utts = 0.0, 0, len(given)
    else:
        walker = BigramWalker(sakhaspell_dir(args.sakhaspell) / "lm" / "bigrams.tsv.gz")
        sentences = sentences_by_split(walker, args.seed)

    rows: dict[str, list[dict[str, str]]] = {"train": [], "dev": [], "test": []}
    wanted_utts = {"dev": args.dev_utts, "test": args.test_utts}
    train_seconds = 0.0
    chunk_size = 64 * args.jobs

    def wanted(split: str, count: int) -> bool:
        if split == "train":
            return train_seconds < args.train_hours * 3600
        return count < wanted_utts[split]

    with multiprocessing.Pool(args.jobs) as pool:
        while any(wanted(split, len(split_rows)) for split, split_rows in rows.items()):
            planned = []
            counts = {split: len(split_rows) for split, split_rows in rows.items()}
            while len(planned) < chunk_size and any(wanted(split, n) for split, n in counts.items()):
                split, sentence = next(sentences)
                if wanted(split, counts[split]):
                    planned.append(plan_utterance(split, counts[split], sentence, voices[split], args.seed))
                    counts[split] += 1
            for split, row in pool.imap(render, [(u, str(clips_dir)) for u in planned], chunksize=8):
                if not wanted(split, len(rows[split])):  # the chunk overshot the train hours
                    (clips_dir / row["path"]).unlink()
                    continue
                rows[split].append(row)
                if split == "train":
                    train_seconds += float(row["duration_s"])
            print(f"train {train_seconds / 3600:.2f}/{args.train_hours} h, dev {len(rows['dev'])}, "
                  f"test {len(rows['test'])}", flush=True)

    for split, split_rows in rows.items():
        with open(args.out / f"{split}.tsv", "w", newline="", encoding="utf-8") as tsv:
            writer = csv.DictWriter(tsv, TSV_COLUMNS, delimiter="\t", restval="", lineterminator="\n",
                                    quoting=csv.QUOTE_NONE)
            writer.writeheader()
            writer.writerows(split_rows)
    espeak_version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    (args.out / "synthesis.json").write_text(
        json.dumps({**{k: str(v) for k, v in vars(args).items()}, "voice_lists": voices,
                    "sakhaspell_version": SAKHASPELL_VERSION, "espeak": espeak_version,
                    "train_hours_written": round(train_seconds / 3600, 3)}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Speed and memory of sakha-asr against the peer (transformers' Wav2Vec2ForCTC in PyTorch eager, CPU).

Builds a full-size MMS-300m model with random weights from `crate/configs/mms-300m.json` (plus the
CTC head and adapters of a Sakha fine-tune: vocab 40, adapter_attn_dim 16), writes it as an HF folder,
and transcribes the same synthetic audio with both stacks at the same thread count, in one run.
Prints a table and writes it to BENCHMARKS.md.

    /path/to/venv/bin/python scripts/bench.py [--seconds 10] [--threads 2] [--repeats 3]

Needs the packages of scripts/requirements-fixtures.txt and a release build of the CLI
(`cargo build --release`).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "target" / "release" / "sakha-asr"
SAKHA_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяҕҥөһү"


def build_model(folder: Path, config_file: Path) -> None:
    """Random-weight MMS-300m-shaped Wav2Vec2ForCTC saved in HF layout (safetensors)."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    values = json.loads(config_file.read_text())
    tokens = ["<pad>", "<s>", "</s>", "<unk>", "|"] + list(SAKHA_LETTERS)
    values.update(vocab_size=len(tokens), adapter_attn_dim=16)
    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**values)).eval()
    model.save_pretrained(folder, safe_serialization=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False))


def write_audio(path: Path, seconds: float) -> np.ndarray:
    """Deterministic speech-like noise: tones with a syllable-rate envelope, 16 kHz mono 16-bit WAV."""
    import soundfile

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * 16000)) / 16000
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)
    signal = envelope * (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size))
    soundfile.write(path, signal.astype(np.float32), 16000, subtype="PCM_16")
    return signal.astype(np.float32)


def peak_rss_mb(command: list[str], env: dict) -> tuple[float, str]:
    """Runs a command under GNU time and returns its peak RSS in MB and its stderr."""
    result = subprocess.run(
        ["/usr/bin/time", "-v", *command], env=env, capture_output=True, text=True, check=True
    )
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return int(match.group(1)) / 1024, result.stderr


def ours(model_dir: Path, audio: Path, threads: int, repeats: int) -> dict:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    command = [str(CLI), "transcribe", "--timings", "--model", str(model_dir), str(audio)]
    runs = []
    for _ in range(repeats):
        rss, stderr = peak_rss_mb(command, env)
        timings = json.loads(next(l for l in stderr.splitlines() if l.startswith("{")))
        runs.append((timings["inference_s"], timings["load_s"], rss))
    return summarize(runs)


PEER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import soundfile, torch
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC
    model_dir, audio, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    started = time.perf_counter()
    model = Wav2Vec2ForCTC.from_pretrained(model_dir).eval()
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True)
    loaded = time.perf_counter()
    samples, rate = soundfile.read(audio, dtype="float32")
    inputs = extractor(samples, sampling_rate=rate, return_tensors="pt")
    with torch.inference_mode():
        ids = model(inputs.input_values).logits.argmax(-1)
    done = time.perf_counter()
    print(json.dumps({"load_s": loaded - started, "inference_s": done - loaded}), file=sys.stderr)
    """
)


def peer(model_dir: Path, audio: Path, threads: int, repeats: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    command = [sys.executable, "-c", PEER_SCRIPT, str(model_dir), str(audio), str(threads)]
    runs = []
    for _ in range(repeats):
        rss, stderr = peak_rss_mb(command, env)
        timings = json.loads(next(l for l in stderr.splitlines() if l.startswith("{")))
        runs.append((timings["inference_s"], timings["load_s"], rss))
    return summarize(runs)


def summarize(runs: list[tuple[float, float, float]]) -> dict:
    return {
        "inference_s": statistics.median(r[0] for r in runs),
        "load_s": statistics.median(r[1] for r in runs),
        "peak_rss_mb": max(r[2] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--config", type=Path, default=ROOT / "crate" / "configs" / "mms-300m.json")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    if not CLI.exists():
        sys.exit(f"{CLI} is missing: run `cargo build --release` first")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "mms-300m-random"
        build_model(model_dir, args.config)
        for seconds in args.seconds:
            audio = Path(tmp) / f"audio-{seconds:g}s.wav"
            write_audio(audio, seconds)
            for name, run in (("sakha-asr (candle, f32)", ours), ("transformers (PyTorch eager)", peer)):
                result = run(model_dir, audio, args.threads, args.repeats)
                rows.append((name, seconds, result))
                print(name, seconds, result, flush=True)

    lines = [
        "| stack | audio | inference | real-time factor | load | peak RSS | inference vs PyTorch | RSS vs PyTorch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, seconds, r in rows:
        base = next(p for n, s, p in rows if s == seconds and n.startswith("transformers"))
        lines.append(
            f"| {name} | {seconds:g} s | {r['inference_s']:.2f} s | {r['inference_s'] / seconds:.3f} "
            f"| {r['load_s']:.2f} s | {r['peak_rss_mb']:.0f} MB "
            f"| {base['inference_s'] / r['inference_s']:.2f}x faster "
            f"| {r['peak_rss_mb'] / base['peak_rss_mb']:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    cpu = next(
        (l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in l),
        platform.processor(),
    )
    import torch
    import transformers

    args.out.write_text(
        "# Benchmarks\n\n"
        "Written by `scripts/bench.py` (re-run it to refresh this file). Full-size MMS-300m "
        f"(`{args.config.relative_to(ROOT)}`, plus vocab 40 and adapter_attn_dim 16) with random weights, "
        "float32, synthetic audio, one process per run, median of "
        f"{args.repeats} runs; peak RSS is the largest of the runs and includes loading the weights.\n\n"
        f"Machine: {cpu}, {os.cpu_count()} cores; {args.threads} threads for both stacks "
        f"(RAYON_NUM_THREADS / torch.set_num_threads). Peer: transformers {transformers.__version__}, "
        f"torch {torch.__version__}.\n\n"
        f"{table}\n\n"
        "\"Inference\" is audio decoding plus the forward pass and greedy CTC decoding; \"load\" is reading "
        "the model folder and building the model.\n"
    )


if __name__ == "__main__":
    main()

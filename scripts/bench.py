#!/usr/bin/env python3
"""Speed, memory, size and accuracy of sakha-asr against the peer, in one run; writes BENCHMARKS.md.

The peer is what people use today: transformers' `Wav2Vec2ForCTC` in PyTorch eager on the CPU. Both
stacks get the same weights, the same audio and the same number of threads.

- Model: full-size MMS-300m with random weights from `crate/configs/mms-300m.json`, plus the CTC head
  and adapters of a Sakha fine-tune (vocab 40, adapter_attn_dim 16), saved as an HF folder and
  converted with `sakha-asr convert` to every quantization.
- Speed: wall time of audio decoding + recognition (model load reported apart), median of repeats,
  peak RSS of the process (includes loading), for 10 s and 30 s of audio.
- Accuracy: relative logit error and frame-argmax agreement against PyTorch's float32 logits, on the
  MMS-300m model and on the three tiny fixtures (`crate/tests/fixtures`); the same for PyTorch with
  its weights rounded to q8_0 (what q8_0 storage alone costs, whatever the kernel); and, given a
  trained model (--trained-model, e.g. the demo model's HF folder from scripts/make-demo-model.sh),
  its q8_0 package against its f32 package on real clips.
- Long audio: peak RSS and time for 10 s to 60 min, chunked (about 10 of the run's 20 minutes).
- --smoke: ours alone (the peer needs torch to run and to make the MMS-300m model), a quick check
  that needs numpy and soundfile only: the built-in demo package on 10 s, one repeat; the fixtures'
  accuracy (their committed transformers logits); 10 s of long audio. Nothing is written but --out.

scripts/bench-native.sh runs it, after building the CLI and making a venv with what it imports:

    scripts/bench-native.sh [--quick] [--smoke] [--out FILE] ...   # --quick: one repeat, MMS-300m long audio up to 1 minute
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The CLI scripts/bench-native.sh built (scripts/bench-common.sh's bench_build).
CLI = Path(os.environ.get("SAKHA_ASR_CLI") or ROOT / "target" / "release" / "sakha-asr")
FIXTURES = ROOT / "crate" / "tests" / "fixtures"
DEFAULT_MODEL = ROOT / "crate" / "models" / "default"
SAKHA_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяҕҥөһү"
QUANTIZATIONS = ["f32", "f16", "q8_0", "q4_0", "q4_k"]
TIMED_QUANTIZATIONS = ["f32", "q8_0", "q4_k"]
BROWSER_SECTION = "<!-- bench-browser.mjs: begin -->"


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


def write_audio(path: Path, seconds: float) -> None:
    """Deterministic speech-like signal: tones under a syllable-rate envelope plus noise, 16 kHz WAV."""
    import soundfile

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * 16000)) / 16000
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)
    signal = envelope * (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size))
    soundfile.write(path, signal.astype(np.float32), 16000, subtype="PCM_16")


def run_measured(command: list[str], env: dict) -> tuple[dict, float]:
    """Runs a command under GNU time; returns the JSON timings it printed on stderr and its peak RSS (MB)."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 1024
    timings = json.loads(next(l for l in result.stderr.splitlines() if l.startswith("{")))
    return timings, rss


def ours_command(model: Path, audio: Path, logits: Path | None = None) -> list[str]:
    command = [str(CLI), "transcribe", "--timings", "--model", str(model), str(audio)]
    return command + (["--dump-logits", str(logits)] if logits else [])


PEER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy, soundfile, torch
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC
    model_dir, audio, threads, logits_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(threads)
    started = time.perf_counter()
    model = Wav2Vec2ForCTC.from_pretrained(model_dir).eval()
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True)
    loaded = time.perf_counter()
    samples, rate = soundfile.read(audio, dtype="float32")
    inputs = extractor(samples, sampling_rate=rate, return_tensors="pt")
    with torch.inference_mode():
        logits = model(inputs.input_values).logits[0]
        ids = logits.argmax(-1)
    done = time.perf_counter()
    if logits_out:
        numpy.save(logits_out, logits.numpy())
    print(json.dumps({"load_s": loaded - started, "inference_s": done - loaded}), file=sys.stderr)
    """
)


def peer_command(model: Path, audio: Path, threads: int, logits: Path | None = None) -> list[str]:
    return [sys.executable, "-c", PEER_SCRIPT, str(model), str(audio), str(threads), str(logits or "")]


def timed(command: list[str], env: dict, repeats: int) -> dict:
    runs = [run_measured(command, env) for _ in range(repeats)]
    return {
        "inference_s": statistics.median(t["inference_s"] for t, _ in runs),
        "load_s": statistics.median(t["load_s"] for t, _ in runs),
        "rss_mb": max(rss for _, rss in runs),
    }


def compare(ours: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """Relative error ||a - b|| / ||b||, the share of frames whose argmax agrees, and that share over
    the frames where the reference is at least median-confident (top-2 margin >= its median)."""
    relative = float(np.linalg.norm(ours - reference) / np.linalg.norm(reference))
    agrees = ours.argmax(-1) == reference.argmax(-1)
    top2 = np.sort(reference, axis=-1)[:, -2:]
    margins = top2[:, 1] - top2[:, 0]
    confident = margins >= np.median(margins)
    return relative, float(np.mean(agrees)), float(np.mean(agrees[confident]))


def convert(hf_dir: Path, out: Path, quantization: str, lang: str) -> None:
    subprocess.run(
        [str(CLI), "convert", "--from", str(hf_dir), "--lang", lang, "--quant", quantization, "--out", str(out)],
        check=True,
        capture_output=True,
    )


def q8_0_rounded_logits(hf_dir: Path, audio: Path, threads: int) -> np.ndarray:
    """PyTorch logits with every matrix our converter quantizes rounded to q8_0 (blocks of 32 along the
    input, scale max|w| / 127 stored as f16), activations left in f32."""
    import soundfile
    import torch
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    torch.set_num_threads(threads)
    model = Wav2Vec2ForCTC.from_pretrained(hf_dir).eval()
    with torch.no_grad():
        for name, module in model.wav2vec2.named_modules():
            if isinstance(module, torch.nn.Linear) and "adapter" not in name:
                blocks = module.weight.reshape(module.weight.shape[0], -1, 32)
                scale = (blocks.abs().amax(-1, keepdim=True) / 127).half().float()
                rounded = torch.where(scale > 0, torch.round(blocks / scale.clamp(min=1e-30)) * scale, 0.0)
                module.weight.copy_(rounded.reshape(module.weight.shape))
    samples, rate = soundfile.read(audio, dtype="float32")
    inputs = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True)(
        samples, sampling_rate=rate, return_tensors="pt"
    )
    with torch.inference_mode():
        return model(inputs.input_values).logits[0].numpy()


def trained_model_accuracy(tmp: Path, hf_dir: Path, clips: list[Path], lang: str) -> tuple:
    """A trained model's q8_0 package against its own f32 package, all clips' frames together."""
    frames = {}
    for quantization in ("f32", "q8_0"):
        package = tmp / f"trained-{quantization}"
        convert(hf_dir, package, quantization, lang)
        logits = []
        for clip in clips:
            out = tmp / f"trained-{quantization}-{clip.stem}.npy"
            subprocess.run(ours_command(package, clip, out), check=True, capture_output=True)
            array = np.load(out)
            logits.append(array.reshape(-1, array.shape[-1]))
        frames[quantization] = np.concatenate(logits)
    name = f"trained model {hf_dir.parent.name}/{hf_dir.name}, {len(clips)} clips ({len(frames['f32'])} frames), vs its f32 package"
    return (name, "q8_0", *compare(frames["q8_0"], frames["f32"]))


def fixture_accuracy(tmp: Path) -> list[tuple[str, str, float, float]]:
    """Each quantization of each fixture against the transformers logits of its WAV input."""
    rows = []
    for name, lang, reference in [
        ("mms_adapter_in_base", "sah", "logits_wav_2.npy"),
        ("mms_separate_adapters", "kaz", "logits_wav_2_kaz.npy"),
        ("w2v2_base_style", "eng", "logits_wav_2.npy"),
    ]:
        for quantization in QUANTIZATIONS:
            package = tmp / f"{name}-{quantization}"
            convert(FIXTURES / name, package, quantization, lang)
            logits = tmp / f"{name}-{quantization}.npy"
            command = ours_command(package, FIXTURES / name / "input_2.wav", logits)
            subprocess.run(command, check=True, capture_output=True)
            rows.append((name, quantization, *compare(np.load(logits), np.load(FIXTURES / name / reference))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat; MMS-300m on long audio up to 1 minute")
    parser.add_argument("--smoke", action="store_true", help="ours alone, the demo package: a quick check (see above)")
    parser.add_argument("--config", type=Path, default=ROOT / "crate" / "configs" / "mms-300m.json")
    parser.add_argument("--out", type=Path, help="default: BENCHMARKS.md; with --smoke, none (the report is printed)")
    parser.add_argument("--trained-model", type=Path, help="HF folder of a trained model for the q8_0 vs f32 row")
    parser.add_argument("--trained-clips", type=Path, default=ROOT / "crate" / "tests" / "demo-eval" / "clips",
                        help="audio for --trained-model (default: the demo model's committed held-out clips)")
    parser.add_argument("--trained-lang", default="sah")
    args = parser.parse_args()
    if not CLI.exists():
        sys.exit(f"{CLI} is missing: run scripts/bench-native.sh, which builds it")
    repeats = 1 if args.quick or args.smoke else args.repeats
    load_at_start = os.getloadavg()[0]
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.smoke:
            speed, accuracy, sizes, long_audio = smoke_run(tmp, env)
            write_report(args, repeats, speed, accuracy, sizes, long_audio, load_at_start)
            return
        hf_dir = tmp / "mms-300m-random"
        build_model(hf_dir, args.config)
        packages = {}
        for quantization in QUANTIZATIONS:
            packages[quantization] = tmp / f"package-{quantization}"
            convert(hf_dir, packages[quantization], quantization, "sah")
            print("converted", quantization, flush=True)

        speed = []
        reference_logits = {}
        for seconds in (10, 30):
            audio = tmp / f"audio-{seconds}s.wav"
            write_audio(audio, seconds)
            peer_logits = tmp / f"peer-{seconds}.npy"
            run_measured(peer_command(hf_dir, audio, args.threads, peer_logits), env)
            reference_logits[seconds] = np.load(peer_logits)
            peer = timed(peer_command(hf_dir, audio, args.threads), env, repeats)
            speed.append(("transformers (PyTorch eager), f32", seconds, peer, peer))
            print(speed[-1], flush=True)
            variants = [("sakha-asr, HF folder, f32", hf_dir)]
            variants += [(f"sakha-asr, package {q}", packages[q]) for q in TIMED_QUANTIZATIONS]
            for name, model in variants:
                speed.append((name, seconds, timed(ours_command(model, audio), env, repeats), peer))
                print(speed[-1], flush=True)

        accuracy = []
        audio = tmp / "audio-10s.wav"
        for quantization in QUANTIZATIONS:
            logits = tmp / f"ours-{quantization}.npy"
            run_measured(ours_command(packages[quantization], audio, logits), env)
            accuracy.append(("MMS-300m (random weights), 10 s", quantization, *compare(np.load(logits), reference_logits[10])))
        rounded = q8_0_rounded_logits(hf_dir, audio, args.threads)
        accuracy.append(("MMS-300m (random weights), 10 s, PyTorch", "q8_0 weights only", *compare(rounded, reference_logits[10])))
        if args.trained_model:
            clips = sorted(p for p in args.trained_clips.iterdir() if p.suffix in (".flac", ".wav", ".mp3"))
            accuracy.append(trained_model_accuracy(tmp, args.trained_model, clips, args.trained_lang))
        accuracy += fixture_accuracy(tmp)

        one_second = tmp / "audio-1s.wav"
        write_audio(one_second, 1)
        sizes = []
        for quantization in QUANTIZATIONS:
            manifest = json.loads((packages[quantization] / "model.json").read_text())
            _, rss = run_measured(ours_command(packages[quantization], one_second), env)
            sizes.append((quantization, manifest["base"]["bytes"], manifest["languages"]["sah"]["bytes"], rss))

        long_audio = []
        for seconds in [10, 60, 600, 3600]:
            audio = tmp / f"long-{seconds}s.wav"
            write_audio(audio, seconds)
            timings, rss = run_measured(ours_command(DEFAULT_MODEL, audio), env)
            long_audio.append(("built-in tiny model", seconds, timings["inference_s"], rss))
            # An hour of MMS-300m takes minutes: full runs only.
            if seconds <= (60 if args.quick else 3600):
                timings, rss = run_measured(ours_command(packages["q8_0"], audio), env)
                long_audio.append(("MMS-300m q8_0", seconds, timings["inference_s"], rss))
            print(long_audio[-1], flush=True)

    write_report(args, repeats, speed, accuracy, sizes, long_audio, load_at_start)


def smoke_run(tmp: Path, env: dict) -> tuple[list, list, list, list]:
    """main()'s measurements with ours alone and the demo package, in the rows write_report takes."""
    audio = tmp / "audio-10s.wav"
    write_audio(audio, 10)
    speed = [("sakha-asr, built-in demo package", 10, timed(ours_command(DEFAULT_MODEL, audio), env, 1), None)]
    accuracy = fixture_accuracy(tmp)
    manifest = json.loads((DEFAULT_MODEL / "model.json").read_text())
    timings, rss = run_measured(ours_command(DEFAULT_MODEL, audio), env)
    sizes = [("built-in demo package", manifest["base"]["bytes"], manifest["languages"]["sah"]["bytes"], rss)]
    long_audio = [("built-in tiny model", 10, timings["inference_s"], rss)]
    return speed, accuracy, sizes, long_audio


def write_report(args, repeats, speed, accuracy, sizes, long_audio, load_at_start) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    cpu = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if "model name" in l), "unknown CPU")
    flags = set(next((l.split(":", 1)[1].split() for l in cpuinfo.splitlines() if l.startswith("flags")), []))
    kernels = (
        f"On this CPU our int8 kernel {'runs' if 'avx512_vnni' in flags else 'does not run (no AVX-512 VNNI)'} "
        f"and our bf16 kernel {'runs' if 'avx512_bf16' in flags else 'does not run (no AVX-512 BF16)'}: "
        "packages quantized to 8 bits or fewer compute the conv stack after its first layer, the "
        "positional conv and attention's two products in bf16 with f32 sums where the CPU has AVX-512 "
        "BF16, and in f32 elsewhere; f32 and f16 packages always compute in f32."
    )
    if args.smoke:
        setup = (
            "**A smoke run** (`--smoke`): ours alone, no peer (transformers needs torch), the built-in demo "
            "package, one repeat; it checks that the benchmark runs, its figures compare nothing. "
        )
    else:
        import torch
        import transformers

        setup = (
            f"Peer: transformers {transformers.__version__}, torch {torch.__version__}, PyTorch eager on the CPU. "
            f"Model: MMS-300m shape (`{args.config.relative_to(ROOT)}` + vocab 40, adapter_attn_dim 16) with random weights. "
        )
    lines = [
        "# Benchmarks",
        "",
        f"Written by `scripts/bench.py{' --quick' if args.quick else ''}{' --smoke' if args.smoke else ''}`; re-run it to refresh this file. "
        f"Machine: {cpu}, {os.cpu_count()} cores; {args.threads} threads for both stacks "
        f"(RAYON_NUM_THREADS, torch.set_num_threads). {setup}"
        f"Load average at the start and end of the run: {load_at_start:.1f} and {os.getloadavg()[0]:.1f} "
        "(other jobs running slow both stacks alike; compare ratios within one run).",
        "",
        "## Speed and memory",
        "",
        f"Recognition time = audio decoding + forward pass + greedy CTC, median of {repeats} runs in fresh "
        "processes; load = reading and building the model; peak RSS = the whole process, loading included.",
        "",
        "| stack | audio | recognition | real-time factor | load | peak RSS | speed vs PyTorch | RSS vs PyTorch |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def ratio(a, b, key):
        return f"{a[key] / b[key]:.2f}x" if a and b else ""

    for name, seconds, r, peer in speed:
        lines.append(
            f"| {name} | {seconds} s | {r['inference_s']:.2f} s | {r['inference_s'] / seconds:.3f} "
            f"| {r['load_s']:.2f} s | {r['rss_mb']:.0f} MB | {ratio(peer, r, 'inference_s')} | {ratio(r, peer, 'rss_mb')} |"
        )
    lines += [
        "",
        "## Accuracy against transformers (float32 logits)",
        "",
        "Relative logit error ‖ours − reference‖ / ‖reference‖ and the share of frames whose most likely "
        "token agrees, over all frames and over the more confident half (frames whose reference top-2 "
        "margin is at least the median). Random weights leave many near-ties between the top tokens, "
        "which any perturbation flips, so these are pessimistic figures for a trained model. The "
        "\"q8_0 weights only\" row is PyTorch itself with the quantized matrices rounded to q8_0 and "
        "everything else in f32: the best any q8_0 kernel can do on these weights. A trained model's row, "
        "where present, compares its q8_0 package with its f32 package on real clips. " + kernels,
        "",
        "| model | quantization | relative error | argmax agreement | on confident frames |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {m} | {q} | {rel:.2e} | {agree * 100:.1f} % | {confident * 100:.1f} % |"
        for m, q, rel, agree, confident in accuracy
    ]
    lines += [
        "",
        f"## Package sizes ({'the built-in demo package' if args.smoke else 'MMS-300m'})",
        "",
        f"Peak RSS: loading the package and recognising {10 if args.smoke else 1} s of audio.",
        "",
        "| quantization | base.gguf | sah.gguf (adapters + CTC head + vocabulary) | peak RSS |",
        "|---|---|---|---|",
    ]
    lines += [f"| {q} | {b / 1e6:.1f} MB | {a / 1e6:.2f} MB | {rss:.0f} MB |" for q, b, a, rss in sizes]
    lines += [
        "",
        "## Long audio (cut at pauses, none in this signal, then 10 s chunks with 2 s of context on each side)",
        "",
        "| model | audio | recognition | real-time factor | peak RSS |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {m} | {s // 60} min {s % 60} s | {t:.1f} s | {t / s:.3f} | {rss:.0f} MB |" for m, s, t, rss in long_audio
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.smoke and not args.out:
        return
    out = args.out or ROOT / "BENCHMARKS.md"
    # scripts/bench-browser.sh writes its own section between markers: keep it.
    previous = out.read_text() if out.exists() else ""
    browser = previous.find(BROWSER_SECTION)
    out.write_text(report + ("\n" + previous[browser:] if browser >= 0 else ""))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The files scripts/bench-browser.sh serves to both stacks, made once into a cache folder and reused.

- hf/: the random-weight MMS-300m-shaped model of scripts/bench.py (its build_model)
- package-q8_0/, package-q4_k/: that model converted by our CLI (redone when the CLI is newer)
- onnx/model.onnx (float32, logits, dynamic time axis) exported by torch, and onnx/model-int8.onnx from
  onnxruntime's quantize_dynamic of its MatMuls
- audio-10s.wav, audio-30s.wav: bench.py's speech-like signal (its write_audio), and the same samples as
  raw little-endian float32 (.f32) for the pages
- reference.json: what the native stacks make of that audio, for checking the browser runs: our CLI's
  text per package and audio, and the logit error of both ONNX files (onnxruntime, CPU) and of our q8_0
  package against PyTorch's float32 logits on the 10 s audio

    python scripts/bench_browser_model.py CACHE_DIR
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import CLI, ROOT, build_model, compare, convert, write_audio  # noqa: E402

QUANTIZATIONS = ["q8_0", "q4_k"]
SECONDS = [10, 30]
OPSET = 17


def export_onnx(hf_dir: Path, out: Path) -> None:
    """float32 ONNX of Wav2Vec2ForCTC: input_values [1, samples] -> logits [1, frames, vocab]."""
    import torch
    from transformers import Wav2Vec2ForCTC

    model = Wav2Vec2ForCTC.from_pretrained(hf_dir).eval()

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_values):
            return self.model(input_values).logits

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    with torch.inference_mode():
        torch.onnx.export(
            Logits(),
            (torch.randn(1, 16000 * 5),),
            str(partial),
            input_names=["input_values"],
            output_names=["logits"],
            dynamic_axes={"input_values": {1: "samples"}, "logits": {1: "frames"}},
            opset_version=OPSET,
            dynamo=False,
        )
    partial.rename(out)


def quantize_int8(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import quantize_dynamic

    partial = out.with_suffix(".partial")
    # MatMul only: the default also makes the feature and positional convs ConvInteger, which
    # onnxruntime-web runs slower than its float convs (a first run measured its 10 s at 35 s with
    # them); the peer gets its fastest int8 model.
    quantize_dynamic(str(fp32), str(partial), op_types_to_quantize=["MatMul"])
    partial.rename(out)


def normalized(samples: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance: what our Normalization and transformers' feature extractor do."""
    samples = samples.astype(np.float64)
    return ((samples - samples.mean()) / np.sqrt(samples.var() + 1e-7)).astype(np.float32)


def reference(cache: Path, packages: dict) -> dict:
    import onnxruntime
    import soundfile
    import torch
    from transformers import Wav2Vec2ForCTC

    texts = {}
    for quantization, package in packages.items():
        for seconds in SECONDS:
            result = subprocess.run(
                [str(CLI), "transcribe", "--model", str(package), str(cache / f"audio-{seconds}s.wav")],
                check=True, capture_output=True, text=True,
            )
            texts[f"{quantization}/{seconds}"] = result.stdout.rstrip("\n").split("\t", 1)[-1]

    audio = cache / "audio-10s.wav"
    samples, _ = soundfile.read(audio, dtype="float32")
    model = Wav2Vec2ForCTC.from_pretrained(cache / "hf").eval()
    with torch.inference_mode():
        torch_logits = model(torch.from_numpy(normalized(samples))[None]).logits[0].numpy()
    ort_logits = {}
    for name, file in [("float32", "model.onnx"), ("int8", "model-int8.onnx")]:
        session = onnxruntime.InferenceSession(str(cache / "onnx" / file), providers=["CPUExecutionProvider"])
        ort_logits[name] = session.run(["logits"], {"input_values": normalized(samples)[None]})[0][0]
    ours_file = cache / "ours-q8_0-10s.npy"
    subprocess.run(
        [str(CLI), "transcribe", "--model", str(packages["q8_0"]), "--dump-logits", str(ours_file), str(audio)],
        check=True, capture_output=True,
    )
    ours_logits = np.load(ours_file).reshape(-1, torch_logits.shape[-1])
    accuracy = {}
    for name, logits in [
        ("ONNX export, float32 (onnxruntime, CPU)", ort_logits["float32"]),
        ("ONNX int8 (onnxruntime, CPU)", ort_logits["int8"]),
        ("our q8_0 package (CLI)", ours_logits),
    ]:
        relative, agrees, confident = compare(logits, torch_logits)
        accuracy[name] = {"relative_error": relative, "argmax_agreement": agrees, "confident_agreement": confident}
    return {"texts": texts, "accuracy_vs_torch_f32_10s": accuracy}


def main() -> None:
    cache = Path(sys.argv[1])
    cache.mkdir(parents=True, exist_ok=True)
    hf_dir = cache / "hf"
    if not (hf_dir / "vocab.json").exists():
        shutil.rmtree(hf_dir, ignore_errors=True)
        build_model(hf_dir, ROOT / "crate" / "configs" / "mms-300m.json")
        print("built the random MMS-300m-shaped model", flush=True)

    import soundfile

    for seconds in SECONDS:
        wav = cache / f"audio-{seconds}s.wav"
        if not wav.exists():
            write_audio(wav, seconds)
        raw = wav.with_suffix(".f32")
        if not raw.exists():
            samples, _ = soundfile.read(wav, dtype="float32")
            samples.astype("<f4").tofile(raw)

    fp32 = cache / "onnx" / "model.onnx"
    if not fp32.exists():
        export_onnx(hf_dir, fp32)
        print("exported ONNX", flush=True)
    int8 = cache / "onnx" / "model-int8.onnx"
    if not int8.exists():
        quantize_int8(fp32, int8)
        print("quantized ONNX to int8", flush=True)

    packages = {}
    for quantization in QUANTIZATIONS:
        package = packages[quantization] = cache / f"package-{quantization}"
        manifest = package / "model.json"
        # A newer CLI may write another package format: convert again.
        if not manifest.exists() or manifest.stat().st_mtime < CLI.stat().st_mtime:
            shutil.rmtree(package, ignore_errors=True)
            convert(hf_dir, package, quantization, "sah")
            print("converted", quantization, flush=True)

    (cache / "reference.json").write_text(json.dumps(reference(cache, packages), ensure_ascii=False, indent=1))
    print("wrote", cache / "reference.json", flush=True)


if __name__ == "__main__":
    main()

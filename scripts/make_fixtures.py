#!/usr/bin/env python3
"""Generate reference fixtures for sakha-asr from HuggingFace transformers' Wav2Vec2ForCTC.

Usage (from the repository root):

    /work/venv/bin/python scripts/make_fixtures.py --out crate/tests/fixtures

Pinned versions: scripts/requirements-fixtures.txt. Everything runs on CPU in float32 and is deterministic
(fixed seeds, single thread); running it twice gives byte-identical files.

Each fixture directory is laid out like a hub checkpoint (config.json, model.safetensors, vocab.json,
tokenizer_config.json, preprocessor_config.json, optionally adapter.<lang>.safetensors) plus the test inputs
(input_<k>.npy, input_<k>.wav), references (logits_*.npy, input_values_*.npy) and manifest.json.
All references are computed from the files on disk, loaded back with transformers exactly as a user would.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
from pathlib import Path

# local files only; set before transformers / huggingface_hub are imported
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np
import soundfile as sf
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import transformers
from transformers import (
    Wav2Vec2Config,
    Wav2Vec2CTCTokenizer,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForCTC,
    Wav2Vec2Processor,
    pipeline,
)

SAMPLE_RATE = 16000
# Odd lengths. 401 samples is just over the 400-sample receptive field -> exactly 1 frame.
INPUT_LENGTHS = [4001, 12345, 32003, 401]
SANITY_TOL = 1e-6  # a model reloaded from disk reproduces the saved logits (in practice exactly)
# A model built in memory is the same function but its tensors sit at other addresses; CPU kernels then pick
# other SIMD paths, so results differ in the last bits (seen: 3.3e-6 on logits of magnitude ~7).
IN_MEMORY_TOL = 2e-5

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "|"]
SAKHA = list("абвгдеёжзийклмнопрстуфхцчшщъыьэюя") + ["ҕ", "ҥ", "ө", "һ", "ү"]
KAZAKH = list("аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя")
# wav2vec2-base-960h order (upper case letters by frequency, apostrophe at 27)
ENGLISH = list("ETAONIHSRDLUMWCFGYPBVK'XJQZ")

POS_G_NEW = "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0"
POS_V_NEW = "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1"
POS_G_OLD = "wav2vec2.encoder.pos_conv_embed.conv.weight_g"
POS_V_OLD = "wav2vec2.encoder.pos_conv_embed.conv.weight_v"


def make_vocab(letters: list[str]) -> dict[str, int]:
    assert len(set(letters)) == len(letters)
    return {tok: i for i, tok in enumerate(SPECIALS + letters)}


def tiny_config(vocab_size: int, mms: bool, adapter_attn_dim: int | None) -> Wav2Vec2Config:
    common = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,  # odd on purpose
        conv_dim=(16, 16, 16, 16, 16, 16, 16),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),  # the real stack: 320 samples per frame, 400-sample receptive field
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        num_conv_pos_embeddings=16,  # even -> Wav2Vec2SamePadLayer drops the last frame
        num_conv_pos_embedding_groups=4,
        feat_extract_activation="gelu",
        hidden_act="gelu",
        layer_norm_eps=1e-5,
        # dropouts are irrelevant in eval mode; zero them anyway
        hidden_dropout=0.0,
        activation_dropout=0.0,
        attention_dropout=0.0,
        feat_proj_dropout=0.0,
        final_dropout=0.0,
        layerdrop=0.0,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    if mms:
        return Wav2Vec2Config(
            feat_extract_norm="layer", conv_bias=True, do_stable_layer_norm=True,
            adapter_attn_dim=adapter_attn_dim, **common,
        )
    assert adapter_attn_dim is None
    return Wav2Vec2Config(feat_extract_norm="group", conv_bias=False, do_stable_layer_norm=False, **common)


def is_norm_weight(name: str) -> bool:
    return name.endswith("weight") and ("layer_norm" in name or "adapter_layer.norm" in name)


def redraw_(model: Wav2Vec2ForCTC, seed: int, std: float = 0.3) -> None:
    """Re-draw every parameter with a seeded normal (norm gains near 1, small biases)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            p.copy_(draw(name, tuple(p.shape), g, std))


def draw(name: str, shape: tuple, g: torch.Generator, std: float = 0.3) -> torch.Tensor:
    if is_norm_weight(name):  # LayerNorm / GroupNorm gains near 1
        return 1.0 + 0.2 * torch.randn(shape, generator=g)
    if name.endswith("bias"):
        return 0.1 * torch.randn(shape, generator=g)
    if name == POS_G_NEW:  # weight-norm magnitude g, positive
        return 0.5 + torch.rand(shape, generator=g)
    if name == "lm_head.weight":
        return 0.5 * torch.randn(shape, generator=g)
    return std * torch.randn(shape, generator=g)


def calibrate_head_(model: Wav2Vec2ForCTC, seed: int, pad_frac: float = 0.4, delim_frac: float = 0.12) -> None:
    """Make the random CTC head behave like a trained one.

    A random network's hidden states share a large common component, so argmax would pick the same one or two
    symbols for every frame. Set lm_head.bias = -W @ mean(h) (mean over frames of calibration signals that are
    NOT the fixture inputs), so the frame-to-frame variation decides the argmax; then raise the | (id 4) bias
    so that it beats the other non-blank symbols in about delim_frac of the frames, and the <pad> (CTC blank,
    id 0) bias so that about pad_frac of the frames are blank. <s>, </s>, <unk> keep their centred bias, so
    they still win now and then (good for testing how decode treats them).
    """
    fe = feature_extractor()
    hs = []
    for k, n in enumerate([32003, 24001, 16001]):
        x = make_signal(n, 100000 + seed * 10 + k)
        inputs = fe(x, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        with torch.no_grad():
            hs.append(model.wav2vec2(inputs.input_values, attention_mask=inputs.attention_mask)[0][0])
    h = torch.cat(hs).double()
    w = model.lm_head.weight.detach().double()
    bias = -(w @ h.mean(0))
    logits = h @ w.T + bias
    others = torch.cat([logits[:, :4], logits[:, 5:]], dim=1)
    bias[4] += torch.quantile(others.max(1).values - logits[:, 4], delim_frac)
    logits = h @ w.T + bias
    bias[0] += torch.quantile(logits[:, 1:].max(1).values - logits[:, 0], pad_frac)
    with torch.no_grad():
        model.lm_head.bias.copy_(bias.float())


def random_adapter_state(model: Wav2Vec2ForCTC, vocab_size: int, seed: int) -> dict[str, torch.Tensor]:
    """A fresh adapter.<lang> state dict: exactly the keys model._get_adapters() lists, lm_head resized to
    vocab_size, the head calibrated (calibrate_head_) for the model with this adapter in place."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, p in sorted(model._get_adapters().items()):
        shape = tuple(p.shape)
        if name.startswith("lm_head."):
            shape = (vocab_size,) + shape[1:]
        out[name] = draw(name, shape, g).contiguous()
    m = copy.deepcopy(model)
    m.lm_head = torch.nn.Linear(model.config.hidden_size, vocab_size)
    missing, unexpected = m.load_state_dict(out, strict=False)
    assert not unexpected and not set(out) & set(missing)
    calibrate_head_(m.eval(), seed)
    out["lm_head.bias"] = m.lm_head.bias.detach().clone().contiguous()
    return out


def make_signal(n: int, seed: int) -> np.ndarray:
    """Sines + a chirp + noise under a syllable-like envelope; nonzero mean, non-unit scale, fits in 16 bits."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    x = np.zeros(n)
    for _ in range(3):
        f = rng.uniform(80.0, 3000.0)
        x += rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    f0, f1 = rng.uniform(100, 400), rng.uniform(1000, 4000)
    dur = max(t[-1], 1e-3)
    x += 0.5 * np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / dur * t * t))
    env = 0.55 + 0.45 * np.sin(2 * np.pi * rng.uniform(2.0, 5.0) * t + rng.uniform(0, 2 * np.pi))
    x = x * env + 0.3 * rng.standard_normal(n)
    x = 0.25 * x / np.max(np.abs(x)) + 0.03  # scale 0.25, mean offset 0.03 -> |x| < 0.3
    return x.astype(np.float32)


def quantise_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def feature_extractor() -> Wav2Vec2FeatureExtractor:
    return Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True,
        return_attention_mask=True,
    )


def run_model(model: Wav2Vec2ForCTC, fe: Wav2Vec2FeatureExtractor, audio: np.ndarray):
    inputs = fe(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt")
    with torch.no_grad():
        logits = model(inputs.input_values, attention_mask=inputs.attention_mask).logits
    return inputs.input_values[0].numpy().astype(np.float32), logits[0].numpy().astype(np.float32)


def frames_for(n: int, config: Wav2Vec2Config) -> int:
    for k, s in zip(config.conv_kernel, config.conv_stride):
        n = (n - k) // s + 1
    return n


def decode_all(tok: Wav2Vec2CTCTokenizer, ids: list[int]) -> dict:
    plain = tok.decode(ids)  # skip_special_tokens=False: what the ASR pipeline does for CTC
    skipped = tok.decode(ids, skip_special_tokens=True)
    off = tok.decode(ids, output_char_offsets=True, output_word_offsets=True)
    assert off.text == plain
    to_int = lambda lst, key: [{key: d[key], "start_offset": int(d["start_offset"]),
                                "end_offset": int(d["end_offset"])} for d in lst]
    return {
        "text": plain,
        "text_skip_special_tokens": skipped,
        "char_offsets": to_int(off.char_offsets, "char"),
        "word_offsets": to_int(off.word_offsets, "word"),
    }


def margins(logits: np.ndarray) -> float:
    s = np.sort(logits, axis=-1)
    return float(np.min(s[:, -1] - s[:, -2]))


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def write_inputs(d: Path, seed: int) -> list[dict]:
    cases = []
    for k, n in enumerate(INPUT_LENGTHS):
        x = make_signal(n, seed * 100 + k)
        np.save(d / f"input_{k}.npy", x)
        q = quantise_int16(x)
        sf.write(d / f"input_{k}.wav", q, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        # read back: exactly what a WAV reader sees
        back_i16, sr = sf.read(d / f"input_{k}.wav", dtype="int16")
        assert sr == SAMPLE_RATE and np.array_equal(back_i16, q)
        back_f32, _ = sf.read(d / f"input_{k}.wav", dtype="float32")
        wav_audio = q.astype(np.float32) / np.float32(32768.0)
        assert np.array_equal(back_f32, wav_audio), "libsndfile int16->float is not /32768"
        cases.append({"k": k, "num_samples": n, "raw": x, "wav": wav_audio})
    return cases


def save_tokenizer_files(d: Path, vocab: dict, target_lang: str | None) -> None:
    """vocab.json + tokenizer_config.json + preprocessor_config.json as a hub repo has them.

    (Wav2Vec2Processor.save_pretrained in transformers 5 would write processor_config.json instead of the
    preprocessor_config.json that hub checkpoints carry, so the two parts are saved separately.)
    """
    (d / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tok = Wav2Vec2CTCTokenizer(str(d / "vocab.json"), target_lang=target_lang)
    tok.save_pretrained(str(d))
    feature_extractor().save_pretrained(str(d))
    # save_pretrained rewrote vocab.json (keys sorted); it must hold exactly our table (nested or flat).
    assert json.loads((d / "vocab.json").read_text(encoding="utf-8")) == vocab
    # write it back in id order, which is easier to read; both are the same JSON object
    (d / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    proc = Wav2Vec2Processor.from_pretrained(str(d))  # what a user would load
    assert proc.tokenizer.target_lang == target_lang and proc.tokenizer.get_vocab() == tok.get_vocab()


def load_model(d: Path, **kw) -> Wav2Vec2ForCTC:
    model, info = Wav2Vec2ForCTC.from_pretrained(str(d), output_loading_info=True, **kw)
    bad = {k: v for k, v in info.items() if v and k != "mismatched_keys"}
    # masked_spec_embed is always present; anything missing would be randomly initialised
    assert not bad, f"loading {d}: {bad}"
    assert not info.get("mismatched_keys"), info["mismatched_keys"]
    return model.eval()


def config_summary(cfg: Wav2Vec2Config) -> dict:
    keys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "conv_dim", "conv_kernel", "conv_stride", "conv_bias", "feat_extract_norm", "feat_extract_activation",
            "hidden_act", "do_stable_layer_norm", "num_conv_pos_embeddings", "num_conv_pos_embedding_groups",
            "adapter_attn_dim", "layer_norm_eps"]
    return {k: (list(getattr(cfg, k)) if isinstance(getattr(cfg, k), tuple) else getattr(cfg, k)) for k in keys}


def safetensors_keys(path: Path) -> list[str]:
    with safe_open(str(path), "pt") as f:
        return sorted(f.keys())


def pos_conv_spelling(path: Path) -> str:
    keys = safetensors_keys(path)
    if POS_G_NEW in keys and POS_V_NEW in keys:
        return "parametrizations"
    if POS_G_OLD in keys and POS_V_OLD in keys:
        return "weight_g_v"
    raise AssertionError(keys)


def make_case(d: Path, model, fe, tok, inp: dict, lang: str | None, tokenizer_lang: str | None,
              config: Wav2Vec2Config) -> list[dict]:
    """Two cases per input: from the raw float32 samples and from the 16-bit WAV samples."""
    out = []
    suffix = f"_{lang}" if lang else ""
    k = inp["k"]
    for source in ("npy", "wav"):
        audio = inp["raw"] if source == "npy" else inp["wav"]
        stem = "" if source == "npy" else "wav_"
        input_values, logits = run_model(model, fe, audio)
        assert logits.shape == (frames_for(inp["num_samples"], config), model.config.vocab_size), logits.shape
        np.save(d / f"logits_{stem}{k}{suffix}.npy", logits)
        iv_file = f"input_values_{stem}{k}.npy"
        if not (d / iv_file).exists():
            np.save(d / iv_file, input_values)
        else:
            assert np.array_equal(np.load(d / iv_file), input_values)
        ids = [int(i) for i in logits.argmax(-1)]
        case = {
            "input": f"input_{k}.{source}",
            "source": source,
            "num_samples": inp["num_samples"],
            "input_values": iv_file,
            "lang": lang,
            "tokenizer_lang": tokenizer_lang,
            "logits": f"logits_{stem}{k}{suffix}.npy",
            "frames": int(logits.shape[0]),
            "vocab_size": int(logits.shape[1]),
            "pred_ids": ids,
            "min_top1_top2_margin": margins(logits),
        }
        case.update(decode_all(tok, ids))
        out.append(case)
    return out


def sanity_reload(d: Path, cases: list[dict], load) -> None:
    """Reload from disk (independently) and reproduce every saved logits file."""
    fe = Wav2Vec2FeatureExtractor.from_pretrained(str(d))
    by_lang: dict = {}
    for c in cases:
        by_lang.setdefault(c["lang"], []).append(c)
    for lang, cs in by_lang.items():
        model = load(lang)
        for c in cs:
            _, logits = run_model(model, fe, case_audio(d, c))
            diff = max_abs(logits, np.load(d / c["logits"]))
            assert diff < SANITY_TOL, (d.name, c["logits"], diff)
            c["sanity_max_abs_diff"] = diff


def case_audio(d: Path, case: dict) -> np.ndarray:
    """The samples a case's input file holds: the .npy as is, the 16-bit WAV scaled to [-1, 1)."""
    if case["source"] == "npy":
        return np.load(d / case["input"])
    i16, _ = sf.read(d / case["input"], dtype="int16")
    return i16.astype(np.float32) / np.float32(32768.0)


def pipeline_check(d: Path, cases: list[dict], load) -> None:
    """The ASR pipeline (what most users call) gives exactly `text` and `word_offsets` for every case."""
    for c in cases:
        c["_audio"] = case_audio(d, c)
    by_lang: dict = {}
    for c in cases:
        by_lang.setdefault((c["lang"], c["tokenizer_lang"]), []).append(c)
    for (lang, tok_lang), cs in by_lang.items():
        tok = Wav2Vec2CTCTokenizer.from_pretrained(str(d), target_lang=tok_lang)
        fe = Wav2Vec2FeatureExtractor.from_pretrained(str(d))
        asr = pipeline("automatic-speech-recognition", model=load(lang), tokenizer=tok, feature_extractor=fe,
                       device="cpu")
        spf = asr.model.config.inputs_to_logits_ratio
        for c in cs:
            out = asr({"raw": c.pop("_audio"), "sampling_rate": SAMPLE_RATE}, return_timestamps="word")
            assert out["text"] == c["text"], (d.name, c["logits"], out["text"], c["text"])
            words = [(w["text"], round(w["timestamp"][0] * SAMPLE_RATE / spf),
                      round(w["timestamp"][1] * SAMPLE_RATE / spf)) for w in out["chunks"]]
            assert words == [(w["word"], w["start_offset"], w["end_offset"]) for w in c["word_offsets"]], words
            c["pipeline_agrees"] = True


def to_json(obj) -> str:
    """Indented JSON, but lists of numbers on one line."""
    text = json.dumps(obj, ensure_ascii=False, indent=1)
    return re.sub(r"\[\s*(-?[0-9.eE+-]+(?:,\s*-?[0-9.eE+-]+)*)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)


def write_manifest(d: Path, manifest: dict) -> None:
    text = to_json(manifest)
    assert json.loads(text) == manifest
    (d / "manifest.json").write_text(text + "\n", encoding="utf-8")


def common_manifest(name: str, description: str, cfg: Wav2Vec2Config) -> dict:
    return {
        "name": name,
        "description": description,
        "generator": "scripts/make_fixtures.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        "sample_rate": SAMPLE_RATE,
        "samples_per_frame": int(np.prod(cfg.conv_stride)),
        "receptive_field": 400,
        "feature_extractor": {"do_normalize": True, "return_attention_mask": True, "padding_value": 0.0,
                              "normalisation": "(x - mean) / sqrt(var + 1e-7), float32 numpy"},
        "wav_quantisation": "int16 = clip(round(x * 32768)); references for .wav use int16 / 32768",
        "decode": {
            "pred_ids": "argmax over the vocabulary of each logits row",
            "text": "Wav2Vec2CTCTokenizer.decode(pred_ids) with skip_special_tokens=False: exactly what "
                    "pipeline('automatic-speech-recognition') returns for CTC (checked: pipeline_agrees)",
            "text_skip_special_tokens": "decode(pred_ids, skip_special_tokens=True): <s>, </s>, <unk>, <pad> "
                                        "removed BEFORE grouping repeats, so 'x <pad> x' collapses to 'x'",
            "char_offsets/word_offsets": "decode(pred_ids, output_char_offsets=True, output_word_offsets=True) "
                                         "(skip_special_tokens=False); frame indices into logits, end exclusive; "
                                         "seconds = offset * samples_per_frame / sample_rate",
        },
        "config": config_summary(cfg),
    }


# --------------------------------------------------------------------------------------------------------
def fixture_mms_adapter_in_base(out: Path) -> None:
    name = "mms_adapter_in_base"
    d = out / name
    vocab = make_vocab(SAKHA)
    cfg = tiny_config(len(vocab), mms=True, adapter_attn_dim=8)
    torch.manual_seed(1)
    model = Wav2Vec2ForCTC(cfg).eval()
    redraw_(model, seed=1001)
    calibrate_head_(model, seed=1001)
    model.save_pretrained(str(d))
    save_tokenizer_files(d, vocab, None)
    ref_state = {k: v.clone() for k, v in model.state_dict().items()}

    inputs = write_inputs(d, seed=1)
    disk = load_model(d)
    for k, v in disk.state_dict().items():  # what is on disk is what we built
        assert torch.equal(v, ref_state[k]), k
    fe = feature_extractor()
    tok = Wav2Vec2CTCTokenizer.from_pretrained(str(d))
    cases = []
    for inp in inputs:
        cases += make_case(d, disk, fe, tok, inp, None, None, cfg)
        _, in_mem = run_model(model, fe, inp["raw"])  # in-memory model agrees with the reloaded one
        diff = max_abs(in_mem, np.load(d / f"logits_{inp['k']}.npy"))
        assert diff < IN_MEMORY_TOL, diff
    sanity_reload(d, cases, lambda lang: load_model(d))
    pipeline_check(d, cases, lambda lang: load_model(d))

    m = common_manifest(name, "MMS style (layer-norm conv stack with bias, stable layer norm), adapter layers "
                        "inside model.safetensors, flat Sakha vocab.json", cfg)
    m.update({
        "model_files": ["model.safetensors"],
        "pos_conv_weight_norm_keys": pos_conv_spelling(d / "model.safetensors"),
        "vocab": "flat",
        "langs": [None],
        "adapters": {},
        "cases": cases,
    })
    write_manifest(d, m)


def fixture_mms_separate_adapters(out: Path) -> None:
    name = "mms_separate_adapters"
    d = out / name
    vocabs = {"sah": make_vocab(SAKHA), "kaz": make_vocab(KAZAKH)}
    assert len(vocabs["sah"]) != len(vocabs["kaz"])
    # Base checkpoint, like mms-1b-all: its model.safetensors carries ONE adapter + lm_head. Here those are
    # random values that belong to neither language file (so a test can tell the adapter was swapped in);
    # the base lm_head has the sah vocabulary size (43), so load_adapter("sah") keeps the head's shape and
    # load_adapter("kaz") has to resize it (47).
    cfg = tiny_config(len(vocabs["sah"]), mms=True, adapter_attn_dim=8)
    torch.manual_seed(2)
    model = Wav2Vec2ForCTC(cfg).eval()
    redraw_(model, seed=2001)
    calibrate_head_(model, seed=2001)
    model.save_pretrained(str(d))
    save_tokenizer_files(d, vocabs, "sah")
    adapters = {}
    for i, lang in enumerate(["sah", "kaz"]):
        st = random_adapter_state(model, len(vocabs[lang]), seed=2100 + i)
        save_file(st, str(d / f"adapter.{lang}.safetensors"), metadata={"format": "pt"})
        assert safetensors_keys(d / f"adapter.{lang}.safetensors") == sorted(model._get_adapters().keys())
        adapters[lang] = st

    inputs = write_inputs(d, seed=2)
    fe = feature_extractor()
    cases = []
    # 1. base weights as saved (no load_adapter), decoded with the sah table (same size as the base head)
    base = load_model(d)
    tok_sah = Wav2Vec2CTCTokenizer.from_pretrained(str(d), target_lang="sah")
    for inp in inputs:
        cases += make_case(d, base, fe, tok_sah, inp, None, "sah", cfg)
    # 2. each language: from_pretrained(dir) then model.load_adapter(lang) -- the documented user path.
    #    load_adapter resolves adapter.<lang>.safetensors with cached_file(model.config._name_or_path, ...),
    #    and _name_or_path is the local directory we loaded from.
    model_la = load_model(d)
    assert model_la.config._name_or_path == str(d)
    for lang in ["sah", "kaz"]:
        model_la.load_adapter(lang)
        assert model_la.lm_head.out_features == len(vocabs[lang]) == model_la.config.vocab_size
        tok = Wav2Vec2CTCTokenizer.from_pretrained(str(d), target_lang=lang)
        lcfg = Wav2Vec2Config.from_dict({**cfg.to_dict(), "vocab_size": len(vocabs[lang])})
        for inp in inputs:
            cases += make_case(d, model_la, fe, tok, inp, lang, lang, lcfg)
        # cross-checks: (a) from_pretrained(dir, target_lang=lang) (tie_weights -> load_adapter) agrees;
        # (b) an in-memory model with the adapter tensors copied in by hand agrees;
        # (c) tokenizer.set_target_lang gives the same text as a tokenizer built for that language.
        fresh = load_model(d, target_lang=lang)
        manual = Wav2Vec2ForCTC(Wav2Vec2Config.from_dict(cfg.to_dict())).eval()
        manual.load_state_dict(model.state_dict())
        manual.lm_head = torch.nn.Linear(cfg.hidden_size, len(vocabs[lang]))
        missing, unexpected = manual.load_state_dict(adapters[lang], strict=False)
        assert not unexpected and all(k not in adapters[lang] for k in missing)
        manual.eval()
        tok_switch = Wav2Vec2CTCTokenizer.from_pretrained(str(d), target_lang="kaz" if lang == "sah" else "sah")
        tok_switch.set_target_lang(lang)
        for inp in inputs:
            ref = np.load(d / f"logits_{inp['k']}_{lang}.npy")
            assert max_abs(run_model(fresh, fe, inp["raw"])[1], ref) < SANITY_TOL
            assert max_abs(run_model(manual, fe, inp["raw"])[1], ref) < IN_MEMORY_TOL
            ids = ref.argmax(-1).tolist()
            assert tok_switch.decode(ids) == tok.decode(ids)
            assert tok_switch.decode(ids, skip_special_tokens=True) == tok.decode(ids, skip_special_tokens=True)
        # the adapter really changes the output
        assert max_abs(np.load(d / f"logits_0_{lang}.npy")[:, :5], np.load(d / "logits_0.npy")[:, :5]) > 1e-2

    def load_for(lang):
        mdl = load_model(d)
        if lang is not None:
            mdl.load_adapter(lang)
        return mdl

    sanity_reload(d, cases, load_for)
    pipeline_check(d, cases, load_for)

    m = common_manifest(name, "MMS style; base model.safetensors (as save_pretrained writes it, with its own "
                        "random adapter + lm_head of the sah vocabulary size) plus adapter.sah.safetensors and "
                        "adapter.kaz.safetensors (different values and vocabulary sizes); nested vocab.json "
                        "like mms-1b-all", cfg)
    m.update({
        "model_files": ["model.safetensors"],
        "pos_conv_weight_norm_keys": pos_conv_spelling(d / "model.safetensors"),
        "vocab": "nested",
        "langs": [None, "sah", "kaz"],
        "base_adapter_note": "model.safetensors holds adapter/lm_head weights equal to neither adapter file; "
                             "its lm_head has vocab_size 43 (= sah's size). Cases with lang null are that "
                             "base model, decoded with the sah table (tokenizer_lang).",
        "adapters": {lang: {"file": f"adapter.{lang}.safetensors", "vocab_size": len(vocabs[lang]),
                            "keys": safetensors_keys(d / f"adapter.{lang}.safetensors")} for lang in adapters},
        "cases": cases,
    })
    write_manifest(d, m)


def fixture_w2v2_base_style(out: Path) -> None:
    name = "w2v2_base_style"
    d = out / name
    vocab = make_vocab(ENGLISH)
    cfg = tiny_config(len(vocab), mms=False, adapter_attn_dim=None)
    torch.manual_seed(3)
    model = Wav2Vec2ForCTC(cfg).eval()
    redraw_(model, seed=3001)
    calibrate_head_(model, seed=3001)
    model.save_pretrained(str(d))
    save_tokenizer_files(d, vocab, None)
    # rewrite the weight-norm keys to the old spelling used by hub checkpoints (same tensors)
    path = d / "model.safetensors"
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    st = load_file(str(path))
    st[POS_G_OLD] = st.pop(POS_G_NEW)
    st[POS_V_OLD] = st.pop(POS_V_NEW)
    save_file(dict(sorted(st.items())), str(path), metadata=meta)
    assert pos_conv_spelling(path) == "weight_g_v"

    inputs = write_inputs(d, seed=3)
    disk = load_model(d)  # asserts no missing/unexpected keys => weight_g/weight_v were mapped
    ref_state = model.state_dict()
    for k, v in disk.state_dict().items():
        assert torch.equal(v, ref_state[k]), k
    fe = feature_extractor()
    tok = Wav2Vec2CTCTokenizer.from_pretrained(str(d))
    cases = []
    for inp in inputs:
        cases += make_case(d, disk, fe, tok, inp, None, None, cfg)
        _, in_mem = run_model(model, fe, inp["raw"])
        diff = max_abs(in_mem, np.load(d / f"logits_{inp['k']}.npy"))
        assert diff < IN_MEMORY_TOL, diff
    sanity_reload(d, cases, lambda lang: load_model(d))
    pipeline_check(d, cases, lambda lang: load_model(d))

    m = common_manifest(name, "wav2vec2-base style (group norm on conv layer 0 only, no conv bias, post-LN "
                        "encoder), no adapters, flat English vocab with apostrophe; positional conv weight "
                        "norm stored with the OLD key spelling weight_g / weight_v", cfg)
    m.update({
        "model_files": ["model.safetensors"],
        "pos_conv_weight_norm_keys": pos_conv_spelling(path),
        "vocab": "flat",
        "langs": [None],
        "adapters": {},
        "cases": cases,
    })
    write_manifest(d, m)


FIXTURES = {
    "mms_adapter_in_base": fixture_mms_adapter_in_base,
    "mms_separate_adapters": fixture_mms_separate_adapters,
    "w2v2_base_style": fixture_w2v2_base_style,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path, help="e.g. crate/tests/fixtures")
    ap.add_argument("--only", nargs="*", choices=sorted(FIXTURES), help="regenerate only these fixtures")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    for name in args.only or list(FIXTURES):
        d = args.out / name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        FIXTURES[name](args.out)
        size = sum(p.stat().st_size for p in d.iterdir())
        print(f"{name}: {len(list(d.iterdir()))} files, {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fine-tunes (or trains from scratch) a wav2vec2 / MMS CTC model for Sakha and exports it for sakha-asr.

Model:
  --base ID_OR_DIR     start from a checkpoint: facebook/mms-300m, facebook/mms-1b-all, or our own folder
  --init-config JSON   build a new model from a Wav2Vec2Config (a file, or inline JSON): MMS keys, any size
Modes:
  adapter  train only the attention adapters and the lm_head, the rest frozen (MMS's recipe). Adapters
           the base checkpoint lacks are added (--adapter-dim) and start as the identity (second linear
           zero), so training starts from the base model's behaviour; adapters it has (mms-1b-all's
           English one) are the starting point, as in transformers' adapter example, whose
           init_adapter_layers() leaves them as loaded (it only re-initialises the lm_head).
  full     train everything except the convolutional feature encoder.
  scratch  train everything (with --init-config).
The lm_head is always new: the vocabulary is built from the training text (<pad>=0 blank, <s>, </s>,
<unk>, | word delimiter, then the characters in code point order).
Dev WER and CER: greedy CTC decoding, both sides normalised, corpus edits / reference length; CER counts
characters including the spaces between words.

Data (text normalised with scripts/sakha_text.py; training utterances with digits are dropped):
  --data DIR           Common Voice-style folder: DIR/train.tsv, DIR/dev.tsv (columns path, sentence) and
                       DIR/clips/ (wav, mp3, flac, ogg: anything soundfile reads; resampled to 16 kHz)
  --hf-dataset NAME    a HF dataset with `audio` and `sentence` columns, e.g. a Parquet copy of Common
                       Voice with --hf-config sah (needs `pip install datasets`; the original
                       mozilla-foundation/common_voice_* repos use loading scripts, which datasets>=4
                       refuses: download Common Voice from Mozilla and use --data instead)

Export to --out: vocab.json (nested {lang: table} when the base's vocab.json is nested like mms-1b-all's,
which it then extends; flat otherwise), config.json, preprocessor and tokenizer configs,
adapter.<lang>.safetensors (exactly the adapter layers + lm_head, as `load_adapter` reads it) when the
model has adapters, and model.safetensors when the base was trained (full, scratch). In adapter mode
config.json is the base's (plus adapter_attn_dim): put the base's model.safetensors next to it and
`Wav2Vec2ForCTC.from_pretrained(out).load_adapter(lang)` works, as with mms-1b-all.

Training is a plain PyTorch loop on `accelerate`: the same file runs on CPU, one GPU or several
(`accelerate launch --multi_gpu --num_processes 4 --mixed_precision bf16 scripts/train_ctc.py ...`;
several CPU processes: `ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 scripts/train_ctc.py ...`).
We chose it over HF Trainer because the loop stays visible: freezing, duration-bucketed batches, the
own WER/CER evaluation and the MMS-style export are each a few lines here instead of Trainer callbacks.

Examples:
  # demo base model from scratch on synthetic data (CPU)
  python scripts/train_ctc.py --init-config '{"hidden_size": 256, ...}' --mode scratch \\
      --data data/synth-base --out runs/base --epochs 6 --batch-seconds 60 --num-workers 0
  # Sakha adapter on the frozen demo base, differently voiced data
  python scripts/train_ctc.py --base runs/base --mode adapter --data data/synth-adapter --out runs/adapter
  # MMS-1b-all adapter on Common Voice (GPU)
  accelerate launch scripts/train_ctc.py --base facebook/mms-1b-all --mode adapter --data cv/sah --out runs/mms
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr
import torch
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs, broadcast_object_list, gather_object, set_seed
from safetensors.torch import save_file
from transformers import (
    AutoConfig,
    Wav2Vec2Config,
    Wav2Vec2CTCTokenizer,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForCTC,
)
from transformers.utils import cached_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sakha_text import normalize  # noqa: E402

SAMPLE_RATE = 16000
SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "|"]
PAD_ID, UNK_ID, WORD_DELIMITER = 0, 3, "|"
DEFAULT_LEARNING_RATES = {"adapter": 1e-3, "full": 1e-4, "scratch": 1e-3}
MAX_GRAD_NORM = 1.0
EXAMPLES_PRINTED = 3  # reference/hypothesis pairs shown at each dev evaluation


# ---------------------------------------------------------------------------------------------------
# data


@dataclass
class Utterance:
    audio: str | bytes  # a file path, or the encoded file itself (HF datasets)
    sentence: str  # normalised
    seconds: float


def audio_seconds(audio: str | bytes) -> float:
    info = soundfile.info(io.BytesIO(audio) if isinstance(audio, bytes) else audio)
    return info.frames / info.samplerate


def read_audio(audio: str | bytes) -> np.ndarray:
    samples, rate = soundfile.read(io.BytesIO(audio) if isinstance(audio, bytes) else audio,
                                   dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    return soxr.resample(samples, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else samples


def read_cv_folder(folder: Path, tsv_name: str) -> list[tuple[str | bytes, str]]:
    with open(folder / tsv_name, newline="", encoding="utf-8") as tsv:
        rows = csv.DictReader(tsv, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(str(folder / "clips" / row["path"]), row["sentence"]) for row in rows]


def read_hf_split(name: str, config: str | None, split: str) -> list[tuple[str | bytes, str]]:
    import datasets  # only this data source needs it

    dataset = datasets.load_dataset(name, config, split=split)
    # decoding ourselves keeps one audio path (soundfile + soxr) for every source
    dataset = dataset.cast_column("audio", datasets.Audio(decode=False))
    return [(row["audio"]["bytes"] or row["audio"]["path"], row["sentence"]) for row in dataset]


def prepare_utterances(raw: list[tuple[str | bytes, str]], drop_digits: bool, min_seconds: float,
                       max_seconds: float, limit: int, seed: int) -> tuple[list[Utterance], dict[str, int]]:
    """Normalises, filters and (for a limit) subsamples; returns the utterances and what was dropped."""
    dropped = {"empty": 0, "digits": 0, "duration": 0}
    if limit:
        raw = random.Random(seed).sample(raw, min(limit, len(raw)))
    utterances = []
    for audio, sentence in raw:
        sentence = normalize(sentence)
        if not sentence:
            dropped["empty"] += 1
            continue
        if drop_digits and any(c.isdigit() for c in sentence):
            dropped["digits"] += 1
            continue
        seconds = audio_seconds(audio)
        if not min_seconds <= seconds <= max_seconds:
            dropped["duration"] += 1
            continue
        utterances.append(Utterance(audio, sentence, seconds))
    return utterances, dropped


def build_vocab(sentences: list[str]) -> dict[str, int]:
    letters = sorted({c for sentence in sentences for c in sentence} - {" "})
    return {token: i for i, token in enumerate(SPECIAL_TOKENS + letters)}


def encode(sentence: str, vocab: dict[str, int]) -> list[int]:
    return [vocab.get(c, UNK_ID) for c in sentence.replace(" ", WORD_DELIMITER)]


def greedy_decode(ids: list[int], id_to_token: dict[int, str]) -> str:
    """CTC best path: merge repeats, drop blanks and special tokens, | becomes a space."""
    tokens = [id_to_token[i] for j, i in enumerate(ids) if i != PAD_ID and (j == 0 or ids[j - 1] != i)]
    text = "".join(" " if t == WORD_DELIMITER else t for t in tokens if t not in SPECIAL_TOKENS[:4])
    return " ".join(text.split())


class SpeechDataset(torch.utils.data.Dataset):
    def __init__(self, utterances: list[Utterance], vocab: dict[str, int]):
        self.utterances = utterances
        self.vocab = vocab

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index: int) -> tuple[np.ndarray, list[int], int]:
        utterance = self.utterances[index]
        return read_audio(utterance.audio), encode(utterance.sentence, self.vocab), index


class DurationBatchSampler:
    """Batches of similar-length utterances whose padded length stays under a budget of audio seconds.

    Sorting only within windows of about 50 batches keeps padding low while the order stays random;
    every process builds the same list (same seed and epoch) and accelerate hands each its share.
    """

    def __init__(self, seconds: list[float], batch_seconds: float, shuffle: bool, seed: int):
        self.seconds = seconds
        self.batch_seconds = batch_seconds
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        order = list(range(len(self.seconds)))
        rng = random.Random(self.seed + self.epoch)
        if self.shuffle:
            rng.shuffle(order)
            window = max(1, int(50 * self.batch_seconds / (np.mean(self.seconds) or 1)))
            order = [i for start in range(0, len(order), window)
                     for i in sorted(order[start:start + window], key=self.seconds.__getitem__)]
        else:
            order.sort(key=self.seconds.__getitem__)
        batches, batch, longest = [], [], 0.0
        for i in order:
            longest_if_added = max(longest, self.seconds[i])
            if batch and longest_if_added * (len(batch) + 1) > self.batch_seconds:
                batches.append(batch)
                batch, longest_if_added = [], self.seconds[i]
            batch.append(i)
            longest = longest_if_added
        if batch:
            batches.append(batch)
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def __iter__(self):
        return iter(self.batches())

    def __len__(self) -> int:
        return len(self.batches())


class Collator:
    def __init__(self, feature_extractor: Wav2Vec2FeatureExtractor):
        self.feature_extractor = feature_extractor

    def __call__(self, items: list[tuple[np.ndarray, list[int], int]]) -> dict[str, torch.Tensor]:
        audio, labels, indices = zip(*items, strict=True)
        # per-utterance zero mean / unit variance over the unpadded samples, as at inference
        batch = self.feature_extractor(list(audio), sampling_rate=SAMPLE_RATE, padding=True, return_tensors="pt")
        longest = max(len(ids) for ids in labels)
        batch["labels"] = torch.tensor([ids + [-100] * (longest - len(ids)) for ids in labels])
        batch["indices"] = torch.tensor(indices)
        return batch


# ---------------------------------------------------------------------------------------------------
# metrics


def edit_distance(reference: list[str] | str, hypothesis: list[str] | str) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_item in enumerate(reference, start=1):
        current = [i]
        for j, hyp_item in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_item != hyp_item)))
        previous = current
    return previous[-1]


def error_counts(reference: str, hypothesis: str) -> list[int]:
    """[word edits, reference words, char edits, reference chars] on normalised text; chars include
    the spaces between words, as jiwer's CER counts them."""
    reference, hypothesis = normalize(reference), normalize(hypothesis)
    return [edit_distance(reference.split(), hypothesis.split()), len(reference.split()),
            edit_distance(reference, hypothesis), len(reference)]


# ---------------------------------------------------------------------------------------------------
# model


def read_json_argument(value: str) -> dict:
    return json.loads(value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8"))


def base_vocab_tables(base: str) -> dict | None:
    """The base's vocab.json when it is nested per language (mms-1b-all), else None."""
    path = cached_file(base, "vocab.json", _raise_exceptions_for_missing_entries=False)
    if path is None:
        return None
    vocab = json.loads(Path(path).read_text(encoding="utf-8"))
    nested = bool(vocab) and all(isinstance(table, dict) for table in vocab.values())
    return vocab if nested else None


def ctc_settings(vocab_size: int) -> dict:
    return dict(vocab_size=vocab_size, pad_token_id=PAD_ID, bos_token_id=1, eos_token_id=2,
                ctc_loss_reduction="mean", ctc_zero_infinity=True)


def build_model(args: argparse.Namespace, vocab_size: int) -> tuple[Wav2Vec2ForCTC, Wav2Vec2Config]:
    """The model to train, and the config.json to export (the base's own in adapter mode)."""
    if args.init_config:
        config = Wav2Vec2Config(**{**read_json_argument(args.init_config), **ctc_settings(vocab_size)})
        return Wav2Vec2ForCTC(config), config

    export_config = AutoConfig.from_pretrained(args.base)
    if args.mode == "adapter" and export_config.adapter_attn_dim is None:
        export_config.adapter_attn_dim = args.adapter_dim
    export_config.ctc_zero_infinity = True
    export_config.architectures = ["Wav2Vec2ForCTC"]  # mms-300m's says Wav2Vec2ForPreTraining
    config = Wav2Vec2Config.from_dict({**export_config.to_dict(), **ctc_settings(vocab_size)})
    model, loading = Wav2Vec2ForCTC.from_pretrained(
        args.base, config=config, ignore_mismatched_sizes=True, output_loading_info=True
    )
    std = config.initializer_range
    # torch's own init: transformers' skips parameters it marked as loaded
    torch.nn.init.normal_(model.lm_head.weight, std=std)
    torch.nn.init.zeros_(model.lm_head.bias)
    if config.adapter_attn_dim is not None and any("adapter_layer" in k for k in loading["missing_keys"]):
        for layer in model.wav2vec2.encoder.layers:
            adapter = layer.adapter_layer
            torch.nn.init.ones_(adapter.norm.weight)
            torch.nn.init.zeros_(adapter.norm.bias)
            torch.nn.init.normal_(adapter.linear_1.weight, std=std)
            torch.nn.init.zeros_(adapter.linear_1.bias)
            # zero output: the residual adapter starts as the identity
            torch.nn.init.zeros_(adapter.linear_2.weight)
            torch.nn.init.zeros_(adapter.linear_2.bias)
    if args.mode == "full":
        return model, config
    return model, export_config


def set_trainable(model: Wav2Vec2ForCTC, mode: str) -> None:
    if mode == "adapter":
        model.freeze_base_model()
        for parameter in model._get_adapters().values():
            parameter.requires_grad = True
    elif mode == "full":
        model.freeze_feature_encoder()


def export(model: Wav2Vec2ForCTC, export_config: Wav2Vec2Config, vocab: dict[str, int],
           base_tables: dict | None, args: argparse.Namespace) -> None:
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    nested = base_tables is not None
    vocab_json = {**base_tables, args.lang: vocab} if nested else vocab
    # the tokenizer reads it, and writes it back (with sorted keys)
    (out / "vocab.json").write_text(json.dumps(vocab_json, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tokenizer = Wav2Vec2CTCTokenizer(
        str(out / "vocab.json"), unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        word_delimiter_token=WORD_DELIMITER, target_lang=args.lang if nested else None,
    )
    feature_extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True,
        return_attention_mask=export_config.feat_extract_norm == "layer",
    )
    # saved apart: Wav2Vec2Processor would write processor_config.json, not the preprocessor_config.json
    # that hub checkpoints carry
    tokenizer.save_pretrained(out)
    feature_extractor.save_pretrained(out)
    if args.mode == "adapter":
        export_config.save_pretrained(out)
    else:
        model.save_pretrained(out)
    if model.config.adapter_attn_dim is not None:
        adapter = {name: p.detach().to("cpu", torch.float32).contiguous() for name, p in model._get_adapters().items()}
        save_file(adapter, out / f"adapter.{args.lang}.safetensors", metadata={"format": "pt"})


# ---------------------------------------------------------------------------------------------------
# training


def evaluate(model, loader, accelerator: Accelerator, dataset: SpeechDataset, id_to_token: dict[int, str]) -> dict:
    """Corpus WER and CER of greedy decoding over the whole dev set, from all processes."""
    model.eval()
    counts, losses, examples = [], [], []
    with torch.no_grad():
        for batch in loader:
            indices = batch.pop("indices")
            output = model(**batch)
            losses.append(output.loss.item())
            frames = model_frames(accelerator.unwrap_model(model), batch)
            predictions = output.logits.argmax(dim=-1).cpu()
            for row, index in enumerate(indices.tolist()):
                hypothesis = greedy_decode(predictions[row, : frames[row]].tolist(), id_to_token)
                reference = dataset.utterances[index].sentence
                counts.append((index, error_counts(reference, hypothesis)))
                if len(examples) < EXAMPLES_PRINTED:
                    examples.append((reference, hypothesis))
    model.train()
    # keyed by utterance: accelerate repeats a few batches so that every process gets as many
    by_utterance = dict(gather_object(counts))
    word_edits, words, char_edits, chars = np.sum(list(by_utterance.values()), axis=0).tolist()
    all_losses = gather_object(losses)
    return {"wer": word_edits / max(words, 1), "cer": char_edits / max(chars, 1),
            "loss": sum(all_losses) / len(all_losses), "utterances": len(by_utterance), "examples": examples}


def model_frames(model: Wav2Vec2ForCTC, batch: dict[str, torch.Tensor]) -> list[int]:
    """Output frames per utterance, so padding frames never reach the decoder."""
    if "attention_mask" in batch:
        samples = batch["attention_mask"].sum(dim=-1)
    else:
        samples = torch.full((batch["input_values"].shape[0],), batch["input_values"].shape[1])
    return model._get_feat_extract_output_lengths(samples).tolist()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--base", help="base checkpoint: hub id or local folder")
    model.add_argument("--init-config", help="Wav2Vec2Config for a new model: JSON file or inline JSON")
    parser.add_argument("--mode", choices=["adapter", "full", "scratch"], required=True)
    parser.add_argument("--lang", default="sah", help="language code for the adapter file and vocab table")
    parser.add_argument("--adapter-dim", type=int, default=16, help="adapter size added to a base without adapters")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", type=Path, help="Common Voice-style folder (TSV files + clips/)")
    data.add_argument("--hf-dataset", help="HF dataset name with audio and sentence columns")
    parser.add_argument("--hf-config", help="HF dataset config, e.g. sah")
    parser.add_argument("--train-split", default="train", help="TSV name (without .tsv) or HF split")
    parser.add_argument("--dev-split", default="dev", help="TSV name (without .tsv) or HF split, e.g. validation")
    parser.add_argument("--max-train-utts", type=int, default=0, help="random subset of the training data")
    parser.add_argument("--max-dev-utts", type=int, default=0, help="random subset of the dev data")
    parser.add_argument("--min-seconds", type=float, default=0.5)
    parser.add_argument("--max-seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, required=True, help="export folder")
    parser.add_argument("--epochs", type=float, default=20)
    parser.add_argument("--max-steps", type=int, default=0, help="optimizer steps; overrides --epochs")
    parser.add_argument("--max-minutes", type=float, default=0,
                        help="wall-clock budget: stop (evaluate and export) at the first step past it")
    parser.add_argument("--batch-seconds", type=float, default=200.0,
                        help="padded audio seconds per batch and process (default 200)")
    parser.add_argument("--grad-accum", type=int, default=1, help="batches per optimizer step")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: adapter 1e-3, full 1e-4, scratch 1e-3)")
    parser.add_argument("--warmup-ratio", type=float, default=0.1, help="linear warmup share of the steps")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--eval-every", type=int, default=500, help="steps between dev evaluations (and at the end)")
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--gradient-checkpointing", action="store_true", help="less memory, more compute (1B models)")
    parser.add_argument("--num-workers", type=int, default=2, help="data loader processes (0 on small CPUs)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if (args.mode == "scratch") != bool(args.init_config):
        parser.error("--mode scratch goes with --init-config, and --init-config with --mode scratch")
    return args


def main() -> None:
    args = parse_args()
    # layerdrop (on in MMS configs) skips whole layers in some steps: multi-GPU must not wait for their gradients
    accelerator = Accelerator(gradient_accumulation_steps=args.grad_accum,
                              kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    set_seed(args.seed)
    log = accelerator.print
    started = time.time()

    if args.data:
        raw_train = read_cv_folder(args.data, f"{args.train_split}.tsv")
        raw_dev = read_cv_folder(args.data, f"{args.dev_split}.tsv")
    else:
        raw_train = read_hf_split(args.hf_dataset, args.hf_config, args.train_split)
        raw_dev = read_hf_split(args.hf_dataset, args.hf_config, args.dev_split)
    train, train_dropped = prepare_utterances(raw_train, True, args.min_seconds, args.max_seconds,
                                              args.max_train_utts, args.seed)
    dev, dev_dropped = prepare_utterances(raw_dev, False, args.min_seconds, args.max_seconds,
                                          args.max_dev_utts, args.seed)
    log(f"train: {len(train)} utterances, {sum(u.seconds for u in train) / 3600:.2f} h (dropped {train_dropped}); "
        f"dev: {len(dev)} (dropped {dev_dropped})")

    vocab = build_vocab([u.sentence for u in train])
    id_to_token = {i: token for token, i in vocab.items()}
    log(f"vocabulary ({len(vocab)}): {''.join(list(vocab)[len(SPECIAL_TOKENS):])}")
    base_tables = base_vocab_tables(args.base) if args.base else None

    model, export_config = build_model(args, len(vocab))
    set_trainable(model, args.mode)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    trainable = [p for p in model.parameters() if p.requires_grad]
    log(f"parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M, "
        f"trained: {sum(p.numel() for p in trainable) / 1e6:.3f} M ({args.mode})")

    feature_extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True,
        return_attention_mask=model.config.feat_extract_norm == "layer",
    )
    collate = Collator(feature_extractor)
    train_set, dev_set = SpeechDataset(train, vocab), SpeechDataset(dev, vocab)
    train_sampler = DurationBatchSampler([u.seconds for u in train], args.batch_seconds, True, args.seed)
    dev_sampler = DurationBatchSampler([u.seconds for u in dev], args.batch_seconds, False, args.seed)
    train_loader = torch.utils.data.DataLoader(train_set, batch_sampler=train_sampler, collate_fn=collate,
                                               num_workers=args.num_workers)
    dev_loader = torch.utils.data.DataLoader(dev_set, batch_sampler=dev_sampler, collate_fn=collate,
                                             num_workers=args.num_workers)

    optimizer = torch.optim.AdamW(trainable, lr=0.0,
                                  betas=(0.9, 0.98), eps=1e-8, weight_decay=args.weight_decay)
    model, optimizer, train_loader, dev_loader = accelerator.prepare(model, optimizer, train_loader, dev_loader)

    steps_per_epoch = math.ceil(len(train_loader) / args.grad_accum)
    total_steps = args.max_steps or math.ceil(args.epochs * steps_per_epoch)
    peak_lr = args.lr or DEFAULT_LEARNING_RATES[args.mode]
    budget_seconds = args.max_minutes * 60

    def run_progress(step: int) -> float:
        """Share of the run done: by steps, or by the wall-clock budget when that runs out first, so that
        a time-limited run still ends with its learning rate annealed to zero. Measured on the main process
        and shared, so that every process takes the same schedule and stops at the same step."""
        progress = step / total_steps
        if budget_seconds:
            progress = max(progress, (time.time() - started) / budget_seconds)
        return broadcast_object_list([progress])[0]

    def set_learning_rate(progress: float) -> None:
        """Linear warmup to the peak, then linear decay to zero at the end of the run."""
        warmup = max(args.warmup_ratio, 1e-6)
        for group in optimizer.param_groups:
            group["lr"] = peak_lr * max(0.0, min(progress / warmup, (1 - progress) / max(1e-6, 1 - warmup)))

    budget_note = f", or {args.max_minutes:g} min if sooner" if budget_seconds else ""
    log(f"{total_steps} steps ({steps_per_epoch} per epoch){budget_note}, warmup {args.warmup_ratio:.0%}, "
        f"{accelerator.num_processes} process(es) on {accelerator.device}")

    set_learning_rate(run_progress(1))  # the first step's rate, as if one step were done
    step, epoch, history = 0, 0, []
    window_loss, window_batches, window_seconds, window_start = 0.0, 0, 0.0, time.time()
    model.train()
    while step < total_steps:
        train_sampler.set_epoch(epoch)
        for batch in train_loader:
            indices = batch.pop("indices")
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(trainable, MAX_GRAD_NORM)
                optimizer.step()
                optimizer.zero_grad()
            window_loss += loss.item()
            window_batches += 1
            window_seconds += sum(train[i].seconds for i in indices.tolist())
            if not accelerator.sync_gradients:
                continue
            step += 1
            progress = run_progress(step)
            if progress >= 1:
                total_steps = step
            set_learning_rate(progress)
            if step % args.log_every == 0:
                elapsed = time.time() - window_start
                log(f"step {step}/{total_steps} epoch {epoch} loss {window_loss / window_batches:.3f} "
                    f"lr {optimizer.param_groups[0]['lr']:.2e} {window_seconds * accelerator.num_processes / elapsed:.0f} "
                    f"audio s/s")
                window_loss, window_batches, window_seconds, window_start = 0.0, 0, 0.0, time.time()
            if step % args.eval_every == 0 or step == total_steps:
                result = evaluate(model, dev_loader, accelerator, dev_set, id_to_token)
                history.append({"step": step, **{k: result[k] for k in ("wer", "cer", "loss")}})
                log(f"dev at step {step}: WER {result['wer']:.4f} CER {result['cer']:.4f} loss {result['loss']:.3f} "
                    f"({result['utterances']} utterances)")
                for reference, hypothesis in result["examples"]:
                    log(f"  ref: {reference}\n  hyp: {hypothesis}")
            if step == total_steps:
                break
        epoch += 1

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        export(accelerator.unwrap_model(model), export_config, vocab, base_tables, args)
        summary = {"args": {k: str(v) for k, v in vars(args).items()}, "train_utterances": len(train),
                   "train_hours": sum(u.seconds for u in train) / 3600, "dev_utterances": len(dev),
                   "steps": step, "epochs_started": epoch + 1, "seconds": round(time.time() - started),
                   "dev_history": history}
        (args.out / "train_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                                                    encoding="utf-8")
        log(f"exported to {args.out} after {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()

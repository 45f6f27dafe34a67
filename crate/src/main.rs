//! `sakha-asr`: the command-line shell over the library, for batch transcription and checks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use sakha_asr::hf_dir::HfModelDir;
use sakha_asr::convert::{self, Quantization};
use sakha_asr::package::{self, PackageDir};
use sakha_asr::{audio, evaluation, Chunking, Recognizer, Transcript};

const EXIT_CODES: &str = "\
Exit status:
  0  every input was transcribed
  1  some inputs failed (each is reported on stderr; the others were still transcribed)
  2  the command line is wrong
  3  the model could not be loaded, or an output could not be written";

#[derive(Parser)]
#[command(name = "sakha-asr", version, about = "Offline speech recognition for Sakha (Yakut)", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Transcribe audio files (WAV, FLAC, MP3, OGG/Vorbis; any sample rate and channel count).
    #[command(after_help = EXIT_CODES)]
    Transcribe(TranscribeArgs),
    /// Convert an HF model folder into a sakha-asr package (model.json, base.gguf, <lang>.gguf).
    Convert(ConvertArgs),
    /// Word and character error rates on a Common Voice-style test set (TSV + clips folder).
    #[command(after_help = EXIT_CODES)]
    Eval(EvalArgs),
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Model folder (package or HF); the built-in model without it.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,

    #[arg(long, value_name = "LANG")]
    lang: Option<String>,

    /// Test set: a tab-separated file with a header row and at least the columns path and sentence.
    #[arg(long, value_name = "FILE")]
    tsv: PathBuf,

    /// The folder the TSV's paths are relative to.
    #[arg(long, value_name = "DIR")]
    clips: PathBuf,

    /// Also write every utterance's normalised reference, hypothesis and error counts as JSON.
    #[arg(long, value_name = "FILE.json")]
    per_utterance: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// HF model folder: config.json, model.safetensors, vocab.json, adapter.<lang>.safetensors files.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,

    /// Languages to package (repeatable). Default: every adapter file in the folder. Required, once,
    /// for a model without adapter files, to name its language.
    #[arg(long, value_name = "LANG")]
    lang: Vec<String>,

    /// How the base model's matrices are stored: f32, f16, q8_0, q4_0 or q4_k.
    #[arg(long, value_name = "TYPE")]
    quant: Quantization,

    /// Output folder for the package.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(clap::Args)]
struct TranscribeArgs {
    /// Model folder: a sakha-asr package (model.json, made by `sakha-asr convert`) or an HF folder
    /// (config.json, model.safetensors, vocab.json, adapter.<lang>.safetensors files). Without it the
    /// model built into this program is used.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,

    /// Language: picks that language's adapter and vocabulary. Default: the package's default language,
    /// or the HF folder's own CTC head.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,

    /// Output: plain text, JSON with word times (one object per line), or SRT / WebVTT subtitles.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Write one file per input into DIR (named after the input, with the format's extension)
    /// instead of printing to stdout. Needed for srt and vtt with several inputs.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,

    /// Also write the model's CTC logits (frames x vocab, float32 .npy) for one input, for checks
    /// against other implementations.
    #[arg(long, value_name = "FILE.npy")]
    dump_logits: Option<PathBuf>,

    /// Long audio is recognised in chunks of this many seconds (smaller: less memory).
    #[arg(long, value_name = "SECONDS", default_value_t = Chunking::default().chunk_seconds)]
    chunk_seconds: f64,

    /// Seconds of audio each chunk also sees on either side, so words at a cut keep their context.
    #[arg(long, value_name = "SECONDS", default_value_t = Chunking::default().context_seconds)]
    context_seconds: f64,

    /// Cut the audio first at pauses of at least this many seconds and recognise the pieces one by
    /// one, as separate utterances; 0 turns this off.
    #[arg(long, value_name = "SECONDS", default_value_t = Chunking::default().min_pause_seconds.unwrap_or(0.0))]
    min_pause_seconds: f64,

    /// Print timings to stderr as one JSON object per input: model load, and audio decoding plus
    /// recognition, in seconds.
    #[arg(long)]
    timings: bool,

    /// Audio files to transcribe.
    #[arg(required = true, value_name = "AUDIO")]
    audio: Vec<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Srt,
    Vtt,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json => "json",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
        }
    }
}

/// The default model, a package compiled into the binary so the tool works with no files around it.
mod embedded {
    pub const MANIFEST: &[u8] = include_bytes!("../models/default/model.json");
    pub const BASE: &[u8] = include_bytes!("../models/default/base.gguf");
    pub const LANGUAGE: &[u8] = include_bytes!("../models/default/sah.gguf");
}

fn main() -> ExitCode {
    keep_freed_memory_in_process();
    let cli = Cli::parse();
    match cli.command {
        Command::Transcribe(args) => transcribe(args),
        Command::Convert(args) => convert(args),
        Command::Eval(args) => eval(args),
    }
}

/// Every layer allocates its output afresh, megabytes at a time. glibc serves such blocks with mmap and
/// hands them back on free, so the kernel zeroes new pages for every tensor: 10-15 % of a forward pass
/// on MMS-300m went to page faults and page clearing. Serving them from the heap and keeping freed
/// memory for reuse removes that; the peak memory is the same (scripts/bench.py measures it).
fn keep_freed_memory_in_process() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

fn eval(args: EvalArgs) -> ExitCode {
    let recognizer = match load_model(args.model.as_deref(), args.lang.as_deref()) {
        Ok(recognizer) => recognizer,
        Err(e) => {
            eprintln!("error: cannot load the model: {e}");
            return ExitCode::from(3);
        }
    };
    let items = match evaluation::read_tsv(&args.tsv, &args.clips) {
        Ok(items) => items,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut done = 0;
    let report = evaluation::evaluate(&recognizer, &items, |_| {
        done += 1;
        if done % 50 == 0 {
            eprintln!("{done} of {} done", items.len());
        }
    });
    for (clip, reason) in &report.failures {
        eprintln!("error: {}: {reason}", clip.display());
    }
    println!(
        "utterances: {} scored, {} failed\nWER: {:.2} %\nCER: {:.2} %",
        report.utterances.len(),
        report.failures.len(),
        report.wer * 100.0,
        report.cer * 100.0
    );
    if let Some(path) = &args.per_utterance {
        let written = serde_json::to_vec_pretty(&report).map_err(std::io::Error::other).and_then(|json| std::fs::write(path, json));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(3);
        }
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn convert(args: ConvertArgs) -> ExitCode {
    match convert::convert_hf_dir(&args.from, &args.out, args.quant, &args.lang) {
        Ok(manifest) => {
            let mut files = vec![&manifest.base];
            files.extend(manifest.languages.values());
            for file in files {
                println!("{}\t{} bytes\tsha256 {}", args.out.join(&file.file).display(), file.bytes, file.sha256);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn transcribe(args: TranscribeArgs) -> ExitCode {
    if let Err(e) = check_outputs(&args) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let mut recognizer = match load_model(args.model.as_deref(), args.lang.as_deref()) {
        Ok(recognizer) => recognizer,
        Err(e) => {
            eprintln!("error: cannot load the model: {e}");
            return ExitCode::from(3);
        }
    };
    recognizer.set_chunking(Chunking {
        chunk_seconds: args.chunk_seconds,
        context_seconds: args.context_seconds,
        min_pause_seconds: (args.min_pause_seconds > 0.0).then_some(args.min_pause_seconds),
    });
    let load_s = started.elapsed().as_secs_f64();
    let mut failed = 0;
    for path in &args.audio {
        let started = Instant::now();
        match transcribe_file(&recognizer, path, &args) {
            Ok(()) if args.timings => {
                let inference_s = started.elapsed().as_secs_f64();
                let record = serde_json::json!({ "file": path, "load_s": load_s, "inference_s": inference_s });
                eprintln!("{record}");
            }
            Ok(()) => {}
            Err(e) if e.is::<OutputError>() => {
                eprintln!("error: {e}");
                return ExitCode::from(3);
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} inputs failed", args.audio.len());
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn check_outputs(args: &TranscribeArgs) -> Result<()> {
    let several = args.audio.len() > 1;
    if several && args.output_dir.is_none() && matches!(args.format, Format::Srt | Format::Vtt) {
        bail!("subtitles for several inputs need --output-dir (one file per input)");
    }
    if several && args.dump_logits.is_some() {
        bail!("--dump-logits takes exactly one audio file");
    }
    if !(args.chunk_seconds >= 1.0 && args.context_seconds >= 0.0 && args.min_pause_seconds >= 0.0) {
        bail!("--chunk-seconds must be at least 1, --context-seconds and --min-pause-seconds at least 0");
    }
    Ok(())
}

fn load_model(dir: Option<&Path>, lang: Option<&str>) -> Result<Recognizer> {
    Ok(match dir {
        Some(dir) if PackageDir::is_package(dir) => PackageDir::open(dir)?.load(lang)?,
        Some(dir) => HfModelDir::new(dir).load(lang)?,
        None => {
            let manifest = package::Manifest::from_json(embedded::MANIFEST)?;
            package::recognizer_from_bytes(&manifest, embedded::BASE, embedded::LANGUAGE, lang)?
        }
    })
}

/// A failure to write results: fatal for the whole batch, unlike a bad input file.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
struct OutputError {
    path: String,
    source: std::io::Error,
}

/// Errors name the input: audio errors do so themselves, recognition errors get it prefixed.
fn transcribe_file(recognizer: &Recognizer, path: &Path, args: &TranscribeArgs) -> Result<()> {
    let samples = audio::load_audio_file(path)?;
    let about_input = |e: sakha_asr::Error| anyhow!("{}: {e}", path.display());
    let transcript = match &args.dump_logits {
        Some(npy) => {
            let logits = recognizer.logits(&samples).map_err(about_input)?;
            logits.write_npy(npy).map_err(|e| OutputError {
                path: npy.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
            recognizer.decode(&logits).map_err(about_input)?
        }
        None => recognizer.transcribe(&samples).map_err(about_input)?,
    };
    let rendered = render(&transcript, path, args.format)?;
    let written = match &args.output_dir {
        Some(dir) => {
            let stem = path.file_stem().unwrap_or(path.as_os_str());
            let out = dir.join(stem).with_extension(args.format.extension());
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&out, &rendered))
                .map_err(|source| OutputError { path: out.display().to_string(), source })
        }
        None => {
            let prefix = match (args.format, args.audio.len() > 1) {
                (Format::Text, true) => format!("{}\t", path.display()),
                _ => String::new(),
            };
            std::io::stdout()
                .write_all(format!("{prefix}{rendered}").as_bytes())
                .map_err(|source| OutputError { path: "stdout".into(), source })
        }
    };
    Ok(written?)
}

fn render(transcript: &Transcript, path: &Path, format: Format) -> Result<String> {
    Ok(match format {
        Format::Text => format!("{}\n", transcript.text),
        Format::Json => {
            let record = serde_json::json!({ "file": path.display().to_string(), "transcript": transcript });
            format!("{}\n", serde_json::to_string(&record)?)
        }
        Format::Srt => transcript.to_srt(),
        Format::Vtt => transcript.to_vtt(),
    })
}

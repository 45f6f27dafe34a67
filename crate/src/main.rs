//! `sakha-asr`: the command-line shell over the library, for batch transcription and checks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand, ValueEnum};
use sakha_asr::hf_dir::HfModelDir;
use sakha_asr::convert::{self, Quantization};
use sakha_asr::lm::WordLm;
use sakha_asr::package::{self, PackageDir};
use sakha_asr::recognizer::SettingError;
use sakha_asr::{audio, evaluation, BeamOptionError, BeamOptions, Chunking, Decoding, LiveWindows, Recognizer, Segment, Transcript};

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
    /// Put a word LM (made by scripts/build_lm.py) into a package, as its language's.
    AddLm(AddLmArgs),
}

#[derive(clap::Args)]
struct AddLmArgs {
    /// The package folder (model.json, made by `sakha-asr convert`).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,

    /// The language the LM is for. Default: the package's default language.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,

    /// The LM file.
    #[arg(value_name = "LM_FILE")]
    lm: PathBuf,
}

/// How the CTC output becomes text: with the language's word LM when there is one (beam search),
/// greedily otherwise.
#[derive(clap::Args)]
struct DecodingArgs {
    /// Decode with this word LM (made by scripts/build_lm.py) instead of the package's own.
    #[arg(long, value_name = "FILE")]
    lm: Option<PathBuf>,

    /// Greedy decoding (the most likely letter per frame), even when there is an LM.
    #[arg(long, conflicts_with_all = ["lm", "no_lm"])]
    greedy: bool,

    /// Beam search without the LM (the same text as greedy decoding, which also takes the most
    /// likely path; for comparisons).
    #[arg(long)]
    no_lm: bool,

    /// Hypotheses kept by the beam search.
    #[arg(long, value_name = "N", default_value_t = BeamOptions::default().beam_width, value_parser = clap::value_parser!(u16).range(1..=BeamOptions::MAX_BEAM_WIDTH as i64).map(usize::from))]
    beam: usize,

    /// Weight of the LM's log-probabilities against the acoustic model's (eval: a comma list runs a grid).
    #[arg(long, value_name = "ALPHA", allow_hyphen_values = true, value_delimiter = ',', default_values_t = [BeamOptions::default().lm_weight])]
    lm_weight: Vec<f32>,

    /// Added to the score for each word (eval: a comma list runs a grid).
    #[arg(long, value_name = "BETA", allow_hyphen_values = true, value_delimiter = ',', default_values_t = [BeamOptions::default().word_bonus])]
    word_bonus: Vec<f32>,

    /// Added (at most 0) for each word the LM does not know (eval: a comma list runs a grid).
    #[arg(long, value_name = "PENALTY", allow_hyphen_values = true, value_delimiter = ',', default_values_t = [BeamOptions::default().unknown_word_penalty])]
    unknown_word_penalty: Vec<f32>,
}

impl DecodingArgs {
    /// Every combination of the LM weights and word bonuses given.
    fn decodings(&self) -> Vec<Decoding> {
        if self.greedy {
            return vec![Decoding::Greedy];
        }
        let mut decodings = Vec::new();
        for &lm_weight in &self.lm_weight {
            for &word_bonus in &self.word_bonus {
                for &unknown_word_penalty in &self.unknown_word_penalty {
                    let options = BeamOptions { beam_width: self.beam, lm_weight, word_bonus, unknown_word_penalty, ..BeamOptions::default() };
                    decodings.push(Decoding::BeamSearch { options, language_model: !self.no_lm });
                }
            }
        }
        decodings
    }

    fn check(&self) -> Result<()> {
        for decoding in self.decodings() {
            let Decoding::BeamSearch { options, .. } = decoding else { continue };
            options.check().map_err(beam_flags)?;
        }
        Ok(())
    }

    /// Gives the recognizer's language the `--lm` file, when one was given.
    fn apply_lm(&self, recognizer: &mut Recognizer) -> Result<()> {
        if let Some(path) = &self.lm {
            let bytes = std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let lm = WordLm::from_bytes(bytes, &path.display().to_string())?;
            recognizer.language_mut().set_language_model(Some(std::sync::Arc::new(lm)));
        }
        Ok(())
    }
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

    #[command(flatten)]
    decoding: DecodingArgs,
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

    /// A word LM (made by scripts/build_lm.py) for the package's default language, or `LANG=FILE`
    /// for another (repeatable).
    #[arg(long, value_name = "[LANG=]FILE")]
    lm: Vec<String>,
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

    /// Where no pause comes for this many seconds, cut at the quietest moment of the last half of
    /// them (the rule live recognition shares, which must bound what it holds); 0 turns this off.
    #[arg(long, value_name = "SECONDS", default_value_t = Chunking::default().max_piece_seconds.unwrap_or(0.0))]
    max_piece_seconds: f64,

    /// Print timings to stderr as one JSON object per input: model load, audio decoding plus
    /// recognition, and of that the CTC decoding (greedy or beam search), in seconds.
    #[arg(long)]
    timings: bool,

    /// Feed each input to a stream in pieces of this many seconds, as the page reads files (the text
    /// is the same), or with --live as live recognition hears a microphone. With --timings, also one
    /// JSON object per piece: the audio pushed so far, the seconds the push took, the pieces it
    /// finished, where the partial text ends, the frames computed so far.
    #[arg(long, value_name = "SECONDS")]
    stream: Option<f64>,

    /// With --stream: a live stream, whose pushes give partial text from short windows of the audio
    /// (the final text can differ a little from offline's).
    #[arg(long, requires = "stream")]
    live: bool,

    #[command(flatten)]
    decoding: DecodingArgs,

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
    pub const LANGUAGE_MODEL: Option<&[u8]> = Some(include_bytes!("../models/default/sah.lm"));
}

fn main() -> ExitCode {
    keep_freed_memory_in_process();
    let cli = Cli::parse();
    match cli.command {
        Command::Transcribe(args) => transcribe(args),
        Command::Convert(args) => convert(args),
        Command::Eval(args) => eval(args),
        Command::AddLm(args) => add_lm(args),
    }
}

fn add_lm(args: AddLmArgs) -> ExitCode {
    match add_lm_file(&args.model, args.lang.as_deref(), &args.lm) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn add_lm_file(package: &Path, language: Option<&str>, lm: &Path) -> Result<()> {
    let bytes = std::fs::read(lm).map_err(|e| anyhow!("{}: {e}", lm.display()))?;
    let mut package_dir = PackageDir::open(package)?;
    let entry = package_dir.add_language_model(language, &bytes)?;
    println!("{}\t{} bytes\tsha256 {}", package.join(&entry.file).display(), entry.bytes, entry.sha256);
    Ok(())
}

/// Every layer allocates its output afresh, megabytes at a time. glibc serves such blocks with mmap and
/// hands them back on free, so the kernel zeroes new pages for every tensor: a profile of MMS-300m
/// showed a good part of a forward pass in page faults and page clearing. Serving them from the heap
/// and keeping freed memory for reuse removes that; the peak memory is the same (scripts/bench.py
/// measures it).
fn keep_freed_memory_in_process() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

fn eval(args: EvalArgs) -> ExitCode {
    let decodings = args.decoding.decodings();
    let usage = args.decoding.check().and_then(|()| match (decodings.len(), &args.per_utterance) {
        (1, _) | (_, None) => Ok(()),
        _ => Err(anyhow!("--per-utterance takes one decoding, not a grid of --lm-weight / --word-bonus values")),
    });
    if let Err(e) = usage {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let recognizer = match load_model(args.model.as_deref(), args.lang.as_deref())
        .and_then(|mut recognizer| args.decoding.apply_lm(&mut recognizer).map(|()| recognizer))
    {
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
    let reports = evaluation::evaluate_decodings(&recognizer, &items, &decodings, |decoding, _| {
        done += usize::from(decoding == 0);
        if decoding == 0 && done % 50 == 0 {
            eprintln!("{done} of {} done", items.len());
        }
    });
    let report = &reports[0];
    for (clip, reason) in &report.failures {
        eprintln!("error: {}: {reason}", clip.display());
    }
    println!("utterances: {} scored, {} failed", report.utterances.len(), report.failures.len());
    if let [report] = &reports[..] {
        println!("decoding: {}", describe(decodings[0], &recognizer));
        println!("WER: {:.2} %\nCER: {:.2} %", report.wer * 100.0, report.cer * 100.0);
    } else {
        println!(
            "decoding: {}\n\n| LM weight | word bonus | unknown-word penalty | WER | CER |\n|---|---|---|---|---|",
            describe(decodings[0], &recognizer)
        );
        for (decoding, report) in decodings.iter().zip(&reports) {
            if let Decoding::BeamSearch { options, .. } = decoding {
                let (wer, cer) = (report.wer * 100.0, report.cer * 100.0);
                println!("| {} | {} | {} | {wer:.2} % | {cer:.2} % |", options.lm_weight, options.word_bonus, options.unknown_word_penalty);
            }
        }
    }
    if let Some(path) = &args.per_utterance {
        let written = serde_json::to_vec_pretty(report).map_err(std::io::Error::other).and_then(|json| std::fs::write(path, json));
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

/// What a decoding does with this recognizer's language, for reports.
fn describe(decoding: Decoding, recognizer: &Recognizer) -> String {
    match decoding {
        Decoding::BeamSearch { options, language_model: true } if recognizer.language_model().is_some() => {
            format!(
                "beam search ({}) with the word LM (weight {}, word bonus {}, unknown-word penalty {})",
                options.beam_width, options.lm_weight, options.word_bonus, options.unknown_word_penalty
            )
        }
        Decoding::BeamSearch { options, language_model: false } => format!("beam search ({}) without an LM", options.beam_width),
        _ => "greedy".to_string(),
    }
}

fn convert(args: ConvertArgs) -> ExitCode {
    let converted = convert::convert_hf_dir(&args.from, &args.out, args.quant, &args.lang).map_err(anyhow::Error::from).and_then(|manifest| {
        let mut files = vec![&manifest.base];
        files.extend(manifest.languages.values());
        for file in files {
            println!("{}\t{} bytes\tsha256 {}", args.out.join(&file.file).display(), file.bytes, file.sha256);
        }
        for lm in &args.lm {
            let (language, file) = match lm.split_once('=') {
                Some((language, file)) => (Some(language), file),
                None => (None, lm.as_str()),
            };
            add_lm_file(&args.out, language, Path::new(file))?;
        }
        Ok(())
    });
    match converted {
        Ok(()) => ExitCode::SUCCESS,
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
    let mut recognizer = match load_model(args.model.as_deref(), args.lang.as_deref())
        .and_then(|mut recognizer| args.decoding.apply_lm(&mut recognizer).map(|()| recognizer))
    {
        Ok(recognizer) => recognizer,
        Err(e) => {
            eprintln!("error: cannot load the model: {e}");
            return ExitCode::from(3);
        }
    };
    // Both were checked with the flags (check_outputs).
    let settings = recognizer.set_decoding(args.decoding.decodings()[0]).map_err(beam_flags);
    if let Err(e) = settings.and_then(|()| recognizer.set_chunking(chunking(&args)).map_err(as_flag)) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let load_s = started.elapsed().as_secs_f64();
    let mut failed = 0;
    for path in &args.audio {
        let started = Instant::now();
        match transcribe_file(&recognizer, path, &args) {
            Ok(decoding_s) if args.timings => {
                let inference_s = started.elapsed().as_secs_f64();
                let record = serde_json::json!({ "file": path, "load_s": load_s, "inference_s": inference_s, "decoding_s": decoding_s });
                eprintln!("{record}");
            }
            Ok(_) => {}
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
    if let Some(seconds) = args.stream {
        SettingError::check("stream", seconds, MIN_STREAM_SECONDS, Chunking::MAX_PIECE_SECONDS.1).map_err(as_flag)?;
        if args.dump_logits.is_some() || args.max_piece_seconds == 0.0 {
            bail!("--stream takes a maximum piece length (--max-piece-seconds) and no --dump-logits");
        }
    }
    chunking(args).check().map_err(as_flag)?;
    if args.decoding.decodings().len() > 1 {
        bail!("--lm-weight, --word-bonus and --unknown-word-penalty take one value each here (lists are for eval's grid search)");
    }
    args.decoding.check()
}

/// The smallest `--stream` push: a frame's worth of samples.
const MIN_STREAM_SECONDS: f64 = 0.02;

/// The chunking the flags ask for; 0 turns pause cuts or the piece limit off.
fn chunking(args: &TranscribeArgs) -> Chunking {
    let unless_zero = |seconds: f64| (seconds != 0.0).then_some(seconds);
    Chunking {
        chunk_seconds: args.chunk_seconds,
        context_seconds: args.context_seconds,
        min_pause_seconds: unless_zero(args.min_pause_seconds),
        max_piece_seconds: unless_zero(args.max_piece_seconds),
    }
}

/// The beam search's setting error in the CLI's words: its flags.
fn beam_flags(e: BeamOptionError) -> anyhow::Error {
    match e {
        BeamOptionError::BeamWidth => anyhow!("--beam takes 1 to {}", BeamOptions::MAX_BEAM_WIDTH),
        BeamOptionError::NotFinite => anyhow!("--lm-weight, --word-bonus and --unknown-word-penalty take finite numbers"),
        BeamOptionError::UnknownWordReward => anyhow!("--unknown-word-penalty must be at most 0 (a reward would prefer misspellings)"),
    }
}

/// The library's setting error in the CLI's words: its flag.
fn as_flag(e: SettingError) -> anyhow::Error {
    anyhow!("--{} must be a number of seconds from {} to {} (got {})", e.setting.replace('_', "-"), e.min, e.max, e.value)
}

fn load_model(dir: Option<&Path>, lang: Option<&str>) -> Result<Recognizer> {
    Ok(match dir {
        Some(dir) if PackageDir::is_package(dir) => PackageDir::open(dir)?.load(lang)?,
        Some(dir) => HfModelDir::new(dir).load(lang)?,
        None => {
            let manifest = package::Manifest::from_json(embedded::MANIFEST)?;
            package::recognizer_from_bytes(&manifest, embedded::BASE, embedded::LANGUAGE, embedded::LANGUAGE_MODEL, lang)?
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

/// `samples` fed to a stream in pieces of `piece_seconds`, as live recognition gets them; with
/// `timings`, one JSON object per push on stderr.
fn stream_samples(recognizer: &Recognizer, samples: &[f32], piece_seconds: f64, live: bool, timings: bool) -> Result<Transcript, sakha_asr::Error> {
    let piece = ((piece_seconds * 16_000.0).round() as usize).max(1);
    let mut stream = if live { recognizer.start_live_stream(LiveWindows::default())? } else { recognizer.start_stream()? };
    let (mut words, mut end) = (Vec::new(), 0.0);
    let mut keep = |segments: Vec<Segment>| {
        for segment in segments {
            end = segment.end;
            words.extend(segment.words);
        }
    };
    for chunk in samples.chunks(piece) {
        let started = Instant::now();
        let update = stream.push(recognizer, chunk)?;
        if timings {
            let record = serde_json::json!({
                "audio_s": stream.seconds(),
                "push_s": started.elapsed().as_secs_f64(),
                "finals": update.finals.len(),
                "partial_end_s": update.partial.as_ref().map(|partial| partial.end),
                "held_samples": stream.held_samples(),
                "frames_computed": stream.frames_computed(),
            });
            eprintln!("{record}");
        }
        keep(update.finals);
    }
    keep(stream.finish(recognizer)?);
    Ok(Transcript::from_words(words, end))
}

/// Errors name the input: audio errors do so themselves, recognition errors get it prefixed. Returns
/// the seconds decoding took when it ran apart from the model (see `--timings`).
fn transcribe_file(recognizer: &Recognizer, path: &Path, args: &TranscribeArgs) -> Result<Option<f64>> {
    let samples = audio::load_audio_file(path)?;
    let about_input = |e: sakha_asr::Error| anyhow!("{}: {e}", path.display());
    // Logits first and decoding apart (the same text as `transcribe`) when they are kept or timed.
    let (transcript, decoding_s) = if let Some(piece_seconds) = args.stream {
        (stream_samples(recognizer, &samples, piece_seconds, args.live, args.timings).map_err(about_input)?, None)
    } else if args.dump_logits.is_some() || args.timings {
        let pieces = recognizer.piece_logits(&samples).map_err(about_input)?;
        if let Some(npy) = &args.dump_logits {
            let all = pieces.iter().map(|piece| &piece.logits).collect::<Vec<_>>();
            candle_core::Tensor::cat(&all, 0).and_then(|logits| logits.write_npy(npy)).map_err(|e| OutputError {
                path: npy.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        let started = Instant::now();
        let transcript = recognizer.decode_pieces(&pieces, recognizer.decoding()).map_err(about_input)?;
        (transcript, Some(started.elapsed().as_secs_f64()))
    } else {
        (recognizer.transcribe(&samples).map_err(about_input)?, None)
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
    written?;
    Ok(decoding_s)
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

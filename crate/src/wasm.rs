//! Browser bindings: a JS `Recognizer` class over [`crate::Recognizer`] for packaged models whose files
//! the page fetched itself (`js/model-loader.js` does the fetching and caching), given whole or in
//! pieces as they are read (`PackageFile`). Results cross as plain JS objects; every failure becomes a
//! JS `Error` carrying the library's message and its `kind` ([`WebError`]).

use std::cell::{RefCell, RefMut};
use std::ops::ControlFlow;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::package::{self, FileLoader, LoadedFile, Manifest};
use crate::wav2vec2::SAMPLE_RATE;
use crate::{BeamOptionError, BeamOptions, Chunking, Decoding, ErrorKind, Segment, Transcript, Word};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/**
 * A recognised word and its time span in seconds from the start of the audio. `confidence` (0..1, three
 * decimals) is the model's posterior for the word's least certain letter: low ones are worth checking
 * first. Words handed back to `toSrt`/`toVtt` may leave it out.
 */
export interface Word { text: string; start: number; end: number; confidence: number }
/** `text` is the words joined by single spaces; `duration` the seconds of audio the model covered. */
export interface Transcript { text: string; words: Word[]; duration: number }
/** A piece of a stream's audio (between two cuts) and its text; times in seconds from the stream's start. */
export interface Segment { start: number; end: number; text: string; words: Word[] }
/** What `RecognizerStream.push` brings: the pieces it finished, in order, and the open piece's text so far. */
export interface StreamUpdate { final: Segment[]; partial: Segment | null }
/** Sent after every chunk of long audio; `partial` is everything recognised so far. */
export interface Progress { doneSeconds: number; totalSeconds: number; partial: Transcript }
export interface FileEntry { file: string; bytes: number; sha256: string }
/** `model.json` of a packaged model, as written by `sakha-asr convert`. */
export interface Manifest {
  format: string;
  format_version: number;
  quantization: string;
  base: FileEntry;
  languages: Record<string, FileEntry>;
  default_language: string;
  /** Word LMs (`<lang>.lm`) of the languages that have one. */
  language_models?: Record<string, FileEntry>;
}
/**
 * How `transcribe` turns the model's output into text. `languageModel: false` decodes greedily even when
 * a word LM is loaded; the other fields tune the beam search that runs with the LM.
 */
export interface DecodingOptions {
  languageModel?: boolean;
  beam?: number;
  lmWeight?: number;
  wordBonus?: number;
  unknownWordPenalty?: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "((progress: Progress) => void)")]
    pub type ProgressCallback;
}

#[wasm_bindgen(start, skip_typescript)]
fn start() {
    // Without it a panic shows up in JS only as an opaque "unreachable executed".
    console_error_panic_hook::set_once();
}

/// `initThreadPool(n)` (threaded build only, `pkg/threads/`): starts `n` Web Workers sharing this
/// module's memory as rayon's threads; await it once after `init()`, before any `Recognizer`.
// Rust sees no use of it (this module is private); the use links the crate, whose export JS calls.
#[cfg(feature = "threads")]
#[allow(unused_imports)]
pub use wasm_bindgen_rayon::init_thread_pool;

/// The sample rate `transcribe` expects (16 kHz).
#[wasm_bindgen(js_name = sampleRate)]
pub fn sample_rate() -> u32 {
    SAMPLE_RATE as u32
}

/// Parses and checks `model.json` (format, version), so a page can refuse a package it cannot run
/// before downloading its weights.
#[wasm_bindgen(js_name = parseManifest, unchecked_return_type = "Manifest")]
pub fn parse_manifest(json: &str) -> Result<JsValue, WebError> {
    to_js(&Manifest::from_json(json.as_bytes())?)
}

/// Subtitles (SRT) for a transcript returned by `Recognizer.transcribe`.
#[wasm_bindgen(js_name = toSrt)]
pub fn to_srt(#[wasm_bindgen(unchecked_param_type = "Transcript")] transcript: JsValue) -> Result<String, WebError> {
    Ok(transcript_from_js(transcript)?.to_srt())
}

/// Subtitles (WebVTT) for a transcript returned by `Recognizer.transcribe`.
#[wasm_bindgen(js_name = toVtt)]
pub fn to_vtt(#[wasm_bindgen(unchecked_param_type = "Transcript")] transcript: JsValue) -> Result<String, WebError> {
    Ok(transcript_from_js(transcript)?.to_vtt())
}

#[wasm_bindgen(js_name = Recognizer)]
pub struct WebRecognizer {
    /// Shared with the streams started from it, which use it on every push.
    recognizer: Rc<RefCell<crate::Recognizer>>,
    manifest: Manifest,
}

#[wasm_bindgen(js_class = Recognizer)]
impl WebRecognizer {
    /// A recognizer from a package's files: `manifest` is the text of `model.json`, `base` the bytes of
    /// its base file, `languageFile` those of `language`'s file (the default language when omitted).
    /// Both files are checked against the manifest's sizes and sha256 before use.
    #[wasm_bindgen(constructor)]
    pub fn new(
        manifest: &str,
        base: &[u8],
        #[wasm_bindgen(js_name = languageFile)] language_file: &[u8],
        language: Option<String>,
    ) -> Result<WebRecognizer, WebError> {
        let manifest = Manifest::from_json(manifest.as_bytes())?;
        let recognizer = package::recognizer_from_bytes(&manifest, base, language_file, None, language.as_deref())?;
        Ok(Self { recognizer: Rc::new(RefCell::new(recognizer)), manifest })
    }

    /// A recognizer from a package's base file and a language's file, each finished
    /// (`PackageFile.finish`); both are used up.
    #[wasm_bindgen(js_name = fromFiles)]
    pub fn from_files(
        manifest: &str,
        base: PackageFile,
        #[wasm_bindgen(js_name = languageFile)] language_file: PackageFile,
    ) -> Result<WebRecognizer, WebError> {
        let manifest = Manifest::from_json(manifest.as_bytes())?;
        let (language, language_file) = language_file.into_loaded()?;
        let recognizer = package::recognizer_from_files(base.into_loaded()?.1, language_file, &language)?;
        Ok(Self { recognizer: Rc::new(RefCell::new(recognizer)), manifest })
    }

    /// Switches to another language of the package (its adapters, CTC head and vocabulary), keeping the
    /// base model; `languageFile` is checked against the manifest first.
    #[wasm_bindgen(js_name = setLanguage)]
    pub fn set_language(
        &mut self,
        language: &str,
        #[wasm_bindgen(js_name = languageFile)] language_file: &[u8],
    ) -> Result<(), WebError> {
        let (language, entry) = self.manifest.language_entry(Some(language))?;
        let mut recognizer = self.recognizer_mut()?;
        let language = LoadedFile::from_bytes(entry, language_file)?.into_language(recognizer.config(), language)?;
        recognizer.set_language(language);
        Ok(())
    }

    /// Gives the current language the word LM of `file`, a finished `PackageFile.languageModel` of this
    /// package for that language (used up). Switching language drops it.
    #[wasm_bindgen(js_name = setLanguageModel)]
    pub fn set_language_model(&mut self, file: PackageFile) -> Result<(), WebError> {
        let (language, loaded) = file.into_loaded()?;
        let mut recognizer = self.recognizer_mut()?;
        if Some(language.as_str()) != recognizer.language() {
            return Err(WebError::settings(format!(
                "this word LM is for {language:?}, but the recognizer's language is {:?}",
                recognizer.language().unwrap_or_default()
            )));
        }
        let lm = loaded.into_language_model()?;
        recognizer.language_mut().set_language_model(Some(std::sync::Arc::new(lm)));
        Ok(())
    }

    /// Whether the current language has a word LM to decode with.
    #[wasm_bindgen(getter, js_name = hasLanguageModel)]
    pub fn has_language_model(&self) -> bool {
        self.recognizer.borrow().language_model().is_some()
    }

    /// How `transcribe` decodes from now on (see `DecodingOptions`); omitted fields take their defaults.
    #[wasm_bindgen(js_name = setDecoding)]
    pub fn set_decoding(&mut self, #[wasm_bindgen(unchecked_param_type = "DecodingOptions")] options: JsValue) -> Result<(), WebError> {
        const KEYS: [&str; 5] = ["languageModel", "beam", "lmWeight", "wordBonus", "unknownWordPenalty"];
        let usage = |why: String| WebError::settings(format!("setDecoding takes {{{}}}: {why}", KEYS.join(", ")));
        // serde_wasm_bindgen reads only the fields it knows, so a misspelt key would pass unnoticed.
        if let Some(object) = options.dyn_ref::<js_sys::Object>() {
            if let Some(key) = js_sys::Object::keys(object).iter().filter_map(|k| k.as_string()).find(|k| !KEYS.contains(&k.as_str())) {
                return Err(usage(format!("unknown option {key:?}")));
            }
        }
        let options: DecodingOptions = serde_wasm_bindgen::from_value(options).map_err(|e| usage(e.to_string()))?;
        self.recognizer_mut()?.set_decoding(options.into_decoding()).map_err(decoding_error)
    }

    /// Switches to the language of `languageFile`, a finished `PackageFile` of this package (used up).
    #[wasm_bindgen(js_name = setLanguageFile)]
    pub fn set_language_file(&mut self, #[wasm_bindgen(js_name = languageFile)] language_file: PackageFile) -> Result<(), WebError> {
        let (language, file) = language_file.into_loaded()?;
        let mut recognizer = self.recognizer_mut()?;
        let language = file.into_language(recognizer.config(), &language)?;
        recognizer.set_language(language);
        Ok(())
    }

    /// The current language's name.
    #[wasm_bindgen(getter)]
    pub fn language(&self) -> Option<String> {
        self.recognizer.borrow().language().map(str::to_string)
    }

    /// Every language the package has.
    #[wasm_bindgen(getter)]
    pub fn languages(&self) -> Vec<String> {
        self.manifest.languages.keys().cloned().collect()
    }

    /// Long audio is recognised in windows of `chunkSeconds` (at least 1; default 10) that also see
    /// `contextSeconds` of audio on either side (default 2); cutting at pauses is unchanged. Longer
    /// windows recompute less context, but attention's cost grows with the square of the window.
    #[wasm_bindgen(js_name = setChunking)]
    pub fn set_chunking(
        &mut self,
        #[wasm_bindgen(js_name = chunkSeconds)] chunk_seconds: f64,
        #[wasm_bindgen(js_name = contextSeconds)] context_seconds: f64,
    ) -> Result<(), WebError> {
        let chunking = Chunking { chunk_seconds, context_seconds, ..Chunking::default() };
        self.recognizer_mut()?.set_chunking(chunking).map_err(|e| {
            let setting = if e.setting == "chunk_seconds" { "chunkSeconds" } else { "contextSeconds" };
            WebError::settings(format!("{setting} must be a number of seconds from {} to {} (got {})", e.min, e.max, e.value))
        })
    }

    /// Transcribes 16 kHz mono samples. Long audio is recognised in chunks, and `onProgress` (when
    /// given) is called after each with the seconds done and the partial transcript. An exception
    /// thrown by `onProgress` stops the transcription there and is rethrown.
    #[wasm_bindgen(unchecked_return_type = "Transcript")]
    pub fn transcribe(
        &self,
        samples: &[f32],
        #[wasm_bindgen(js_name = onProgress)] on_progress: Option<ProgressCallback>,
    ) -> Result<JsValue, JsValue> {
        let on_progress: Option<&js_sys::Function> = on_progress.as_ref().map(JsCast::unchecked_ref);
        let mut callback_error = None;
        let transcript = self.recognizer.borrow().transcribe_with_progress(samples, |progress| {
            let Some(callback) = on_progress else { return ControlFlow::Continue(()) };
            let report = ProgressReport {
                done_seconds: progress.done_seconds,
                total_seconds: progress.total_seconds,
                partial: &progress.partial,
            };
            match to_js(&report).map_err(JsValue::from).and_then(|r| callback.call1(&JsValue::NULL, &r)) {
                Ok(_) => ControlFlow::Continue(()),
                Err(error) => {
                    callback_error = Some(error);
                    ControlFlow::Break(())
                }
            }
        });
        match (transcript, callback_error) {
            (_, Some(error)) => Err(error),
            (Err(e), None) => Err(WebError::from(e).into()),
            (Ok(transcript), None) => Ok(to_js(&transcript)?),
        }
    }
}

/// The recognizer's two halves apart, for other decoders and for measuring each.
#[wasm_bindgen(js_class = Recognizer)]
impl WebRecognizer {
    /// The CTC logits of 16 kHz mono samples: frames × `labelCount` values, row by row.
    pub fn logits(&self, samples: &[f32]) -> Result<Vec<f32>, WebError> {
        Ok(self.recognizer.borrow().logits(samples)?.flatten_all()?.to_vec1()?)
    }

    /// Labels per frame of `logits`: the current language's vocabulary size.
    #[wasm_bindgen(getter, js_name = labelCount)]
    pub fn label_count(&self) -> usize {
        self.recognizer.borrow().label_count()
    }

    /// Decodes `logits` (from `logits`, or of the same shape) as one piece (see `setDecoding`): what
    /// `transcribe` gives for audio it does not cut at a pause.
    #[wasm_bindgen(unchecked_return_type = "Transcript")]
    pub fn decode(&self, logits: &[f32]) -> Result<JsValue, WebError> {
        let recognizer = self.recognizer.borrow();
        let labels = recognizer.label_count();
        if logits.is_empty() || !logits.len().is_multiple_of(labels) {
            return Err(WebError::settings(format!(
                "decode takes frames × {labels} logits; got {} values",
                logits.len()
            )));
        }
        let logits = candle_core::Tensor::from_slice(logits, (logits.len() / labels, labels), &candle_core::Device::Cpu)?;
        to_js(&recognizer.decode(&logits)?)
    }
}

/// Live recognition.
#[wasm_bindgen(js_class = Recognizer)]
impl WebRecognizer {
    /// A stream for audio that arrives in pieces (see `RecognizerStream`), with the current chunking
    /// and decoding: `live` for a microphone (partial text after every push, from short windows),
    /// otherwise for a file read in slices (each piece recognised once, as `transcribe` does).
    #[wasm_bindgen(js_name = startStream)]
    pub fn start_stream(&self, live: Option<bool>) -> Result<RecognizerStream, WebError> {
        let recognizer = self.recognizer.borrow();
        let stream = if live == Some(true) { recognizer.start_live_stream(crate::LiveWindows::default())? } else { recognizer.start_stream()? };
        Ok(RecognizerStream { recognizer: Rc::clone(&self.recognizer), stream: Some(stream) })
    }

    /// The recognizer for a change; a change while it is in use (from a callback of `transcribe`)
    /// is refused.
    fn recognizer_mut(&self) -> Result<RefMut<'_, crate::Recognizer>, WebError> {
        self.recognizer
            .try_borrow_mut()
            .map_err(|_| WebError::settings("the recognizer cannot be changed while it is transcribing (from a progress callback)"))
    }
}

/// Audio recognised as it arrives: `push` 16 kHz mono samples (any number) as they come, which
/// returns the pieces that a pause (or the maximum piece length) finished and, for a live stream, the
/// open piece's text so far (null otherwise); `finish` returns the rest. A file stream gives the text
/// and word times `transcribe` gives for the whole recording; a live stream's cost per push does not
/// grow with the recording (the library's `streaming` module says how). A language switch on the
/// recognizer applies from the next push; chunking and decoding stay as they were when the stream
/// started.
#[wasm_bindgen]
pub struct RecognizerStream {
    recognizer: Rc<RefCell<crate::Recognizer>>,
    /// `None` once finished.
    stream: Option<crate::Stream>,
}

#[wasm_bindgen]
impl RecognizerStream {
    /// The next samples: `{final, partial}`, the pieces they finished and the open piece's text (null
    /// for a file stream).
    #[wasm_bindgen(unchecked_return_type = "StreamUpdate")]
    pub fn push(&mut self, samples: &[f32]) -> Result<JsValue, WebError> {
        let stream = self.stream.as_mut().ok_or_else(finished)?;
        let update = stream.push(&self.recognizer.borrow(), samples)?;
        to_js(&StreamUpdateJs { r#final: &update.finals, partial: &update.partial })
    }

    /// Ends the stream, after its last `samples` where given: the pieces `push` has not returned
    /// yet, the open one last. The stream cannot be pushed to afterwards.
    #[wasm_bindgen(unchecked_return_type = "Segment[]")]
    pub fn finish(&mut self, samples: Option<Vec<f32>>) -> Result<JsValue, WebError> {
        let stream = self.stream.take().ok_or_else(finished)?;
        to_js(&stream.finish_with(&self.recognizer.borrow(), samples.as_deref().unwrap_or_default())?)
    }

    /// Seconds of audio pushed so far.
    #[wasm_bindgen(getter)]
    pub fn seconds(&self) -> f64 {
        self.stream.as_ref().map_or(0.0, crate::Stream::seconds)
    }

    /// Samples the stream holds: its open piece and the second after its last cut, never more than
    /// the maximum piece length (20 s), a second and one push.
    #[wasm_bindgen(getter, js_name = heldSamples)]
    pub fn held_samples(&self) -> usize {
        self.stream.as_ref().map_or(0, crate::Stream::held_samples)
    }
}

fn finished() -> WebError {
    WebError::settings("this stream was finished; start another with recognizer.startStream()")
}

#[derive(Serialize)]
struct StreamUpdateJs<'a> {
    r#final: &'a [Segment],
    partial: &'a Option<Segment>,
}

/// One file of a package given to the recognizer in pieces as it is read (from the Cache API or the
/// network), so the page never holds the whole file: `push` each piece in order, then `finish`, which
/// checks size and sha256 against the manifest, then hand it to `Recognizer.fromFiles` or
/// `setLanguageFile`. Each tensor is converted as soon as its bytes are in.
#[wasm_bindgen]
pub struct PackageFile {
    /// The language the file is for; `None` for the base.
    language: Option<String>,
    state: FileState,
}

enum FileState {
    Loading(FileLoader),
    Loaded(LoadedFile),
    /// After `finish` failed.
    Failed,
}

#[wasm_bindgen]
impl PackageFile {
    /// The base file of the package whose `model.json` text is `manifest`. With `stored` true, the
    /// bytes are a copy that was verified before it was stored, and only its size is checked.
    pub fn base(manifest: &str, stored: Option<bool>) -> Result<PackageFile, WebError> {
        let manifest = Manifest::from_json(manifest.as_bytes())?;
        Ok(Self { language: None, state: FileState::Loading(loader(&manifest.base, stored)) })
    }

    /// `language`'s file (the default language's when omitted) of the package whose `model.json` text
    /// is `manifest`; `stored` as for `base`.
    pub fn language(manifest: &str, language: Option<String>, stored: Option<bool>) -> Result<PackageFile, WebError> {
        let manifest = Manifest::from_json(manifest.as_bytes())?;
        let (language, entry) = manifest.language_entry(language.as_deref())?;
        Ok(Self { language: Some(language.to_string()), state: FileState::Loading(loader(entry, stored)) })
    }

    /// The word LM file of `language` (the default language's when omitted) of the package whose
    /// `model.json` text is `manifest`; `stored` as for `base`. Throws when that language has none.
    #[wasm_bindgen(js_name = languageModel)]
    pub fn language_model(manifest: &str, language: Option<String>, stored: Option<bool>) -> Result<PackageFile, WebError> {
        let manifest = Manifest::from_json(manifest.as_bytes())?;
        let (language, _) = manifest.language_entry(language.as_deref())?;
        let entry = manifest
            .language_model_entry(Some(language))
            .ok_or_else(|| WebError::settings(format!("this package has no word LM for {language:?} (model.json lists none)")))?;
        Ok(Self { language: Some(language.to_string()), state: FileState::Loading(loader(entry, stored)) })
    }

    /// The file's next bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        if let FileState::Loading(loader) = &mut self.state {
            loader.push(chunk);
        }
    }

    /// Whether more bytes were pushed than the manifest says the file has (`finish` will fail).
    #[wasm_bindgen(getter, js_name = isOverlong)]
    pub fn is_overlong(&self) -> bool {
        matches!(&self.state, FileState::Loading(loader) if loader.is_overlong())
    }

    /// Checks the file against its manifest entry and completes it. A file whose size or sha256 does
    /// not match (a damaged download) throws an `Error` named "FileMismatch"; one that does not hold a
    /// valid model throws an `Error` of kind "corrupt", "format" or "version".
    pub fn finish(&mut self) -> Result<(), WebError> {
        let FileState::Loading(loader) = std::mem::replace(&mut self.state, FileState::Failed) else {
            return Err(WebError::settings("PackageFile.finish was already called"));
        };
        self.state = FileState::Loaded(loader.finish()?);
        Ok(())
    }
}

fn loader(entry: &package::FileEntry, stored: Option<bool>) -> FileLoader {
    if stored == Some(true) {
        FileLoader::verified_before(entry)
    } else {
        FileLoader::new(entry)
    }
}

impl PackageFile {
    fn into_loaded(self) -> Result<(String, LoadedFile), WebError> {
        match self.state {
            FileState::Loaded(loaded) => Ok((self.language.unwrap_or_default(), loaded)),
            _ => Err(WebError::settings("a PackageFile must be finished before the recognizer takes it")),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecodingOptions {
    language_model: Option<bool>,
    beam: Option<u32>,
    lm_weight: Option<f32>,
    word_bonus: Option<f32>,
    unknown_word_penalty: Option<f32>,
}

impl DecodingOptions {
    fn into_decoding(self) -> Decoding {
        let defaults = BeamOptions::default();
        let beam = self.beam.map_or(defaults.beam_width, |beam| beam as usize);
        let options = BeamOptions {
            beam_width: beam,
            lm_weight: self.lm_weight.unwrap_or(defaults.lm_weight),
            word_bonus: self.word_bonus.unwrap_or(defaults.word_bonus),
            unknown_word_penalty: self.unknown_word_penalty.unwrap_or(defaults.unknown_word_penalty),
            ..defaults
        };
        match self.language_model {
            Some(false) => Decoding::Greedy,
            _ => Decoding::BeamSearch { options, language_model: true },
        }
    }
}

/// The library's check of beam-search options, in this API's option names.
fn decoding_error(error: BeamOptionError) -> WebError {
    WebError::settings(match error {
        BeamOptionError::BeamWidth => format!("setDecoding: beam must be 1 to {}", BeamOptions::MAX_BEAM_WIDTH),
        BeamOptionError::NotFinite => "setDecoding: lmWeight, wordBonus and unknownWordPenalty must be finite numbers".to_owned(),
        BeamOptionError::UnknownWordReward => "setDecoding: unknownWordPenalty must be at most 0 (a reward would prefer misspellings)".to_owned(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressReport<'a> {
    done_seconds: f64,
    total_seconds: f64,
    partial: &'a Transcript,
}

/// The fields of a transcript that subtitles need, as JS hands them back.
#[derive(Deserialize)]
struct TranscriptFromJs {
    words: Vec<Word>,
    duration: f64,
}

fn transcript_from_js(value: JsValue) -> Result<Transcript, WebError> {
    let transcript: TranscriptFromJs = serde_wasm_bindgen::from_value(value)
        .map_err(|e| WebError::settings(format!("not a transcript (words with text, start and end): {e}")))?;
    Ok(Transcript::from_words(transcript.words, transcript.duration))
}

/// Maps become plain objects, so results survive `postMessage` and `JSON.stringify` unchanged.
fn to_js(value: &impl Serialize) -> Result<JsValue, WebError> {
    Ok(value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
}

/// A failure as JS sees it: an `Error` with the library's message and a `kind`, the name of its
/// [`ErrorKind`] (`js/protocol.js` lists them), so a page offers the right remedy whatever the input
/// path; one for a file that is not its manifest's is also named "FileMismatch" (the loader then
/// downloads it again).
pub struct WebError {
    kind: ErrorKind,
    message: String,
    file_mismatch: bool,
}

impl WebError {
    /// A call with an argument or at a moment the API does not take.
    fn settings(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Settings, message: message.into(), file_mismatch: false }
    }
}

impl From<crate::Error> for WebError {
    fn from(error: crate::Error) -> Self {
        let file_mismatch = matches!(error, crate::Error::FileMismatch { .. });
        Self { kind: error.kind(), message: error.to_string(), file_mismatch }
    }
}

impl From<candle_core::Error> for WebError {
    fn from(error: candle_core::Error) -> Self {
        crate::Error::from(error).into()
    }
}

/// Results that cannot be turned into JS values are the recognizer's fault, not the caller's.
impl From<serde_wasm_bindgen::Error> for WebError {
    fn from(error: serde_wasm_bindgen::Error) -> Self {
        Self { kind: ErrorKind::Recognizer, message: error.to_string(), file_mismatch: false }
    }
}

impl From<WebError> for JsValue {
    fn from(error: WebError) -> Self {
        let js = js_sys::Error::new(&error.message);
        if error.file_mismatch {
            js.set_name("FileMismatch");
        }
        // Setting a property on a fresh Error cannot fail.
        let _ = js_sys::Reflect::set(&js, &"kind".into(), &error.kind.as_str().into());
        js.into()
    }
}

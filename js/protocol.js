// The messages between the page (asr-client.js) and the recognizer's Web Worker (worker.js).
//
// Every request carries an `id`; the worker answers it with any number of `progress` and `partial`
// messages and then exactly one `result` or `error` with the same `id`. Requests are handled one
// at a time, in order.
//
// Every message in both directions also carries `protocol: PROTOCOL_VERSION`. Each side checks it on
// every message, the first included: a page and a worker of different versions of the app (a deploy
// while the page was open, outside the service worker's care) fail with ErrorKind.VERSION, never
// misread each other.
//
// One message is not a request and gets no answer: {type: "abort", target, protocol} asks the worker to
// stop request `target`. It is heard at once, between requests: one that has not started never runs,
// and `transcribe` stops within one slice of its audio; either answers an error of kind ABORTED.
//
// Page → worker
//   {type: "load", id, modelUrl, language?, build?, threads?, oneThread?}
//                                               load a packaged model (URL of its model.json);
//                                                 language defaults to the package's default; build
//                                                 ("simd128", "relaxed", "threads") and threads (the
//                                                 threaded build's workers) to the best this browser
//                                                 runs (wasm-build.js), of the one-thread builds where
//                                                 oneThread
//   {type: "setLanguage", id, language}         switch language, keeping the base model (the new
//                                                 language's word language model replaces the old one's)
//   {type: "transcribe", id, samples, languageModel?}
//                                               samples: Float32Array, mono, at the rate `load` returned,
//                                                 recognised as offline, through a file stream, a few
//                                                 seconds at a time (so an abort is heard);
//                                                 languageModel: false decodes greedily (letter by
//                                                 letter) though the language has a word language
//                                                 model; by default one that is loaded is used
//   {type: "startStream", id, languageModel?, live?}
//                                               open a stream (any number may be open at once):
//                                                 live for a microphone (partial text after every
//                                                 push), otherwise for a file read in slices (each
//                                                 piece recognised once, no partial text);
//                                                 languageModel as for transcribe
//   {type: "pushStream", id, stream, samples}   the next samples of stream `stream` (Float32Array,
//                                                 mono, at the rate `load` returned; only audio not
//                                                 sent before)
//   {type: "finishStream", id, stream, samples?} end the stream and free it; samples: its last audio,
//                                                 recognised with the rest and no partial text
//   {type: "closeStream", id, stream}           drop the stream (a cancelled recording or file)
//   {type: "subtitles", id, transcript}         SRT and WebVTT of a transcript (one the page corrected:
//                                                 the words' text changed, their times kept)
//
// Worker → page
//   {type: "progress", id, stage, file?, loaded, total}
//       stage "download": bytes of `file` fetched from the server so far, of `total`
//       stage "cache":    bytes of `file` read from this browser's cache (no network), of `total`
//       stage "transcribe": seconds of audio recognised so far, of `total`
//       stage "threads":  the threaded build's workers started, of `total`: 0 before they start, `total`
//                         once they have (the page's client restarts a worker whose threads never
//                         start, see asr-client.js, and does not pass this stage on)
//   {type: "partial", id, transcript}           the transcript of the audio recognised so far
//   {type: "result", id, value}
//       after load / setLanguage: {language, languages, languageModel, sampleRate, quantization, wasm, notice}
//           languageModel: true when the package has a word language model for `language` (loaded,
//           and used unless `transcribe` says otherwise)
//           wasm: {build, threads}, the wasm build the worker runs and how many threads compute
//           notice: null, or {message, key, params} (as an error's): why a downloaded file could not
//           be kept for offline use (the model runs anyway, from the download)
//       after transcribe:         {transcript, srt, vtt}
//       after startStream:        the stream's id, for the requests below
//       after pushStream:         {final: [segment], partial: segment or null}: the pieces of the stream
//                                   these samples finished (a pause closed them; their text is final),
//                                   and for a live stream the text of the open piece after them so far
//                                   (its last words may still change)
//       after closeStream:        null
//       after finishStream:       {final: [segment], transcript, srt, vtt}: the last pieces, and the
//                                   whole stream's transcript (every final piece's words)
//       after subtitles:          {srt, vtt}
//   {type: "error", id, error: {kind, message, key, params}}
//       kind is one of ErrorKind; message is in English, for logs and developers; key and params name
//       the same text in the interface's catalogues (i18n.js), or key is null for an error that the
//       recognizer library reported (it writes English only: the page shows the kind's title in the
//       interface language, and the library's own detail as it wrote it)
//
// A transcript is {text, words: [{text, start, end, confidence}], duration}, times in seconds,
// confidence from 0 to 1 (docs/decoding.md says how it is computed); a segment is a piece of a
// stream, {start, end, text, words}, times in seconds from the stream's start.

import { translate } from "./i18n.js";

/** Raise it with any change to the messages below. */
export const PROTOCOL_VERSION = 10;

/**
 * `url` tagged with the build of the app that serves this package, when it has one: an app that
 * versions its deploys sets `globalThis.SAKHA_ASR_BUILD` before it imports the package (the web app
 * in www/ does, in build-version.js). Its service worker (www/sw.js) answers a tagged request from
 * that build's cache, so an open page keeps starting the worker and worklet it was built with after
 * a newer build is deployed, and the worker's own requests follow its URL. Untagged otherwise
 * (bundlers put hashes in file names instead).
 */
export function ofThisBuild(url) {
  const build = globalThis.SAKHA_ASR_BUILD;
  if (build !== undefined) url.searchParams.set("build", build);
  return url;
}

/** Why a request failed, so the page can offer the right remedy (retry, free space, …). */
export const ErrorKind = Object.freeze({
  /** The server answered 404 for a model file. */
  NOT_FOUND: "not-found",
  /** Another HTTP error status. */
  HTTP: "http",
  /** The connection failed or was lost mid-download; nothing was cached, retrying starts over. */
  NETWORK: "network",
  /** A file did not match the manifest's size and sha256, even after downloading it again. */
  CORRUPT: "corrupt",
  /** model.json is not a sakha-asr package this version can read. */
  FORMAT: "format",
  /** The audio could not be decoded or is unusable (empty, too short). */
  AUDIO: "audio",
  /**
   * Parts made for different versions of sakha-asr: the page and its worker (the app was updated
   * while the page was open: reload), or the model and this recognizer (the message says which is newer).
   */
  VERSION: "version",
  /** A setting or argument out of its bounds (the message names it and its bounds), or a call out of order. */
  SETTINGS: "settings",
  /** The request was aborted (an AbortSignal, or an exception thrown by one of its callbacks). */
  ABORTED: "aborted",
  /** Anything else the recognizer reported. */
  RECOGNIZER: "recognizer",
});

export const Stage = Object.freeze({ DOWNLOAD: "download", CACHE: "cache", TRANSCRIBE: "transcribe", THREADS: "threads" });

/** The catalogue key of each kind's title (i18n.js), as the page and the widget show it. */
const ERROR_TITLES = {
  [ErrorKind.NOT_FOUND]: "title.notFound",
  [ErrorKind.HTTP]: "title.http",
  [ErrorKind.NETWORK]: "title.network",
  [ErrorKind.CORRUPT]: "title.corrupt",
  [ErrorKind.FORMAT]: "title.format",
  [ErrorKind.AUDIO]: "title.audio",
  [ErrorKind.VERSION]: "title.version",
  [ErrorKind.SETTINGS]: "title.settings",
  [ErrorKind.ABORTED]: "title.aborted",
  [ErrorKind.RECOGNIZER]: "title.recognizer",
};

/**
 * An error that crosses the worker boundary with its kind intact. `message` is English; `key` and
 * `params` name the same text in the catalogues (null for the recognizer library's own errors).
 */
export class AsrError extends Error {
  constructor(kind, message, { key = null, params = {} } = {}) {
    super(message);
    this.name = "AsrError";
    this.kind = kind;
    this.key = key;
    this.params = params;
  }

  /** The error whose text is `key` of the catalogues, its message the English one. */
  static of(kind, key, params = {}) {
    return new this(kind, translate("en", key, params), { key, params });
  }

  toMessage() {
    return { kind: this.kind, message: this.message, key: this.key, params: this.params };
  }

  static fromMessage({ kind, message, key, params }) {
    return new AsrError(kind, message, { key, params });
  }
}

/**
 * What to show of `error` (an AsrError, or whatever else a request failed with) in interface language
 * `lang`: {title, message}. The recognizer library's errors keep their English detail: it names
 * files, fields and numbers of a package, which only the translated title explains.
 */
export function errorText(lang, error) {
  return { title: translate(lang, ERROR_TITLES[error?.kind] ?? "title.unknown"), message: localMessage(lang, error) };
}

/** A notice's or an error's text in `lang`: its catalogue text where it has one, else its message. */
export function localMessage(lang, { key, params, message } = {}) {
  return key ? translate(lang, key, params) : (message ?? "");
}

/** The error either side reports for a message of another protocol version than its own. */
export function versionMismatch(pageProtocol, workerProtocol) {
  return AsrError.of(ErrorKind.VERSION, "error.versionMismatch", { page: pageProtocol ?? "none", worker: workerProtocol ?? "none" });
}

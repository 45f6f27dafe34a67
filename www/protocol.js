// The messages between the page (asr-client.js) and the recognizer's Web Worker (worker.js).
//
// Every request carries an `id`; the worker answers it with any number of `progress` and `partial`
// messages and then exactly one `result` or `error` with the same `id`. Requests are handled one
// at a time, in order.
//
// Page → worker
//   {type: "load", id, modelUrl, language?}     load a packaged model (URL of its model.json);
//                                                 language defaults to the package's default
//   {type: "setLanguage", id, language}         switch language, keeping the base model
//   {type: "transcribe", id, samples}           samples: Float32Array, mono, at the rate `load` returned
//
// Worker → page
//   {type: "progress", id, stage, file?, loaded, total}
//       stage "download": bytes of `file` fetched from the server so far, of `total`
//       stage "cache":    bytes of `file` read from this browser's cache (no network), of `total`
//       stage "transcribe": seconds of audio recognised so far, of `total`
//   {type: "partial", id, transcript}           the transcript of the audio recognised so far
//   {type: "result", id, value}
//       after load / setLanguage: {language, languages, sampleRate, quantization}
//       after transcribe:         {transcript, srt, vtt}
//   {type: "error", id, error: {kind, message}}  kind is one of ErrorKind; message is for people
//
// A transcript is {text, words: [{text, start, end}], duration}, times in seconds.

/** Why a request failed, so the page can offer the right remedy (retry, free space, …). */
export const ErrorKind = Object.freeze({
  /** The server answered 404 for a model file. */
  NOT_FOUND: "not-found",
  /** Another HTTP error status. */
  HTTP: "http",
  /** The connection failed or was lost mid-download; nothing was cached, retrying starts over. */
  NETWORK: "network",
  /** Not enough storage to cache the model; the message says how much is needed. */
  QUOTA: "quota",
  /** A file did not match the manifest's size and sha256, even after downloading it again. */
  CORRUPT: "corrupt",
  /** model.json is not a sakha-asr package this version can read. */
  FORMAT: "format",
  /** The audio could not be decoded or is unusable (empty, too short). */
  AUDIO: "audio",
  /** Anything else the recognizer reported. */
  RECOGNIZER: "recognizer",
});

export const Stage = Object.freeze({ DOWNLOAD: "download", CACHE: "cache", TRANSCRIBE: "transcribe" });

/** An error that crosses the worker boundary with its kind intact. */
export class AsrError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "AsrError";
    this.kind = kind;
  }

  toMessage() {
    return { kind: this.kind, message: this.message };
  }

  static fromMessage({ kind, message }) {
    return new AsrError(kind, message);
  }
}

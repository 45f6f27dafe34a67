// sakha-asr's high-level API: a packaged model loaded into a module worker of its own (downloaded
// once, verified against model.json, kept in the browser's Cache API), then files, blobs, samples
// or the microphone transcribed there, so the page never blocks.
//
//   import { load } from "sakha-asr";
//   const asr = await load("/models/default/model.json", { onProgress: (p) => … });
//   const { transcript, srt, vtt } = await asr.transcribe(file);
//
// The <sakha-asr> element is one import away (`import "sakha-asr/element"`), the wasm recognizer
// itself another (`sakha-asr/recognizer`). Types: index.d.ts.

import { AsrClient } from "./asr-client.js";
import { decodeFile, transcribeFile } from "./file-pieces.js";
import { LiveRecording } from "./live-recording.js";
import { AsrError, ErrorKind, localMessage } from "./protocol.js";
import { resample } from "./stream-resampler.js";

export { LANGUAGES, formatSize, interfaceLanguage, preferredLanguage, translate } from "./i18n.js";
export { clearModelCache } from "./model-loader.js";
export { AsrError, ErrorKind, Stage, errorText } from "./protocol.js";
export { WasmBuild, describeWasm } from "./wasm-build.js";

/**
 * Loads the package whose model.json is at `manifestUrl` (relative to the page) in a new worker and
 * resolves to a Transcriber once it is ready. Options: `language` (default: the package's),
 * `onProgress({stage, file, loaded, total})`, `build` and `threads` (which wasm build runs, and on how
 * many threads; default: the best this browser runs), `signal` (an AbortSignal: aborting stops the
 * worker and its downloads at once, and the load fails with the signal's reason). Fails otherwise
 * with an AsrError whose `kind` says why.
 */
export async function load(manifestUrl, { language, build, threads, onProgress, signal } = {}) {
  signal?.throwIfAborted();
  const client = new AsrClient();
  const abort = () => client.dispose();
  signal?.addEventListener("abort", abort, { once: true });
  try {
    return new Transcriber(client, await client.load(manifestUrl, { language, build, threads, onProgress }));
  } catch (e) {
    client.dispose();
    // As fetch does: an aborted load fails with the signal's reason (an "AbortError" by default).
    throw signal?.aborted ? signal.reason : e;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}

/** A loaded model in its worker. Requests run one after another, in the order they were made. */
export class Transcriber {
  #client;
  #model;

  constructor(client, model) {
    this.#client = client;
    this.#model = model;
  }

  /** The language in use, the package's languages, and whether the language has a word LM. */
  get language() {
    return this.#model.language;
  }

  get languages() {
    return this.#model.languages;
  }

  get languageModel() {
    return this.#model.languageModel;
  }

  /** The rate the recognizer hears (16 000 Hz). */
  get sampleRate() {
    return this.#model.sampleRate;
  }

  /** The package's quantization, e.g. "q8_0". */
  get quantization() {
    return this.#model.quantization;
  }

  /** The wasm build that runs and its threads: {build, threads}. */
  get wasm() {
    return this.#model.wasm;
  }

  /** Null, or for people, in English: why a downloaded file could not be kept for offline use. */
  get notice() {
    return this.#model.notice?.message ?? null;
  }

  /** The notice in interface language `lang` (i18n.js: "sah", "ru", "en"), or null. */
  localNotice(lang) {
    return this.#model.notice && localMessage(lang, this.#model.notice);
  }

  /**
   * Transcribes `input`: a File or Blob holding an audio file in any format the browser decodes, an
   * ArrayBuffer of such a file, or mono samples (Float32Array) at `sampleRate` (default: the
   * recognizer's; another rate is resampled). Buffers and samples are copied, not taken. `languageModel`:
   * false decodes letter by letter though the language has a word LM. Resolves to
   * {transcript: {text, words: [{text, start, end, confidence}], duration}, srt, vtt}. `signal` (an AbortSignal):
   * aborting rejects at once with its reason, as fetch does, and the worker stops within a few
   * seconds of audio, ready for the next request; so does an exception thrown by a callback.
   */
  async transcribe(input, { sampleRate, languageModel = true, onProgress, onPartial, signal } = {}) {
    signal?.throwIfAborted();
    const options = { languageModel, onProgress, onPartial, signal };
    // A file is read and recognised piece by piece where the format allows (file-pieces.js).
    if (input instanceof Blob) return transcribeFile(this.#client, input, this.sampleRate, options);
    const samples = await this.#samples(input, sampleRate);
    signal?.throwIfAborted();
    return this.#client.transcribe(samples, options);
  }

  /**
   * Records from the microphone with a live transcript: `onPartial(transcript, partial)` as it grows
   * (the last `partial.words` are the open piece's, which may still change), `onTick(seconds)` a few
   * times a second. Only new audio goes to the worker's stream. Resolves, once the microphone is
   * open, to a recording whose `stop()` resolves to the whole recording's transcription (as
   * `transcribe` gives it for the same samples) and its audio, `audio`: a WAV Blob of the samples the
   * recognizer heard (mono, 16-bit, at `sampleRate`), and whose `cancel()` drops it. Aborting `signal`
   * (an AbortSignal) cancels the recording, or its start: the microphone is let go, and `stop()`
   * rejects with the signal's reason.
   */
  async startLive({ languageModel = true, onPartial, onTick, signal } = {}) {
    const recording = await LiveRecording.start(this.#client, this.sampleRate, { languageModel, onPartial, onTick, signal });
    return { stop: () => recording.stop(), cancel: () => recording.cancel() };
  }

  /**
   * Resolves to {srt, vtt}, the subtitles `transcribe` gives, of `transcript`: say, one whose words a
   * person corrected (their times kept).
   */
  subtitles(transcript) {
    return this.#client.subtitles(transcript);
  }

  /** Switches language, keeping the base model; resolves when the new language is ready. */
  async setLanguage(language, { onProgress } = {}) {
    this.#model = await this.#client.setLanguage(language, { onProgress });
  }

  /** Stops the worker and frees the model; pending requests fail. */
  dispose() {
    this.#client.dispose();
  }

  async #samples(input, sampleRate = this.sampleRate) {
    // decodeAudioData takes (detaches) the buffer it is given: the caller's stays theirs.
    if (input instanceof ArrayBuffer) return decodeFile(input.slice(0), this.sampleRate);
    if (input instanceof Float32Array) {
      if (!(sampleRate > 0 && Number.isInteger(sampleRate))) {
        throw AsrError.of(ErrorKind.AUDIO, "error.sampleRate", { value: sampleRate });
      }
      // A copy: the worker takes the array it is given, and the caller's stays theirs.
      return resample(input, sampleRate, this.sampleRate);
    }
    throw AsrError.of(ErrorKind.AUDIO, "error.transcribeInput");
  }
}

// The page's side of the recognizer: runs worker.js and turns its messages (protocol.js) into
// promises and callbacks. Used by the app (app.js) and the widget (widget.js).

import { AsrError, ErrorKind, PROTOCOL_VERSION, Stage, ofThisBuild, versionMismatch } from "./protocol.js";

/** Named apart from `new URL(…)`, which bundlers would otherwise copy as a raw, unbundled asset. */
const WORKER_FILE = "./worker.js";

/**
 * How long the threaded build's workers may take to start (they take well under a second), and how
 * often a worker is started afresh when they do not. Firefox 153, on a busy machine, now and then
 * never returns from `new Worker()` inside the recognizer's worker (scripts/firefox-thread-starts.mjs):
 * that worker is stuck for good, and only terminating it frees the page.
 */
const THREADS_START_MS = 10_000;
const THREADS_START_ATTEMPTS = 2;

/** A worker terminated because its threads did not start within THREADS_START_MS. */
class ThreadsStalled extends AsrError {}

export class AsrClient {
  #worker = null;
  /** The blob URL the worker started from, when it needed one (see startWorker). */
  #workerObjectUrl = null;
  #pending = new Map();
  #nextId = 1;

  /**
   * Loads the packaged model whose model.json is at `modelUrl`. A fresh worker is started each time,
   * so the memory of a previous model is given back to the system, not just to the wasm heap.
   * `build` and `threads` ask for a wasm build and thread count (wasm-build.js; default: the best
   * this browser runs). Resolves to {language, languages, languageModel, sampleRate, quantization, wasm,
   * notice}; languageModel: whether the language has a word language model (see `transcribe`).
   */
  async load(modelUrl, { language, build, threads, onProgress } = {}) {
    const request = { type: "load", modelUrl: new URL(modelUrl, location.href).href, language, build, threads };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#loadInFreshWorker(request, onProgress);
      } catch (e) {
        if (!(e instanceof ThreadsStalled)) throw e;
        if (attempt < THREADS_START_ATTEMPTS) continue;
        // the build was asked for by name: say so rather than run another
        if (build !== undefined) throw e;
        request.oneThread = true;
      }
    }
  }

  /** `load` once, in a new worker; rejects with ThreadsStalled (and stops it) where its threads stall. */
  #loadInFreshWorker(request, onProgress) {
    this.dispose();
    ({ worker: this.#worker, objectUrl: this.#workerObjectUrl } = startWorker());
    this.#worker.onmessage = ({ data }) => this.#receive(data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(AsrError.of(ErrorKind.RECOGNIZER, "error.workerStart", { detail: event.message ?? "worker error" }));
    };
    let watchdog;
    const stalled = (threads) => () => {
      this.#stop(ThreadsStalled.of(ErrorKind.RECOGNIZER, "error.threadsStalled", { threads, seconds: THREADS_START_MS / 1000 }));
    };
    const progress = (message) => {
      if (message.stage !== Stage.THREADS) return onProgress?.(message);
      clearTimeout(watchdog);
      if (message.loaded < message.total) watchdog = setTimeout(stalled(message.total), THREADS_START_MS);
    };
    return this.#request(request, { onProgress: progress }).finally(() => clearTimeout(watchdog));
  }

  /** Switches language, keeping the base model. Resolves like `load`. */
  setLanguage(language, { onProgress } = {}) {
    return this.#request({ type: "setLanguage", language }, { onProgress });
  }

  /**
   * Transcribes mono samples at the `sampleRate` that `load` returned. The array is moved to the
   * worker (it is empty afterwards). When the language has a word language model (`languageModel` in
   * what `load` resolved to), decoding uses it, unless `languageModel` is false here: then it is greedy,
   * letter by letter, as for a package without one. Resolves to {transcript, srt, vtt}. Aborting
   * `signal`, or an exception thrown by `onProgress` or `onPartial`, rejects at once with its reason
   * and stops the worker within a few seconds of audio; the worker stays ready for what comes next.
   */
  transcribe(samples, { languageModel = true, onProgress, onPartial, signal } = {}) {
    return this.#request({ type: "transcribe", samples, languageModel }, { onProgress, onPartial, signal }, [samples.buffer]);
  }

  /**
   * Opens a stream in the worker and resolves to its id: from now on send the audio as it arrives
   * with `pushStream`, only what was not sent before, and end with `finishStream` (or drop it with
   * `closeStream`). `live`: for a microphone, with partial text after every push; otherwise for a file
   * read in slices, each piece recognised once. `languageModel` as for `transcribe`. Any number of
   * streams may be open at once.
   */
  startStream({ languageModel = true, live = false } = {}) {
    return this.#request({ type: "startStream", languageModel, live });
  }

  /**
   * Stream `stream`'s next mono samples at the `sampleRate` that `load` returned (moved to the worker).
   * Resolves to {final, partial}: the pieces these samples finished (segments {start, end, text,
   * words}, final) and, for a live stream, the open piece's text so far (null otherwise). A push
   * aborted (`signal`) before the worker starts it is dropped; the stream then misses that audio.
   */
  pushStream(stream, samples, { signal } = {}) {
    return this.#request({ type: "pushStream", stream, samples }, { signal }, [samples.buffer]);
  }

  /**
   * Ends a stream, with its last `samples` if given (moved to the worker; no partial text is made for
   * them). Resolves to {final, transcript, srt, vtt}: the last pieces and the whole stream's transcript.
   * Aborted (`signal`) before the worker starts it, the stream stays open: close it.
   */
  finishStream(stream, samples = new Float32Array(0), { signal } = {}) {
    return this.#request({ type: "finishStream", stream, samples }, { signal }, [samples.buffer]);
  }

  /** Drops a stream and what it held. */
  closeStream(stream) {
    return this.#request({ type: "closeStream", stream });
  }

  /** Resolves to {srt, vtt}: subtitles of `transcript` (say, one with corrected words). */
  subtitles(transcript) {
    return this.#request({ type: "subtitles", transcript });
  }

  /** Stops the worker and frees everything it held; pending requests are rejected. */
  dispose() {
    this.#stop(AsrError.of(ErrorKind.RECOGNIZER, "error.stopped"));
  }

  /** Stops the worker; pending requests are rejected with `error`. */
  #stop(error) {
    this.#worker?.terminate();
    this.#worker = null;
    if (this.#workerObjectUrl) URL.revokeObjectURL(this.#workerObjectUrl);
    this.#workerObjectUrl = null;
    this.#failAll(error);
  }

  #request(message, { signal, ...callbacks } = {}, transfer = []) {
    if (!this.#worker) return Promise.reject(AsrError.of(ErrorKind.RECOGNIZER, "error.noModel"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const abort = () => this.#abort(id, signal.reason);
      signal?.addEventListener("abort", abort, { once: true });
      const settled = (settle) => (value) => {
        signal?.removeEventListener("abort", abort);
        settle(value);
      };
      this.#pending.set(id, { resolve: settled(resolve), reject: settled(reject), ...callbacks });
      this.#worker.postMessage({ ...message, id, protocol: PROTOCOL_VERSION }, transfer);
    });
  }

  /** Rejects request `id` with `reason` at once, as fetch does, and asks the worker to stop it. */
  #abort(id, reason) {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    this.#worker?.postMessage({ type: "abort", target: id, protocol: PROTOCOL_VERSION });
    pending.reject(reason);
  }

  /** Calls a request's callback; one that throws aborts the request with what it threw. */
  #callBack(id, callback, value) {
    try {
      callback?.(value);
    } catch (e) {
      this.#abort(id, e);
    }
  }

  #receive(message) {
    if (message.protocol !== PROTOCOL_VERSION) {
      // A worker of another version cannot be trusted with any request: stop it.
      this.#worker?.terminate();
      this.#worker = null;
      this.#failAll(versionMismatch(PROTOCOL_VERSION, message.protocol));
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    switch (message.type) {
      case "progress":
        this.#callBack(message.id, pending.onProgress, message);
        break;
      case "partial":
        this.#callBack(message.id, pending.onPartial, message.transcript);
        break;
      case "result":
        this.#pending.delete(message.id);
        pending.resolve(message.value);
        break;
      case "error":
        this.#pending.delete(message.id);
        pending.reject(AsrError.fromMessage(message.error));
        break;
    }
  }

  #failAll(error) {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}

/**
 * A module worker running worker.js, and the object URL it started from (null if none). Tagged with
 * the app's build where it has one (protocol.js), so that a newer build deployed since the page
 * loaded is not mixed in. When this script was loaded from another origin (the widget embedded in
 * someone else's page), browsers refuse a cross-origin worker URL, so the worker starts from a
 * same-origin blob that imports it (the host must then send CORS headers); the blob's URL is revoked
 * when the worker is disposed of. Otherwise the worker starts in the one form bundlers (Vite, webpack,
 * Parcel) recognise and rewrite to the worker they bundle.
 */
function startWorker() {
  const url = ofThisBuild(new URL(WORKER_FILE, import.meta.url));
  if (url.origin !== location.origin) {
    const shim = new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" });
    const objectUrl = URL.createObjectURL(shim);
    return { worker: new Worker(objectUrl, { type: "module" }), objectUrl };
  }
  if (url.search) return { worker: new Worker(url, { type: "module" }), objectUrl: null };
  return { worker: new Worker(new URL("./worker.js", import.meta.url), { type: "module" }), objectUrl: null };
}

// The recognizer's Web Worker: loads the wasm module and a model, and transcribes, so the page never
// blocks. It speaks the protocol described in protocol.js.

import { openPackage } from "./model-loader.js";
import { AsrError, ErrorKind, PROTOCOL_VERSION, Stage, versionMismatch } from "./protocol.js";
import { transcriptOf } from "./transcript.js";
import { startWasm } from "./wasm-build.js";

// The wasm build this worker runs, {bindings, build, threads}: chosen and started by the first load
// (a page starts a fresh worker for each load), then its bindings under their usual names.
let wasm = null;
let PackageFile, Recognizer, parseManifest, sampleRate, toSrt, toVtt;

/**
 * Seconds of samples a `transcribe` request gives its stream at a time; an `abort` is heard between
 * two, so the model goes on for at most the pieces one slice completes.
 */
const TRANSCRIBE_SLICE_SECONDS = 5;

let modelPackage = null;
let recognizer = null;
// The open streams by id, each {stream: RecognizerStream, words, end}: the words and end of its final
// pieces so far. Each caller (a file being read, a live recording) has its own, so audio never mixes.
const streams = new Map();
let nextStreamId = 1;

const handlers = {
  async load({ modelUrl, language, build, threads, oneThread }, post) {
    const onThreads = (loaded, total) => post.progress({ stage: Stage.THREADS, loaded, total });
    wasm ??= await startWasm({ build, threads, oneThread, onThreads });
    ({ PackageFile, Recognizer, parseManifest, sampleRate, toSrt, toVtt } = wasm.bindings);
    for (const { stream } of streams.values()) stream.free();
    streams.clear();
    recognizer?.free();
    recognizer = null;
    modelPackage = await openPackage(new URL(modelUrl, self.location.href).href, parseManifest);
    const chosen = modelPackage.languageEntry(language);
    const text = modelPackage.manifestText;
    // Each file streams into its PackageFile as it is read: no whole copy of it is held here.
    const { files, notice } = await modelPackage.read(
      [{ entry: modelPackage.manifest.base, open: (stored) => PackageFile.base(text, stored) }, ...languageFiles(chosen)],
      post.progress,
    );
    const [base, languageFile, languageModel] = files;
    recognizer = Recognizer.fromFiles(text, base, languageFile);
    if (languageModel) recognizer.setLanguageModel(languageModel);
    return describe(notice);
  },

  async setLanguage({ language }, post) {
    const chosen = loadedPackage().languageEntry(language);
    const { files, notice } = await modelPackage.read(languageFiles(chosen), post.progress);
    const [languageFile, languageModel] = files;
    // Drops the previous language's word language model.
    loadedRecognizer().setLanguageFile(languageFile);
    if (languageModel) recognizer.setLanguageModel(languageModel);
    return describe(notice);
  },

  async transcribe({ id, samples, languageModel }, post) {
    // Through a file stream, which gives offline recognition's text: a slice at a time, so that an
    // `abort` of this request is heard between two slices.
    const open = openStream(languageModel, false);
    try {
      const rate = sampleRate();
      const slice = TRANSCRIBE_SLICE_SECONDS * rate;
      const total = samples.length / rate;
      for (let start = 0; start < samples.length; start += slice) {
        await otherMessagesHeard();
        if (aborted.has(id)) throw abortedAt(open.end, total);
        const update = open.stream.push(samples.subarray(start, start + slice));
        keep(open, update.final);
        post.progress({ stage: Stage.TRANSCRIBE, loaded: open.end, total });
        if (update.final.length) post.partial(streamTranscript(open));
      }
      keep(open, open.stream.finish());
      const transcript = streamTranscript(open);
      return { transcript, srt: toSrt(transcript), vtt: toVtt(transcript) };
    } finally {
      open.stream.free();
    }
  },

  startStream({ languageModel, live }) {
    const id = nextStreamId++;
    streams.set(id, openStream(languageModel, live === true));
    return id;
  },

  pushStream({ stream: id, samples }) {
    const open = streamOf(id);
    const update = open.stream.push(samples);
    keep(open, update.final);
    return update;
  },

  finishStream({ stream: id, samples }) {
    const open = streamOf(id);
    streams.delete(id);
    try {
      const final = open.stream.finish(samples ?? new Float32Array(0));
      keep(open, final);
      const transcript = streamTranscript(open);
      return { final, transcript, srt: toSrt(transcript), vtt: toVtt(transcript) };
    } finally {
      open.stream.free();
    }
  },

  closeStream({ stream: id }) {
    streams.get(id)?.stream.free();
    streams.delete(id);
    return null;
  },

  subtitles({ transcript }) {
    loadedRecognizer();
    return { srt: toSrt(transcript), vtt: toVtt(transcript) };
  },
};

/**
 * A stream of its own: `live` for a microphone (partial text after every push), otherwise for a file
 * or `transcribe`'s samples (each piece recognised once, as offline).
 */
function openStream(languageModel, live) {
  // Without a word language model decoding is greedy anyway.
  if (loadedRecognizer().hasLanguageModel) recognizer.setDecoding({ languageModel: languageModel !== false });
  return { stream: recognizer.startStream(live), words: [], end: 0 };
}

/** As offline `transcribe` gives it for the same samples: the pieces' words, the duration the frames cover. */
function streamTranscript(open) {
  return transcriptOf(open.words, open.end);
}

function keep(open, segments) {
  for (const segment of segments) {
    open.words.push(...segment.words);
    open.end = segment.end;
  }
}

function streamOf(id) {
  const open = streams.get(id);
  if (!open) throw AsrError.of(ErrorKind.RECOGNIZER, "error.noStream", { stream: id });
  return open;
}

/**
 * The files of one language for ModelPackage.read: its adapter file and, when the package has one,
 * its word language model.
 */
function languageFiles({ name, entry }) {
  const text = modelPackage.manifestText;
  const files = [{ entry, open: (stored) => PackageFile.language(text, name, stored) }];
  const languageModel = modelPackage.languageModelEntry(name);
  if (languageModel) files.push({ entry: languageModel, open: (stored) => PackageFile.languageModel(text, name, stored) });
  return files;
}

function describe(notice) {
  return {
    language: recognizer.language,
    languages: recognizer.languages,
    languageModel: recognizer.hasLanguageModel,
    sampleRate: sampleRate(),
    quantization: modelPackage.manifest.quantization,
    wasm: { build: wasm.build, threads: wasm.threads },
    notice,
  };
}

function loadedPackage() {
  if (!modelPackage) throw AsrError.of(ErrorKind.RECOGNIZER, "error.noModel");
  return modelPackage;
}

function loadedRecognizer() {
  if (!recognizer) throw AsrError.of(ErrorKind.RECOGNIZER, "error.noModel");
  return recognizer;
}

/** What an aborted request answers: how far it had come, for the page's logs and tests. */
function abortedAt(seconds, total) {
  return AsrError.of(ErrorKind.ABORTED, "error.abortedAfter", { seconds, total });
}

/** Resolves once the messages that arrived meanwhile (an `abort`) have been handled. */
function otherMessagesHeard() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function asAsrError(e) {
  if (e instanceof AsrError) return e;
  if (e instanceof WebAssembly.RuntimeError) {
    // The wasm instance is unusable after a trap (most often: out of memory).
    recognizer = null;
    streams.clear();
    return AsrError.of(ErrorKind.RECOGNIZER, "error.crashed", { detail: e.message });
  }
  // The library's errors carry the kind of remedy they call for (crate/src/error.rs, ErrorKind), and an
  // English message only: no catalogue key (protocol.js).
  const kind = Object.values(ErrorKind).includes(e?.kind) ? e.kind : ErrorKind.RECOGNIZER;
  return new AsrError(kind, e?.message ?? String(e));
}

// Requests run strictly one after another, in arrival order; `abort` is heard at once.
let queue = Promise.resolve();
// The requests asked to stop: one that has not started never runs, `transcribe` stops between slices.
const aborted = new Set();

self.onmessage = ({ data: request }) => {
  const { type, id } = request;
  if (type === "abort" && request.protocol === PROTOCOL_VERSION) {
    aborted.add(request.target);
    return;
  }
  const reply = (message) => self.postMessage({ ...message, id, protocol: PROTOCOL_VERSION });
  const post = {
    progress: (progress) => reply({ type: "progress", ...progress }),
    partial: (transcript) => reply({ type: "partial", transcript }),
  };
  queue = queue.then(async () => {
    try {
      if (request.protocol !== PROTOCOL_VERSION) throw versionMismatch(request.protocol, PROTOCOL_VERSION);
      const handler = handlers[type];
      if (!handler) throw AsrError.of(ErrorKind.RECOGNIZER, "error.unknownRequest", { type });
      if (aborted.has(id)) throw AsrError.of(ErrorKind.ABORTED, "error.abortedBeforeStart");
      reply({ type: "result", value: await handler(request, post) });
    } catch (e) {
      reply({ type: "error", error: asAsrError(e).toMessage() });
    } finally {
      aborted.delete(id);
    }
  });
};

// The page: model and language choice, audio from files or the microphone, progress, the transcript
// and its downloads. The recognizer itself runs in a worker, through the npm package's API
// (pkg/index.js), as on any site that installs it.

// First: the package tags the worker and worklet it starts with this build (pkg/protocol.js).
import "./build-version.js";
import { ErrorKind, Stage, clearModelCache, describeWasm, formatSize, load } from "./pkg/index.js";

const $ = (id) => document.getElementById(id);
const BUILD = globalThis.SAKHA_ASR_BUILD;

const ERROR_TITLES = {
  [ErrorKind.NOT_FOUND]: "Model file not found",
  [ErrorKind.HTTP]: "Download failed",
  [ErrorKind.NETWORK]: "Connection lost",
  [ErrorKind.CORRUPT]: "Corrupt model file",
  [ErrorKind.FORMAT]: "This model cannot be used",
  [ErrorKind.AUDIO]: "Cannot use this audio",
  [ErrorKind.VERSION]: "Versions do not match",
  [ErrorKind.SETTINGS]: "Setting out of range",
  [ErrorKind.ABORTED]: "Stopped",
  [ErrorKind.RECOGNIZER]: "Recognition failed",
};

let model = null; // the loaded model, a Transcriber: {language, languages, languageModel, quantization, wasm, notice, …}
let loading = null; // aborts the load under way
let result = null; // the last finished transcription: {transcript, srt, vtt, name}
let recording = null; // a LiveRecording while the microphone is on
let languageModelWanted = true; // the language model switch as the user left it: on unless turned off

const params = new URLSearchParams(location.search);

registerServiceWorker();
setUpModelForm();
setUpAudioInputs();
setUpTranscriptActions();
loadModel();

function registerServiceWorker() {
  if (!("serviceWorker" in navigator && location.protocol.startsWith("http"))) return;
  // "none": the browser looks for a new build (sw.js and the build-version.js it imports) past the
  // HTTP cache, so a deploy is seen at the next navigation.
  navigator.serviceWorker
    .register("sw.js", { updateViaCache: "none" })
    .then(() => navigator.serviceWorker.ready)
    // The service worker keeps this build's files for as long as a page of that build is open.
    .then((registration) => registration.active.postMessage({ type: "page-build", build: BUILD }))
    .catch((e) => console.warn("Offline support unavailable:", e));
}

function modelUrl() {
  const choice = $("model-select").value;
  return choice === "custom" ? $("custom-model-url").value.trim() : choice;
}

function setUpModelForm() {
  const fromQuery = params.get("model");
  if (fromQuery) {
    $("model-select").value = "custom";
    $("custom-model-url").value = fromQuery;
  }
  const showCustom = () => ($("custom-model-label").hidden = $("model-select").value !== "custom");
  showCustom();
  $("model-select").addEventListener("change", () => {
    showCustom();
    if ($("model-select").value !== "custom") loadModel();
  });
  $("model-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadModel();
  });
  $("language-select").addEventListener("change", () => switchLanguage($("language-select").value));
  // Decoding is chosen per transcription: the loaded model stays as it is.
  $("lm-switch").addEventListener("change", () => {
    languageModelWanted = $("lm-switch").checked;
    showLanguageModel();
  });
  $("clear-models").addEventListener("click", async () => {
    await clearModelCache();
    $("model-status").textContent = "Downloaded models removed from this browser; they download again when next loaded.";
  });
}

async function loadModel({ language = params.get("lang") ?? undefined } = {}) {
  const url = modelUrl();
  if (!url) return;
  // One model at a time: the previous one's worker, or a load under way, stops first.
  loading?.abort();
  model?.dispose();
  model = null;
  const { signal } = (loading = new AbortController());
  clearError();
  showNotice(null);
  setModelState("loading", "Loading the model…");
  const downloaded = new Map(); // file → bytes, for the status line
  try {
    // ?wasm=simd128|relaxed|threads and ?threads=N pick the wasm build (comparisons, benchmarks).
    const build = params.get("wasm") ?? undefined;
    const threads = params.has("threads") ? Number(params.get("threads")) : undefined;
    const loaded = await load(url, { language, build, threads, signal, onProgress: (p) => showLoadProgress(p, downloaded) });
    // Overtaken by a newer load just after it finished: too late for the abort to stop its worker.
    if (signal.aborted) return loaded.dispose();
    model = loaded;
    $("wasm-build").textContent = `Running on ${describeWasm(model.wasm)}.`;
    fillLanguages();
    // Keeps the stored model from being evicted under storage pressure (and Safari's 7-day purge).
    // Asked here rather than in the widget, whose host page may not want a permission prompt.
    navigator.storage?.persist?.().catch(() => {});
    const bytes = [...downloaded.values()].reduce((sum, n) => sum + n, 0);
    const kept = model.notice ? "not stored on this device" : "now stored for offline use";
    const source = bytes ? `downloaded ${formatSize(bytes)}, ${kept}` : "from this device, no download";
    setModelState("ready", `Ready: ${url} · ${model.language} · ${model.quantization} (${source}).`);
    showNotice(model.notice);
  } catch (e) {
    // Overtaken by a newer load, which reports for itself.
    if (signal.aborted) return;
    setModelState("failed", "No model loaded.");
    showError(e, e.kind === ErrorKind.VERSION ? () => location.reload() : loadModel);
  } finally {
    if (!signal.aborted) $("download-progress").hidden = $("cache-progress").hidden = true;
  }
}

async function switchLanguage(language) {
  clearError();
  showNotice(null);
  setModelState("loading", `Switching to ${language}…`);
  try {
    await model.setLanguage(language, { onProgress: showLoadProgress });
    setModelState("ready", `Ready: ${modelUrl()} · ${model.language} · ${model.quantization}.`);
    showNotice(model.notice);
  } catch (e) {
    setModelState("ready", `Still using ${model.language}.`);
    $("language-select").value = model.language;
    showError(e, () => switchLanguage(language));
  } finally {
    $("download-progress").hidden = $("cache-progress").hidden = true;
  }
}

function setModelState(state, message) {
  document.body.dataset.model = state;
  $("model-status").textContent = message;
  const ready = state === "ready";
  $("record-button").disabled = !ready && !recording;
  $("drop-zone").classList.toggle("disabled", !ready);
  $("file-input").disabled = !ready;
  $("language-select").disabled = !ready || model.languages.length < 2;
  $("load-button").disabled = state === "loading";
  showLanguageModel();
}

/** The language model switch: on by default when the loaded language has one; off and disabled, and why, when not. */
function showLanguageModel() {
  const available = Boolean(model?.languageModel);
  const toggle = $("lm-switch");
  toggle.checked = available && languageModelWanted;
  toggle.disabled = !available || document.body.dataset.model !== "ready";
  let hint = "";
  if (model && !available) {
    hint = `This model has no language model for ${model.language}: words are spelled letter by letter.`;
  } else if (model) {
    hint = toggle.checked
      ? "Words are chosen with the help of a word list and word-pair statistics (beam search)."
      : "Off: words are spelled letter by letter, as the acoustic model hears them (greedy).";
  }
  $("lm-hint").textContent = hint;
}

function fillLanguages() {
  const select = $("language-select");
  select.replaceChildren(...model.languages.map((name) => new Option(name, name, false, name === model.language)));
}

function showLoadProgress({ stage, file, loaded, total }, downloaded) {
  const bar = $(stage === Stage.DOWNLOAD ? "download-progress" : "cache-progress");
  bar.hidden = false;
  bar.querySelector("progress").value = total ? loaded / total : 0;
  bar.querySelector(".progress-detail").textContent = `${file}: ${formatSize(loaded)} of ${formatSize(total)}`;
  if (stage === Stage.DOWNLOAD && loaded === total) downloaded?.set(file, total);
}

function setUpAudioInputs() {
  $("file-input").addEventListener("change", () => {
    const [file] = $("file-input").files;
    $("file-input").value = "";
    if (file) transcribeFile(file);
  });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const [file] = event.dataTransfer.files;
    if (file && model) transcribeFile(file);
  });
  $("record-button").addEventListener("click", () => (recording ? stopRecording() : startRecording()));
}

async function transcribeFile(file) {
  clearError();
  try {
    await transcribe(file, file.name.replace(/\.[^.]+$/, ""));
  } catch (e) {
    showError(e);
  }
}

/** Transcribes an audio file (decoded piece by piece where file-pieces.js can). */
async function transcribe(file, name) {
  const bar = $("transcribe-progress");
  bar.hidden = false;
  bar.querySelector("progress").removeAttribute("value");
  bar.querySelector(".progress-detail").textContent = "decoding";
  document.body.dataset.transcribing = "true";
  $("transcript-source").textContent = `— ${name}`;
  try {
    // Read and recognised piece by piece where the format allows (pkg/file-pieces.js).
    const done = await model.transcribe(file, {
      languageModel: $("lm-switch").checked,
      onProgress: ({ loaded, total }) => {
        bar.querySelector("progress").value = loaded / total;
        bar.querySelector(".progress-detail").textContent = `${loaded.toFixed(1)} of ${total.toFixed(1)} s`;
      },
      // As plain text: a span for each word, rebuilt after each piece, would cost as much as the
      // transcript so far each time (an hour-long file: 75 MB more in the tab, and slower).
      onPartial: (transcript) => showTranscript(transcript, { partial: true, plain: true }),
    });
    result = { ...done, name };
    showTranscript(done.transcript);
  } finally {
    bar.hidden = true;
    delete document.body.dataset.transcribing;
  }
}

async function startRecording() {
  clearError();
  $("record-button").disabled = true; // until the microphone is open: one recording at a time
  try {
    recording = await model.startLive({
      languageModel: $("lm-switch").checked,
      onTick: (seconds) => ($("record-time").textContent = `${seconds.toFixed(1)} s`),
      onPartial: (transcript, open) => showTranscript(transcript, { partial: true, open: open.words.length }),
    });
    $("record-button").textContent = "■ Stop";
    $("record-button").setAttribute("aria-pressed", "true");
    $("file-input").disabled = true;
    $("transcript-source").textContent = "— recording";
    showTranscript(null, { partial: true });
  } catch (e) {
    showError(e);
  } finally {
    $("record-button").disabled = false;
  }
}

async function stopRecording() {
  const stopping = recording;
  recording = null;
  $("record-button").textContent = "● Record";
  $("record-button").setAttribute("aria-pressed", "false");
  $("record-time").textContent = "";
  $("file-input").disabled = false;
  try {
    // The live stream already recognised all but the last moments: no second pass over the recording.
    const done = await stopping.stop();
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    result = { ...done, name: `recording-${stamp}` };
    $("transcript-source").textContent = `— ${result.name}`;
    showTranscript(done.transcript);
  } catch (e) {
    showError(e);
  }
}

/**
 * `open`, while recording: how many of the last words belong to the open piece (they may still
 * change); the words before them are settled.
 */
function showTranscript(transcript, { partial = false, open = null, plain = false } = {}) {
  const box = $("transcript");
  box.classList.toggle("partial", partial);
  box.dataset.state = partial ? "partial" : "final";
  if (!transcript || !transcript.words.length) {
    box.replaceChildren(muted(partial ? "Listening…" : "No speech recognised."));
  } else if (plain) {
    box.textContent = transcript.text;
  } else {
    const words = transcript.words.flatMap((word, i) => {
      const span = document.createElement("span");
      span.className = open === null ? "word" : i < transcript.words.length - open ? "word settled" : "word open";
      span.textContent = word.text;
      span.title = `${word.start.toFixed(2)}–${word.end.toFixed(2)} s`;
      return i ? [" ", span] : [span];
    });
    box.replaceChildren(...words);
  }
  for (const id of ["copy-button", "download-txt", "download-srt", "download-vtt"]) {
    $(id).disabled = partial || !transcript?.words.length;
  }
}

function muted(text) {
  const span = document.createElement("span");
  span.className = "muted";
  span.textContent = text;
  return span;
}

function setUpTranscriptActions() {
  $("copy-button").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(result.transcript.text);
      $("copy-status").textContent = "Copied.";
    } catch {
      $("copy-status").textContent = "Copying was refused: select the text and copy it by hand.";
    }
  });
  $("download-txt").addEventListener("click", () => download(`${result.transcript.text}\n`, "txt", "text/plain"));
  $("download-srt").addEventListener("click", () => download(result.srt, "srt", "application/x-subrip"));
  $("download-vtt").addEventListener("click", () => download(result.vtt, "vtt", "text/vtt"));
}

function download(text, extension, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  link.download = `${result.name}.${extension}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function showError(error, retry) {
  console.error(error);
  $("error").hidden = false;
  $("error").dataset.kind = error.kind ?? ErrorKind.RECOGNIZER;
  $("error-title").textContent = ERROR_TITLES[error.kind] ?? "Something went wrong";
  $("error-message").textContent = error.message;
  $("error-retry").hidden = !retry;
  $("error-retry").onclick = retry ? () => retry() : null;
}

function clearError() {
  $("error").hidden = true;
}

/** What the user should know though nothing failed (a model that could not be kept offline). */
function showNotice(text) {
  $("model-notice").hidden = !text;
  $("model-notice").textContent = text ?? "";
}


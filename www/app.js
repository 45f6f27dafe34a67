// The page: model and language choice, audio from files or the microphone, progress, the transcript
// and its downloads. The recognizer itself runs in a worker, through the npm package's API
// (pkg/index.js), as on any site that installs it. Every text it shows comes from the interface
// language's catalogue (pkg/i18n.js): an element's text is its `data-i18n` key, with the parameters
// in `data-i18n-params`, so that a switch of language writes them all again.

// First: the package tags the worker and worklet it starts with this build (pkg/protocol.js).
import "./build-version.js";
import {
  AsrError,
  ErrorKind,
  LANGUAGES,
  Stage,
  clearModelCache,
  errorText,
  interfaceLanguage,
  load,
  preferredLanguage,
  translate,
} from "./pkg/index.js";
import { PLAYER_CSS, SettledAnnouncer, TranscriptPlayer } from "./pkg/transcript-player.js";

const $ = (id) => document.getElementById(id);
const BUILD = globalThis.SAKHA_ASR_BUILD;
/** Where the interface language the user chose is remembered. */
const LANGUAGE_STORAGE_KEY = "sakha-asr-interface-language";
/** The catalogue keys of the wasm builds' names (describeWasm's, in English). */
const WASM_BUILD_NAMES = { simd128: "wasm.simd128", relaxed: "wasm.relaxed", threads: "wasm.threads" };

let model = null; // the loaded model, a Transcriber: {language, languages, languageModel, quantization, wasm, notice, …}
let loading = null; // aborts the load under way
// the last finished transcription: {transcript, srt, vtt, name, subtitles}; subtitles: where the
// transcript was corrected, settles once srt and vtt are the corrected ones
let result = null;
let recording = null; // a LiveRecording while the microphone is on
let opening = false; // the microphone is being opened: one recording at a time
let languageModelWanted = true; // the language model switch as the user left it: on unless turned off
let lang = chosenLanguage(); // the interface language
let shownError = null; // the error in the error box, written again in another language

const params = new URLSearchParams(location.search);
const player = new TranscriptPlayer($("transcript"), $("player"), { lang: () => lang, onEdit: corrected });
// Says the words of a transcription as they settle, not every partial.
const announcer = new SettledAnnouncer($("announcer"));
document.head.append(Object.assign(document.createElement("style"), { textContent: PLAYER_CSS }));

registerServiceWorker();
setUpInterfaceLanguage();
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

/** The language the user chose on this page before, else the first of the browser's that the interface has. */
function chosenLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(LANGUAGE_STORAGE_KEY);
  } catch {
    // storage refused (some privacy settings): the browser's languages decide
  }
  return interfaceLanguage(stored) ?? preferredLanguage(navigator.languages);
}

function setUpInterfaceLanguage() {
  const select = $("interface-language");
  select.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => new Option(name, code, false, code === lang)));
  select.addEventListener("change", () => {
    lang = select.value;
    try {
      localStorage.setItem(LANGUAGE_STORAGE_KEY, lang);
    } catch {
      // not remembered, but switched
    }
    showLanguage();
  });
  showLanguage();
}

/** Writes every text of the page in the interface language. */
function showLanguage() {
  document.documentElement.lang = lang;
  for (const element of document.querySelectorAll("[data-i18n-content]")) {
    element.content = translate(lang, element.dataset.i18nContent);
  }
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = translate(lang, element.dataset.i18n, JSON.parse(element.dataset.i18nParams ?? "{}"));
  }
  if (shownError) showErrorText(shownError);
  showNotice(!$("model-notice").hidden);
  player.showTexts();
}

/**
 * Sets `element`'s text to catalogue `key` with `params`; a parameter may itself be {key, params},
 * translated too. Null `key`: no text.
 */
function show(element, key, params = {}) {
  if (!key) return showPlain(element, "");
  element.dataset.i18n = key;
  element.dataset.i18nParams = JSON.stringify(params);
  element.textContent = translate(lang, key, params);
}

/** Sets `element`'s text to `text`, the same in every language (a file name, the library's English). */
function showPlain(element, text) {
  delete element.dataset.i18n;
  delete element.dataset.i18nParams;
  element.textContent = text;
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
    show($("model-status"), "status.cleared");
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
  showNotice(false);
  setModelState("loading", "status.loading");
  const downloaded = new Map(); // file → bytes, for the status line
  try {
    // ?wasm=simd128|relaxed|threads and ?threads=N pick the wasm build (comparisons, benchmarks).
    const build = params.get("wasm") ?? undefined;
    const threads = params.has("threads") ? Number(params.get("threads")) : undefined;
    const loaded = await load(url, { language, build, threads, signal, onProgress: (p) => showLoadProgress(p, downloaded) });
    // Overtaken by a newer load just after it finished: too late for the abort to stop its worker.
    if (signal.aborted) return loaded.dispose();
    model = loaded;
    show($("wasm-build"), "status.wasm", { build: { key: WASM_BUILD_NAMES[model.wasm.build] }, count: model.wasm.threads });
    fillLanguages();
    // Keeps the stored model from being evicted under storage pressure (and Safari's 7-day purge).
    // Asked here rather than in the widget, whose host page may not want a permission prompt.
    navigator.storage?.persist?.().catch(() => {});
    const bytes = [...downloaded.values()].reduce((sum, n) => sum + n, 0);
    const source = !bytes
      ? { key: "source.local" }
      : { key: model.notice ? "source.downloadedNotStored" : "source.downloadedStored", params: { bytes } };
    setModelState("ready", "status.ready", { url, language: model.language, quantization: model.quantization, source });
    showNotice(true);
  } catch (e) {
    // Overtaken by a newer load, which reports for itself.
    if (signal.aborted) return;
    setModelState("failed", "status.failed");
    showError(e, e.kind === ErrorKind.VERSION ? () => location.reload() : loadModel);
  } finally {
    if (!signal.aborted) $("download-progress").hidden = $("cache-progress").hidden = true;
  }
}

async function switchLanguage(language) {
  clearError();
  showNotice(false);
  setModelState("loading", "status.switching", { language });
  try {
    await model.setLanguage(language, { onProgress: showLoadProgress });
    setModelState("ready", "status.switched", { url: modelUrl(), language: model.language, quantization: model.quantization });
    showNotice(true);
  } catch (e) {
    setModelState("ready", "status.stillUsing", { language: model.language });
    $("language-select").value = model.language;
    showError(e, () => switchLanguage(language));
  } finally {
    $("download-progress").hidden = $("cache-progress").hidden = true;
  }
}

/** `key` and `params`: the status line's text. */
function setModelState(state, key, params = {}) {
  document.body.dataset.model = state;
  show($("model-status"), key, params);
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
  if (model && !available) show($("lm-hint"), "lm.none", { language: model.language });
  else if (model) show($("lm-hint"), toggle.checked ? "lm.on" : "lm.off");
  else show($("lm-hint"), null);
}

function fillLanguages() {
  const select = $("language-select");
  select.replaceChildren(...model.languages.map((name) => new Option(name, name, false, name === model.language)));
}

function showLoadProgress({ stage, file, loaded, total }, downloaded) {
  const bar = $(stage === Stage.DOWNLOAD ? "download-progress" : "cache-progress");
  bar.hidden = false;
  bar.querySelector("progress").value = total ? loaded / total : 0;
  show(bar.querySelector(".progress-detail"), "progress.bytes", { file, loaded, total });
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
  $("record-button").addEventListener("click", () => (recording ? stopRecording() : opening || startRecording()));
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
  show(bar.querySelector(".progress-detail"), "progress.decoding");
  document.body.dataset.transcribing = "true";
  showPlain($("transcript-source"), `— ${name}`);
  player.clear();
  announcer.reset();
  try {
    // Read and recognised piece by piece where the format allows (pkg/file-pieces.js).
    const done = await model.transcribe(file, {
      languageModel: $("lm-switch").checked,
      onProgress: ({ loaded, total }) => {
        bar.querySelector("progress").value = loaded / total;
        show(bar.querySelector(".progress-detail"), "progress.seconds", { loaded, total });
      },
      // As plain text: a span for each word, rebuilt after each piece, would cost as much as the
      // transcript so far each time (an hour-long file: 75 MB more in the tab, and slower).
      // A file's partial transcripts hold only finished pieces: all of it is settled.
      onPartial: (transcript) => {
        showTranscript(transcript, { partial: true, plain: true });
        announcer.settled(transcript.words);
      },
    });
    result = { ...done, name };
    showTranscript(done.transcript, { audio: file });
  } finally {
    bar.hidden = true;
    delete document.body.dataset.transcribing;
  }
}

async function startRecording() {
  clearError();
  // Not disabled, which would take the keyboard's focus away from it.
  opening = true;
  $("record-button").setAttribute("aria-disabled", "true");
  try {
    recording = await model.startLive({
      languageModel: $("lm-switch").checked,
      onTick: (seconds) => show($("record-time"), "record.seconds", { seconds }),
      onPartial: (transcript, open) => {
        showTranscript(transcript, { partial: true, open: open.words.length });
        announcer.settled(transcript.words.slice(0, transcript.words.length - open.words.length));
      },
    });
    show($("record-button"), "audio.stop");
    $("record-button").setAttribute("aria-pressed", "true");
    $("file-input").disabled = true;
    show($("transcript-source"), "transcript.recording");
    player.clear();
    announcer.reset();
    showTranscript(null, { partial: true });
  } catch (e) {
    showError(e);
  } finally {
    opening = false;
    $("record-button").removeAttribute("aria-disabled");
  }
}

async function stopRecording() {
  const stopping = recording;
  recording = null;
  show($("record-button"), "audio.record");
  $("record-button").setAttribute("aria-pressed", "false");
  show($("record-time"), null);
  $("file-input").disabled = false;
  try {
    // The live stream already recognised all but the last moments: no second pass over the recording.
    const done = await stopping.stop();
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    result = { ...done, name: `recording-${stamp}` };
    showPlain($("transcript-source"), `— ${result.name}`);
    showTranscript(done.transcript, { audio: done.audio });
  } catch (e) {
    showError(e);
  }
}

/**
 * `open`, while recording: how many of the last words belong to the open piece (they may still
 * change); the words before them are settled. A finished transcript (not `partial`) is shown in the
 * player, over `audio` (the file or the recording it came from).
 */
function showTranscript(transcript, { partial = false, open = null, plain = false, audio = null } = {}) {
  const box = $("transcript");
  box.classList.toggle("partial", partial);
  box.dataset.state = partial ? "partial" : "final";
  if (!partial) announcer.settled(transcript.words);
  if (!transcript || !transcript.words.length) {
    box.replaceChildren(muted(partial ? "transcript.listening" : "transcript.none"));
  } else if (!partial) {
    player.show(transcript, audio);
  } else if (plain) {
    box.textContent = transcript.text;
  } else {
    const words = transcript.words.flatMap((word, i) => {
      const span = document.createElement("span");
      span.className = i < transcript.words.length - open ? "word settled" : "word open";
      span.textContent = word.text;
      span.title = translate(lang, "transcript.wordTime", { start: word.start, end: word.end });
      return i ? [" ", span] : [span];
    });
    box.replaceChildren(...words);
  }
  for (const id of ["copy-button", "download-txt", "download-srt", "download-vtt"]) {
    $(id).disabled = partial || !transcript?.words.length;
  }
}

function muted(key) {
  const span = document.createElement("span");
  span.className = "muted";
  show(span, key);
  return span;
}

function setUpTranscriptActions() {
  $("copy-button").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(result.transcript.text);
      show($("copy-status"), "copy.done");
    } catch {
      show($("copy-status"), "copy.refused");
    }
  });
  $("download-txt").addEventListener("click", () => download(`${result.transcript.text}\n`, result.name, "txt", "text/plain"));
  $("download-srt").addEventListener("click", () => downloadSubtitles("srt", "application/x-subrip"));
  $("download-vtt").addEventListener("click", () => downloadSubtitles("vtt", "text/vtt"));
}

/** A correction in the player: the copy and the downloads carry it from now on. */
function corrected(transcript) {
  const edited = result;
  edited.transcript = transcript;
  // Written by the recognizer's own SRT and WebVTT writer, as the uncorrected ones were.
  edited.subtitles = (model ? model.subtitles(transcript) : Promise.reject(AsrError.of(ErrorKind.RECOGNIZER, "error.noModel")))
    .then((subtitles) => Object.assign(edited, subtitles));
  // Reported when they are downloaded.
  edited.subtitles.catch(() => {});
}

async function downloadSubtitles(format, type) {
  const shown = result;
  try {
    await shown.subtitles;
  } catch (e) {
    return showError(e);
  }
  download(shown[format], shown.name, format, type);
}

function download(text, name, extension, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  link.download = `${name}.${extension}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function showError(error, retry) {
  console.error(error);
  $("error").hidden = false;
  $("error").dataset.kind = error.kind ?? ErrorKind.RECOGNIZER;
  shownError = error;
  showErrorText(error);
  $("error-retry").hidden = !retry;
  $("error-retry").onclick = retry ? () => retry() : null;
}

/**
 * The error's title and message in the interface language. The recognizer library's own errors are
 * in English only (protocol.js): under the translated title, their detail stays as the library wrote it.
 */
function showErrorText(error) {
  const { title, message } = errorText(lang, error);
  showPlain($("error-title"), title);
  showPlain($("error-message"), message);
}

function clearError() {
  $("error").hidden = true;
  shownError = null;
}

/**
 * Shows the loaded model's notice, where it has one and `shown`: what the user should know though
 * nothing failed (a model that could not be kept offline).
 */
function showNotice(shown) {
  const text = (shown && model?.localNotice(lang)) || "";
  $("model-notice").hidden = !text;
  $("model-notice").textContent = text;
}


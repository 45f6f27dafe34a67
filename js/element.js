// <sakha-asr>: Sakha speech recognition for any page. Importing this module registers the element:
//
//   import "sakha-asr/element";                    // or, from the web app: <script type="module" src="…/widget.js">
//   <sakha-asr model="/models/default/model.json" language="sah"></sakha-asr>
//
// Attributes: `model` (URL of a package's model.json; default: SakhaAsrElement.defaultModel, which
// the web app's widget.js sets to the model it serves),
// `language` (default: the package's default) and `language-model`: "off" decodes letter by letter
// (greedy) though the package has a word language model for the language, which is used otherwise;
// it applies from the next transcription on, without reloading; `lang`: the language of its texts
// ("sah", "ru" or "en"; default: the host page's, as the closest `lang` attribute above it or the
// page's <html lang> gives it, else English); `player`: a finished transcript is shown over an
// <audio> of the file or recording, the spoken word highlighted, each word playable and correctable
// (transcript-player.js), as in the web app. Events, all bubbling out of the element:
//   sakha-asr-ready    detail {language, languages, languageModel, notice}
//                                                          the model is loaded; languageModel: whether
//                                                          the language has a word language model;
//                                                          notice: null, or why it could not be kept
//                                                          for offline use
//   sakha-asr-partial  detail {transcript, open?}          live or partial transcript; while recording,
//                                                          open is the open piece (its words, the
//                                                          transcript's last, may still change)
//   sakha-asr-result   detail {transcript, srt, vtt}       a finished transcription
//   sakha-asr-edit     detail {transcript, srt, vtt}       a word corrected in the player: the
//                                                          transcript and subtitles with every
//                                                          correction so far
//   sakha-asr-error    detail {kind, message}              see protocol.js for the kinds; message is
//                                                          in English, the element shows it in its
//                                                          own language
// A transcript is {text, words: [{text, start, end, confidence}], duration}, times in seconds.
// Theme it with the CSS custom properties --sakha-asr-accent and --sakha-asr-background.

import { interfaceLanguage, translate } from "./i18n.js";
import { load } from "./index.js";
import { AsrError, ErrorKind, errorText } from "./protocol.js";
import { PLAYER_CSS, SettledAnnouncer, TranscriptPlayer } from "./transcript-player.js";

const TEMPLATE = `
<style>
  :host {
    display: block;
    font: inherit;
    --accent: var(--sakha-asr-accent, #1d4e89);
    --background: var(--sakha-asr-background, #fff);
  }
  .card { background: var(--background); border: 1px solid #ccd3dc; border-radius: 0.6rem; padding: 0.75rem; }
  .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
  button, label.button {
    font: inherit; font-size: 0.9rem; color: #fff; background: var(--accent); border: none;
    border-radius: 0.35rem; padding: 0.35rem 0.75rem; cursor: pointer;
  }
  button:disabled, button[aria-disabled="true"], label.button.disabled { opacity: 0.45; cursor: not-allowed; pointer-events: none; }
  button[aria-pressed="true"] { background: #a4262c; }
  button:focus-visible, label.button:has(input:focus-visible) { outline: 3px solid #e08a00; outline-offset: 2px; }
  .muted { color: #5f6b7a; }
  .visually-hidden {
    position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;
  }
  .status { font-size: 0.8rem; color: #5f6b7a; }
  .status.error { color: #a4262c; }
  progress { width: 100%; height: 0.4rem; margin-top: 0.5rem; }
  .transcript { margin-top: 0.5rem; min-height: 1.5em; overflow-wrap: anywhere; }
  .transcript.partial, .transcript .open { color: #5f6b7a; font-style: italic; }
  .player { margin-top: 0.5rem; }
  ${PLAYER_CSS}
</style>
<div class="card" part="card">
  <div class="row">
    <button class="record" type="button" aria-pressed="false" disabled></button>
    <label class="button file disabled"><span class="file-text"></span><input class="visually-hidden" type="file" accept="audio/*" disabled></label>
    <span class="status" role="status"></span>
  </div>
  <progress hidden></progress>
  <div class="player-controls"></div>
  <div class="transcript" part="transcript"></div>
  <div class="announcer visually-hidden"></div>
</div>`;

export class SakhaAsrElement extends HTMLElement {
  // `language-model` and `player` are not among them: they are read at each transcription.
  static observedAttributes = ["model", "language", "lang"];

  /** The model.json URL of elements without a `model` attribute; null: they report an error. */
  static defaultModel = null;

  /** The loaded model (a Transcriber of index.js), or null. */
  #model = null;
  /** Aborts the load under way, which stops its worker. */
  #loading = null;
  /** Counts loads and language switches: the outcome of one that another has overtaken is dropped. */
  #loads = 0;
  #recording = null;
  /** Aborts what the element has under way with its model: a recording (or its start), a transcription. */
  #work = null;
  #transcript = null;
  #ui;
  #player;
  /** Says the words of a transcription as they settle, not every partial. */
  #announcer;
  /** What the status line says, kept so that it is written again in another language: {key, params} or {error}. */
  #status = { key: "widget.loading", params: {} };
  /** Watches the page's <html lang> (a page with a language switcher) while connected. */
  #pageLanguage = new MutationObserver(() => this.#showTexts());

  /** The last finished transcript, or null. */
  get transcript() {
    return this.#transcript;
  }

  connectedCallback() {
    if (!this.shadowRoot) this.#render();
    this.#pageLanguage.observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
    this.#showTexts();
    // A microtask later, so that what the script which registered or created the element sets right
    // after (a `model` attribute, `defaultModel`) applies to the first load.
    queueMicrotask(() => this.isConnected && this.#load());
  }

  /** A removed element lets go of everything: microphone, timer, worker (and its object URL), audio. */
  disconnectedCallback() {
    this.#pageLanguage.disconnect();
    this.#loads++;
    this.#work?.abort();
    this.#work = null;
    this.#recording = null;
    this.#player.clear();
    this.#unload();
  }

  attributeChangedCallback(name, previous, value) {
    // Initial attributes arrive before connectedCallback, which does the first load itself.
    if (!this.#ui || !this.isConnected || previous === value) return;
    if (name === "lang") this.#showTexts();
    else if (name === "language" && this.#model) this.#switchLanguage(value);
    else this.#load();
  }

  #render() {
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = TEMPLATE;
    const find = (selector) => root.querySelector(selector);
    this.#ui = {
      record: find(".record"),
      fileLabel: find(".file"),
      fileText: find(".file-text"),
      file: find("input[type=file]"),
      status: find(".status"),
      progress: find("progress"),
      transcript: find(".transcript"),
    };
    this.#player = new TranscriptPlayer(this.#ui.transcript, find(".player-controls"), {
      lang: () => this.#lang,
      onEdit: (transcript) => this.#corrected(transcript),
    });
    this.#announcer = new SettledAnnouncer(find(".announcer"));
    this.#ui.record.addEventListener("click", () => {
      if (isBusy(this.#ui.record)) return;
      if (this.#recording) this.#stopRecording();
      else this.#startRecording();
    });
    // A busy file input keeps the keyboard's focus but opens no file dialog.
    this.#ui.file.addEventListener("click", (event) => isBusy(this.#ui.file) && event.preventDefault());
    this.#ui.file.addEventListener("change", () => {
      const [file] = this.#ui.file.files;
      this.#ui.file.value = "";
      if (file) this.#transcribe(file);
    });
  }

  /** Loads the model the attributes name, in a new worker; the previous one stops first. */
  #load() {
    this.#unload();
    this.#setReady(false, "widget.loading");
    const model = this.getAttribute("model") ?? SakhaAsrElement.defaultModel;
    const language = this.getAttribute("language") ?? undefined;
    const loading = (this.#loading = new AbortController());
    return this.#loadModel(async (onProgress) => {
      if (!model) throw AsrError.of(ErrorKind.SETTINGS, "error.noModelAttribute");
      const transcriber = await load(new URL(model, document.baseURI).href, { language, onProgress, signal: loading.signal });
      // Overtaken after it finished but before this ran: the abort came too late to stop its worker.
      if (loading.signal.aborted) transcriber.dispose();
      else this.#model = transcriber;
    });
  }

  #switchLanguage(language) {
    this.#setReady(false, "status.switching", { language });
    return this.#loadModel((onProgress) => this.#model.setLanguage(language, { onProgress }));
  }

  /** Runs a load or language switch; a newer one, or the element's removal, makes it moot. */
  async #loadModel(start) {
    const ticket = ++this.#loads;
    try {
      await start(({ loaded, total }) => ticket === this.#loads && this.#showProgress(loaded / total));
      if (ticket === this.#loads) this.#ready();
    } catch (e) {
      if (ticket === this.#loads) this.#fail(e);
    }
  }

  /** Stops the model's worker, or the load under way. */
  #unload() {
    this.#loading?.abort();
    this.#loading = null;
    this.#model?.dispose();
    this.#model = null;
  }

  #ready() {
    this.#ui.progress.hidden = true;
    const { language, languages, languageModel, notice } = this.#model;
    this.#setReady(true, notice ? "widget.readyNotStored" : "widget.ready", { language });
    this.#emit("ready", { language, languages, languageModel, notice });
  }

  async #startRecording() {
    // Nothing to click while the microphone opens: a second recording would never be stopped.
    this.#setReady(false, "widget.opening");
    this.#startOver();
    const work = (this.#work = new AbortController());
    try {
      this.#recording = await this.#model.startLive({
        languageModel: this.#languageModel,
        onTick: (seconds) => this.#setStatus({ key: "widget.recordingTime", params: { seconds } }),
        onPartial: (transcript, open) => this.#showTranscript(transcript, true, open),
        signal: work.signal,
      });
      setBusy(this.#ui.record, false);
      this.#ui.record.setAttribute("aria-pressed", "true");
      this.#setStatus({ key: "widget.recording", params: {} });
    } catch (e) {
      if (!work.signal.aborted) this.#setReady(true, null);
      this.#fail(e);
    }
  }

  #stopRecording() {
    const recording = this.#recording;
    this.#recording = null;
    this.#ui.record.setAttribute("aria-pressed", "false");
    // The live stream recognised the recording as it came: only its last moments are left.
    this.#run(() => recording.stop());
  }

  /** Transcribes an audio file, reporting progress and the result. */
  #transcribe(file) {
    const work = (this.#work = new AbortController());
    this.#startOver();
    const transcription = () =>
      this.#model.transcribe(file, {
        languageModel: this.#languageModel,
        onProgress: ({ loaded, total }) => this.#showProgress(loaded / total),
        onPartial: (transcript) => this.#showTranscript(transcript, true),
        signal: work.signal,
      });
    this.#run(transcription, file);
  }

  /** A new transcription: the last one's audio and the words said of it go. */
  #startOver() {
    this.#player.clear();
    this.#announcer.reset();
  }

  /**
   * Shows and reports the {transcript, srt, vtt} that `work` resolves to; a recording's also holds
   * its `audio`, a file's is `file`.
   */
  async #run(work, file = null) {
    this.#setReady(false, "widget.transcribing");
    try {
      const result = await work();
      this.#transcript = result.transcript;
      this.#showTranscript(result.transcript, false);
      if (this.hasAttribute("player") && result.transcript.words.length) this.#player.show(result.transcript, result.audio ?? file);
      this.#ui.progress.hidden = true;
      this.#setReady(true, "widget.done");
      this.#emit("result", { transcript: result.transcript, srt: result.srt, vtt: result.vtt });
    } catch (e) {
      this.#setReady(true, null);
      this.#fail(e);
    }
  }

  /** A word corrected in the player. */
  async #corrected(transcript) {
    this.#transcript = transcript;
    try {
      // Written by the recognizer's own SRT and WebVTT writer, as the uncorrected ones were.
      const { srt, vtt } = await this.#model.subtitles(transcript);
      this.#emit("edit", { transcript, srt, vtt });
    } catch (e) {
      this.#fail(e);
    }
  }

  get #languageModel() {
    return this.getAttribute("language-model") !== "off";
  }

  /** `open`: a live recording's open piece, whose words (the transcript's last) may still change. */
  #showTranscript(transcript, partial, open = null) {
    this.#ui.transcript.classList.toggle("partial", partial && !open);
    const settled = open ? transcript.words.slice(0, transcript.words.length - open.words.length) : transcript.words;
    this.#announcer.settled(settled);
    if (open) {
      const tail = document.createElement("span");
      tail.className = "open";
      tail.textContent = open.text;
      const text = settled.map((word) => word.text).join(" ");
      this.#ui.transcript.replaceChildren(text && open.text ? `${text} ` : text, tail);
    } else {
      this.#ui.transcript.textContent = transcript.text;
    }
    if (partial) this.#emit("partial", open ? { transcript, open } : { transcript });
  }

  #showProgress(fraction) {
    this.#ui.progress.hidden = false;
    this.#ui.progress.value = fraction;
  }

  /** `key`: the status line's text in the catalogues (i18n.js), with `params`; null: none. */
  #setReady(ready, key, params = {}) {
    // Without a model there is nothing to do; while one works, its controls say they are busy but
    // keep the keyboard's focus, which a disabled control would drop.
    for (const control of [this.#ui.record, this.#ui.file]) {
      control.disabled = !ready && !this.#model;
      setBusy(control, !ready);
    }
    this.#ui.fileLabel.classList.toggle("disabled", !ready);
    this.#setStatus({ key, params });
  }

  #fail(error) {
    // Work cut short by the element's removal is no error to report.
    if (!this.isConnected) return;
    this.#ui.progress.hidden = true;
    this.#setStatus({ error });
    this.#emit("error", { kind: error.kind, message: error.message });
  }

  #setStatus(status) {
    this.#status = status;
    this.#showTexts();
  }

  /** The language of the element's texts: its own `lang`, else the closest one above it, the page's, or English. */
  get #lang() {
    const tag = this.closest("[lang]")?.getAttribute("lang") || document.documentElement.lang;
    return interfaceLanguage(tag) ?? "en";
  }

  /** Writes every text of the element in its language. */
  #showTexts() {
    if (!this.#ui) return;
    const lang = this.#lang;
    this.#ui.record.textContent = translate(lang, this.#recording ? "audio.stop" : "audio.record");
    this.#ui.fileText.textContent = translate(lang, "widget.file");
    this.#player.showTexts();
    const { key, params, error } = this.#status;
    this.#ui.status.classList.toggle("error", Boolean(error));
    if (error) {
      // The library's own errors are English only: their kind's title says what happened.
      const { title, message } = errorText(lang, error);
      this.#ui.status.textContent = error.key ? message : `${title}: ${message}`;
    } else {
      this.#ui.status.textContent = key ? translate(lang, key, params) : "";
    }
    this.#ui.status.title = (this.#model && !error && this.#model.localNotice(lang)) || "";
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(`sakha-asr-${name}`, { detail, bubbles: true, composed: true }));
  }
}

/** Marks `control` as busy (or not): it ignores clicks then, and says so to assistive technology. */
function setBusy(control, busy) {
  if (busy) control.setAttribute("aria-disabled", "true");
  else control.removeAttribute("aria-disabled");
}

function isBusy(control) {
  return control.getAttribute("aria-disabled") === "true";
}

// Once, though a page may load this module from two URLs (say, two bundles).
if (!customElements.get("sakha-asr")) customElements.define("sakha-asr", SakhaAsrElement);

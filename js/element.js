// <sakha-asr>: Sakha speech recognition for any page, with one script tag:
//
//   <script type="module" src="https://example.org/sakha-asr/widget.js"></script>
//   <sakha-asr language="sah"></sakha-asr>
//
// Attributes: `model` (URL of a package's model.json; default: the model next to this script),
// `language` (default: the package's default) and `language-model`: "off" decodes letter by letter
// (greedy) though the package has a word language model for the language, which is used otherwise;
// it applies from the next transcription on, without reloading. Events, all bubbling out of the element:
//   sakha-asr-ready    detail {language, languages, languageModel, notice}
//                                                          the model is loaded; languageModel: whether
//                                                          the language has a word language model;
//                                                          notice: null, or why it could not be kept
//                                                          for offline use
//   sakha-asr-partial  detail {transcript}                 live or partial transcript
//   sakha-asr-result   detail {transcript, srt, vtt}       a finished transcription
//   sakha-asr-error    detail {kind, message}              see protocol.js for the kinds
// A transcript is {text, words: [{text, start, end}], duration}, times in seconds.
// Theme it with the CSS custom properties --sakha-asr-accent and --sakha-asr-background.

import { AsrClient } from "./asr-client.js";
import { decodeToMono } from "./audio.js";
import { LiveRecording } from "./live-recording.js";

const DEFAULT_MODEL = new URL("../models/default/model.json", import.meta.url).href;

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
  button:disabled, label.button.disabled { opacity: 0.45; cursor: not-allowed; pointer-events: none; }
  button[aria-pressed="true"] { background: #a4262c; }
  .status { font-size: 0.8rem; color: #5f6b7a; }
  .status.error { color: #a4262c; }
  progress { width: 100%; height: 0.4rem; margin-top: 0.5rem; }
  .transcript { margin-top: 0.5rem; min-height: 1.5em; overflow-wrap: anywhere; }
  .transcript.partial { color: #5f6b7a; font-style: italic; }
</style>
<div class="card" part="card">
  <div class="row">
    <button class="record" type="button" aria-pressed="false" disabled>● Record</button>
    <label class="button file disabled">Audio file…<input type="file" accept="audio/*" hidden></label>
    <span class="status" role="status">Loading speech recognition…</span>
  </div>
  <progress hidden></progress>
  <div class="transcript" part="transcript" aria-live="polite"></div>
</div>`;

class SakhaAsrElement extends HTMLElement {
  // `language-model` is not among them: it is read at each transcription.
  static observedAttributes = ["model", "language"];

  #client = new AsrClient();
  /** Counts loads and language switches: the outcome of one that another has overtaken is dropped. */
  #loads = 0;
  #model = null;
  #recording = null;
  #transcript = null;
  #ui;

  /** The last finished transcript, or null. */
  get transcript() {
    return this.#transcript;
  }

  connectedCallback() {
    if (!this.shadowRoot) this.#render();
    this.#load();
  }

  /** A removed element lets go of everything: microphone, timer, worker (and its object URL). */
  disconnectedCallback() {
    this.#loads++;
    this.#recording?.cancel();
    this.#recording = null;
    this.#client.dispose();
    this.#model = null;
  }

  attributeChangedCallback(name, previous, value) {
    // Initial attributes arrive before connectedCallback, which does the first load itself.
    if (!this.#ui || !this.isConnected || previous === value) return;
    if (name === "language" && this.#model) this.#switchLanguage(value);
    else this.#load();
  }

  #render() {
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = TEMPLATE;
    const find = (selector) => root.querySelector(selector);
    this.#ui = {
      record: find(".record"),
      fileLabel: find(".file"),
      file: find("input[type=file]"),
      status: find(".status"),
      progress: find("progress"),
      transcript: find(".transcript"),
    };
    this.#ui.record.addEventListener("click", () => (this.#recording ? this.#stopRecording() : this.#startRecording()));
    this.#ui.file.addEventListener("change", () => {
      const [file] = this.#ui.file.files;
      this.#ui.file.value = "";
      if (file) this.#run(async () => decodeToMono(await file.arrayBuffer(), this.#model.sampleRate));
    });
  }

  #load() {
    this.#setReady(false, "Loading speech recognition…");
    const url = new URL(this.getAttribute("model") ?? DEFAULT_MODEL, document.baseURI).href;
    const language = this.getAttribute("language") ?? undefined;
    return this.#loadModel((onProgress) => this.#client.load(url, { language, onProgress }));
  }

  #switchLanguage(language) {
    this.#setReady(false, `Switching to ${language}…`);
    return this.#loadModel((onProgress) => this.#client.setLanguage(language, { onProgress }));
  }

  /** Runs a load or language switch; a newer one, or the element's removal, makes it moot. */
  async #loadModel(start) {
    const load = ++this.#loads;
    try {
      const model = await start(({ loaded, total }) => load === this.#loads && this.#showProgress(loaded / total));
      if (load !== this.#loads) return;
      this.#model = model;
      this.#ready();
    } catch (e) {
      if (load === this.#loads) this.#fail(e);
    }
  }

  #ready() {
    this.#ui.progress.hidden = true;
    const { language, languages, languageModel, notice } = this.#model;
    this.#setReady(true, notice ? `Ready (${language}), not stored for offline use.` : `Ready (${language}).`);
    this.#ui.status.title = notice ?? "";
    this.#emit("ready", { language, languages, languageModel, notice });
  }

  async #startRecording() {
    try {
      this.#recording = await LiveRecording.start(this.#client, this.#model.sampleRate, {
        languageModel: this.#languageModel,
        onTick: (seconds) => (this.#ui.status.textContent = `Recording… ${seconds.toFixed(1)} s`),
        onPartial: (transcript) => this.#showTranscript(transcript, true),
      });
      this.#ui.record.textContent = "■ Stop";
      this.#ui.record.setAttribute("aria-pressed", "true");
      this.#ui.fileLabel.classList.add("disabled");
    } catch (e) {
      this.#fail(e);
    }
  }

  #stopRecording() {
    const recording = this.#recording;
    this.#recording = null;
    this.#ui.record.textContent = "● Record";
    this.#ui.record.setAttribute("aria-pressed", "false");
    this.#run(() => recording.stop(this.#model.sampleRate));
  }

  /** Transcribes the samples that `getSamples` resolves to, reporting progress and the result. */
  async #run(getSamples) {
    this.#setReady(false, "Transcribing…");
    try {
      const samples = await getSamples();
      const result = await this.#client.transcribe(samples, {
        languageModel: this.#languageModel,
        onProgress: ({ loaded, total }) => this.#showProgress(loaded / total),
        onPartial: (transcript) => this.#showTranscript(transcript, true),
      });
      this.#transcript = result.transcript;
      this.#showTranscript(result.transcript, false);
      this.#ui.progress.hidden = true;
      this.#setReady(true, "Done.");
      this.#emit("result", result);
    } catch (e) {
      this.#setReady(true, "");
      this.#fail(e);
    }
  }

  get #languageModel() {
    return this.getAttribute("language-model") !== "off";
  }

  #showTranscript(transcript, partial) {
    this.#ui.transcript.classList.toggle("partial", partial);
    this.#ui.transcript.textContent = transcript.text;
    if (partial) this.#emit("partial", { transcript });
  }

  #showProgress(fraction) {
    this.#ui.progress.hidden = false;
    this.#ui.progress.value = fraction;
  }

  #setReady(ready, status) {
    this.#ui.record.disabled = !ready;
    this.#ui.fileLabel.classList.toggle("disabled", !ready);
    this.#ui.status.classList.remove("error");
    this.#ui.status.textContent = status;
  }

  #fail(error) {
    // Work cut short by the element's removal is no error to report.
    if (!this.isConnected) return;
    this.#ui.progress.hidden = true;
    this.#ui.status.classList.add("error");
    this.#ui.status.textContent = error.message;
    this.#emit("error", { kind: error.kind, message: error.message });
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(`sakha-asr-${name}`, { detail, bubbles: true, composed: true }));
  }
}

customElements.define("sakha-asr", SakhaAsrElement);

// A finished transcript to work with: its words over an <audio> of the file or recording they came
// from, the word being spoken highlighted; a click (or Enter) on a word plays from it, F2 or a
// double-click corrects it in place (the word keeps its times). Words the recognizer was unsure of
// are marked, so they are checked first. The web app and the <sakha-asr> element (its `player`
// attribute) both show it; its styles, PLAYER_CSS, go into each one's stylesheet.
//
// The words are one tab stop: the arrow keys, Home and End move between them (a roving tabindex),
// so an hour's transcript does not put a thousand stops between the page's buttons.

import { translate } from "./i18n.js";
import { transcriptOf } from "./transcript.js";

/** A word whose `confidence` is below this is marked as worth checking (a word without one is not). */
export const LOW_CONFIDENCE = 0.5;

export const PLAYER_CSS = `
  .player { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin: 0 0 0.5rem; }
  .player[hidden] { display: none; }
  .player-time { font-variant-numeric: tabular-nums; }
  .player-hint { flex-basis: 100%; margin: 0; font-size: 0.8rem; }
  .word { border-radius: 0.2rem; cursor: pointer; }
  .word.current { background: #ffe27a; color: #1b1f24; }
  .word.unsure { text-decoration: underline dotted #a4262c 2px; text-underline-offset: 0.2em; }
  .word:focus-visible, .word-edit:focus-visible { outline: 2px solid #1b1f24; outline-offset: 1px; }
  .word-edit { font: inherit; padding: 0 0.15rem; }
`;

let instances = 0;

export class TranscriptPlayer {
  #box;
  #controls;
  #lang;
  #onEdit;
  #audio = document.createElement("audio");
  #play = document.createElement("button");
  #time = document.createElement("span");
  #hint = document.createElement("p");
  /** The object URL the audio plays, revoked when another replaces it. */
  #url = null;
  #transcript = null;
  #spans = [];
  #current = -1;
  #frame = 0;

  /**
   * `box`: where the words are shown; `controls`: an element the play button, the time and the
   * keyboard hint are put in (hidden while there is nothing to play). `lang()`: the interface
   * language now; `onEdit(transcript)` after each correction, with the corrected transcript.
   */
  constructor(box, controls, { lang, onEdit }) {
    this.#box = box;
    this.#controls = controls;
    this.#lang = lang;
    this.#onEdit = onEdit;
    this.#play.type = "button";
    this.#play.className = "play";
    this.#time.className = "player-time muted";
    this.#hint.className = "player-hint muted";
    this.#hint.id = `sakha-asr-player-hint-${++instances}`;
    this.#audio.preload = "auto";
    controls.classList.add("player");
    controls.replaceChildren(this.#play, this.#time, this.#hint, this.#audio);
    controls.hidden = true;
    this.#play.addEventListener("click", () => (this.#audio.paused ? this.#playAudio() : this.#audio.pause()));
    for (const event of ["play", "pause", "ended", "timeupdate", "seeked", "durationchange"]) {
      this.#audio.addEventListener(event, () => this.#update());
    }
    // Smoother than timeupdate's few times a second: the highlight follows every frame while playing.
    this.#audio.addEventListener("play", () => {
      const follow = () => {
        this.#highlight();
        this.#frame = this.#audio.paused ? 0 : requestAnimationFrame(follow);
      };
      cancelAnimationFrame(this.#frame);
      follow();
    });
    box.addEventListener("click", (event) => this.#wordOf(event) >= 0 && this.playFrom(this.#wordOf(event)));
    box.addEventListener("dblclick", (event) => this.#wordOf(event) >= 0 && this.#edit(this.#wordOf(event)));
    box.addEventListener("keydown", (event) => this.#key(event));
  }

  /** The transcript shown, with the corrections made so far; null when none is. */
  get transcript() {
    return this.#transcript;
  }

  /** The <audio> element the player plays. */
  get audio() {
    return this.#audio;
  }

  /** Shows `transcript`'s words over `audio` (a File or Blob the browser plays). */
  show(transcript, audio) {
    this.clear();
    this.#url = URL.createObjectURL(audio);
    this.#audio.src = this.#url;
    this.#transcript = transcript;
    this.#box.setAttribute("aria-describedby", this.#hint.id);
    this.#spans = transcript.words.map((word, i) => this.#wordSpan(word, i));
    this.#box.replaceChildren(...this.#spans.flatMap((span, i) => (i ? [" ", span] : [span])));
    if (this.#spans.length) this.#spans[0].tabIndex = 0;
    this.#controls.hidden = false;
    this.showTexts();
  }

  /** Stops and lets go of the audio; the words box is left to the caller. */
  clear() {
    this.#audio.pause();
    this.#audio.removeAttribute("src");
    this.#audio.load();
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = null;
    this.#transcript = null;
    this.#spans = [];
    this.#current = -1;
    this.#box.removeAttribute("aria-describedby");
    this.#controls.hidden = true;
  }

  /** Plays from word `i`'s start. */
  playFrom(i) {
    this.#audio.currentTime = this.#transcript.words[i].start;
    this.#focusWord(i, false);
    this.#playAudio();
  }

  /** Writes the player's texts in the interface language. */
  showTexts() {
    if (!this.#transcript) return;
    this.#showState();
    this.#hint.textContent = translate(this.#lang(), "player.hint");
    this.#spans.forEach((span, i) => (span.title = this.#wordTitle(this.#transcript.words[i])));
  }

  /** The play button's text and the time. */
  #showState() {
    if (!this.#transcript) return;
    const lang = this.#lang();
    this.#play.textContent = translate(lang, this.#audio.paused ? "player.play" : "player.pause");
    const total = Number.isFinite(this.#audio.duration) ? this.#audio.duration : this.#transcript.duration;
    this.#time.textContent = translate(lang, "player.time", { current: this.#audio.currentTime, total });
  }

  #playAudio() {
    // Refused only without a user's gesture, which every way to start it here is.
    this.#audio.play().catch(() => {});
  }

  #update() {
    this.#highlight();
    this.#showState();
  }

  #wordSpan(word, i) {
    const span = document.createElement("span");
    span.className = word.confidence < LOW_CONFIDENCE ? "word unsure" : "word";
    span.tabIndex = -1;
    span.dataset.index = i;
    span.textContent = word.text;
    return span;
  }

  #wordTitle(word) {
    const times = { start: word.start, end: word.end };
    if (!(word.confidence < LOW_CONFIDENCE)) return translate(this.#lang(), "transcript.wordTime", times);
    return translate(this.#lang(), "player.unsure", { ...times, percent: Math.round(word.confidence * 100) });
  }

  /** The index of the word an event happened on, or -1. */
  #wordOf(event) {
    const span = event.target.closest?.(".word");
    return span && this.#spans[span.dataset.index] === span ? Number(span.dataset.index) : -1;
  }

  /** Marks the word being spoken: the last that started, while it lasts. */
  #highlight() {
    const words = this.#transcript?.words ?? [];
    const time = this.#audio.currentTime;
    let low = 0;
    let high = words.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (words[middle].start <= time) low = middle + 1;
      else high = middle;
    }
    const current = low > 0 && time < words[low - 1].end ? low - 1 : -1;
    if (current === this.#current) return;
    this.#spans[this.#current]?.classList.remove("current");
    this.#spans[current]?.classList.add("current");
    this.#current = current;
  }

  #key(event) {
    const i = this.#wordOf(event);
    if (i < 0) return;
    const last = this.#spans.length - 1;
    const moves = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: last };
    if (event.key in moves) this.#focusWord(Math.max(0, Math.min(last, moves[event.key])));
    else if (event.key === "Enter" || event.key === " ") this.playFrom(i);
    else if (event.key === "F2") this.#edit(i);
    else return;
    event.preventDefault();
  }

  /** Makes word `i` the words' one tab stop, and focuses it where `focus`. */
  #focusWord(i, focus = true) {
    for (const span of this.#spans) if (span.tabIndex === 0) span.tabIndex = -1;
    this.#spans[i].tabIndex = 0;
    if (focus) this.#spans[i].focus();
  }

  /** Replaces word `i` with a text field: Enter or leaving it keeps the correction, Escape drops it. */
  #edit(i) {
    const span = this.#spans[i];
    const transcript = this.#transcript;
    const word = transcript.words[i];
    const input = document.createElement("input");
    input.className = "word-edit";
    input.value = word.text;
    input.size = Math.max(word.text.length, 4);
    input.setAttribute("aria-label", translate(this.#lang(), "player.correct", { word: word.text }));
    let done = false;
    const finish = (keep) => {
      // A transcript shown since (its box replaced, so the field lost focus) keeps no correction.
      if (done || this.#transcript !== transcript) return;
      done = true;
      const text = input.value.trim().replace(/\s+/g, " ");
      input.replaceWith(span);
      this.#focusWord(i);
      if (keep && text && text !== word.text) this.#correct(i, text);
    };
    input.addEventListener("keydown", (event) => {
      event.stopPropagation();
      if (event.key === "Enter" || event.key === "Escape") {
        event.preventDefault();
        finish(event.key === "Enter");
      }
    });
    input.addEventListener("blur", () => finish(true));
    span.replaceWith(input);
    input.focus();
    input.select();
  }

  /** Word `i` now reads `text`, at the same times; a person checked it, so its confidence goes. */
  #correct(i, text) {
    const { confidence, ...word } = this.#transcript.words[i];
    const words = this.#transcript.words.with(i, { ...word, text });
    this.#transcript = transcriptOf(words, this.#transcript.duration);
    const span = this.#spans[i];
    span.textContent = text;
    span.classList.remove("unsure");
    span.classList.add("edited");
    span.title = this.#wordTitle(words[i]);
    this.#onEdit?.(this.#transcript);
  }
}

/**
 * A polite live region that is told only the words that will not change any more, each once: a
 * screen reader then reads a recording's text as it settles, not every partial of it.
 */
export class SettledAnnouncer {
  #region;
  #said = 0;

  constructor(region) {
    this.#region = region;
    region.setAttribute("aria-live", "polite");
  }

  /** `words`: every settled word so far, those already said included. */
  settled(words) {
    if (words.length <= this.#said) return;
    this.#region.textContent = words.slice(this.#said).map((word) => word.text).join(" ");
    this.#said = words.length;
  }

  reset() {
    this.#said = 0;
    this.#region.textContent = "";
  }
}

// Types of the <sakha-asr> element (element.js); importing the module registers it.

import type { AsrError, ErrorKind, Segment, Transcript, Transcription } from "./index.js";

export declare class SakhaAsrElement extends HTMLElement {
  /** The model.json URL of elements without a `model` attribute; null: they report an error. */
  static defaultModel: string | null;
  /** The last finished transcript (with the corrections made in its player), or null. */
  readonly transcript: Transcript | null;
}

export interface SakhaAsrReadyDetail {
  language: string;
  languages: string[];
  languageModel: boolean;
  notice: string | null;
}

declare global {
  interface HTMLElementTagNameMap {
    "sakha-asr": SakhaAsrElement;
  }
  interface HTMLElementEventMap {
    "sakha-asr-ready": CustomEvent<SakhaAsrReadyDetail>;
    /** While recording, `open` is the open piece: its words, the transcript's last, may still change. */
    "sakha-asr-partial": CustomEvent<{ transcript: Transcript; open?: Segment }>;
    "sakha-asr-result": CustomEvent<Transcription>;
    /** A word corrected in the player (the `player` attribute): the transcript with every correction so far. */
    "sakha-asr-edit": CustomEvent<Transcription>;
    "sakha-asr-error": CustomEvent<{ kind: ErrorKind; message: AsrError["message"] }>;
  }
}

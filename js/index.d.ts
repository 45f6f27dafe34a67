// Types of sakha-asr's high-level API (index.js).

/** A word of a transcript, with its start and end in seconds. */
export interface Word {
  text: string;
  start: number;
  end: number;
  /** 0..1 (three decimals): the model's posterior for the word's least certain letter, over the frames
   * it was heard on. The lowest are the words most worth checking. */
  confidence: number;
}

export interface Transcript {
  text: string;
  words: Word[];
  /** Seconds of audio. */
  duration: number;
}

export interface Transcription {
  transcript: Transcript;
  /** The transcript as SubRip and WebVTT subtitles. */
  srt: string;
  vtt: string;
}

export interface RecordingTranscription extends Transcription {
  /** What the recognizer heard, for playback: a WAV file, mono 16-bit PCM at the recognizer's rate. */
  audio: Blob;
}

/** "threads" is the worker's own (the client watches the threaded build start with it) and never reaches `onProgress`. */
export declare const Stage: Readonly<{ DOWNLOAD: "download"; CACHE: "cache"; TRANSCRIBE: "transcribe"; THREADS: "threads" }>;
export type Stage = (typeof Stage)[keyof typeof Stage];

/**
 * Loading: bytes of `file` downloaded ("download") or read from this browser's storage ("cache"),
 * of `total`. Transcribing: seconds of audio recognised, of `total`.
 */
export interface Progress {
  stage: Exclude<Stage, "threads">;
  file?: string;
  loaded: number;
  total: number;
}

export declare const ErrorKind: Readonly<{
  NOT_FOUND: "not-found";
  HTTP: "http";
  NETWORK: "network";
  CORRUPT: "corrupt";
  FORMAT: "format";
  AUDIO: "audio";
  VERSION: "version";
  SETTINGS: "settings";
  ABORTED: "aborted";
  RECOGNIZER: "recognizer";
}>;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** What every failure of this API is: `kind` says which remedy fits (retry, another file, …). */
export declare class AsrError extends Error {
  constructor(kind: ErrorKind, message: string, text?: { key?: string | null; params?: Record<string, unknown> });
  readonly name: "AsrError";
  readonly kind: ErrorKind;
  /** `message` (English) as a key of the interface's catalogues, or null for the recognizer library's own errors. */
  readonly key: string | null;
  readonly params: Record<string, unknown>;
}

/** An interface language: "sah" (Sakha), "ru" (Russian) or "en" (English). */
export type InterfaceLanguage = "sah" | "ru" | "en";

/** The interface languages, each named in itself. */
export declare const LANGUAGES: Readonly<Record<InterfaceLanguage, string>>;

/** The interface language of a language tag ("ru-RU" → "ru"), or null. */
export declare function interfaceLanguage(tag: string | null | undefined): InterfaceLanguage | null;

/** The first of `tags` (say, navigator.languages) that the interface has, else "en". */
export declare function preferredLanguage(tags: readonly string[] | null | undefined): InterfaceLanguage;

/** The text of a catalogue key in `lang` (English for a language the interface lacks). */
export declare function translate(lang: string, key: string, params?: Record<string, unknown>): string;

/** What to show of an error in `lang`: the kind's title, and its message in that language where it has one. */
export declare function errorText(lang: string, error: unknown): { title: string; message: string };

export declare const WasmBuild: Readonly<{ SIMD128: "simd128"; RELAXED: "relaxed"; THREADS: "threads" }>;
export type WasmBuild = (typeof WasmBuild)[keyof typeof WasmBuild];

export interface WasmInfo {
  build: WasmBuild;
  threads: number;
}

export interface LoadOptions {
  /** Default: the package's default language. */
  language?: string;
  /** Default: the best build this browser runs. */
  build?: WasmBuild;
  /** Threads of the threaded build, 1 to 8; default: the cores, at most 8. */
  threads?: number;
  onProgress?: (progress: Progress) => void;
  /** Aborting stops the worker and its downloads; the load then fails with the signal's reason. */
  signal?: AbortSignal;
}

export interface TranscribeOptions {
  /** The rate of Float32Array samples; default: the recognizer's (16 000). */
  sampleRate?: number;
  /** false: decode letter by letter though the language has a word language model. */
  languageModel?: boolean;
  /** A callback that throws aborts the transcription with what it threw. */
  onProgress?: (progress: Progress) => void;
  onPartial?: (transcript: Transcript) => void;
  /** Aborting rejects at once with the signal's reason; the worker stops within a few seconds of audio. */
  signal?: AbortSignal;
}

/** A piece of a live recording, times in seconds from its start. */
export interface Segment {
  start: number;
  end: number;
  text: string;
  words: Word[];
}

export interface LiveOptions {
  languageModel?: boolean;
  /** The transcript so far; its last `partial.words` are the open piece's, which may still change. */
  onPartial?: (transcript: Transcript, partial: Segment) => void;
  /** Seconds recorded so far, a few times a second. */
  onTick?: (seconds: number) => void;
  /** Aborting cancels the recording (or its start) and lets go of the microphone; `stop()` then rejects. */
  signal?: AbortSignal;
}

export interface LiveRecording {
  /** Stops the microphone and resolves to the whole recording's transcription and its audio. */
  stop(): Promise<RecordingTranscription>;
  /** Stops the microphone and drops the recording. */
  cancel(): Promise<void>;
}

/** A loaded model in a worker of its own. Requests run one after another. */
export declare class Transcriber {
  private constructor();
  readonly language: string;
  readonly languages: string[];
  /** Whether the language has a word language model (used unless a request says otherwise). */
  readonly languageModel: boolean;
  readonly sampleRate: number;
  readonly quantization: string;
  readonly wasm: WasmInfo;
  /** Null, or for people, in English: why a downloaded file could not be kept for offline use. */
  readonly notice: string | null;
  /** The notice in interface language `lang`, or null. */
  localNotice(lang: string): string | null;
  /** A File or Blob of audio, an ArrayBuffer of an audio file, or mono samples (copied). A WAV file, or
   * an MP3 where the browser has WebCodecs' AudioDecoder, is read and recognised piece by piece, so
   * its length does not grow the tab's memory. */
  transcribe(input: Blob | ArrayBuffer | Float32Array, options?: TranscribeOptions): Promise<Transcription>;
  /** Resolves once the microphone is open. */
  startLive(options?: LiveOptions): Promise<LiveRecording>;
  /** SRT and WebVTT, as `transcribe` gives them, of a transcript: say, one whose words a person corrected. */
  subtitles(transcript: Transcript): Promise<{ srt: string; vtt: string }>;
  setLanguage(language: string, options?: { onProgress?: (progress: Progress) => void }): Promise<void>;
  dispose(): void;
}

/**
 * Loads the package whose model.json is at `manifestUrl` into a module worker: files are downloaded
 * once, checked against model.json's sizes and sha256, and kept in the Cache API.
 */
export declare function load(manifestUrl: string | URL, options?: LoadOptions): Promise<Transcriber>;

/** Deletes every model this package stored in the browser. */
export declare function clearModelCache(): Promise<void>;

/** "112 kB", "5.0 MB", "1.3 GB" in English; in interface language `lang` where given. */
export declare function formatSize(bytes: number, lang?: string): string;

/** "wasm relaxed SIMD + threads, 2 threads". */
export declare function describeWasm(wasm: WasmInfo): string;

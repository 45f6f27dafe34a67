// Recording from the microphone with a live transcript. Only the audio recorded since the last
// update goes to the recognizer's worker, which feeds it to a live stream of its own (protocol.js,
// startStream): a pause finishes a piece for good, and each update runs the model over its new audio
// and a little around it, so an update costs the same an hour into a recording as at its start. One
// update at a time: what is recorded while the recognizer works goes with the next, sent as soon as
// the previous one is answered, so requests never pile up and the text lags by about one update.

import { Microphone, pcm16, wavFile } from "./audio.js";
import { AsrError, ErrorKind } from "./protocol.js";
import { StreamResampler } from "./stream-resampler.js";
import { transcriptOf } from "./transcript.js";

const TICK_MS = 250;

export class LiveRecording {
  #client;
  #microphone;
  #resampler;
  #timer;
  #onPartial;
  #push = null;
  #failure = null;
  /** Set by the first `stop()` or `cancel()`. */
  #stopping = false;
  /** The worker's stream id. */
  #stream = null;
  /** The words of the finished pieces. */
  #words = [];
  #sampleRate;
  /**
   * What was sent, for playback: 16-bit, half the memory of the samples (an hour: 115 MB), as the
   * WAV file it becomes holds them anyway.
   */
  #sent = [];

  /**
   * `client`: a loaded AsrClient. `onTick(seconds)` is called a few times a second with the length
   * recorded; `onPartial(transcript, partial)` after each update with the transcript so far, whose
   * last `partial.words` are those of the open piece (they may still change); `languageModel` as
   * for `client.transcribe`.
   */
  static async start(client, sampleRate, { onTick, onPartial, languageModel, signal }) {
    signal?.throwIfAborted();
    const recording = new LiveRecording();
    recording.#client = client;
    recording.#onPartial = onPartial;
    recording.#sampleRate = sampleRate;
    recording.#microphone = await Microphone.open(signal);
    try {
      recording.#stream = await client.startStream({ languageModel, live: true });
      signal?.throwIfAborted();
    } catch (e) {
      await recording.#microphone.stop();
      if (recording.#stream !== null) client.closeStream(recording.#stream).catch(() => {});
      throw e;
    }
    recording.#resampler = new StreamResampler(recording.#microphone.sampleRate, sampleRate);
    recording.#timer = setInterval(() => {
      onTick?.(recording.#microphone.seconds);
      if (!recording.#push) recording.#send();
    }, TICK_MS);
    signal?.addEventListener("abort", () => recording.#abort(signal.reason), { once: true });
    return recording;
  }

  /** An aborted recording is cancelled, and its `stop()` rejects with `reason`. */
  #abort(reason) {
    this.#failure ??= reason;
    this.cancel();
  }

  /** Sends what was recorded since the last update, and again once it is answered. */
  #send() {
    const samples = this.#resampler.push(this.#microphone.take());
    if (!samples.length) return;
    // Copied before the samples are moved to the worker.
    this.#sent.push(pcm16(samples));
    this.#push = this.#client
      .pushStream(this.#stream, samples)
      .then(({ final, partial }) => {
        for (const segment of final) this.#words.push(...segment.words);
        if (!this.#timer) return;
        this.#onPartial?.(transcriptOf([...this.#words, ...partial.words], partial.end), partial);
      })
      // Reported by stop(): the stream cannot go on without the audio it missed.
      .catch((e) => (this.#failure ??= e))
      .finally(() => {
        this.#push = null;
        if (this.#timer && !this.#failure) this.#send();
      });
  }

  /**
   * Stops recording and resolves, once the last of it is recognised, to the whole recording's
   * {transcript, srt, vtt, audio}: the finished pieces' words, as `client.transcribe` gives them for
   * the same samples, and those samples as a WAV Blob (wavFile), for playback.
   */
  async stop() {
    if (this.#stopping) throw this.#failure ?? AsrError.of(ErrorKind.SETTINGS, "error.recordingStopped");
    this.#stopping = true;
    await this.#stopMicrophone();
    const last = this.#resampler.push(this.#microphone.take());
    const rest = this.#resampler.flush();
    const samples = new Float32Array(last.length + rest.length);
    samples.set(last);
    samples.set(rest, last.length);
    this.#sent.push(pcm16(samples));
    // Sent at once: the worker answers in order, so the end waits only for the push in flight. The
    // last audio goes with the end, and no partial text is made for it.
    const finished = this.#client.finishStream(this.#stream, samples);
    await this.#push;
    if (this.#failure) {
      await finished.catch(() => {});
      throw this.#failure;
    }
    const { transcript, srt, vtt } = await finished;
    return { transcript, srt, vtt, audio: wavFile(this.#sent, this.#sampleRate) };
  }

  /** Stops the timer and the microphone, and drops what was recorded; once, however often called. */
  async cancel() {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#stopMicrophone();
    await this.#push;
    await this.#client.closeStream(this.#stream).catch(() => {});
  }

  #stopMicrophone() {
    clearInterval(this.#timer);
    this.#timer = null;
    return this.#microphone.stop();
  }
}

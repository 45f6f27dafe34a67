// Recording from the microphone with a live transcript. Only the audio recorded since the last
// update goes to the recognizer's worker, which feeds it to a stream (protocol.js, startStream): a
// pause finishes a piece for good, and only the open piece after it is recognised again, so an update
// costs the same an hour into a recording as at its start. One update at a time: what is recorded
// while the recognizer works goes with the next, so requests never pile up.

import { Microphone } from "./audio.js";
import { StreamResampler } from "./stream-resampler.js";

const TICK_MS = 250;

export class LiveRecording {
  #client;
  #microphone;
  #resampler;
  #timer;
  #onPartial;
  #push = null;
  #failure = null;
  /** The words of the finished pieces. */
  #words = [];

  /**
   * `client`: a loaded AsrClient. `onTick(seconds)` is called a few times a second with the length
   * recorded; `onPartial(transcript, partial)` after each update with the transcript so far, whose
   * last `partial.words` are those of the open piece (they may still change); `languageModel` as
   * for `client.transcribe`.
   */
  static async start(client, sampleRate, { onTick, onPartial, languageModel }) {
    const recording = new LiveRecording();
    recording.#client = client;
    recording.#onPartial = onPartial;
    recording.#microphone = await Microphone.open();
    try {
      await client.startStream({ languageModel });
    } catch (e) {
      await recording.#microphone.stop();
      throw e;
    }
    recording.#resampler = new StreamResampler(recording.#microphone.sampleRate, sampleRate);
    recording.#timer = setInterval(() => {
      onTick?.(recording.#microphone.seconds);
      if (!recording.#push) recording.#send();
    }, TICK_MS);
    return recording;
  }

  /** Sends what was recorded since the last update. */
  #send() {
    const samples = this.#resampler.push(this.#microphone.take());
    if (!samples.length) return;
    this.#push = this.#client
      .pushStream(samples)
      .then(({ final, partial }) => {
        for (const segment of final) this.#words.push(...segment.words);
        if (!this.#timer) return;
        const words = [...this.#words, ...partial.words];
        this.#onPartial?.({ text: words.map((w) => w.text).join(" "), words, duration: partial.end }, partial);
      })
      // Reported by stop(): the stream cannot go on without the audio it missed.
      .catch((e) => (this.#failure ??= e))
      .finally(() => (this.#push = null));
  }

  /**
   * Stops recording and resolves, once the last of it is recognised, to the whole recording's
   * {transcript, srt, vtt}: the finished pieces' words, as `client.transcribe` gives them for the
   * same samples.
   */
  async stop() {
    await this.cancel();
    await this.#push;
    if (this.#failure) throw this.#failure;
    const last = this.#resampler.push(this.#microphone.take());
    const rest = this.#resampler.flush();
    const samples = new Float32Array(last.length + rest.length);
    samples.set(last);
    samples.set(rest, last.length);
    if (samples.length) await this.#client.pushStream(samples);
    const { transcript, srt, vtt } = await this.#client.finishStream();
    return { transcript, srt, vtt };
  }

  /** Stops the timer and the microphone; what was recorded is dropped. */
  cancel() {
    clearInterval(this.#timer);
    this.#timer = null;
    return this.#microphone.stop();
  }
}

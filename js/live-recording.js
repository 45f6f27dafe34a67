// Recording from the microphone with a live transcript: while the user speaks, everything recorded
// so far is transcribed again whenever the previous pass is done and enough new audio came in, so
// the recognizer is never more than one pass behind and requests never pile up.

import { Microphone } from "./audio.js";

const UPDATE_EVERY_SECONDS = 1.5;
const TICK_MS = 250;

export class LiveRecording {
  #microphone;
  #timer;
  #pass = null;
  #transcribedSeconds = 0;

  /**
   * `client`: a loaded AsrClient. `onTick(seconds)` is called a few times a second with the length
   * recorded; `onPartial(transcript)` with each live transcript; `languageModel` as for
   * `client.transcribe`.
   */
  static async start(client, sampleRate, { onTick, onPartial, languageModel }) {
    const recording = new LiveRecording();
    recording.#microphone = await Microphone.open();
    recording.#timer = setInterval(() => recording.#tick(client, sampleRate, onTick, onPartial, languageModel), TICK_MS);
    return recording;
  }

  #tick(client, sampleRate, onTick, onPartial, languageModel) {
    const seconds = this.#microphone.seconds;
    onTick?.(seconds);
    if (this.#pass || seconds - this.#transcribedSeconds < UPDATE_EVERY_SECONDS) return;
    this.#transcribedSeconds = seconds;
    this.#pass = (async () => {
      const { transcript } = await client.transcribe(await this.#microphone.samples(sampleRate), { languageModel });
      if (this.#timer) onPartial?.(transcript);
    })()
      // Too little audio yet, mostly; the final transcription reports real problems.
      .catch(() => {})
      .finally(() => (this.#pass = null));
  }

  /** Stops recording; resolves to all of it, resampled, once any live pass has finished. */
  async stop(sampleRate) {
    await this.cancel();
    await this.#pass;
    return this.#microphone.samples(sampleRate);
  }

  /** Stops the timer and the microphone; what was recorded is dropped. */
  cancel() {
    clearInterval(this.#timer);
    this.#timer = null;
    return this.#microphone.stop();
  }
}

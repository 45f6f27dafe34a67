// Audio in: files of any format the browser decodes, and the microphone, both turned into mono
// samples at the recognizer's rate. Resampling always goes through decodeAudioData on an
// OfflineAudioContext at the target rate, which uses the browser's band-limited (sinc) resampler;
// the channels are then averaged, as the native CLI does.

import { AsrError, ErrorKind, ofThisBuild } from "./protocol.js";

/** Decodes an encoded audio file (ArrayBuffer) to mono Float32Array samples at `sampleRate`. */
export async function decodeToMono(encoded, sampleRate) {
  const context = new OfflineAudioContext(1, 1, sampleRate);
  let decoded;
  try {
    decoded = await context.decodeAudioData(encoded);
  } catch {
    throw new AsrError(
      ErrorKind.AUDIO,
      "This browser cannot decode the file as audio. Try WAV, MP3, OGG, FLAC or M4A, or convert it first.",
    );
  }
  if (decoded.length === 0) throw new AsrError(ErrorKind.AUDIO, "The file contains no audio samples.");
  return averageChannels(decoded);
}

function averageChannels(buffer) {
  if (buffer.numberOfChannels === 1) return buffer.getChannelData(0).slice();
  const mono = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const channel = buffer.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i] += channel[i];
  }
  const scale = 1 / buffer.numberOfChannels;
  for (let i = 0; i < mono.length; i++) mono[i] *= scale;
  return mono;
}

/** Mono `samples` at `fromRate` (Hz) resampled to `toRate`, by the same resampler as files. */
export function resample(samples, fromRate, toRate) {
  return decodeToMono(floatWav(samples, fromRate), toRate);
}

/** `samples` (mono, any rate) as a 32-bit float WAV file, so it can be resampled by decodeToMono. */
function floatWav(samples, sampleRate) {
  const header = 44;
  const view = new DataView(new ArrayBuffer(header + samples.length * 4));
  const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 4, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 3, true); // IEEE float
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 4, true);
  view.setUint16(32, 4, true);
  view.setUint16(34, 32, true);
  text(36, "data");
  view.setUint32(40, samples.length * 4, true);
  new Float32Array(view.buffer, header).set(samples);
  return view.buffer;
}

/**
 * The microphone at the device's own rate (an AudioContext forced to 16 kHz cannot take a 48 kHz
 * mic stream in Firefox), captured by an AudioWorklet. `take()` returns what was recorded since it was
 * last called, which is not kept.
 */
export class Microphone {
  #stream;
  #context;
  #capture;
  #stopped;
  #stopping = null;
  #blocks = [];
  #length = 0;

  /** Opens the microphone; aborting `signal` lets go of it as soon as the browser hands it over. */
  static async open(signal) {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new AsrError(ErrorKind.AUDIO, "This browser gives no access to a microphone (it needs a secure, https page).");
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } });
    } catch (e) {
      const why = e?.name === "NotAllowedError" ? "permission was denied" : e?.name === "NotFoundError" ? "no microphone was found" : e?.message;
      throw new AsrError(ErrorKind.AUDIO, `Cannot record: ${why}.`);
    }
    const microphone = new Microphone();
    try {
      signal?.throwIfAborted();
      await microphone.#start(stream);
      signal?.throwIfAborted();
    } catch (e) {
      // The device is let go of whatever failed (the worklet's module, an AudioContext refused).
      stream.getTracks().forEach((track) => track.stop());
      await microphone.#context?.close().catch(() => {});
      throw signal?.aborted ? signal.reason : new AsrError(ErrorKind.AUDIO, `Cannot record: ${e?.message ?? e}.`);
    }
    return microphone;
  }

  async #start(stream) {
    this.#stream = stream;
    this.#context = new AudioContext();
    await this.#context.audioWorklet.addModule(ofThisBuild(new URL("./mic-worklet.js", import.meta.url)));
    this.#capture = new AudioWorkletNode(this.#context, "sakha-asr-capture");
    this.#capture.port.onmessage = ({ data }) => {
      if (data instanceof Float32Array) return this.#append(data);
      this.#append(data.last);
      this.#stopped();
    };
    this.#context.createMediaStreamSource(stream).connect(this.#capture);
    // The node writes silence; being connected keeps the graph pulling it in every browser.
    this.#capture.connect(this.#context.destination);
  }

  #append(block) {
    this.#blocks.push(block);
    this.#length += block.length;
  }

  get seconds() {
    return this.#length / this.#context.sampleRate;
  }

  /** The device's sample rate, that of `take()`. */
  get sampleRate() {
    return this.#context.sampleRate;
  }

  /** The samples recorded since the last call, in one array. */
  take() {
    const taken = new Float32Array(this.#blocks.reduce((length, block) => length + block.length, 0));
    let offset = 0;
    for (const block of this.#blocks) {
      taken.set(block, offset);
      offset += block.length;
    }
    this.#blocks = [];
    return taken;
  }

  /** Stops recording, keeping what was recorded up to now; once, however often called. */
  stop() {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop() {
    // A context that is not running (suspended for want of a user's gesture) has no worklet to answer.
    if (this.#context.state === "running") {
      const lastBlockAppended = new Promise((resolve) => (this.#stopped = resolve));
      this.#capture.port.postMessage("flush");
      await lastBlockAppended;
    }
    this.#stream.getTracks().forEach((track) => track.stop());
    await this.#context.close();
  }
}

// Audio in: files of any format the browser decodes, and the microphone, both turned into mono
// samples at the recognizer's rate. Channels are mixed down here; resampling, for every input, is
// js/stream-resampler.js's.

import { AsrError, ErrorKind, ofThisBuild } from "./protocol.js";

/**
 * The channels (equal-length Float32Arrays) averaged into one, as the native CLI mixes them. Every
 * file path mixes here, and the microphone's worklet the same way (summed in double precision), so
 * the same channels give the same samples whatever the container. One channel is returned as it is.
 */
export function downmix(channels) {
  if (channels.length === 1) return channels[0];
  const mono = new Float32Array(channels[0].length);
  for (let i = 0; i < mono.length; i++) {
    let sum = 0;
    for (const channel of channels) sum += channel[i];
    mono[i] = sum / channels.length;
  }
  return mono;
}

/**
 * A WAV file (mono, 16-bit PCM at `sampleRate`) of `chunks`, Int16Arrays of samples in order: what
 * an <audio> element plays back of samples that were never a file (a recording).
 */
export function wavFile(chunks, sampleRate) {
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, value) => [...value].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + bytes, true);
  text(8, "WAVEfmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true);
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, "data");
  header.setUint32(40, bytes, true);
  return new Blob([header, ...chunks], { type: "audio/wav" });
}

/** Samples (-1..1) as 16-bit integers. */
export function pcm16(samples) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-1, Math.min(1, samples[i])) * 0x7fff;
  return pcm;
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
      throw AsrError.of(ErrorKind.AUDIO, "error.noMicrophoneAccess");
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } });
    } catch (e) {
      if (e?.name === "NotAllowedError") throw AsrError.of(ErrorKind.AUDIO, "error.microphoneDenied");
      if (e?.name === "NotFoundError") throw AsrError.of(ErrorKind.AUDIO, "error.microphoneNotFound");
      throw AsrError.of(ErrorKind.AUDIO, "error.microphoneFailed", { detail: e?.message });
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
      throw signal?.aborted ? signal.reason : AsrError.of(ErrorKind.AUDIO, "error.microphoneFailed", { detail: e?.message ?? e });
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

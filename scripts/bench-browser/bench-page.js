// The benchmark page: runs one stack in a module worker and times it from the page, the way an app
// sees it. scripts/bench-browser.mjs calls window.bench.* and reads the results; the page itself holds
// no policy (which runs, how many, medians).

import { AsrClient } from "/pkg/asr-client.js";
import { transcribeFile } from "/pkg/file-pieces.js";

async function samplesOf(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Float32Array(await response.arrayBuffer());
}

/** A worker of ours that answers each message with one reply, "error" replies rejected. */
function ask(worker, message, transfer = []) {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.type === "error" ? reject(new Error(data.message)) : resolve(data));
    worker.onerror = (event) => reject(new Error(event.message ?? "worker error"));
    worker.postMessage(message, transfer);
  });
}

async function timed(run) {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

let client = null;
let worker = null;

window.bench = {
  /**
   * Our app's own worker (js/worker.js through js/asr-client.js) loads the package at `modelUrl`;
   * `options` may ask for a wasm build and thread count (`build`, `threads`), else the worker picks.
   */
  async loadOurs(modelUrl, options) {
    client = new AsrClient();
    const { ms, value } = await timed(() => client.load(modelUrl, options));
    return { ms, info: value };
  },

  async transcribeOurs(audioUrl) {
    const samples = await samplesOf(audioUrl);
    const { ms, value } = await timed(() => client.transcribe(samples));
    return { ms, text: value.transcript.text };
  },

  /** The npm API's path for a File or Blob (`transcribe(blob)`): a WAV read and streamed in slices. */
  async transcribeOursFile(wavUrl) {
    const response = await fetch(wavUrl);
    if (!response.ok) throw new Error(`${wavUrl}: HTTP ${response.status}`);
    const blob = await response.blob();
    const { ms, value } = await timed(() => transcribeFile(client, blob, 16_000));
    return { ms, text: value.transcript.text };
  },

  /** onnxruntime-web in a module worker (ort-worker.js), `threads` wasm threads. */
  async loadOrt(modelUrl, threads) {
    const { ms, value } = await timed(() => {
      worker = new Worker("./ort-worker.js", { type: "module" });
      return ask(worker, { type: "load", modelUrl, threads });
    });
    return { ms, info: value.build };
  },

  async transcribeOrt(audioUrl) {
    const samples = await samplesOf(audioUrl);
    const { ms, value } = await timed(() => ask(worker, { type: "run", samples }, [samples.buffer]));
    return { ms, text: `${value.tokens} tokens in ${value.frames} frames` };
  },

  /** Ours with its window length set (chunk-worker.js). */
  async loadChunked(modelUrl) {
    worker = new Worker("./chunk-worker.js", { type: "module" });
    const { ms, value } = await timed(() => ask(worker, { type: "load", modelUrl }));
    return { ms, info: { wasm: { build: value.build, threads: value.threads } } };
  },

  async transcribeChunked(audioUrl, chunkSeconds, contextSeconds) {
    const samples = await samplesOf(audioUrl);
    const message = { type: "run", samples, chunkSeconds, contextSeconds };
    const { ms, value } = await timed(() => ask(worker, message, [samples.buffer]));
    return { ms, text: value.text };
  },

  crossOriginIsolated: () => self.crossOriginIsolated,
};

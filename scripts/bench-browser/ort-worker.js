// onnxruntime-web's side of the browser benchmark: a module worker holding one InferenceSession (wasm
// execution provider). It keeps the ONNX file in the Cache API, as our app keeps its package, so "ready"
// means the same for both stacks: read from the cache and build. Messages (bench-page.js):
//   {type: "load", modelUrl, threads}  -> {type: "loaded", build}
//   {type: "run", samples}             -> {type: "done", frames, tokens}  (samples: 16 kHz mono)

import * as ort from "/ort/ort.wasm.min.mjs";

const CACHE = "bench-onnx";
let session = null;

async function modelBytes(url) {
  const cache = await caches.open(CACHE);
  let response = await cache.match(url);
  if (!response) {
    await cache.put(url, await fetch(url));
    response = await cache.match(url);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Zero mean, unit variance, as our Normalization and transformers' feature extractor. */
function normalized(samples) {
  let mean = 0;
  for (const s of samples) mean += s;
  mean /= samples.length;
  let variance = 0;
  for (const s of samples) variance += (s - mean) ** 2;
  const scale = 1 / Math.sqrt(variance / samples.length + 1e-7);
  return samples.map((s) => (s - mean) * scale);
}

async function run(samples) {
  const input = new ort.Tensor("float32", normalized(samples), [1, samples.length]);
  const { logits } = await session.run({ input_values: input });
  const [, frames, vocab] = logits.dims;
  // Greedy CTC: most likely token per frame, repeats merged, blanks (id 0) dropped.
  const tokens = [];
  let previous = -1;
  for (let f = 0; f < frames; f++) {
    let best = 0;
    for (let v = 1; v < vocab; v++) if (logits.data[f * vocab + v] > logits.data[f * vocab + best]) best = v;
    if (best !== previous && best !== 0) tokens.push(best);
    previous = best;
  }
  logits.dispose();
  return { frames, tokens: tokens.length };
}

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "load") {
      ort.env.wasm.numThreads = data.threads;
      ort.env.wasm.wasmPaths = "/ort/";
      const bytes = await modelBytes(data.modelUrl);
      session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
      self.postMessage({ type: "loaded", build: `onnxruntime-web ${ort.env.versions.web}, wasm, ${data.threads} thread(s), crossOriginIsolated ${self.crossOriginIsolated}` });
    } else {
      self.postMessage({ type: "done", ...(await run(data.samples)) });
    }
  } catch (e) {
    self.postMessage({ type: "error", message: e?.message ?? String(e) });
  }
};

// Our recognizer at a chosen window length (Recognizer.setChunking), for the chunk-length rows of the
// browser benchmark: the build the app's worker would pick (js/wasm-build.js; one thread on a plain
// page), the package fetched directly (no Cache API: only recognition is timed here). Messages:
//   {type: "load", modelUrl}                              -> {type: "loaded", build, threads}
//   {type: "run", samples, chunkSeconds, contextSeconds}  -> {type: "done", text}

import { startWasm } from "/pkg/wasm-build.js";

let recognizer = null;

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "load") {
      const { bindings, build, threads } = await startWasm();
      const modelUrl = new URL(data.modelUrl, self.location.href);
      const manifestText = await (await fetch(modelUrl)).text();
      const manifest = JSON.parse(manifestText);
      const language = manifest.languages[manifest.default_language];
      const [base, languageFile] = await Promise.all(
        [manifest.base.file, language.file].map((file) => bytes(new URL(file, modelUrl))),
      );
      recognizer = new bindings.Recognizer(manifestText, base, languageFile);
      self.postMessage({ type: "loaded", build, threads });
    } else {
      recognizer.setChunking(data.chunkSeconds, data.contextSeconds);
      self.postMessage({ type: "done", text: recognizer.transcribe(data.samples).text });
    }
  } catch (e) {
    self.postMessage({ type: "error", message: e?.message ?? String(e) });
  }
};

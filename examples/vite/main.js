// The package's two entry points: the API (load, transcribe, startLive) and the <sakha-asr> element. The model
// is the one in public/models/default/ unless the page is given ?model=URL-of-model.json.
// Type-checked against the package's .d.ts files (`npx tsc`).
import { AsrError, describeWasm, formatSize, load } from "sakha-asr";
import "sakha-asr/element";

const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const input = /** @type {HTMLInputElement} */ (document.getElementById("file"));
const record = /** @type {HTMLButtonElement} */ (document.getElementById("record"));
const output = /** @type {HTMLElement} */ (document.getElementById("transcript"));
const modelUrl = new URLSearchParams(location.search).get("model") ?? "/models/default/model.json";

try {
  const asr = await load(modelUrl, {
    onProgress: ({ stage, file, loaded, total }) => (status.textContent = `${stage} ${file}: ${formatSize(loaded)} of ${formatSize(total)}`),
  });
  status.textContent = `Ready (${asr.language}; ${describeWasm(asr.wasm)}).`;
  document.body.dataset.state = "ready";
  input.disabled = record.disabled = false;
  input.addEventListener("change", () => {
    const [file] = input.files ?? [];
    if (file) show(asr.transcribe(file));
  });

  /** @type {import("sakha-asr").LiveRecording | null} */
  let live = null;
  record.addEventListener("click", async () => {
    if (live) {
      const stopping = live;
      live = null;
      record.textContent = "Record";
      show(stopping.stop());
      return;
    }
    try {
      live = await asr.startLive({
        onPartial: (transcript) => {
          output.textContent = transcript.text;
          document.body.dataset.state = "live";
        },
      });
      record.textContent = "Stop";
    } catch (e) {
      fail(e);
    }
  });
} catch (e) {
  fail(e);
}

// The element's events are typed too (element.d.ts).
document.querySelector("sakha-asr")?.addEventListener("sakha-asr-ready", (event) => console.log("element ready:", event.detail.language));

/** Shows the text of a transcription once it is done. @param {Promise<import("sakha-asr").Transcription>} transcription */
async function show(transcription) {
  document.body.dataset.state = "transcribing";
  try {
    output.textContent = (await transcription).transcript.text;
    document.body.dataset.state = "done";
  } catch (e) {
    fail(e);
  }
}

/** @param {unknown} error */
function fail(error) {
  status.textContent = error instanceof AsrError ? `${error.kind}: ${error.message}` : String(error);
  document.body.dataset.state = "failed";
}

// The package's two entry points: the API (load, transcribe) and the <sakha-asr> element. The model
// is the one in public/models/default/ unless the page is given ?model=URL-of-model.json.
import { describeWasm, formatSize, load } from "sakha-asr";
import "sakha-asr/element";

const $ = (id) => document.getElementById(id);
const modelUrl = new URLSearchParams(location.search).get("model") ?? "/models/default/model.json";

try {
  const asr = await load(modelUrl, {
    onProgress: ({ stage, file, loaded, total }) => ($("status").textContent = `${stage} ${file}: ${formatSize(loaded)} of ${formatSize(total)}`),
  });
  $("status").textContent = `Ready (${asr.language}; ${describeWasm(asr.wasm)}).`;
  document.body.dataset.state = "ready";
  $("file").disabled = false;
  $("file").addEventListener("change", async () => {
    document.body.dataset.state = "transcribing";
    try {
      const { transcript } = await asr.transcribe($("file").files[0]);
      $("transcript").textContent = transcript.text;
      document.body.dataset.state = "done";
    } catch (e) {
      fail(e);
    }
  });
} catch (e) {
  fail(e);
}

function fail(error) {
  $("status").textContent = `${error.kind}: ${error.message}`;
  document.body.dataset.state = "failed";
}

// The web app in WebKitGTK, the engine of Safari (pages.mjs launchBrowser("webkit"): Debian's
// MiniBrowser over plain W3C WebDriver), with e2e.test.mjs's assertions where WebKit's driver
// allows: the first visit's download into the Cache API, the nine test files against the native
// CLI's text, a reload that asks only for model.json, a reload with the server gone, the microphone,
// the npm package's API in a blank page, the widget, and one thread on a cross-origin isolated host
// (WebKitGTK has no SharedArrayBuffer even there).
//
// What WebKit's driver lacks, and what stands in for it here:
// - no offline switch: the server is stopped instead (the reload is then served by the service
//   worker and the stored model, as offline);
// - no init scripts: the widget's host page collects the widget's events itself
//   (startWidgetHost's recordEvents);
// - no network events and no console log: e2e's check that no request leaves the origin and no page
//   throws is not made here;
// - no microphone that plays a file: WebKit's mock capture device plays a tone of its own, so the
//   recording test checks the pace, that the track ends, and that the final text is the live
//   stream's for the audio the page sent, not that it is the sample's words.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatSize } from "../pkg/model-loader.js";
import {
  BUILT_IN_BYTES,
  BUILT_IN_ENTRIES,
  TEST_AUDIO_FILES,
  assertCloseToCli,
  evaluateInFreshPage,
  isCached,
  launchBrowser,
  nativeTranscript,
  recordingPace,
  replayLiveStream,
  startWidgetHost,
  transcribeFile,
  waitForError,
  waitForModel,
  watchRecording,
  widgetResult,
} from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const CLI = process.env.SAKHA_ASR_CLI;
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const AUDIO = join(WORK, "audio");
const SCREENSHOTS = resolve(process.env.SCREENSHOT_DIR ?? "out/screenshots");
const DEFAULT_FILES = ["model.json", ...BUILT_IN_ENTRIES.map((entry) => entry.file)];
const DEFAULT_BYTES = BUILT_IN_BYTES;
const AUDIO_FILES = TEST_AUDIO_FILES;
const SPEECH = join(AUDIO, "sample_48k.wav");
const F32_MODEL = join(WORK, "models/two-languages-f32");

let browser;

before(async () => {
  assert.ok(CLI, "SAKHA_ASR_CLI must name the native CLI (scripts/test-web.sh sets it)");
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchBrowser("webkit");
});

after(() => browser?.close());

/** A fresh profile with one page. */
async function freshPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  return { context, page: await context.newPage() };
}

describe("the app page in WebKit", () => {
  // A server of its own: the last test stops it.
  let server;
  let context;
  let page;
  const modelRequests = (since) => server.requests.slice(since).filter((path) => path.startsWith("/models/"));

  before(async () => {
    server = await startServer({ root: WWW, hidden: ["/tests/"] });
    ({ context, page } = await freshPage());
  });

  after(async () => {
    await context?.close();
    await server?.close();
  });

  // WebKit has no relaxed SIMD, so the page runs the SIMD128 build.
  test("downloads the packaged model once, stores it in the Cache API and runs the SIMD build", async () => {
    const since = server.requests.length;
    await page.goto(`${server.url}/`);
    await waitForModel(page);
    assert.deepEqual(modelRequests(since).sort(), DEFAULT_FILES.map((file) => `/models/default/${file}`).sort());
    const status = await page.textContent("#model-status");
    assert.ok(status.includes(`downloaded ${formatSize(DEFAULT_BYTES)}, now stored for offline use`), status);
    for (const file of DEFAULT_FILES) assert.ok(await isCached(page, `/models/default/${file}`), `${file} is in the Cache API`);
    assert.deepEqual(await page.evaluate(async () => (await import("/pkg/wasm-build.js")).relaxedSimd()), { available: false, exactDot: false });
    assert.equal(await page.textContent("#wasm-build"), "Running on wasm SIMD, 1 thread.");
  });

  // Up to rounding, as in e2e.test.mjs. WebCodecs' AudioDecoder claims MP3 here and WebKit's
  // GStreamer then refuses the data; the page decodes such a file whole instead (file-pieces.js).
  for (const file of AUDIO_FILES) {
    test(`transcribes ${file} to the native CLI's text, up to rounding`, async (t) => {
      assertCloseToCli(t, file, await transcribeFile(page, join(AUDIO, file)), nativeTranscript(join(AUDIO, file)).text);
    });
  }

  test("on reload the model comes from the cache: only model.json is asked of the server", async () => {
    await page.waitForFunction(() => navigator.serviceWorker.controller);
    const since = server.requests.length;
    await page.reload();
    await waitForModel(page);
    assert.deepEqual(modelRequests(since), ["/models/default/model.json"]);
    assert.match(await page.textContent("#model-status"), /from this device, no download/);
  });

  test("records from WebKit's mock microphone in real time, ends with the live stream's text, and lets go of it when stopped", async (t) => {
    await watchRecording(page);
    await page.click("#record-button");
    const pace = await recordingPace(page);
    assert.ok(pace > 0.8 && pace < 1.2, `${pace.toFixed(2)} s recorded per second`);
    await page.click("#record-button");
    await page.waitForFunction(
      () =>
        (document.getElementById("transcript").dataset.state === "final" &&
          document.getElementById("transcript-source").textContent.includes("recording-")) ||
        !document.getElementById("error").hidden,
    );
    assert.equal(await page.isVisible("#error"), false, await page.textContent("#error"));
    const streamed = await page.evaluate(() => window.streamed);
    assert.equal(streamed.at(-1).type, "finishStream");
    const pushes = streamed.slice(0, -1).map((message) => message.samples);
    assert.ok(pushes.length > 0, "the recording was streamed to the worker");
    const text = (await page.textContent("#transcript")).trim();
    t.diagnostic(`the mock microphone's tone gave: ${JSON.stringify(text)}`);
    assert.equal(text, await replayLiveStream(pushes, streamed.at(-1).samples));
    assert.deepEqual(await page.evaluate(() => window.microphoneTracks.map((track) => `${track.kind} ${track.readyState}`)), ["audio ended"]);
  });

  test("with the server gone, the app still loads from the service worker and the Cache API, and transcribes", async (t) => {
    await server.close();
    await page.reload();
    await waitForModel(page);
    assert.match(await page.textContent("#model-status"), /from this device, no download/);
    assertCloseToCli(t, "server gone", await transcribeFile(page, SPEECH), nativeTranscript(SPEECH).text);
    await page.screenshot({ path: join(SCREENSHOTS, "app-webkit.png") });
  });
});

describe("WebKit on a cross-origin isolated host", () => {
  let server;
  before(async () => (server = await startServer({ root: WWW, hidden: ["/tests/"], isolated: true })));
  after(() => server?.close());

  test("the page is isolated but WebKitGTK gives it no SharedArrayBuffer: it runs one thread and says so", async (t) => {
    const { context, page } = await freshPage();
    try {
      await page.goto(`${server.url}/`);
      await waitForModel(page);
      assert.deepEqual(await page.evaluate(() => [crossOriginIsolated, typeof SharedArrayBuffer]), [true, "undefined"]);
      assert.equal(await page.textContent("#wasm-build"), "Running on wasm SIMD, 1 thread.");
      assertCloseToCli(t, "isolated", await transcribeFile(page, SPEECH), nativeTranscript(SPEECH).text);

      await page.goto(`${server.url}/?wasm=threads`);
      const error = await waitForError(page);
      assert.equal(error.kind, "recognizer");
      assert.match(error.message, /The threads build cannot run here: this browser gives no shared WebAssembly memory, even to a cross-origin isolated page/);
    } finally {
      await context.close();
    }
  });
});

describe("the npm package and the widget in WebKit", () => {
  let server;

  before(async () => {
    const blank = join(WORK, "webkit-blank");
    mkdirSync(blank, { recursive: true });
    writeFileSync(join(blank, "index.html"), `<!doctype html><meta charset="utf-8"><title>blank</title>`);
    const mounts = { "/test-models/": join(WORK, "models"), "/audio/": AUDIO, "/blank/": blank };
    server = await startServer({ root: WWW, mounts, hidden: ["/tests/"] });
  });

  after(() => server?.close());

  // As package-api.test.mjs: the f32 package gives the CLI's text to the letter.
  test("load and transcribe a WAV and an MP3 Blob in a blank page, to the CLI's text", async () => {
    const texts = await evaluateInFreshPage(browser, `${server.url}/blank/index.html`, async () => {
      const { load } = await import("/pkg/index.js");
      const asr = await load("/test-models/two-languages-f32/model.json");
      const texts = {};
      for (const [file, type] of [["sample_48k.wav", "audio/wav"], ["sample_48k.mp3", "audio/mpeg"]]) {
        const blob = new Blob([await (await fetch(`/audio/${file}`)).arrayBuffer()], { type });
        texts[file] = (await asr.transcribe(blob)).transcript.text;
      }
      asr.dispose();
      return texts;
    });
    for (const [file, text] of Object.entries(texts)) {
      assert.equal(text, nativeTranscript(join(AUDIO, file), "--model", F32_MODEL).text, file);
    }
  });

  test("the <sakha-asr> widget, embedded in a page of another origin, is ready and transcribes a file", async (t) => {
    const host = await startWidgetHost(server, join(WORK, "host-site-webkit"), { recordEvents: true });
    const { context, page } = await freshPage();
    try {
      await page.goto(`${host.url}/`);
      const events = await widgetResult(page, SPEECH);
      const ready = events.find((e) => e.type === "sakha-asr-ready");
      assert.equal(ready?.detail.language, "sah", JSON.stringify(events));
      const result = events.find((e) => e.type === "sakha-asr-result");
      assert.ok(result, `no result event: ${JSON.stringify(events)}`);
      const { text, words } = result.detail.transcript;
      assertCloseToCli(t, "widget", text, nativeTranscript(SPEECH).text);
      assert.equal(text, words.map((word) => word.text).join(" "));
    } finally {
      await context.close();
      await host.close();
    }
  });
});

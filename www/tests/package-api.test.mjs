// The npm package's high-level API (js/index.js) in Chromium and firefox-esr, on the modules as the
// web app serves them (www/pkg/): every kind of input `transcribe` takes gives the CLI's text, the
// caller's buffers stay theirs, and what it cannot take is an AsrError a person can act on.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BROWSERS, evaluateInFreshPage, launchBrowser, nativeTranscript } from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const MODEL = join(WORK, "models", "two-languages-f32");

/** An empty page of the app's origin, so that the package's modules and the models are same-origin. */
const BLANK = "/blank/index.html";
/** Each test waits in the page for the package; a hang fails after this long. */
const TIMEOUT = { timeout: 120_000 };

let server;

before(async () => {
  const blank = join(WORK, "package-api");
  mkdirSync(blank, { recursive: true });
  writeFileSync(join(blank, "index.html"), `<!doctype html><meta charset="utf-8"><title>blank</title>`);
  const mounts = { "/test-models/": join(WORK, "models"), "/audio/": join(WORK, "audio"), "/blank/": blank };
  server = await startServer({ root: WWW, mounts, hidden: ["/tests/"] });
});

after(async () => {
  await server?.close();
});

/** Runs `fn` in a blank page of the app's origin, in a fresh profile of `browser`; resolves to what it returns. */
function inBlankPage(browser, fn) {
  return evaluateInFreshPage(browser, `${server.url}${BLANK}`, fn);
}

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  before(async () => (browser = await launchBrowser(name)));
  after(() => browser?.close());

  test("a stored file is read into one reused buffer, and a read that stalls goes on from a fresh copy where it stopped, not from the server", TIMEOUT, async () => {
    const result = await inBlankPage(browser, async () => {
      const { openPackage } = await import("/pkg/model-loader.js");
      const wasm = await import("/pkg/sakha_asr.js");
      await wasm.default();
      const samples = Float32Array.from({ length: 32_000 }, (_, i) => 0.3 * Math.sin(i * 0.031) * Math.sin(i * 0.0011));
      const bufferSizes = new Set();
      const originalRead = ReadableStreamBYOBReader.prototype.read;
      let byobReads = 0;
      ReadableStreamBYOBReader.prototype.read = function (view) {
        bufferSizes.add(view.buffer.byteLength);
        // what Chromium 156 does now and then: one read, mid-file, never answers
        return ++byobReads === 3 ? new Promise(() => {}) : originalRead.call(this, view);
      };
      const loadLogits = async () => {
        const stages = new Set();
        const started = performance.now();
        const pkg = await openPackage(new URL("/test-models/default-lm/model.json", location.href).href, wasm.parseManifest);
        const text = pkg.manifestText;
        const language = pkg.languageEntry();
        const { files } = await pkg.read(
          [
            { entry: pkg.manifest.base, open: (stored) => wasm.PackageFile.base(text, stored) },
            { entry: language.entry, open: (stored) => wasm.PackageFile.language(text, language.name, stored) },
          ],
          (progress) => stages.add(progress.stage),
        );
        const recognizer = wasm.Recognizer.fromFiles(text, files[0], files[1]);
        const logits = recognizer.logits(samples);
        recognizer.free();
        return { logits, stages: [...stages], seconds: (performance.now() - started) / 1000 };
      };
      const downloaded = await loadLogits();
      const stored = await loadLogits();
      await caches.delete("sakha-asr-models");
      return {
        downloaded: downloaded.stages,
        stored: stored.stages,
        seconds: stored.seconds,
        byobReads,
        bufferSizes: [...bufferSizes],
        sameLogits: downloaded.logits.length > 0 && downloaded.logits.every((v, i) => v === stored.logits[i]),
      };
    });
    assert.deepEqual(result.downloaded, ["download"]);
    assert.deepEqual(result.stored, ["cache"], "the stored copy is read again, not downloaded");
    assert.ok(result.byobReads >= 3, `the stored file went through our buffer (${result.byobReads} reads)`);
    assert.deepEqual(result.bufferSizes, [2 ** 20], "every read is into a 1 MiB buffer");
    assert.ok(result.seconds >= 10, `the stall was waited out (${result.seconds} s)`);
    assert.ok(result.sameLogits, "the model read across the stall is the one downloaded, byte for byte");
  });

  test("transcribe takes a Blob, an ArrayBuffer and samples at another rate, gives the CLI's text for each, and leaves the caller's data whole", TIMEOUT, async () => {
    const results = await inBlankPage(browser, async () => {
      const { load } = await import("/pkg/index.js");
      const asr = await load("/test-models/two-languages-f32/model.json");
      const encoded = await (await fetch("/audio/sample_48k.wav")).arrayBuffer();
      const fromBlob = (await asr.transcribe(new Blob([encoded], { type: "audio/wav" }))).transcript.text;
      const fromBuffer = (await asr.transcribe(encoded)).transcript.text;
      // The file's own samples at its own rate, for transcribe to resample.
      const decoded = await new OfflineAudioContext(1, 1, 48_000).decodeAudioData(encoded.slice(0));
      const samples = decoded.getChannelData(0).slice();
      const fromSamples = (await asr.transcribe(samples, { sampleRate: 48_000 })).transcript.text;
      asr.dispose();
      return { fromBlob, fromBuffer, fromSamples, bufferBytes: encoded.byteLength, samplesLength: samples.length, rate: decoded.sampleRate };
    });
    const expected = nativeTranscript(join(WORK, "audio", "sample_48k.wav"), "--model", MODEL).text;
    assert.equal(results.rate, 48_000);
    assert.equal(results.fromBlob, expected);
    assert.equal(results.fromBuffer, expected);
    assert.equal(results.fromSamples, expected);
    assert.ok(results.bufferBytes > 0, "the ArrayBuffer given to transcribe is not detached");
    assert.ok(results.samplesLength > 0, "the Float32Array given to transcribe is not emptied");
  });

  test("an MP3 whose piecewise decoder fails, at once or midway, is read whole instead, to the same text", TIMEOUT, async () => {
    const results = await inBlankPage(browser, async () => {
      const { load } = await import("/pkg/index.js");
      const asr = await load("/test-models/two-languages-f32/model.json");
      const mp3 = await (await fetch("/audio/sample_44k1_stereo.mp3")).blob();
      const text = async () => (await asr.transcribe(mp3)).transcript.text;
      const normal = await text();
      if (typeof AudioDecoder === "undefined") return { normal, hasDecoder: false };
      // As WebKit's decoder does: it claims MP3, then reports an error for the data.
      const refusingAfter = (frames) =>
        class extends AudioDecoder {
          #decoded = 0;
          #error;
          constructor(init) {
            super(init);
            this.#error = init.error;
          }
          decode(chunk) {
            if (this.#decoded++ < frames) return super.decode(chunk);
            queueMicrotask(() => this.#error(new DOMException("Decode error", "EncodingError")));
          }
        };
      const native = AudioDecoder;
      const refused = {};
      for (const frames of [0, 100]) {
        globalThis.AudioDecoder = refusingAfter(frames);
        refused[frames] = await text();
      }
      globalThis.AudioDecoder = native;
      asr.dispose();
      return { normal, hasDecoder: true, refused };
    });
    assert.ok(results.normal.length > 0);
    if (results.hasDecoder) {
      assert.equal(results.refused[0], results.normal, "refused at the first frame");
      assert.equal(results.refused[100], results.normal, "refused midway");
    }
  });

  test("what transcribe and load cannot take is an AsrError saying what to give instead", TIMEOUT, async () => {
    const errors = await inBlankPage(browser, async () => {
      const { AsrError, load } = await import("/pkg/index.js");
      const caught = async (work) => {
        try {
          await work();
          return null;
        } catch (e) {
          return { isAsrError: e instanceof AsrError, kind: e.kind, message: e.message };
        }
      };
      const asr = await load("/test-models/two-languages-f32/model.json");
      const result = {
        number: await caught(() => asr.transcribe(42)),
        rate: await caught(() => asr.transcribe(new Float32Array(16_000), { sampleRate: 0 })),
        notAudio: await caught(() => asr.transcribe(new Blob(["not audio"]))),
        missing: await caught(() => load("/test-models/no-such-package/model.json")),
      };
      asr.dispose();
      return result;
    });
    assert.deepEqual(errors.number, {
      isAsrError: true,
      kind: "audio",
      message: "transcribe takes a File, a Blob, an ArrayBuffer of an audio file, or a Float32Array of samples.",
    });
    assert.equal(errors.rate.kind, "audio");
    assert.match(errors.rate.message, /sampleRate must be a positive number .*\(got 0\)/);
    assert.equal(errors.notAudio.kind, "audio");
    assert.match(errors.notAudio.message, /cannot decode the file as audio/);
    assert.equal(errors.missing.kind, "not-found");
    assert.ok(errors.missing.isAsrError);
  });

  test("an aborted load fails with the signal's reason and stops its worker", TIMEOUT, async () => {
    const outcome = await inBlankPage(browser, async () => {
      const workers = [];
      const NativeWorker = window.Worker;
      window.Worker = class extends NativeWorker {
        constructor(...args) {
          super(...args);
          workers.push(this);
        }
        terminate() {
          this.terminated = true;
          super.terminate();
        }
      };
      const { load } = await import("/pkg/index.js");
      const failure = (promise) => promise.then(() => null, (e) => e.name);
      const controller = new AbortController();
      // Aborted at its first progress report: the worker is downloading by then.
      const midway = await failure(load("/test-models/two-languages-f32/model.json", { signal: controller.signal, onProgress: () => controller.abort() }));
      const started = workers.length;
      const before = await failure(load("/test-models/two-languages-f32/model.json", { signal: AbortSignal.abort() }));
      return { midway, before, started, workers: workers.length, terminated: workers.every((w) => w.terminated) };
    });
    assert.deepEqual(outcome, { midway: "AbortError", before: "AbortError", started: 1, workers: 1, terminated: true });
  });

  test("the package's element without a model attribute or default reports an error event saying to set one", TIMEOUT, async () => {
    const detail = await inBlankPage(browser, async () => {
      await import("/pkg/element.js");
      const element = document.createElement("sakha-asr");
      const error = new Promise((resolve) => element.addEventListener("sakha-asr-error", (event) => resolve(event.detail)));
      document.body.append(element);
      return error;
    });
    assert.deepEqual(detail, { kind: "settings", message: "No model: set the element's model attribute to the URL of a package's model.json." });
  });
});

// How the npm API fails and stops, in Chromium and firefox-esr: every failure reaches the page as an
// AsrError whose kind (protocol.js ErrorKind) is the same whatever path the input took (samples, a
// WAV or an OGG file), and a transcription can be aborted (an AbortSignal, or a callback that throws):
// it rejects at once, the worker stops within one slice of the audio and goes on with what comes next;
// dispose() in the middle of one rejects it and stops the worker.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BROWSERS, evaluateInFreshPage, floatWav, launchBrowser } from "./pages.mjs";
import { Fault, startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const FILES = join(WORK, "errors-and-aborts");
const TIMEOUT = { timeout: 180_000 };
/** The seconds of audio the worker hands its stream at a time (TRANSCRIBE_SLICE_SECONDS in worker.js). */
const SLICE_SECONDS = 5;

let server;

before(async () => {
  mkdirSync(FILES, { recursive: true });
  writeFileSync(join(FILES, "index.html"), `<!doctype html><meta charset="utf-8"><title>blank</title>`);
  // 20 ms of a tone: files the browser decodes, too short for the model (25 ms).
  const tone = Float32Array.from({ length: 960 }, (_, i) => 0.3 * Math.sin(i * 0.07));
  writeFileSync(join(FILES, "short.wav"), floatWav(tone, 48_000));
  execFileSync("sox", ["-D", join(FILES, "short.wav"), "-C", "3", join(FILES, "short.ogg")]);
  writeFileSync(join(FILES, "not-audio.wav"), "RIFF, but no audio at all");
  mkdirSync(join(FILES, "not-a-package"), { recursive: true });
  writeFileSync(join(FILES, "not-a-package", "model.json"), JSON.stringify({ format: "something-else" }));
  const mounts = { "/test-models/": join(WORK, "models"), "/files/": FILES };
  server = await startServer({ root: WWW, mounts, hidden: ["/tests/"] });
});

after(async () => {
  await server?.close();
});

/**
 * Runs `fn` in a blank page of the app's origin in a fresh profile, with `window.workerMessages`
 * collecting every message a worker sends the page.
 */
function inBlankPage(browser, fn) {
  const initScript = () => {
    window.workerMessages = [];
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", ({ data }) => window.workerMessages.push(data));
      }
    };
  };
  return evaluateInFreshPage(browser, `${server.url}/files/index.html`, fn, undefined, { initScript });
}

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  before(async () => (browser = await launchBrowser(name)));
  after(() => browser?.close());

  test("each kind of failure reaches the page as an AsrError of its kind, whatever path the audio took", TIMEOUT, async () => {
    server.faults.set("/models/default/sah.gguf", Fault.CORRUPT);
    let kinds;
    try {
      kinds = await inBlankPage(browser, async () => {
        const { load } = await import("/pkg/index.js");
        const kindOf = (promise) => promise.then(
          () => "no error",
          (e) => (e.name === "AsrError" ? `${e.kind}: ${e.message}` : `not an AsrError: ${e}`),
        );
        const blob = async (url) => (await fetch(url)).blob();
        const kinds = {
          corrupt: await kindOf(load("/models/default/model.json")),
          format: await kindOf(load("/files/not-a-package/model.json")),
          version: await kindOf(load("/test-models/future-version/model.json")),
          settings: await kindOf(load("/test-models/two-languages-f32/model.json", { language: "xxx" })),
        };
        const asr = await load("/test-models/two-languages-f32/model.json");
        Object.assign(kinds, {
          emptySamples: await kindOf(asr.transcribe(new Float32Array(0))),
          shortSamples: await kindOf(asr.transcribe(new Float32Array(160).fill(0.1))),
          notFinite: await kindOf(asr.transcribe(new Float32Array(16_000).fill(NaN))),
          shortWav: await kindOf(asr.transcribe(await blob("/files/short.wav"))),
          shortOgg: await kindOf(asr.transcribe(await blob("/files/short.ogg"))),
          notAudio: await kindOf(asr.transcribe(await blob("/files/not-audio.wav"))),
          badRate: await kindOf(asr.transcribe(new Float32Array(16_000), { sampleRate: -1 })),
        });
        asr.dispose();
        kinds.recognizer = await kindOf(asr.transcribe(new Float32Array(16_000)));
        return kinds;
      });
    } finally {
      server.faults.clear();
    }
    const kind = (key) => kinds[key].split(":")[0];
    for (const key of ["corrupt", "format", "version", "settings", "recognizer"]) assert.equal(kind(key), key, kinds[key]);
    for (const key of ["emptySamples", "shortSamples", "notFinite", "shortWav", "shortOgg", "notAudio", "badRate"]) {
      assert.equal(kind(key), "audio", `${key}: ${kinds[key]}`);
    }
    // Too short is one message however the audio came.
    assert.match(kinds.shortSamples, /too short/);
    assert.match(kinds.shortWav, /too short/);
    assert.match(kinds.shortOgg, /too short/);
    assert.match(kinds.settings, /no language "xxx"/);
  });

  test("an aborted transcription rejects at once, stops within a slice, and the worker goes on", TIMEOUT, async () => {
    const result = await inBlankPage(browser, async () => {
      const { load } = await import("/pkg/index.js");
      const asr = await load("/models/default/model.json");
      const speech = await (await fetch("/samples/sakha-sample.wav")).arrayBuffer();
      const context = new OfflineAudioContext(1, 1, 16_000);
      const once = (await context.decodeAudioData(speech)).getChannelData(0);
      // Two minutes of it: far longer than the few slices the abort may take.
      const long = new Float32Array(120 * 16_000).map((_, i) => once[i % once.length]);
      const alone = (await asr.transcribe(once)).transcript.text;

      const outcome = async (work) => {
        try {
          await work;
          return "resolved";
        } catch (e) {
          return `${e.name}: ${e.message}`;
        }
      };
      // Aborted at its first progress report.
      const controller = new AbortController();
      let seenAtAbort = null;
      const aborted = await outcome(
        asr.transcribe(long, {
          signal: controller.signal,
          onProgress: ({ loaded }) => {
            seenAtAbort ??= loaded;
            controller.abort();
          },
        }),
      );
      const after = (await asr.transcribe(once)).transcript.text;
      // A callback that throws aborts the same way, with what it threw.
      const thrown = await outcome(
        asr.transcribe(long, {
          onProgress: () => {
            throw new Error("the page gave up");
          },
        }),
      );
      const afterThrown = (await asr.transcribe(once)).transcript.text;
      // A file, aborted while it is read and recognised.
      const fileController = new AbortController();
      const wav = new Blob([floatWavIn(long)], { type: "audio/wav" });
      const fileAborted = await outcome(asr.transcribe(wav, { signal: fileController.signal, onProgress: () => fileController.abort() }));
      const afterFile = (await asr.transcribe(once)).transcript.text;
      const alreadyAborted = await outcome(asr.transcribe(once, { signal: AbortSignal.abort() }));
      asr.dispose();
      return { alone, after, afterThrown, afterFile, aborted, thrown, fileAborted, alreadyAborted, seenAtAbort, messages: window.workerMessages };

      function floatWavIn(samples) {
        const view = new DataView(new ArrayBuffer(44 + samples.length * 4));
        const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
        text(0, "RIFF");
        view.setUint32(4, 36 + samples.length * 4, true);
        text(8, "WAVEfmt ");
        view.setUint32(16, 16, true);
        view.setUint16(20, 3, true);
        view.setUint16(22, 1, true);
        view.setUint32(24, 16_000, true);
        view.setUint32(28, 64_000, true);
        view.setUint16(32, 4, true);
        view.setUint16(34, 32, true);
        text(36, "data");
        view.setUint32(40, samples.length * 4, true);
        new Float32Array(view.buffer, 44).set(samples);
        return view.buffer;
      }
    });
    assert.match(result.aborted, /^AbortError/);
    assert.equal(result.thrown, "Error: the page gave up");
    assert.match(result.fileAborted, /^AbortError/);
    assert.match(result.alreadyAborted, /^AbortError/);
    assert.ok(result.alone.length > 0);
    assert.equal(result.after, result.alone, "the worker recognises what comes after an abort");
    assert.equal(result.afterThrown, result.alone);
    assert.equal(result.afterFile, result.alone);
    // The worker's own account of the two aborted `transcribe` requests: how far each got.
    const stops = result.messages.filter((m) => m.type === "error" && m.error.kind === "aborted").map((m) => m.error.message);
    assert.equal(stops.length, 2, JSON.stringify(stops));
    for (const stop of stops) {
      const [, done, total] = stop.match(/after ([\d.]+) s of ([\d.]+) s/).map(Number);
      assert.equal(total, 120);
      assert.ok(done <= result.seenAtAbort + 2 * SLICE_SECONDS, `${stop}; the abort came at ${result.seenAtAbort} s`);
    }
    // The file's stream was dropped, not left open in the worker.
    assert.ok(result.messages.some((m) => m.type === "result" && m.value === null), "closeStream answered");
  });
  test("dispose() during a transcription rejects it and stops the worker; a new load works", TIMEOUT, async () => {
    const result = await inBlankPage(browser, async () => {
      const { load } = await import("/pkg/index.js");
      const asr = await load("/models/default/model.json");
      const long = new Float32Array(120 * 16_000).map((_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0003));
      const settled = (work) => work.then(() => "resolved", (e) => `${e.name} ${e.kind}: ${e.message}`);
      const before = (await asr.transcribe(long.subarray(0, 16_000))).transcript.text;
      const transcribing = settled(asr.transcribe(long, { onProgress: () => asr.dispose() }));
      const disposed = await transcribing;
      const afterwards = await settled(asr.transcribe(long));
      const again = await load("/models/default/model.json");
      const text = (await again.transcribe(long.subarray(0, 16_000))).transcript.text;
      again.dispose();
      return { disposed, afterwards, text, before };
    });
    assert.equal(result.disposed, "AsrError recognizer: The recognizer was stopped.");
    assert.equal(result.afterwards, "AsrError recognizer: No model is loaded yet.");
    assert.equal(result.text, result.before, "the new worker recognises as the first did");
  });
});

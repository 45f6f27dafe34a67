// Files read piece by piece (js/file-pieces.js) in headless Chromium and firefox-esr: a WAV read in slices and an MP3
// split into frames for WebCodecs' AudioDecoder, both long enough for several slices and pieces, go
// to the worker's stream only (no whole-file request) and give the CLI's text; a format the
// piecewise path does not take (Ogg) and MP3 in a page without AudioDecoder go the whole-file way
// and give the CLI's text too. The app page's file input takes the piecewise path as well.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BROWSERS, assertCloseToCli, evaluateInFreshPage, launchBrowser, nativeTranscript, transcribeFile, waitForModel } from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test", "long-files");
const TIMEOUT = { timeout: 180_000 };

let server;
const files = {};

before(async () => {
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, "index.html"), `<!doctype html><meta charset="utf-8"><title>blank</title>`);
  // About 100 s of speech (the 4.2 s sample 24 times): two 1 MB slices of the MP3, 18 of the WAV,
  // four 30 s pieces, and the recognizer's pauses on both sides of slice and piece boundaries.
  const sample = join(WWW, "samples", "sakha-sample.wav");
  const wav = join(WORK, "long_44k1_stereo.wav");
  execFileSync("sox", ["-D", ...Array(24).fill(sample), "-r", "44100", "-b", "16", "-c", "2", wav]);
  files.wav = wav;
  files.mp3 = join(WORK, "long_44k1_stereo.mp3");
  // lame writes the Xing/LAME info frame (encoder delay and padding) and an ID3v2 tag with --tt.
  execFileSync("lame", ["--quiet", "-b", "128", "--tt", "long", wav, files.mp3]);
  files.ogg = join(WORK, "long.ogg");
  execFileSync("sox", ["-D", wav, "-C", "3", files.ogg]);
  server = await startServer({ root: WWW, mounts: { "/long/": WORK }, hidden: ["/tests/"] });
});

after(async () => {
  await server?.close();
});

/**
 * Transcribes /long/`name` with the package's API in a fresh page, recording the requests the worker
 * is sent. `withoutAudioDecoder` removes WebCodecs' AudioDecoder from the page first.
 */
function transcribeInPage(browser, name, { withoutAudioDecoder = false } = {}) {
  const initScript = withoutAudioDecoder ? () => delete window.AudioDecoder : undefined;
  const transcribe = async (name) => {
    const requests = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, ...rest) {
      requests.push(message.type);
      return post.call(this, message, ...rest);
    };
    const { filePieces } = await import("/pkg/file-pieces.js");
    const blob = await (await fetch(`/long/${name}`)).blob();
    const piecewise = (await filePieces(blob, 16000)) !== null;
    const { load } = await import("/pkg/index.js");
    const asr = await load("/models/default/model.json");
    const partials = [];
    const { transcript } = await asr.transcribe(blob, { onPartial: (t) => partials.push(t.text) });
    asr.dispose();
    return { piecewise, requests, text: transcript.text, words: transcript.words, partials };
  };
  return evaluateInFreshPage(browser, `${server.url}/long/index.html`, transcribe, name, { initScript });
}

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  before(async () => (browser = await launchBrowser(name)));
  after(() => browser?.close());

  for (const kind of ["wav", "mp3"]) {
    test(`a long ${kind.toUpperCase()} is decoded piece by piece, streamed to the worker, and gives the CLI's text`, TIMEOUT, async (t) => {
      const result = await transcribeInPage(browser, `long_44k1_stereo.${kind}`);
      assert.ok(result.piecewise, "filePieces reads the file");
      assert.ok(!result.requests.includes("transcribe"), `no whole-file request: ${result.requests}`);
      assert.ok(result.requests.filter((type) => type === "pushStream").length >= 4, `the pieces went one by one: ${result.requests}`);
      assert.ok(result.partials.length >= 4, "a partial transcript after each piece");
      const cli = nativeTranscript(files[kind]);
      assertCloseToCli(t, kind, result.text, cli.text);
      // Word times as the CLI's: the MP3's encoder delay is cut as the CLI's decoder cuts it, and the
      // pieces' times continue across pushes.
      for (const [web, native] of [[result.words[0], cli.words[0]], [result.words.at(-1), cli.words.at(-1)]]) {
        assert.ok(Math.abs(web.start - native.start) <= 0.05, `"${web.text}" starts at ${web.start} s, the CLI's "${native.text}" at ${native.start} s`);
      }
    });
  }

  test("an Ogg file, which the piecewise path does not read, is transcribed whole and gives the CLI's text", TIMEOUT, async (t) => {
    const result = await transcribeInPage(browser, "long.ogg");
    assert.ok(!result.piecewise);
    assert.ok(result.requests.includes("transcribe") && !result.requests.includes("pushStream"), `${result.requests}`);
    assertCloseToCli(t, "ogg", result.text, nativeTranscript(files.ogg).text);
  });

  test("without AudioDecoder an MP3 is transcribed whole and gives the CLI's text", TIMEOUT, async (t) => {
    const result = await transcribeInPage(browser, "long_44k1_stereo.mp3", { withoutAudioDecoder: true });
    assert.ok(!result.piecewise);
    assert.ok(result.requests.includes("transcribe") && !result.requests.includes("pushStream"), `${result.requests}`);
    assertCloseToCli(t, "mp3 without AudioDecoder", result.text, nativeTranscript(files.mp3).text);
  });

  test("the app page's file input streams an MP3 to the worker and shows the CLI's text", TIMEOUT, async (t) => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.addInitScript(() => {
        window.workerRequests = [];
        const post = Worker.prototype.postMessage;
        Worker.prototype.postMessage = function (message, ...rest) {
          window.workerRequests.push(message.type);
          return post.call(this, message, ...rest);
        };
      });
      await page.goto(`${server.url}/`);
      await waitForModel(page);
      const text = await transcribeFile(page, files.mp3);
      const requests = await page.evaluate(() => window.workerRequests);
      assert.ok(requests.includes("pushStream") && !requests.includes("transcribe"), `${requests}`);
      assertCloseToCli(t, "page", text, nativeTranscript(files.mp3).text);
    } finally {
      await context.close();
    }
  });
});

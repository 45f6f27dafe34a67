// A long session in one page, in Chromium with a fake microphone: 200 transcriptions of files in
// every format and rate the tests have (as Blobs through the npm API), then 20 live recordings, on
// the built-in model. Every file's text is the CLI's, and the same every time; every recording's
// text is what its live stream gives for the very audio the page sent; nothing is left running;
// and the renderer's memory after the last is within 10 % of what it was after the tenth.

import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { rendererRssMb } from "../../scripts/renderer-memory.mjs";
import { assertCloseToCli, launchChromiumWithMicrophone, nativeTranscript, replayLiveStream } from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const AUDIO = join(WORK, "audio");
const TRANSCRIPTIONS = 200;
const RECORDINGS = 20;

let server;
let browser;

before(async () => {
  const blank = join(WORK, "soak");
  mkdirSync(blank, { recursive: true });
  writeFileSync(join(blank, "index.html"), "<!doctype html><title>npm API</title>");
  server = await startServer({ root: WWW, mounts: { "/audio/": AUDIO, "/soak/": blank }, hidden: ["/tests/"] });
  browser = await launchChromiumWithMicrophone(join(WWW, "samples", "sakha-sample.wav"));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test(`${TRANSCRIPTIONS} files and ${RECORDINGS} recordings in one page: the CLI's texts, nothing left running, memory flat`, { timeout: 1_200_000 }, async (t) => {
  const files = readdirSync(AUDIO).filter((name) => /\.(wav|mp3|ogg)$/.test(name)).sort();
  assert.ok(files.length >= 9, `test audio: ${files}`);
  const page = await browser.newPage();
  try {
    // The samples a recording's stream is sent (window.capturing), every microphone track, every worker.
    await page.addInitScript(() => {
      window.streamed = new Map();
      window.capturing = false;
      window.tracks = [];
      window.workers = [];
      const NativeWorker = window.Worker;
      window.Worker = class extends NativeWorker {
        constructor(...args) {
          super(...args);
          window.workers.push(this);
        }
      };
      const post = NativeWorker.prototype.postMessage;
      NativeWorker.prototype.postMessage = function (message, transfer) {
        if (window.capturing && (message?.type === "pushStream" || message?.type === "finishStream")) {
          const sent = window.streamed.get(message.stream) ?? { pushes: [], last: [] };
          if (message.type === "pushStream") sent.pushes.push(Array.from(message.samples));
          else sent.last = Array.from(message.samples ?? []);
          window.streamed.set(message.stream, sent);
        }
        return post.call(this, message, transfer);
      };
      const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        const stream = await getUserMedia(constraints);
        window.tracks.push(...stream.getTracks());
        return stream;
      };
    });
    await page.goto(`${server.url}/soak/index.html`);
    await page.evaluate(async () => {
      const { load } = await import("/pkg/index.js");
      window.asr = await load("/models/default/model.json");
    });

    const texts = new Map(files.map((file) => [file, new Set()]));
    let afterTenth;
    for (let i = 0; i < TRANSCRIPTIONS; i++) {
      const file = files[i % files.length];
      const text = await page.evaluate(async (url) => {
        const blob = await (await fetch(url)).blob();
        return (await window.asr.transcribe(blob)).transcript.text;
      }, `/audio/${file}`);
      texts.get(file).add(text);
      if (i === 9) afterTenth = rendererRssMb();
    }
    for (const [file, seen] of texts) {
      assert.equal(seen.size, 1, `${file} gave ${seen.size} different texts: ${[...seen].join(" | ")}`);
      assertCloseToCli(t, file, [...seen][0], nativeTranscript(join(AUDIO, file)).text);
    }

    for (let i = 0; i < RECORDINGS; i++) {
      const { text, sent } = await page.evaluate(async (seconds) => {
        window.streamed.clear();
        window.capturing = true;
        const recording = await window.asr.startLive();
        await new Promise((wake) => setTimeout(wake, seconds * 1000));
        const { transcript } = await recording.stop();
        window.capturing = false;
        const [sent] = window.streamed.values();
        return { text: transcript.text, sent };
      }, 2 + (i % 3));
      assert.equal(text, await replayLiveStream(sent.pushes, sent.last), `recording ${i + 1}: the live stream's text for its pushes`);
    }

    await page.waitForTimeout(1500);
    const afterLast = rendererRssMb();
    t.diagnostic(`renderer memory after transcription 10: ${afterTenth.toFixed(0)} MB; after all: ${afterLast.toFixed(0)} MB`);
    assert.ok(afterLast <= afterTenth * 1.1, `the page grew from ${afterTenth.toFixed(0)} MB to ${afterLast.toFixed(0)} MB`);
    const liveTracks = await page.evaluate(() => window.tracks.filter((track) => track.readyState === "live").length);
    assert.equal(liveTracks, 0, "every recording let go of the microphone");
    assert.equal(await page.evaluate(() => window.workers.length), 1, "one worker did all the work");
  } finally {
    await page.close();
  }
});

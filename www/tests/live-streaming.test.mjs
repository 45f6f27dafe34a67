// Live mode on the streaming API, in Chromium with a fake microphone that plays the speech sample over
// and over: the page and the widget send the worker only audio it has not had (pushStream), never the
// whole recording again; finished pieces show as final while the open one is still partial; and the
// text at the end is the CLI's for the very samples the worker received. Each stream has its own id
// in the worker, so files transcribed at once, or during a recording, keep their audio apart; an
// AbortSignal cancels a recording.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  LIVE_AGAINST_OFFLINE,
  assertCloseToCli,
  floatWav,
  launchChromiumWithMicrophone,
  nativeTranscript,
  recordWidgetEvents,
  replayLiveStream,
  waitForModel,
} from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const SPEECH = join(WWW, "samples", "sakha-sample.wav");

let server;
let browser;

before(async () => {
  mkdirSync(join(WORK, "live"), { recursive: true });
  writeFileSync(join(WORK, "live", "blank.html"), "<!doctype html><title>npm API</title>");
  server = await startServer({ root: WWW, hidden: ["/tests/"], mounts: { "/live/": join(WORK, "live") } });
  browser = await launchChromiumWithMicrophone(SPEECH);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Keeps a copy of every request the page sends a worker, samples included. */
function watchWorkerRequests(page) {
  return page.addInitScript(() => {
    window.workerRequests = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, transfer) {
      const { type, samples } = message ?? {};
      // Copied before the samples are moved to the worker.
      window.workerRequests.push({ type, samples: samples ? Array.from(samples) : null });
      return post.call(this, message, transfer);
    };
  });
}

/** What the page streamed, checked to be only new audio each time: the pushes, the samples that came
 * with the end, and all of it as one 16 kHz WAV file for the CLI. */
async function streamedAudio(page, name) {
  const requests = await page.evaluate(() => window.workerRequests);
  const types = requests.map((r) => r.type);
  assert.ok(!types.includes("transcribe"), `live mode transcribed the recording again: ${types}`);
  assert.equal(types.filter((t) => t === "startStream").length, 1);
  assert.equal(types.at(-1), "finishStream");
  const pushes = requests.filter((r) => r.type === "pushStream").map((r) => r.samples);
  assert.ok(pushes.length >= 8, `${pushes.length} pushes`);
  // New audio each (what was recorded while the worker answered the last push); the old live mode
  // sent everything recorded so far every time.
  const seconds = pushes.map((p) => p.length / 16_000);
  assert.ok(seconds.every((s) => s > 0 && s < 3), `seconds per push: ${seconds.map((s) => s.toFixed(2))}`);
  // The last samples go with finishStream.
  const last = requests.at(-1).samples ?? [];
  const samples = Float32Array.from([...pushes.flat(), ...last]);
  const file = join(WORK, "live", `${name}.wav`);
  writeFileSync(file, floatWav(samples, 16_000));
  return { file, seconds: samples.length / 16_000, pushes, last };
}

test("the page's live mode streams only new audio, shows final and open text, and ends with the CLI's text", async (t) => {
  const page = await browser.newPage();
  try {
    await watchWorkerRequests(page);
    await page.goto(`${server.url}/`);
    await waitForModel(page);
    await page.click("#record-button");
    // The sample repeats after its closing silence: a piece is final once a second past that pause.
    await page.waitForSelector('#transcript[data-state="partial"] .word.settled', { timeout: 30_000 });
    await page.waitForSelector('#transcript[data-state="partial"] .word.open', { timeout: 30_000 });
    await page.waitForFunction(() => parseFloat(document.getElementById("record-time").textContent) >= 9, null, { timeout: 30_000 });
    await page.click("#record-button");
    await page.waitForSelector('#transcript[data-state="final"]', { timeout: 30_000 });
    assert.ok(await page.isHidden("#error"), await page.textContent("#error"));
    const text = (await page.textContent("#transcript")).trim();
    const { file, seconds, pushes, last } = await streamedAudio(page, "page");
    assert.ok(seconds >= 9, `${seconds} s streamed`);
    assert.equal(text, await replayLiveStream(pushes, last), "the live stream's text for these very pushes");
    assertCloseToCli(t, "live page", text, nativeTranscript(file).text, LIVE_AGAINST_OFFLINE);
  } finally {
    await page.close();
  }
});

test("the widget's live mode streams too and reports the open piece apart", async (t) => {
  const page = await browser.newPage();
  try {
    await watchWorkerRequests(page);
    await recordWidgetEvents(page);
    await page.goto(`${server.url}/widget-example.html`);
    await page.waitForFunction(() => window.sakhaAsrEvents.some((e) => e.type === "sakha-asr-ready"), null, { timeout: 60_000 });
    await page.click("sakha-asr .record");
    const finalAndOpen = () =>
      window.sakhaAsrEvents.some((e) => e.type === "sakha-asr-partial" && e.detail.open && e.detail.transcript.words.length > e.detail.open.words.length);
    await page.waitForFunction(finalAndOpen, null, { timeout: 30_000 });
    await page.click("sakha-asr .record");
    await page.waitForFunction(() => window.sakhaAsrEvents.some((e) => e.type === "sakha-asr-result"), null, { timeout: 30_000 });
    const events = await page.evaluate(() => window.sakhaAsrEvents);
    assert.deepEqual(events.filter((e) => e.type === "sakha-asr-error"), []);
    const partials = events.filter((e) => e.type === "sakha-asr-partial").map((e) => e.detail);
    // The open piece is always the transcript's last words, after the final ones.
    for (const { transcript, open } of partials) {
      assert.deepEqual(transcript.words.slice(transcript.words.length - open.words.length), open.words);
      assert.ok(transcript.words.every((w) => w.end <= open.end));
    }
    const { transcript } = events.find((e) => e.type === "sakha-asr-result").detail;
    const { file, pushes, last } = await streamedAudio(page, "widget");
    assert.equal(transcript.text, await replayLiveStream(pushes, last), "the live stream's text for these very pushes");
    assertCloseToCli(t, "live widget", transcript.text, nativeTranscript(file).text, LIVE_AGAINST_OFFLINE);
  } finally {
    await page.close();
  }
});

/** The sample's 16-bit samples from `from` seconds on, as a float WAV of its own (other words than the whole). */
function laterPart(from) {
  const wav = readFileSync(SPEECH);
  const data = wav.indexOf("data", 12, "latin1") + 8;
  const samples = new Float32Array((wav.length - data) / 2).map((_, i) => wav.readInt16LE(data + 2 * i) / 32768);
  return floatWav(samples.subarray(Math.round(from * 16_000)), 16_000);
}

test("files at once and a file during a recording each get their own stream: no audio mixes", async () => {
  writeFileSync(join(WORK, "live", "later.wav"), laterPart(1.7));
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}/live/blank.html`);
    const result = await page.evaluate(async () => {
      const { load } = await import("/pkg/index.js");
      const asr = await load("/models/default/model.json");
      const blob = async (url) => (await fetch(url)).blob();
      const [whole, later] = [await blob("/samples/sakha-sample.wav"), await blob("/live/later.wav")];
      const text = async (input) => (await asr.transcribe(input)).transcript.text;
      const alone = { whole: await text(whole), later: await text(later) };
      const together = await Promise.all([text(whole), text(later), text(whole)]);
      // A file while the microphone is live: the recording goes on and ends with its own audio.
      const partials = [];
      const recording = await asr.startLive({ onPartial: (transcript) => partials.push(transcript.text) });
      while (!partials.some((p) => p)) await new Promise((wake) => setTimeout(wake, 100));
      const duringRecording = await text(later);
      const seen = partials.length;
      while (partials.length < seen + 2) await new Promise((wake) => setTimeout(wake, 100));
      const recorded = await recording.stop();
      asr.dispose();
      return { alone, together, duringRecording, recorded: recorded.transcript.text };
    });
    assert.notEqual(result.alone.whole, result.alone.later, "two different files");
    assert.ok(result.alone.later.length > 0);
    assert.deepEqual(result.together, [result.alone.whole, result.alone.later, result.alone.whole]);
    assert.equal(result.duringRecording, result.alone.later);
    // Before streams had ids the file took over the recording's stream, and stop() failed.
    assert.ok(result.recorded.length > 0, "the recording's own text");
  } finally {
    await page.close();
  }
});

test("an aborted live recording lets go of the microphone, its stop() rejects with the reason, and the next one works", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}/live/blank.html`);
    const result = await page.evaluate(async () => {
      const tracks = [];
      const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        const stream = await getUserMedia(constraints);
        tracks.push(...stream.getTracks());
        return stream;
      };
      const { load } = await import("/pkg/index.js");
      const asr = await load("/models/default/model.json");
      const controller = new AbortController();
      const partials = [];
      const recording = await asr.startLive({ signal: controller.signal, onPartial: (transcript) => partials.push(transcript.text) });
      while (!partials.some((p) => p)) await new Promise((wake) => setTimeout(wake, 100));
      controller.abort(new Error("the user left"));
      await new Promise((wake) => setTimeout(wake, 1000));
      const liveAfterAbort = tracks.filter((track) => track.readyState === "live").length;
      const stopped = await recording.stop().then(() => "resolved", (e) => e.message);
      const abortedBefore = await asr.startLive({ signal: AbortSignal.abort() }).then(() => "resolved", (e) => e.name);
      const next = await asr.startLive();
      await new Promise((wake) => setTimeout(wake, 2000));
      const { transcript } = await next.stop();
      asr.dispose();
      return { liveAfterAbort, stopped, abortedBefore, next: transcript.text, tracks: tracks.length };
    });
    assert.equal(result.liveAfterAbort, 0, "the microphone was let go of");
    assert.equal(result.stopped, "the user left");
    assert.equal(result.abortedBefore, "AbortError");
    assert.equal(result.tracks, 2, "an already aborted signal opens no microphone");
    assert.ok(result.next.length > 0, "the next recording has text");
  } finally {
    await page.close();
  }
});

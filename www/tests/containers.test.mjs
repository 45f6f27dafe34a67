// One recording in four containers (WAV, FLAC, MP3, Ogg Vorbis), transcribed by the package's API
// in headless Chromium and firefox-esr: every input path mixes down and resamples alike (js/audio.js
// downmix, js/stream-resampler.js), so the container no longer changes the text. Each file goes in
// as a Blob (WAV and MP3 read in pieces) and as an ArrayBuffer (decoded whole by the browser).
// FLAC is lossless: its samples, and so its text, are the WAV's exactly. MP3 and Vorbis change the
// audio itself, so each is held to the same file decoded another way: the MP3 by WebCodecs in pieces
// and by decodeAudioData whole (the same samples), the Ogg against its own samples as a float WAV
// decoded by sox (another Vorbis decoder, so close samples, not the same). The random-weight model,
// whose text flips at the slightest difference in its input, tells where the text must be equal.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BROWSERS, assertCloseToCli, editDistance, evaluateInFreshPage, launchBrowser, nativeTranscript } from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const DIR = join(WORK, "containers");
const TIMEOUT = { timeout: 180_000 };
const CONTAINERS = ["wav", "flac", "mp3", "ogg"];
/** How far a lossy file's text on the demo model may be from the WAV's: the codec changes the audio. */
const LOSSY_AGAINST_WAV = 0.15;
/** Browsers' Vorbis decoders and sox's round differently, by about 1e-5; a second resampling, as Web
 * Audio's was, differs from this one by about 1e-2. */
const VORBIS_DECODERS_APART = 1e-4;

let server;

before(() => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, "index.html"), `<!doctype html><meta charset="utf-8"><title>blank</title>`);
  // 44.1 kHz stereo, 16 bits; the right channel is the sample reversed, so that the downmix counts.
  const sample = join(WWW, "samples", "sakha-sample.wav");
  const left = join(DIR, "left.wav");
  const right = join(DIR, "right.wav");
  const wav = join(DIR, "recording.wav");
  execFileSync("sox", ["-D", sample, "-r", "44100", "-b", "16", left]);
  execFileSync("sox", ["-D", sample, "-r", "44100", "-b", "16", right, "reverse", "vol", "0.5"]);
  execFileSync("sox", ["-D", "-M", left, right, wav]);
  rmSync(left);
  rmSync(right);
  execFileSync("sox", ["-D", wav, join(DIR, "recording.flac")]);
  // lame (not sox) so the MP3 has a LAME header: its encoder delay is cut on both browser paths.
  execFileSync("lame", ["--quiet", "-b", "128", wav, join(DIR, "recording.mp3")]);
  execFileSync("sox", ["-D", wav, "-C", "6", join(DIR, "recording.ogg")]);
  execFileSync("sox", ["-D", join(DIR, "recording.ogg"), "-e", "floating-point", "-b", "32", join(DIR, "ogg-decoded.wav")]);
  const mounts = { "/containers/": DIR, "/test-models/": join(WORK, "models") };
  return startServer({ root: WWW, mounts, hidden: ["/tests/"] }).then((started) => (server = started));
});

after(async () => {
  await server?.close();
});

/**
 * For each of `names` (files in /containers/): as a Blob and as an ArrayBuffer, the text on the demo
 * model and on the random-weight one, and the 16 kHz samples that path gives the recognizer (a
 * fingerprint and the largest difference from the first file's, read in pieces). `pairs` of paths
 * ("recording.ogg whole") get the largest difference between their samples in `differences`.
 */
function transcribeAll(browser, names, pairs) {
  const transcribe = async ({ names, pairs }) => {
    const { decodeFile, filePieces } = await import("/pkg/file-pieces.js");
    const { load } = await import("/pkg/index.js");
    const models = { demo: await load("/models/default/model.json"), random: await load("/test-models/two-languages-f32/model.json") };
    const samplesOf = async (input) => {
      if (input instanceof ArrayBuffer) return decodeFile(input.slice(0), 16000);
      const pieces = [];
      for await (const piece of (await filePieces(input, 16000)).pieces) pieces.push(piece);
      return Float32Array.from(pieces.flatMap((piece) => [...piece]));
    };
    const largestDifference = (a, b) => {
      if (a.length !== b.length) return Infinity;
      let largest = 0;
      for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
      return largest;
    };
    const results = {};
    const samplesOfPath = {};
    let reference = null;
    for (const name of names) {
      const blob = await (await fetch(`/containers/${name}`)).blob();
      const piecewise = (await filePieces(blob, 16000)) !== null;
      for (const input of piecewise ? [blob, await blob.arrayBuffer()] : [await blob.arrayBuffer()]) {
        const samples = await samplesOf(input);
        reference ??= samples;
        const path = `${name} ${input instanceof Blob ? "in pieces" : "whole"}`;
        samplesOfPath[path] = samples;
        const fingerprint = new Uint32Array(samples.buffer).reduce((hash, bits) => (Math.imul(hash, 31) + bits) >>> 0, 0);
        results[path] = { maxDifference: largestDifference(samples, reference), fingerprint };
        for (const [model, asr] of Object.entries(models)) results[path][model] = (await asr.transcribe(input)).transcript.text;
      }
    }
    for (const asr of Object.values(models)) asr.dispose();
    const differences = pairs.map(([a, b]) => largestDifference(samplesOfPath[a], samplesOfPath[b]));
    return { results, differences };
  };
  return evaluateInFreshPage(browser, `${server.url}/containers/index.html`, transcribe, { names, pairs });
}

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  let results;
  let oggFromItsWav;
  before(async () => {
    browser = await launchBrowser(name);
    const names = [...CONTAINERS.map((container) => `recording.${container}`), "ogg-decoded.wav"];
    ({ results, differences: [oggFromItsWav] } = await transcribeAll(browser, names, [["recording.ogg whole", "ogg-decoded.wav in pieces"]]));
  });
  after(() => browser?.close());

  test("a WAV in pieces or whole and a FLAC give the recognizer the same samples and the same text", TIMEOUT, (t) => {
    const wav = results["recording.wav in pieces"];
    for (const path of ["recording.wav whole", "recording.flac whole"]) {
      t.diagnostic(`${path}: largest difference from the WAV in pieces ${results[path].maxDifference}`);
      assert.equal(results[path].maxDifference, 0, `${path}: the WAV's samples`);
      assert.equal(results[path].random, wav.random, `${path}: the random model's text`);
      assert.equal(results[path].demo, wav.demo, `${path}: the demo model's text`);
    }
    assertCloseToCli(t, "wav", wav.demo, nativeTranscript(join(DIR, "recording.wav")).text);
  });

  test("an MP3 decoded in pieces by WebCodecs or whole by decodeAudioData gives the same samples and text", TIMEOUT, (t) => {
    const [pieces, whole] = [results["recording.mp3 in pieces"], results["recording.mp3 whole"]];
    t.diagnostic(`mp3: largest difference from the WAV ${pieces.maxDifference} (in pieces), ${whole.maxDifference} (whole)`);
    assert.equal(whole.fingerprint, pieces.fingerprint, "the same samples");
    assert.equal(whole.random, pieces.random);
    assert.equal(whole.demo, pieces.demo);
  });

  test("an Ogg Vorbis file gives the samples and text of its own decoding as a WAV, up to the decoder's rounding", TIMEOUT, (t) => {
    const [ogg, decoded] = [results["recording.ogg whole"], results["ogg-decoded.wav in pieces"]];
    t.diagnostic(`ogg: largest difference from the WAV ${ogg.maxDifference}, from sox's decoding of it ${oggFromItsWav}`);
    assert.ok(oggFromItsWav <= VORBIS_DECODERS_APART, `the samples of sox's decoding, resampled alike (${oggFromItsWav} apart)`);
    const rate = editDistance(ogg.demo, decoded.demo) / decoded.demo.length;
    t.diagnostic(`ogg: ${(rate * 100).toFixed(1)}% of characters differ from its decoding's as a WAV`);
    assert.ok(rate <= 0.05, `${ogg.demo}\n  its WAV: ${decoded.demo}`);
  });

  test("the lossy files' text is close to the WAV's, as far as the codec changed the audio", TIMEOUT, (t) => {
    const wav = results["recording.wav in pieces"].demo;
    for (const path of ["recording.mp3 in pieces", "recording.ogg whole"]) {
      const rate = editDistance(results[path].demo, wav) / wav.length;
      t.diagnostic(`${path}: ${(rate * 100).toFixed(1)}% of characters differ from the WAV's`);
      assert.ok(rate <= LOSSY_AGAINST_WAV, `${path}: ${results[path].demo}\n  wav: ${wav}`);
    }
  });
});

// Live recognition's cost over a long recording: the streaming API (the piece a pause closed is
// recognised once, the open piece again on each push) against the old live mode (everything recorded
// so far transcribed again every 1.5 s), natively (the CLI's --stream and --timings) and in headless
// Chromium (the wasm API on the page's main thread: the SIMD build, one thread). Writes the streaming
// section of BENCHMARKS.md. Called by scripts/bench-streaming.sh, which prepares the audio:
//
//   node scripts/bench-streaming.mjs WORK_DIR [--out BENCHMARKS.md] [--smoke]
//
// WORK_DIR holds speech.wav (16 kHz mono), the same as raw float32 (speech.f32), its first minute
// (speech-60s.wav) and blank.html. The audio is whole minutes, but with --smoke, where it may be less
// than one (its "minute 1" is then all of it).

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { editDistance, launchChromium } from "../www/tests/pages.mjs";
import { startServer } from "../www/tests/server.mjs";
import { CLI, ROOT, writeSection } from "./bench-common.mjs";

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: "string", default: join(ROOT, "BENCHMARKS.md") }, smoke: { type: "boolean", default: false } },
});
const WORK = resolve(positionals[0] ?? "");
/** Seconds of audio per push (the page waits 250 ms between pushes, js/live-recording.js). */
const PIECE = 0.1;
/** How often the old live mode transcribed everything again. */
const OLD_UPDATE_SECONDS = 1.5;

/**
 * The share of characters in which a live stream's final text differs from the offline text: the
 * stream recognises in windows of its own (the CLI's --live says so), so it need not be 0.
 */
const textDifference = (text, offline) => editDistance(text, offline) / Math.max(offline.length, 1);

function cli(...args) {
  const run = spawnSync(CLI, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`${CLI} ${args.join(" ")}: ${run.stderr}`);
  return run;
}

/** The CLI's text, and its per-push records [{audio_s, push_s, partial_end_s, held_samples}] when streamed. */
function native(piece) {
  const run = cli("transcribe", "--timings", "--stream", String(piece), "--live", join(WORK, "speech.wav"));
  const records = run.stderr.trim().split("\n").map((line) => JSON.parse(line));
  return { text: run.stdout.trim(), pushes: records.filter((r) => "push_s" in r) };
}

/** Seconds the CLI takes to transcribe a file once (model and decoding, not loading). */
function nativeOnce(file) {
  const timings = JSON.parse(cli("transcribe", "--timings", join(WORK, file)).stderr.trim().split("\n").at(-1));
  return timings.inference_s;
}

/**
 * In the page: the demo package with its word LM, and the stream fed in real time as the page feeds
 * it (js/live-recording.js): every `piece` seconds, all the audio "recorded" since the last push, one
 * push at a time (a push that takes longer than a piece makes the next one carry more audio). Then the
 * old way: one update, a transcription of everything so far, at minute 1 and at the end.
 */
async function inPage(page, piece) {
  return page.evaluate(
    async ({ piece, oldAt }) => {
      const asr = await import("/pkg/sakha_asr.js");
      await asr.default();
      const get = async (path) => new Uint8Array(await (await fetch(path)).arrayBuffer());
      const model = "/models/default/";
      const manifestText = new TextDecoder().decode(await get(`${model}model.json`));
      const manifest = JSON.parse(manifestText);
      const language = manifest.default_language;
      const recognizer = new asr.Recognizer(manifestText, await get(model + manifest.base.file), await get(model + manifest.languages[language].file));
      const lm = asr.PackageFile.languageModel(manifestText, language);
      lm.push(await get(model + manifest.language_models[language].file));
      lm.finish();
      recognizer.setLanguageModel(lm);
      const samples = new Float32Array(await (await fetch("/bench/speech.f32")).arrayBuffer());
      const stream = recognizer.startStream(true);
      const pushes = [];
      const words = [];
      const start = performance.now();
      const recorded = () => Math.min(samples.length, Math.floor(((performance.now() - start) / 1000) * 16_000));
      let pushed = 0;
      while (pushed < samples.length) {
        const due = recorded();
        if (due - pushed < piece * 16_000 && due < samples.length) {
          await new Promise((wake) => setTimeout(wake, ((pushed / 16_000 + piece) * 1000) - (performance.now() - start)));
          continue;
        }
        const started = performance.now();
        const update = stream.push(samples.subarray(pushed, due));
        const done = performance.now();
        pushed = due;
        pushes.push({
          audio_s: pushed / 16_000,
          push_s: (done - started) / 1000,
          lag: (done - start) / 1000 - pushed / 16_000,
          partial_end_s: update.partial.end,
          held_samples: stream.heldSamples,
        });
        for (const segment of update.final) words.push(...segment.words);
      }
      for (const segment of stream.finish()) words.push(...segment.words);
      stream.free();
      const old = {};
      for (const seconds of oldAt) {
        const started = performance.now();
        recognizer.transcribe(samples.subarray(0, seconds * 16_000));
        old[seconds] = (performance.now() - started) / 1000;
      }
      const whole = recognizer.transcribe(samples).text;
      recognizer.free();
      return { pushes, text: words.map((w) => w.text).join(" "), old, whole };
    },
    { piece, oldAt: [FIRST, samples().seconds] },
  );
}

function samples() {
  return { seconds: readFileSync(join(WORK, "speech.f32")).length / 4 / 16_000 };
}

/**
 * Per minute of audio: compute per second of audio, and the partial's lag behind the audio (from the
 * moment the last sample of a push was recorded to its partial text). Pushes with a `lag` were timed
 * in real time; for the others (pieces pushed as fast as they go) it is worked out as if the pieces had
 * arrived in real time, each push waiting for the one before.
 */
function summarise(pushes) {
  let done = 0;
  const rows = pushes.map((p) => {
    done = Math.max(done, p.audio_s) + p.push_s;
    return { ...p, lag: p.lag ?? done - p.audio_s, behind: p.audio_s - p.partial_end_s };
  });
  const minutes = Math.ceil(rows.at(-1).audio_s / 60);
  const stats = (m) => {
    const inMinute = rows.filter((r) => r.audio_s > 60 * m && r.audio_s <= 60 * (m + 1));
    const compute = inMinute.reduce((sum, r) => sum + r.push_s, 0);
    const lags = inMinute.map((r) => r.lag).sort((a, b) => a - b);
    const pieces = inMinute.length;
    return { compute: compute / (Math.min(60 * (m + 1), rows.at(-1).audio_s) - 60 * m), medianLag: lags[lags.length >> 1], maxLag: lags.at(-1), pieces };
  };
  return {
    first: stats(0),
    last: stats(minutes - 1),
    maxBehind: Math.max(...rows.map((r) => r.behind)),
    maxHeld: Math.max(...rows.map((r) => r.held_samples)) / 16_000,
  };
}

const total = samples().seconds;
if (total % 60 !== 0 && !options.smoke) throw new Error("the audio must be whole minutes long");
/** The recording's first minute, or all of a shorter one. */
const FIRST = Math.min(60, total);
const offlineText = cli("transcribe", join(WORK, "speech.wav")).stdout.trim();
const results = [];
const run = native(PIECE);
results.push({ where: "native (CLI), pieces pushed as fast as they go", ...summarise(run.pushes), textDifference: textDifference(run.text, offlineText) });
console.log(JSON.stringify(results.at(-1)));
const nativeOld = { [FIRST]: nativeOnce("speech-60s.wav"), [total]: nativeOnce("speech.wav") };

const server = await startServer({ root: join(ROOT, "www"), mounts: { "/bench/": WORK } });
const browser = await launchChromium();
let web;
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/bench/blank.html`);
  web = await inPage(page, PIECE);
} finally {
  await browser.close();
  await server.close();
}
results.push({ where: "Chromium (wasm, 1 thread), in real time", ...summarise(web.pushes), textDifference: textDifference(web.text, web.whole) });
console.log(JSON.stringify(results.at(-1)));
const olds = [
  { where: "native (CLI)", ...nativeOld },
  { where: "Chromium (wasm, 1 thread)", ...web.old },
];
console.log(JSON.stringify(olds));

const s = (x) => (x < 1 ? `${(x * 1000).toFixed(0)} ms` : `${x.toFixed(2)} s`);
const f = (x) => x.toFixed(2);
const minutes = Math.ceil(total / 60);
const BEGIN = "<!-- bench-streaming.mjs: begin -->";
const END = "<!-- bench-streaming.mjs: end -->";
const smoke = options.smoke ? "**A smoke run** (`--smoke`): its first and last minute are one, and not all of a minute. " : "";
const length = total % 60 === 0 ? `${minutes} minutes` : `${total} s`;
const lines = [
  BEGIN,
  "### Live recognition: the streaming API against transcribing everything again",
  "",
  `${smoke}\`scripts/bench-streaming.sh\`, ${new Date().toISOString().slice(0, 10)}: ${length} of held-out synthetic speech (a minute of the demo-eval`,
  "clips joined, then that minute again and again, so that the first and last minutes hold the same speech), the",
  `built-in demo model with its word LM, the audio in pieces of ${s(PIECE)}. Each push finishes the pieces a settled`,
  "pause closed and recognises the open piece again for the partial text. Natively the CLI's `--stream` and",
  "`--timings`, pieces pushed as fast as they go; in headless Chromium the wasm API on the page's main thread (SIMD",
  `build, one thread), fed in real time as the page feeds it: every ${s(PIECE)} what was recorded since the last push,`,
  "one push at a time. Compute: the pushes' time per second of audio. Lag: from the moment a push's last sample",
  "was recorded to its partial text (median / worst); natively worked out as if the pieces had come in real time.",
  "Final text: the share of characters that differ from the offline text of the whole file (the CLI's; in",
  "Chromium, `transcribe()`'s): a live stream recognises in windows of its own.",
  "",
  `| where | compute per s of audio, minute 1 | minute ${minutes} | partial lag, minute 1 | minute ${minutes} | pushes, minute 1 / ${minutes} | audio held at most | final text vs offline |`,
  "|---|---|---|---|---|---|---|---|",
  ...results.map(
    (r) =>
      `| ${r.where} | ${f(r.first.compute)} | ${f(r.last.compute)} | ${s(r.first.medianLag)} / ${s(r.first.maxLag)} | ` +
      `${s(r.last.medianLag)} / ${s(r.last.maxLag)} | ${r.first.pieces} / ${r.last.pieces} | ${r.maxHeld.toFixed(1)} s | ${(r.textDifference * 100).toFixed(1)} % |`,
  ),
  "",
  `The old live mode transcribed the whole recording again every ${OLD_UPDATE_SECONDS} s (one update after another when an update`,
  "took longer): one update's cost, and what that makes per second of audio (above 1, it cannot keep up):",
  "",
  `| where | one update at minute 1 | at minute ${minutes} | compute per s of audio, minute 1 | minute ${minutes} |`,
  "|---|---|---|---|---|",
  ...olds.map(
    (o) => `| ${o.where} | ${s(o[FIRST])} | ${s(o[total])} | ${f(o[FIRST] / OLD_UPDATE_SECONDS)} | ${f(o[total] / OLD_UPDATE_SECONDS)} |`,
  ),
  "",
  "A push's cost follows the open piece's length (at most 20 s, `Chunking::max_piece_seconds`), not the",
  "recording's, so compute per second of audio is the same in the last minute as in the first, where the old",
  "live mode's grows with the recording. Where a push costs more than a piece, the next carries more audio:",
  "fewer pushes, and the lag stays about one push.",
  END,
];
const section = lines.join("\n") + "\n";
console.log(`\n${section}`);
writeSection(options.out, section, BEGIN, END);

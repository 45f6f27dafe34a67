// Long MP3s through the app page in headless Chromium (the demo model, the page's default): the file
// read and decoded piece by piece (js/file-pieces.js, WebCodecs' AudioDecoder) and streamed to the
// worker; the renderer's peak memory and the time from choosing the file to the final transcript, and
// the text against the native CLI's. The shortest file also goes the whole-file way (AudioDecoder
// removed from the page), as the page did before. Writes the long-files section of BENCHMARKS.md.
// Called by scripts/bench-long-files.sh, which makes the files:
//
//   node scripts/bench-long-files.mjs WORK_DIR MINUTES... [--out BENCHMARKS.md] [--smoke]
//
// WORK_DIR holds long-<MINUTES>min.mp3 for each MINUTES.

import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { launchChromium, waitForModel } from "../www/tests/pages.mjs";
import { startServer } from "../www/tests/server.mjs";
import { CLI, ROOT, writeSection } from "./bench-common.mjs";

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: "string", default: join(ROOT, "BENCHMARKS.md") }, smoke: { type: "boolean", default: false } },
});
const [work, ...minuteArgs] = positionals;
const WORK = resolve(work ?? "");
const MINUTES = minuteArgs.map(Number);

/** The highest VmHWM (MB) of `browser`'s renderer processes, as Chromium lists them. */
async function rendererPeakMb(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send("SystemInfo.getProcessInfo");
  const peaks = processInfo
    .filter((p) => p.type === "renderer")
    .map((p) => Number(readFileSync(`/proc/${p.id}/status`, "utf8").match(/^VmHWM:\s+(\d+)/m)[1]));
  return Math.max(...peaks) / 1024;
}

function cli(file) {
  const started = performance.now();
  const run = spawnSync(CLI, ["transcribe", "--format", "json", file], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`the CLI failed on ${file}: ${run.stderr}`);
  return { text: JSON.parse(run.stdout).transcript.text, seconds: (performance.now() - started) / 1000 };
}

/** The app page in a fresh Chromium transcribes `file`; resolves to {seconds, peakMb, text, requests}. */
async function inPage(server, file, { withoutAudioDecoder = false } = {}) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.addInitScript((remove) => {
      if (remove) delete window.AudioDecoder;
      window.workerRequests = [];
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (message, ...rest) {
        window.workerRequests.push(message.type);
        return post.call(this, message, ...rest);
      };
    }, withoutAudioDecoder);
    await page.goto(`${server.url}/`);
    await waitForModel(page);
    const started = performance.now();
    await page.setInputFiles("#file-input", file);
    await page.waitForFunction(
      () => document.getElementById("transcript").dataset.state === "final" || !document.getElementById("error").hidden,
      null,
      { timeout: 0, polling: 1000 },
    );
    const seconds = (performance.now() - started) / 1000;
    if (await page.isVisible("#error")) throw new Error(`the page failed on ${file}: ${await page.textContent("#error")}`);
    const peakMb = await rendererPeakMb(browser);
    const text = (await page.textContent("#transcript")).trim();
    const requests = await page.evaluate(() => window.workerRequests);
    return { seconds, peakMb, text, piecewise: requests.includes("pushStream") && !requests.includes("transcribe") };
  } finally {
    await browser.close();
  }
}

/**
 * The characters of `text` that differ from `reference`'s (edit distance) as a share of the
 * reference's, or null when above `limit` (a share): the distance is computed in a band of the
 * distance the limit allows around the diagonal (Ukkonen), as a full table for two hours of text
 * would not fit in memory.
 */
function characterDifference(text, reference, limit = 0.05) {
  const band = Math.ceil(limit * reference.length);
  if (Math.abs(text.length - reference.length) > band) return null;
  const width = 2 * band + 1;
  const far = band + 1;
  // Row i's cell j is at j - i + band.
  let previous = new Int32Array(width).fill(far);
  let current = new Int32Array(width);
  for (let j = 0; j <= band && j <= reference.length; j++) previous[j + band] = j;
  for (let i = 1; i <= text.length; i++) {
    current.fill(far);
    for (let j = Math.max(0, i - band); j <= Math.min(reference.length, i + band); j++) {
      const at = j - i + band;
      if (j === 0) {
        current[at] = i;
        continue;
      }
      const substitution = previous[at] + (text[i - 1] === reference[j - 1] ? 0 : 1);
      const deletion = at + 1 < width ? previous[at + 1] + 1 : far;
      const insertion = at > 0 ? current[at - 1] + 1 : far;
      current[at] = Math.min(substitution, deletion, insertion, far);
    }
    [previous, current] = [current, previous];
  }
  const distance = previous[reference.length - text.length + band];
  return distance > band ? null : distance / reference.length;
}

const server = await startServer({ root: join(ROOT, "www"), mounts: { "/long/": WORK }, hidden: ["/tests/"] });
const rows = [];
try {
  const runs = MINUTES.map((minutes) => ({ minutes, withoutAudioDecoder: false }));
  runs.splice(1, 0, { minutes: MINUTES[0], withoutAudioDecoder: true });
  const native = new Map();
  for (const { minutes, withoutAudioDecoder } of runs) {
    const file = join(WORK, `long-${minutes}min.mp3`);
    if (!native.has(minutes)) native.set(minutes, cli(file));
    const reference = native.get(minutes);
    const result = await inPage(server, file, { withoutAudioDecoder });
    const row = {
      minutes,
      path: result.piecewise ? "piecewise (AudioDecoder, stream)" : "whole file (decodeAudioData)",
      sizeMb: statSync(file).size / 1e6,
      ...result,
      identical: result.text === reference.text,
      difference: characterDifference(result.text, reference.text),
      cliSeconds: reference.seconds,
    };
    console.log(JSON.stringify({ ...row, text: undefined }));
    rows.push(row);
  }
} finally {
  await server.close();
}

const BEGIN = "<!-- bench-long-files.mjs: begin -->";
const END = "<!-- bench-long-files.mjs: end -->";
const lines = [
  BEGIN,
  "## Long files in the page (bounded memory)",
  "",
  `${options.smoke ? "**A smoke run** (`--smoke`): short files, not long ones. " : ""}\`scripts/bench-long-files.sh\` — long 44.1 kHz stereo 128 kbit/s MP3s (the demo-eval clips, held-out`,
  "speech, joined into a minute and repeated) chosen in the app page's file input in headless Chromium, the",
  "demo model (the page's default), a fresh browser for each file. The page reads the file in 1 MB slices,",
  "splits it into MP3 frames for WebCodecs' AudioDecoder, resamples with `StreamResampler` and streams 30 s",
  "pieces to the worker's recognizer stream (js/file-pieces.js); the whole-file row is the page's old path",
  "(AudioDecoder removed from the page: decodeAudioData of the whole file, one `transcribe`). Renderer peak:",
  "the highest VmHWM of the browser's renderer processes (the page's, which runs its worker). Time: file",
  "chosen to final transcript. Text: against the native CLI's for the same file (`sakha-asr transcribe`).",
  `Measured ${new Date().toISOString().slice(0, 16)} UTC on this machine (2 cores shared with other work).`,
  "",
  "| audio | MP3 | path | renderer peak | time in page | CLI time | text vs CLI |",
  "|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.minutes} min | ${r.sizeMb.toFixed(0)} MB | ${r.path} | ${r.peakMb.toFixed(0)} MB | ${r.seconds.toFixed(0)} s | ` +
      `${r.cliSeconds.toFixed(0)} s | ${r.identical ? "identical" : r.difference === null ? "over 5 % of characters differ" : `${(r.difference * 100).toFixed(2)} % of characters differ`} |`,
  ),
  END,
];
const section = lines.join("\n") + "\n";
console.log(`\n${section}`);
writeSection(options.out, section, BEGIN, END);

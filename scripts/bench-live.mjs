// Live dictation through the npm API in headless Chromium, whose fake microphone plays a file: for each
// audio and thread count a fresh page loads the package (`load`), records with `startLive` for N
// seconds and stops. Measured in the page, as an app sees it: how far the partial text lags behind the
// speech, and how long stop() takes to give the final text. Writes its section of BENCHMARKS.md (the
// file --out names; without --out nothing is written) and prints it. Called by scripts/bench-live.sh,
// which builds everything and prepares the audio:
//
//   node scripts/bench-live.mjs WORK_DIR --model PACKAGE_DIR --seconds N [--smoke] [--out FILE]
//
// WORK_DIR holds pauses.wav and no-pauses.wav: 16 kHz mono, N seconds of speech, then 3 s of silence
// (the fake microphone plays its file over and over; recording stops before it starts again).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { startServer } from "../www/tests/server.mjs";
import { CLI, ROOT, writeSection } from "./bench-common.mjs";

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: "string" },
    seconds: { type: "string", default: "60" },
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const WORK = resolve(positionals[0] ?? "");
const MODEL = resolve(options.model ?? "");
const SECONDS = Number(options.seconds);
/** Chunking::max_piece_seconds' default: where no pause comes, a piece is cut by force at this length. */
const MAX_PIECE_SECONDS = 20;

// Files WORK_DIR/NAME.wav.
const AUDIOS = [
  { name: "pauses", label: "speech with pauses" },
  { name: "no-pauses", label: "speech, pauses cut out", onlyForcedCuts: true },
];
// The plain page runs a one-thread build; on the isolated one the worker picks the threaded build.
const CONFIGS = [
  { isolated: false, loadOptions: {}, label: "1, plain page" },
  { isolated: true, loadOptions: { threads: 2 }, label: "2 asked, isolated page" },
];
/** The issue's goals, by the threads that compute: partial lag median and worst, stop() to final text (s). */
const GOALS = {
  1: { median: 2.0, worst: 3.5, final: 3.0 },
  2: { median: 1.0, worst: 2.0, final: 1.5 },
};

// ---- the audio's cuts, natively ----------------------------------------------------------------------

/**
 * The audio pushed (s) each time the CLI's live stream of `file`, fed 1 s at a time, finished a piece,
 * over its first SECONDS. The cutter reads only the audio's levels per 20 ms frame, a frame as long in
 * every package, so the CLI's built-in model cuts where the benchmark's package does.
 */
function nativeCuts(file) {
  const run = spawnSync(CLI, ["transcribe", "--timings", "--stream", "1", "--live", file], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`${CLI} transcribe ${file}: ${run.stderr}`);
  const pushes = run.stderr.trim().split("\n").map((line) => JSON.parse(line)).filter((r) => "push_s" in r && r.audio_s <= SECONDS);
  return pushes.flatMap((r) => Array(r.finals).fill(r.audio_s));
}

/**
 * Whether every cut in `cuts` (from nativeCuts) can be a forced one: a piece is cut by force once it
 * reaches the limit (and the cutter has the second after it), at its quietest frame in the second half,
 * so the first piece is finished after the limit and each next one at least half the limit later (less
 * a push: the CLI reports per push). A pause cut comes anywhere.
 */
function onlyForcedCuts(cuts) {
  return cuts.every((at, i) => (i === 0 ? at >= MAX_PIECE_SECONDS : at - cuts[i - 1] >= MAX_PIECE_SECONDS / 2 - 1));
}

// ---- one recording in a fresh page ---------------------------------------------------------------------

/**
 * In the page, before its scripts: keeps when the page sends its worker each push of audio and how many
 * samples it holds (read before they move to the worker).
 */
function recordPushes() {
  window.benchPushes = [];
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, transfer) {
    if (message?.type === "pushStream") window.benchPushes.push({ at: performance.now(), samples: message.samples.length });
    return post.call(this, message, transfer);
  };
}

/**
 * In the page: loads the package through the npm API, records from the microphone until `seconds` are
 * recorded, stops, and returns what happened, times from performance.now().
 */
async function recordLive({ modelUrl, loadOptions, seconds }) {
  const { load } = await import("/pkg/index.js");
  const transcriber = await load(modelUrl, loadOptions);
  const partials = [];
  const ticks = [];
  let recorded, stalled;
  const enough = new Promise((resolve, reject) => ((recorded = resolve), (stalled = reject)));
  const recording = await transcriber.startLive({
    onPartial: (_, { start, end }) => partials.push({ at: performance.now(), start, end }),
    onTick: (s) => {
      ticks.push({ at: performance.now(), seconds: s });
      if (s >= seconds) recorded();
    },
  });
  // A microphone that stalls would otherwise keep the benchmark waiting for good.
  const timer = setTimeout(() => stalled(new Error(`the microphone recorded ${ticks.at(-1)?.seconds ?? 0} s of ${seconds} s`)), (seconds + 60) * 1000);
  await enough;
  clearTimeout(timer);
  const stopped = performance.now();
  const { transcript } = await recording.stop();
  const finalMs = performance.now() - stopped;
  const result = {
    wasm: transcriber.wasm,
    languageModel: transcriber.languageModel,
    sampleRate: transcriber.sampleRate,
    isolated: self.crossOriginIsolated,
    chromium: navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? "unknown",
    partials,
    ticks,
    pushes: window.benchPushes,
    finalMs,
    words: transcript.words.length,
  };
  transcriber.dispose();
  return result;
}

async function measure(context, server, audio, config) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  try {
    await page.addInitScript(recordPushes);
    await page.goto(`${server.url}/bench/blank.html`);
    const run = await page.evaluate(recordLive, { modelUrl: "/live-model/model.json", loadOptions: config.loadOptions, seconds: SECONDS });
    return { audio, config, run, ...summarise(run) };
  } finally {
    await page.close();
  }
}

// ---- figures -------------------------------------------------------------------------------------------

const sum = (values) => values.reduce((a, b) => a + b, 0);
/** The value at quantile `q` of ascending `values` (the nearest rank). */
const quantile = (values, q) => values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))];

function summarise(run) {
  // When the first sample was recorded: audio reaches the page no sooner than it is recorded, so a
  // tick's time less the seconds recorded by then is at or after that moment, and the least of them is
  // the closest (a tick before any audio bounds nothing).
  const start = Math.min(...run.ticks.filter((t) => t.seconds > 0).map((t) => t.at - t.seconds * 1000));
  // What the speaker sees: the speech so far against what the partial text covers.
  const lags = run.partials.map((p) => (p.at - start) / 1000 - p.end).sort((a, b) => a - b);
  // The i-th partial answers the i-th push (one push at a time; one in flight at stop() gets none).
  const pushes = run.partials.map((p, i) => ({ ms: p.at - run.pushes[i].at, seconds: run.pushes[i].samples / run.sampleRate }));
  return {
    partialCount: run.partials.length,
    lag: { median: quantile(lags, 0.5), p90: quantile(lags, 0.9), worst: lags.at(-1) },
    finalS: run.finalMs / 1000,
    workerPerSecond: sum(pushes.map((p) => p.ms)) / 1000 / sum(pushes.map((p) => p.seconds)),
    // A cut starts a new open piece: each new start is one.
    cuts: new Set(run.partials.map((p) => p.start)).size - 1,
    longestPiece: Math.max(...run.partials.map((p) => p.end - p.start)),
    threads: run.wasm.threads,
  };
}

function goalsMet(r) {
  const goal = GOALS[Math.min(r.threads, 2)];
  const missed = [
    r.lag.median > goal.median && "median",
    r.lag.worst > goal.worst && "worst",
    r.finalS > goal.final && "final",
  ].filter(Boolean);
  const limits = `≤ ${goal.median.toFixed(1)} / ${goal.worst.toFixed(1)} / ${goal.final.toFixed(1)} s`;
  return `${limits}: ${missed.length ? `missed (${missed.join(", ")})` : "met"}`;
}

// ---- report --------------------------------------------------------------------------------------------

const BEGIN = "<!-- bench-live.mjs: begin -->";
const END = "<!-- bench-live.mjs: end -->";

function report(results, native, started, load) {
  const s = (x) => `${x.toFixed(2)} s`;
  const model = options.smoke
    ? "the built-in demo package (www/models/default)"
    : "bench-browser.sh's MMS-300m-shaped q8_0 package (random weights: the real model's size and cost, its text means nothing)";
  const decoding = results[0].run.languageModel ? "decoded with its word LM" : "no word LM";
  const smoke = options.smoke ? "**A smoke run** (`--smoke`): the demo package, not the one the goals below are for. " : "";
  const chromiumVersion = results[0].run.chromium;
  const lines = [
    BEGIN,
    "## Live dictation in the browser: partial text lag and final text after stop()",
    "",
    `${smoke}Written by \`scripts/bench-live.sh\` (${started.toISOString().slice(0, 16)} UTC); re-run it to refresh this section. ` +
      `Headless Chromium (${chromiumVersion}) with its fake microphone playing ${SECONDS} s of audio in real time; ` +
      `in a fresh page for each row, the npm API loads ${model}, ${decoding} (\`load\`: one thread on a plain page, ` +
      "`{threads: 2}` on a cross-origin isolated one, where the worker runs its threaded build), records with " +
      `\`startLive\` until ${SECONDS} s are recorded, and stops with \`stop()\`. Audio: the demo-eval clips (held-out ` +
      "synthetic speech) joined, with their pauses; and the same speech with every silence of 0.2 s and more cut out " +
      "and its loudness compressed, where no pause closes a piece, so each piece grows to the " +
      `${MAX_PIECE_SECONDS} s limit (pieces the CLI's live stream, fed 1 s at a time, finished in ${SECONDS} s: ` +
      `${native.pauses.length} of the first, ${native["no-pauses"].length} of the second, only at the limit). ` +
      "Partial lag: at each `onPartial`, the wall time since the first sample was recorded less the audio its " +
      "partial covers (`partial.end`): median / 90th percentile / worst over the recording. stop → final: from " +
      "calling `stop()` to its transcript. Worker per s of audio: each push from sending it to its partial text, " +
      "over the audio pushed (at 1 the worker is never idle). Pieces: the cuts the page's stream made, and the " +
      `longest open piece. CPU: ${cpus()[0].model}, ${cpus().length} cores; load average at the start and end: ` +
      `${load[0].toFixed(1)} and ${load[1].toFixed(1)}.`,
    "",
    "Goals (the issue's, for the MMS-300m-shaped package): partial lag median ≤ 1.0 s and worst ≤ 2.0 s on 2 threads, " +
      "median ≤ 2.0 s and worst ≤ 3.5 s on 1; the final text ≤ 1.5 s after `stop()` on 2 threads, ≤ 3 s on 1.",
    "",
    "| audio | threads | wasm build | partials | partial lag median / p90 / worst | stop → final | worker per s of audio | pieces cut, longest | final words | goals (median / worst / final) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.audio.label} | ${r.config.label} | ${r.run.wasm.build}, ${r.threads} thread${r.threads > 1 ? "s" : ""} | ${r.partialCount} ` +
        `| ${s(r.lag.median)} / ${s(r.lag.p90)} / ${s(r.lag.worst)} | ${s(r.finalS)} | ${r.workerPerSecond.toFixed(2)} ` +
        `| ${r.cuts}, ${r.longestPiece.toFixed(1)} s | ${r.run.words} | ${goalsMet(r)} |`,
    ),
    END,
  ];
  return lines.join("\n") + "\n";
}

// ---- main ----------------------------------------------------------------------------------------------

const started = new Date();
const loadAtStart = loadavg()[0];

const native = {};
for (const audio of AUDIOS) {
  const cuts = nativeCuts(join(WORK, `${audio.name}.wav`));
  if (audio.onlyForcedCuts && !onlyForcedCuts(cuts)) {
    throw new Error(`${audio.name}.wav: the CLI's live stream cut it after ${cuts.join(", ")} s of audio, not only by force: it has pauses`);
  }
  native[audio.name] = cuts;
  console.log(`${audio.name}.wav: natively ${cuts.length} pieces finished in ${SECONDS} s (after ${cuts.join(", ") || "no"} s of audio)`);
}

writeFileSync(join(WORK, "blank.html"), "<!doctype html><title>bench-live</title>\n");
const mounts = { "/bench/": WORK, "/live-model/": MODEL };
const servers = {
  plain: await startServer({ root: join(ROOT, "www"), mounts, hidden: ["/tests/"] }),
  isolated: await startServer({ root: join(ROOT, "www"), mounts, hidden: ["/tests/"], isolated: true }),
};
// A persistent profile, shared by the browsers of both audios: a non-persistent context cannot keep a
// 348 MB package in the Cache API, and with it only each origin's first page downloads it.
const profileDir = mkdtempSync(join(tmpdir(), "sakha-asr-bench-live-"));
const results = [];
try {
  for (const audio of AUDIOS) {
    // The fake microphone's file is a flag of the browser: one browser per audio.
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-audio-capture=${join(WORK, `${audio.name}.wav`)}`,
      ],
    });
    try {
      for (const config of CONFIGS) {
        const r = await measure(context, servers[config.isolated ? "isolated" : "plain"], audio, config);
        if (r.run.isolated !== config.isolated) throw new Error(`${config.label}: crossOriginIsolated is ${r.run.isolated}`);
        results.push(r);
        console.log(
          `${audio.label}, ${config.label} (${r.run.wasm.build} build, ${r.threads} computing): ${r.partialCount} partials, ` +
            `lag median ${r.lag.median.toFixed(2)} s, p90 ${r.lag.p90.toFixed(2)} s, worst ${r.lag.worst.toFixed(2)} s; ` +
            `stop → final ${r.finalS.toFixed(2)} s; ${r.run.words} words`,
        );
      }
    } finally {
      await context.close();
    }
  }
} finally {
  await Promise.all(Object.values(servers).map((server) => server.close()));
  rmSync(profileDir, { recursive: true, force: true });
}

const section = report(results, native, started, [loadAtStart, loadavg()[0]]);
if (options.out) writeSection(options.out, section, BEGIN, END);
console.log(`\n${section}`);

// Runs our recognizer and onnxruntime-web side by side in one headless Chromium and writes the
// browser section of BENCHMARKS.md. Called by scripts/bench-browser.sh after it has made the models
// and audio (scripts/bench_browser_model.py); see that script for the whole procedure.
//
//   node scripts/bench-browser.mjs CACHE_DIR [--repeats N] [--out BENCHMARKS.md] [--only engine|files] [--smoke]
//
// --smoke: ours alone with CACHE_DIR/package-demo (the built-in demo package) on both pages, one
// repeat, one window length, no long file; the texts to check against come from the CLI here.
//
// The file paths (a section of their own): the same audio as a float WAV through the npm API's
// `transcribe(blob)` and through the app page's file input, next to `transcribe(samples)`, each in a
// fresh page of its own, with the renderer's peak; then ten files in a row in one app page.
//
// Each configuration (stack, model, threads) gets a warm-up page (first load: download into the Cache
// API, then the 10 s audio once), then N fresh pages, each: ready time (load + build from the Cache
// API), 10 s audio, 30 s audio, then the renderer's peak RSS; the table shows medians and the largest
// peak. One thread runs on a plain page, two on a cross-origin isolated one (COOP + COEP), where our
// worker picks its threaded build by itself.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { floatWav } from "../www/tests/pages.mjs";
import { startServer } from "../www/tests/server.mjs";
import { CLI, ROOT, writeSection } from "./bench-common.mjs";
import { renderers, statusField } from "./renderer-memory.mjs";

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repeats: { type: "string" },
    out: { type: "string", default: join(ROOT, "BENCHMARKS.md") },
    only: { type: "string" },
    smoke: { type: "boolean", default: false },
  },
});
const SMOKE = options.smoke;
const CACHE = resolve(positionals[0] ?? "");
const REPEATS = Number(options.repeats ?? (SMOKE ? 1 : 3));
const SECONDS = [10, 30];
const CHUNK_SECONDS = SMOKE ? [10] : [10, 15, 20];
const CONTEXT_SECONDS = 2;
const FILE_SECONDS = SMOKE ? [10] : [10, 60];
/** A long file, once per path and on the isolated page only: it takes minutes each. */
const LONG_FILE_SECONDS = SMOKE ? null : 600;
const FILES_IN_A_ROW = SMOKE ? 2 : 10;
/** Our package in the engine's other rows, the files section, window lengths and profile. */
const OURS = SMOKE ? "demo" : "q8_0";
const SMOKE_NOTE = SMOKE
  ? "**A smoke run** (`--smoke`): ours alone (onnxruntime-web's model is an ONNX export, which needs torch), with the built-in " +
    "demo package and the demo-eval clips as its audio, one repeat; it checks that the benchmark runs, its figures compare nothing. "
  : "";

const CONFIGS = SMOKE
  ? [
      { stack: "ours", model: OURS, isolated: false },
      { stack: "ours", model: OURS, isolated: true, threads: 2 },
    ]
  : [
      { stack: "ours", model: "q8_0", isolated: false },
      { stack: "ours", model: "q8_0", isolated: true, threads: 2 },
      { stack: "ours", model: "q4_k", isolated: false },
      { stack: "ort", model: "int8", threads: 1, isolated: false },
      { stack: "ort", model: "int8", threads: 2, isolated: true },
    ];
const reference = SMOKE ? cliReference() : JSON.parse(readFileSync(join(CACHE, "reference.json"), "utf8"));

/**
 * What bench_browser_model.py's reference.json holds that needs no torch: the CLI's text for each of
 * our packages and audio lengths.
 */
function cliReference() {
  const texts = {};
  for (const model of new Set(CONFIGS.map((c) => c.model))) {
    for (const seconds of SECONDS) {
      const args = ["transcribe", "--model", join(CACHE, `package-${model}`), join(CACHE, `audio-${seconds}s.wav`)];
      const run = spawnSync(CLI, args, { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`${CLI} ${args.join(" ")}: ${run.stderr}`);
      texts[`${model}/${seconds}`] = run.stdout.replace(/\n$/, "").split("\t").at(-1);
    }
  }
  return { texts, accuracy_vs_torch_f32_10s: {} };
}

const modelUrl = ({ stack, model }) =>
  stack === "ours" ? `/bench-models/package-${model}/model.json` : `/bench-models/onnx/${model === "int8" ? "model-int8" : "model"}.onnx`;
const audioUrl = (seconds) => `/bench-models/audio-${seconds}s.f32`;
const median = (values) => [...values].sort((a, b) => a - b)[(values.length - 1) >> 1];

// ---- renderer memory ---------------------------------------------------------------------------------

/**
 * The renderers' largest VmHWM while `work` runs, in MB, read every 50 ms: Chromium resets a
 * renderer's VmHWM to its current RSS now and then by itself (seen: one renderer's 630 MB falling to
 * 549 MB during a recognition), so one reading at the end can miss the page's peak. The renderers'
 * marks are reset first (as Chromium does it: "5" to clear_refs), so a renderer left from an earlier
 * page does not bring its own peak.
 */
async function peakWhile(work) {
  let pids = [];
  const findRenderers = () => (pids = renderers().map((p) => p.pid));
  for (const pid of findRenderers()) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {
      // it ended meanwhile
    }
  }
  let peakKb = 0;
  // Only the renderers' status files every 50 ms (walking all of /proc that often costs a good part of a core);
  // the page's renderer is looked for again every second.
  const read = () => {
    for (const pid of pids) {
      try {
        peakKb = Math.max(peakKb, statusField(readFileSync(`/proc/${pid}/status`, "utf8"), "VmHWM"));
      } catch {
        // it ended meanwhile
      }
    }
  };
  const timers = [setInterval(read, 50), setInterval(findRenderers, 1000)];
  try {
    const value = await work();
    findRenderers();
    read();
    return { value, peakMb: peakKb / 1024 };
  } finally {
    timers.forEach(clearInterval);
  }
}

/** After a page closed: wait until its renderer is gone, so the next page's peak is its own. */
async function waitForIdleRenderers() {
  for (let i = 0; i < 100 && renderers().some((p) => p.rssKb > 300_000); i++) await new Promise((r) => setTimeout(r, 100));
}

// ---- CDP of a worker: the page's session auto-attaches to the workers it starts ------------------------

/** The first worker the page starts, as {attached (a promise), send(method, params)}. */
async function profileWorker(context, page) {
  const cdp = await context.newCDPSession(page);
  const pending = new Map();
  let nextId = 1;
  let workerSession = null;
  const attached = new Promise((resolve) =>
    cdp.on("Target.attachedToTarget", ({ sessionId, targetInfo }) => {
      if (targetInfo.type === "worker" && !workerSession) resolve((workerSession = sessionId));
    }),
  );
  cdp.on("Target.receivedMessageFromTarget", ({ message }) => {
    const reply = JSON.parse(message);
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => (reply.error ? reject(new Error(`${method}: ${reply.error.message}`)) : resolve(reply.result)));
      cdp.send("Target.sendMessageToTarget", { sessionId: workerSession, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  // Not flattened: Playwright's CDP session cannot address child sessions, so messages are wrapped.
  await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  return { attached, send };
}

/** Self time per function name, largest first, as [name, share of all samples]. */
function topSelfTime(profile, count) {
  const hits = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    // Rust's symbol hash (::h + 16 hex digits) only splits one function's samples.
    const name = node.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, "") || `(anonymous ${node.callFrame.url.split("/").pop()})`;
    if (name === "(idle)" || name === "(program)" || name === "(root)") continue;
    hits.set(name, (hits.get(name) ?? 0) + (node.hitCount ?? 0));
    total += node.hitCount ?? 0;
  }
  return [...hits].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, n]) => [name, n / total]);
}

// ---- runs ----------------------------------------------------------------------------------------------

async function openPage(context, server) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${server.url}/bench/index.html`);
  await page.waitForFunction(() => window.bench);
  return page;
}

async function onePage(context, server, config, { warmUp }) {
  await waitForIdleRenderers();
  const { value: result, peakMb } = await peakWhile(() => runPage(context, server, config, { warmUp }));
  result.peakRssMb = peakMb;
  return result;
}

async function runPage(context, server, config, { warmUp }) {
  const page = await openPage(context, server);
  try {
    const load = config.stack === "ours" ? "loadOurs" : "loadOrt";
    const transcribe = config.stack === "ours" ? "transcribeOurs" : "transcribeOrt";
    // Ours takes {threads} (the worker picks the build), theirs a thread count.
    const loadOptions = config.stack === "ours" ? { threads: config.threads } : config.threads;
    const ready = await page.evaluate(([f, url, o]) => window.bench[f](url, o), [load, modelUrl(config), loadOptions]);
    const result = { readyMs: ready.ms, info: ready.info, isolated: await page.evaluate(() => window.bench.crossOriginIsolated()), runs: {} };
    for (const seconds of warmUp ? [10] : SECONDS) {
      result.runs[seconds] = await page.evaluate(([f, url]) => window.bench[f](url), [transcribe, audioUrl(seconds)]);
    }
    return result;
  } finally {
    await page.close();
  }
}

async function measure(context, servers, config) {
  const server = servers[config.isolated ? "isolated" : "plain"];
  const warm = await onePage(context, server, config, { warmUp: true });
  console.log(`${label(config)}: first load ${(warm.readyMs / 1000).toFixed(1)} s, ${JSON.stringify(warm.info)}`);
  const pages = [];
  for (let i = 0; i < REPEATS; i++) {
    pages.push(await onePage(context, server, config, { warmUp: false }));
    const last = pages.at(-1);
    console.log(
      `  ready ${(last.readyMs / 1000).toFixed(2)} s, ` +
        SECONDS.map((s) => `${s} s audio: ${(last.runs[s].ms / 1000).toFixed(2)} s`).join(", ") +
        `, renderer peak ${last.peakRssMb.toFixed(0)} MB`,
    );
  }
  return {
    config,
    info: pages[0].info,
    isolated: pages[0].isolated,
    readyS: median(pages.map((p) => p.readyMs)) / 1000,
    seconds: Object.fromEntries(SECONDS.map((s) => [s, median(pages.map((p) => p.runs[s].ms)) / 1000])),
    texts: Object.fromEntries(SECONDS.map((s) => [s, pages[0].runs[s].text])),
    peakRssMb: Math.max(...pages.map((p) => p.peakRssMb)),
  };
}

async function measureChunking(context, server) {
  await waitForIdleRenderers();
  const page = await openPage(context, server);
  try {
    const { info } = await page.evaluate((url) => window.bench.loadChunked(url), modelUrl({ stack: "ours", model: OURS }));
    const rows = [];
    for (const chunk of CHUNK_SECONDS) {
      const run = await page.evaluate(([url, c, x]) => window.bench.transcribeChunked(url, c, x), [audioUrl(30), chunk, CONTEXT_SECONDS]);
      rows.push({ chunk, seconds: run.ms / 1000, build: describe({ config: { stack: "ours" }, info, isolated: false }) });
      console.log(`chunks of ${chunk} s (+${CONTEXT_SECONDS} s context each side), 30 s audio: ${(run.ms / 1000).toFixed(2)} s`);
    }
    return rows;
  } finally {
    await page.close();
  }
}

/** One 10 s recognition by our app's worker on a plain page, profiled at 1 ms. */
async function profileOurs(context, server) {
  await waitForIdleRenderers();
  const page = await openPage(context, server);
  try {
    const profiler = await profileWorker(context, page);
    await page.evaluate((url) => window.bench.loadOurs(url), modelUrl({ stack: "ours", model: OURS }));
    await profiler.attached;
    await profiler.send("Profiler.enable");
    await profiler.send("Profiler.setSamplingInterval", { interval: 1000 });
    await profiler.send("Profiler.start");
    await page.evaluate((url) => window.bench.transcribeOurs(url), audioUrl(10));
    const { profile } = await profiler.send("Profiler.stop");
    const file = join(CACHE, `ours-${OURS}-10s.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return { file, top: topSelfTime(profile, 15) };
  } finally {
    await page.close();
  }
}

// ---- report --------------------------------------------------------------------------------------------

// ---- the file paths ------------------------------------------------------------------------------------

/**
 * `seconds` of the bench audio (the 30 s file repeated) as raw float32 and as a float WAV, made once,
 * under names of their own: bench_browser_model.py's audio-10s.f32 is another signal, whose texts
 * reference.json holds.
 */
function fileAudio(seconds) {
  const name = `files-${seconds}s`;
  const raw = join(CACHE, `${name}.f32`);
  const wav = join(CACHE, `${name}.wav`);
  const made = { f32: `/bench-models/${name}.f32`, wavUrl: `/bench-models/${name}.wav`, wavPath: wav };
  if (existsSync(wav)) return made;
  const source = new Float32Array(readFileSync(join(CACHE, "audio-30s.f32")).buffer.slice(0));
  const samples = new Float32Array(seconds * 16_000);
  for (let at = 0; at < samples.length; at += source.length) samples.set(source.subarray(0, samples.length - at), at);
  writeFileSync(raw, Buffer.from(samples.buffer));
  writeFileSync(wav, floatWav(samples, 16_000));
  return made;
}

/** One path for one audio length in a fresh page: {ms, text, peakRssMb}. */
async function filePath(context, server, path, audio, threads) {
  await waitForIdleRenderers();
  const { value, peakMb } = await peakWhile(async () => {
    if (path === "page") return appPage(context, server, [audio.wavPath], threads);
    const page = await openPage(context, server);
    try {
      await page.evaluate(([url, o]) => window.bench.loadOurs(url, o), [modelUrl({ stack: "ours", model: OURS }), { threads }]);
      const run = path === "samples" ? "transcribeOurs" : "transcribeOursFile";
      return await page.evaluate(([f, url]) => window.bench[f](url), [run, path === "samples" ? audio.f32 : audio.wavUrl]);
    } finally {
      await page.close();
    }
  });
  return { ...value, peakRssMb: peakMb };
}

/** The app page with our bench package (OURS), given `files` one after another through its file input. */
async function appPage(context, server, files, threads) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  try {
    const model = modelUrl({ stack: "ours", model: OURS });
    await page.goto(`${server.url}/?model=${encodeURIComponent(model)}${threads ? `&threads=${threads}` : ""}`);
    await page.waitForFunction(() => ["ready", "failed"].includes(document.body.dataset.model), null, { timeout: 300_000 });
    if ((await page.evaluate(() => document.body.dataset.model)) !== "ready") throw new Error(`app page: ${await page.textContent("#error")}`);
    const runs = [];
    for (const file of files) {
      await page.evaluate(() => (document.getElementById("transcript").dataset.state = "pending"));
      const started = performance.now();
      await page.setInputFiles("#file-input", file);
      await page.waitForFunction(
        () => document.getElementById("transcript").dataset.state === "final" || !document.getElementById("error").hidden,
        null,
        { timeout: 1_800_000, polling: 50 },
      );
      const ms = performance.now() - started;
      if (await page.isVisible("#error")) throw new Error(`app page: ${await page.textContent("#error")}`);
      runs.push({ ms, text: (await page.textContent("#transcript")).trim().replace(/\s+/g, " ") });
    }
    return runs.length === 1 ? runs[0] : { runs };
  } finally {
    await page.close();
  }
}

async function measureFilePaths(context, servers) {
  const rows = [];
  for (const isolated of [false, true]) {
    const server = servers[isolated ? "isolated" : "plain"];
    const threads = isolated ? 2 : undefined;
    // A warm-up page: the model into the Cache API, as for the engine rows.
    await filePath(context, server, "samples", fileAudio(10), threads);
    for (const seconds of isolated && LONG_FILE_SECONDS ? [...FILE_SECONDS, LONG_FILE_SECONDS] : FILE_SECONDS) {
      const audio = fileAudio(seconds);
      const row = { isolated, seconds, repeats: seconds === LONG_FILE_SECONDS ? 1 : REPEATS };
      for (const path of ["samples", "blob", "page"]) {
        const runs = [];
        for (let i = 0; i < row.repeats; i++) runs.push(await filePath(context, server, path, audio, threads));
        row[path] = { s: median(runs.map((r) => r.ms)) / 1000, peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), text: runs[0].text };
        console.log(`files, ${isolated ? "isolated, 2 threads" : "plain, 1 thread"}, ${seconds} s, ${path}: ${row[path].s.toFixed(2)} s, ${row[path].peakRssMb.toFixed(0)} MB`);
      }
      rows.push(row);
    }
  }
  // 10 s files in a row in one app page (2 threads): does the page's memory grow with use?
  await waitForIdleRenderers();
  const audio = fileAudio(10);
  const peaks = [];
  const inARow = await peakWhile(() => appPage(context, servers.isolated, [audio.wavPath], 2));
  peaks.push(inARow.peakMb);
  const all = await peakWhile(() => appPage(context, servers.isolated, Array(FILES_IN_A_ROW).fill(audio.wavPath), 2));
  const texts = all.value.runs.map((r) => r.text);
  console.log(`files in a row: first page ${inARow.peakMb.toFixed(0)} MB, ${FILES_IN_A_ROW} files ${all.peakMb.toFixed(0)} MB`);
  return { rows, inARow: { one: inARow.peakMb, all: all.peakMb, same: texts.every((t) => t === texts[0]), ms: all.value.runs.map((r) => r.ms) } };
}

const FILES_BEGIN = "<!-- bench-browser.mjs files: begin -->";
const FILES_END = "<!-- bench-browser.mjs files: end -->";

function reportFiles({ rows, inARow }, started) {
  const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
  const lines = [
    FILES_BEGIN,
    `### The file paths a user takes, against the engine's (ours, ${OURS})`,
    "",
    `${SMOKE_NOTE}Written by \`scripts/bench-browser.sh\` (${started.toISOString().slice(0, 16)} UTC), same machine and model as above. ` +
      "The bench audio (the 30 s signal repeated) as raw samples through `transcribe(samples)` (the engine path), as a " +
      "float WAV `Blob` through the npm API's `transcribe(blob)` (read and streamed in slices, `js/file-pieces.js`), and " +
      "through the app page's file input (`www/`, `?model=` the package), each in a fresh page after the model is in the " +
      "Cache API; time from handing over the audio to the final text; peak RSS of the renderers over the whole page. " +
      `Median of ${REPEATS}${LONG_FILE_SECONDS ? ` (the ${LONG_FILE_SECONDS / 60} min file: one run)` : ""}. Goal: files at most 1.1x the engine's time, the app page's peak at most 650 MB.`,
    "",
    "| page | audio | samples | Blob | Blob / samples | app page | app page / samples | peak: samples / Blob / app page | same text |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const same = r.blob.text === r.samples.text && r.page.text === r.samples.text ? "yes" : "**no**";
    lines.push(
      `| ${r.isolated ? "isolated, 2 threads" : "plain, 1 thread"} | ${r.seconds} s | ${r.samples.s.toFixed(2)} s | ${r.blob.s.toFixed(2)} s | ` +
        `${ratio(r.blob.s, r.samples.s)} | ${r.page.s.toFixed(2)} s | ${ratio(r.page.s, r.samples.s)} | ` +
        `${r.samples.peakRssMb.toFixed(0)} / ${r.blob.peakRssMb.toFixed(0)} / ${r.page.peakRssMb.toFixed(0)} MB | ${same} |`,
    );
  }
  lines.push(
    "",
    `${FILES_IN_A_ROW} files of 10 s in a row in one app page (isolated, 2 threads): renderer peak ${inARow.all.toFixed(0)} MB, against ` +
      `${inARow.one.toFixed(0)} MB for a page with one (${ratio(inARow.all, inARow.one)}); ` +
      `each took ${inARow.ms.map((ms) => (ms / 1000).toFixed(1)).join(", ")} s; ${inARow.same ? "every text the same" : "**texts differ**"}.`,
    FILES_END,
  );
  return lines.join("\n") + "\n";
}

function label({ stack, model, threads = 1, isolated }) {
  const page = isolated ? "isolated page" : "plain page";
  if (stack === "ours") return `ours, ${model}, ${page}${isolated ? `, ${threads} threads asked` : ""}`;
  return `onnxruntime-web ${model}, ${page}, ${threads} thread${threads > 1 ? "s" : ""}`;
}

const BEGIN = "<!-- bench-browser.mjs: begin -->";
const END = "<!-- bench-browser.mjs: end -->";

function report(results, chunking, profile, started, load) {
  const theirs = (threads) => results.find((r) => r.config.stack === "ort" && r.config.threads === threads);
  // Ours: the threads the worker says compute (1 where it has no threaded build).
  const threadsOf = (r) => (r.config.stack === "ort" ? r.config.threads : (r.info.wasm?.threads ?? 1));
  const lines = [
    BEGIN,
    "## In the browser: ours against onnxruntime-web",
    "",
    `${SMOKE_NOTE}Written by \`scripts/bench-browser.sh\` (${started.toISOString().slice(0, 16)} UTC); re-run it to refresh this section. ` +
      `CPU: ${cpus()[0].model}, ${cpus().length} cores (whether it has AVX-VNNI decides our relaxed build's kernel: see README). ` +
      `Headless Chromium (${CHROMIUM_VERSION}), each stack in a module worker of the same page: ours through the app's ` +
      "own worker (`js/worker.js`, which picks its build), onnxruntime-web " +
      `${ORT_VERSION} (wasm execution provider) in \`scripts/bench-browser/ort-worker.js\`. Same model as above ` +
      "(MMS-300m shape, random weights): our packages from `sakha-asr convert`, theirs exported by torch to ONNX " +
      "(opset 17) and quantized by onnxruntime's `quantize_dynamic` (MatMuls only: its ConvInteger is slower in onnxruntime-web than float convs). Same audio (bench.py's speech-like signal), " +
      "normalised to zero mean and unit variance by both. Ours recognises 30 s in 10 s windows with 2 s of context " +
      "on each side (38 s of windows); onnxruntime-web runs the 30 s in one pass. " +
      `Median of ${REPEATS} fresh pages after a warm-up page; recognition = samples posted to the worker until ` +
      "the result is back; ready = a fresh page's load and build with the model already in the Cache API; " +
      "peak RSS = the largest VmHWM of the renderer processes (page and workers) read every 50 ms from opening the page to the end of the 30 s run. One thread on a plain " +
      "page, two on a cross-origin isolated one. " +
      `Load average at the start and end: ${load[0].toFixed(1)} and ${load[1].toFixed(1)}.`,
    "",
    "| stack | what ran | 10 s of audio | RTF | 30 s of audio | RTF | ready (from cache) | renderer peak RSS | ours / theirs, 10 s | ours / theirs, 30 s |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    const peer = theirs(threadsOf(r));
    const ratio = (s) => (r.config.stack === "ours" && peer ? `${(r.seconds[s] / peer.seconds[s]).toFixed(2)}x` : "");
    lines.push(
      `| ${label(r.config)} | ${describe(r)} | ${r.seconds[10].toFixed(2)} s | ${(r.seconds[10] / 10).toFixed(3)} ` +
        `| ${r.seconds[30].toFixed(2)} s | ${(r.seconds[30] / 30).toFixed(3)} | ${r.readyS.toFixed(2)} s ` +
        `| ${r.peakRssMb.toFixed(0)} MB | ${ratio(10)} | ${ratio(30)} |`,
    );
  }
  // Random weights leave near-ties between tokens, which another kernel's rounding flips: the page's
  // text is compared with the CLI's as a character error rate, not for equality.
  const textErrors = results
    .filter((r) => r.config.stack === "ours")
    .map((r) => `${label(r.config)}: ${SECONDS.map((s) => `${(cer(r.texts[s], reference.texts[`${r.config.model}/${s}`]) * 100).toFixed(1)} %`).join(" / ")}`);
  lines.push(
    "",
    `Ours/theirs below 1 means ours is faster (compared at equal threads). ${buildNote}The page's text against the native ` +
      `CLI's (character error rate, 10 s / 30 s): ${textErrors.join("; ")}.` +
      (SMOKE
        ? ""
        : " Logits against PyTorch float32 on the 10 s audio (natively): " +
          Object.entries(reference.accuracy_vs_torch_f32_10s)
            .map(([name, a]) => `${name}: relative error ${a.relative_error.toExponential(2)}, argmax agreement ${(a.argmax_agreement * 100).toFixed(1)} %`)
            .join("; ") +
          "."),
    "",
    `### Window length (ours, ${OURS}, 30 s of audio, ${CONTEXT_SECONDS} s of context on each side, one run each, plain page, \`Recognizer.setChunking\`: ${chunking[0].build})`,
    "",
    "| window | windows computed | recognition | RTF |",
    "|---|---|---|---|",
    ...chunking.map(({ chunk, seconds }) => `| ${chunk} s | ${windowsSeconds(30, chunk)} s | ${seconds.toFixed(2)} s | ${(seconds / 30).toFixed(3)} |`),
    "",
    `### Where our time goes (CPU profile of one 10 s recognition, ${OURS}, plain page, 1 ms sampling)`,
    "",
    `Self time per function, share of all non-idle samples; the profile is \`${profile.file.replace(CACHE, "CACHE_DIR")}\` (opens in Chromium's DevTools).`,
    "",
    "| function | self time |",
    "|---|---|",
    ...profile.top.map(([name, share]) => `| \`${name.replaceAll("|", "\\|")}\` | ${(share * 100).toFixed(1)} % |`),
    END,
  );
  return lines.join("\n") + "\n";
}

function describe(r) {
  if (r.config.stack === "ort") return r.info;
  const { wasm } = r.info;
  const build = wasm ? `${wasm.build} build, ${wasm.threads} thread${wasm.threads > 1 ? "s" : ""}` : "www/pkg (the only build), 1 thread";
  return `${build}; crossOriginIsolated ${r.isolated}`;
}

/** Levenshtein distance of two strings over the length of `reference`. */
function cer(text, reference) {
  let previous = Array.from({ length: reference.length + 1 }, (_, j) => j);
  for (let i = 1; i <= text.length; i++) {
    const row = [i];
    for (let j = 1; j <= reference.length; j++) {
      row.push(Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (text[i - 1] === reference[j - 1] ? 0 : 1)));
    }
    previous = row;
  }
  return previous[reference.length] / Math.max(reference.length, 1);
}

/** Seconds of audio the model computes for `total` seconds in windows of `chunk` s plus context. */
function windowsSeconds(total, chunk) {
  let seconds = 0;
  for (let start = 0; start < total; start += chunk) {
    seconds += Math.min(start + chunk + CONTEXT_SECONDS, total) - Math.max(start - CONTEXT_SECONDS, 0);
  }
  return seconds;
}

// ---- main ----------------------------------------------------------------------------------------------

const ORT_VERSION = JSON.parse(readFileSync(join(ROOT, "node_modules/onnxruntime-web/package.json"), "utf8")).version;
let CHROMIUM_VERSION = "";

const started = new Date();
// The app's build id (build-wasm.sh writes it): another build-wasm.sh run during ours would mix builds.
const appBuild = () => readFileSync(join(ROOT, "www/build-version.js"), "utf8").trim();
const buildAtStart = appBuild();
let buildNote = "";
const loadAtStart = (await import("node:os")).loadavg()[0];
const mounts = {
  "/bench/": join(ROOT, "scripts/bench-browser"),
  "/bench-models/": CACHE,
  "/ort/": join(ROOT, "node_modules/onnxruntime-web/dist"),
};
const servers = {
  plain: await startServer({ root: join(ROOT, "www"), mounts, hidden: ["/tests/"] }),
  isolated: await startServer({ root: join(ROOT, "www"), mounts, hidden: ["/tests/"], isolated: true }),
};
// A persistent profile: a non-persistent context cannot store a 348 MB file in the Cache API.
const profileDir = mkdtempSync(join(tmpdir(), "sakha-asr-bench-browser-"));
const context = await chromium.launchPersistentContext(profileDir, {
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
try {
  const probe = await context.newPage();
  CHROMIUM_VERSION = await probe.evaluate(() => navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? "unknown");
  await probe.close();
  if (options.only !== "files") {
    const results = [];
    for (const config of CONFIGS) results.push(await measure(context, servers, config));
    const chunking = await measureChunking(context, servers.plain);
    const profile = await profileOurs(context, servers.plain);
    console.log(`CPU profile written to ${profile.file}; top self time:`);
    for (const [name, share] of profile.top) console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${name}`);
    if (appBuild() !== buildAtStart) {
      buildNote = "**The wasm builds in www/ changed during this run** (build-wasm.sh ran meanwhile): rows of ours may mix builds; run again. ";
    }
    const section = report(results, chunking, profile, started, [loadAtStart, (await import("node:os")).loadavg()[0]]);
    writeSection(options.out, section, BEGIN, END);
    console.log(`\n${section}`);
  }
  if (options.only !== "engine") {
    const section = reportFiles(await measureFilePaths(context, servers), started);
    writeSection(options.out, section, FILES_BEGIN, FILES_END);
    console.log(`\n${section}`);
  }
} finally {
  await context.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
  rmSync(profileDir, { recursive: true, force: true });
}

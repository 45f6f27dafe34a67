// What decoding with the word LM costs next to the acoustic model, natively (the CLI's --timings) and
// in headless Chromium (the wasm API's logits() and decode() apart), and what the LM takes in the
// tab's wasm memory; writes the decoding section of BENCHMARKS.md. Called by scripts/bench-decoding.sh,
// which prepares the packages and audio:
//
//   node scripts/bench-decoding.mjs WORK_DIR [--repeats N] [--out BENCHMARKS.md] [--smoke]
//
// WORK_DIR holds demo/ and mms/ (packages with a language model; --smoke: demo/ alone), and for each
// 10 s of audio as WAV and as raw float32 (demo-10s.wav/.f32: held-out speech; mms-10s.wav/.f32:
// scripts/bench-browser.sh's speech-like audio).

import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { editDistance, launchChromium } from "../www/tests/pages.mjs";
import { startServer } from "../www/tests/server.mjs";
import { CLI, ROOT, writeSection } from "./bench-common.mjs";

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repeats: { type: "string", default: "5" },
    out: { type: "string", default: join(ROOT, "BENCHMARKS.md") },
    smoke: { type: "boolean", default: false },
  },
});
const WORK = resolve(positionals[0] ?? "");
const REPEATS = Number(options.repeats);
const MODELS = [
  { name: "demo", label: "built-in demo model, held-out speech" },
  { name: "mms", label: "MMS-300m-shaped q8_0, random weights (flat logits: the most labels to try)" },
].filter(({ name }) => name === "demo" || !options.smoke);
const median = (values) => [...values].sort((a, b) => a - b)[(values.length - 1) >> 1];

/** Median seconds of model and of decoding with the LM, from the CLI's --timings. */
function native(model) {
  const modelSeconds = [];
  const decodingSeconds = [];
  for (let i = 0; i < REPEATS; i++) {
    const args = ["transcribe", "--timings", "--model", join(WORK, model), join(WORK, `${model}-10s.wav`)];
    const run = spawnSync(CLI, args, { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`${CLI} ${args.join(" ")}: ${run.stderr}`);
    const timings = JSON.parse(run.stderr.trim().split("\n").at(-1));
    modelSeconds.push(timings.inference_s - timings.decoding_s);
    decodingSeconds.push(timings.decoding_s);
  }
  return { model: median(modelSeconds), decoding: median(decodingSeconds) };
}

/** In the page: the package with its LM through the wasm API, then model and decoding timed apart. */
async function inPage(page, model, repeats) {
  return page.evaluate(
    async ({ model, repeats }) => {
      const asr = await import("/pkg/sakha_asr.js");
      const wasm = await asr.default();
      const get = async (file) => new Uint8Array(await (await fetch(`/bench/${model}/${file}`)).arrayBuffer());
      const manifestText = new TextDecoder().decode(await get("model.json"));
      const manifest = JSON.parse(manifestText);
      const language = manifest.default_language;
      const recognizer = new asr.Recognizer(manifestText, await get(manifest.base.file), await get(manifest.languages[language].file));
      const lmBytes = await get(manifest.language_models[language].file);
      const memoryBefore = wasm.memory.buffer.byteLength;
      const lm = asr.PackageFile.languageModel(manifestText, language);
      // In pieces, as the worker streams a file in: one whole-file argument would itself take the
      // file's size in wasm memory for the length of the call.
      for (let at = 0; at < lmBytes.length; at += 1 << 16) lm.push(lmBytes.subarray(at, at + (1 << 16)));
      lm.finish();
      recognizer.setLanguageModel(lm);
      const memoryAfter = wasm.memory.buffer.byteLength;
      const samples = new Float32Array(await (await fetch(`/bench/${model}-10s.f32`)).arrayBuffer());
      let started = performance.now();
      const logits = recognizer.logits(samples);
      const modelMs = performance.now() - started;
      const decodingMs = { greedy: [], lm: [] };
      const texts = {};
      for (let i = 0; i < repeats; i++) {
        for (const mode of ["greedy", "lm"]) {
          recognizer.setDecoding({ languageModel: mode === "lm" });
          started = performance.now();
          texts[mode] = recognizer.decode(logits).text;
          decodingMs[mode].push(performance.now() - started);
        }
      }
      recognizer.free();
      return { modelMs, decodingMs, texts, lmBytes: lmBytes.length, memoryGrowth: memoryAfter - memoryBefore };
    },
    { model, repeats },
  );
}

const cliText = (model) => spawnSync(CLI, ["transcribe", "--model", join(WORK, model), join(WORK, `${model}-10s.wav`)], { encoding: "utf8" }).stdout.trim();

const server = await startServer({ root: join(ROOT, "www"), mounts: { "/bench/": WORK } });
const browser = await launchChromium();
const rows = [];
try {
  for (const { name, label } of MODELS) {
    const page = await browser.newPage();
    await page.goto(`${server.url}/bench/blank.html`);
    // The model runs once per page (MMS-300m takes a while in wasm); decoding is repeated.
    const web = await inPage(page, name, REPEATS);
    await page.close();
    const nat = native(name);
    const webDecoding = median(web.decodingMs.lm) / 1000;
    const webGreedy = median(web.decodingMs.greedy) / 1000;
    // Random weights give near-ties that another kernel's rounding flips, so the page's text is
    // compared with the CLI's as a character error rate.
    const cli = cliText(name);
    const pageVsCli = editDistance(web.texts.lm, cli) / Math.max(cli.length, 1);
    rows.push({ label, nat, web: { model: web.modelMs / 1000, decoding: webDecoding, greedy: webGreedy }, lmBytes: web.lmBytes, memoryGrowth: web.memoryGrowth, pageVsCli });
    console.log(JSON.stringify(rows.at(-1)));
  }
} finally {
  await browser.close();
  await server.close();
}

const seconds = (s) => (s < 0.1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const share = (part, whole) => `${((100 * part) / whole).toFixed(1)} %`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const BEGIN = "<!-- bench-decoding.mjs: begin -->";
const END = "<!-- bench-decoding.mjs: end -->";
const smoke = options.smoke ? "**A smoke run** (`--smoke`): the demo model alone, one repeat. " : "";
const lines = [
  BEGIN,
  "### Decoding with the word LM: cost next to the model",
  "",
  `${smoke}\`scripts/bench-decoding.sh\`, ${new Date().toISOString().slice(0, 10)}: 10 s of audio, the package's LM, beam search with the`,
  `default settings; medians of ${REPEATS}. Natively from the CLI's \`--timings\` (model and decoding timed apart), in`,
  "headless Chromium from the wasm API's `logits()` and `decode()` on the main thread (the SIMD build, one thread).",
  "",
  "| model | native: model | native: decoding | share | Chromium: model | Chromium: decoding (greedy) | share | LM file | wasm memory grown by the LM | page text vs CLI's (CER) |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.label} | ${seconds(r.nat.model)} | ${seconds(r.nat.decoding)} | ${share(r.nat.decoding, r.nat.model)} | ${seconds(r.web.model)} | ` +
      `${seconds(r.web.decoding)} (${seconds(r.web.greedy)}) | ${share(r.web.decoding, r.web.model)} | ${mb(r.lmBytes)} | ${mb(r.memoryGrowth)} | ${(100 * r.pageVsCli).toFixed(1)} % |`,
  ),
  "",
  "The share is decoding time over model time; the goal is at most 15 % for MMS-300m. The LM is read in place: the",
  "tab holds the file's bytes and nothing more (wasm memory grows in 64 KiB pages, and not at all when freed",
  "memory from loading the model is reused). Decoding in Chromium is timed after the model ran once in the page,",
  "so its code may not have reached V8's optimising tier: a first decode is slower than the median shown.",
  END,
];
const section = lines.join("\n") + "\n";
console.log(`\n${section}`);
writeSection(options.out, section, BEGIN, END);

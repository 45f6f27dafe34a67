// A package republished at the same URL reaches a browser that stored the old one, even where a file
// keeps its size: model.json is asked of the server on every load, and a stored file is used only
// while model.json names the sha256 it was verified against (model-loader.js). The stored package
// still loads when the server gives no model.json. Runs the npm package's API (js/index.js) on the
// modules as the web app serves them, in Chromium and firefox-esr, on the SIMD128 build, whose text
// Node's run of the same wasm gives exactly.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BROWSERS, launchBrowser } from "./pages.mjs";
import { Fault, startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test", "republished-package");
const PKG = new URL("../../pkg/", import.meta.url);
/** The built-in package, as published first. */
const FIRST = join(WWW, "models/default");
/** The same package republished with a changed base.gguf of the same size. */
const SECOND = join(WORK, "second");
/** The folder the server publishes the package from, at PACKAGE_URL. */
const PUBLISHED = join(WORK, "published");
const PACKAGE_URL = "/republished/";
const BLANK = "/blank/index.html";
const TIMEOUT = { timeout: 120_000 };

let server;
let samples;
/** The text of `samples` with each package, as Node's run of the SIMD128 build gives it. */
const expected = {};

before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, "blank"), { recursive: true });
  writeFileSync(join(WORK, "blank", "index.html"), `<!doctype html><meta charset="utf-8"><title>blank</title>`);
  republishWithSwappedLayers(FIRST, SECOND);
  samples = speech();
  expected.first = await nodeTranscript(FIRST, samples);
  expected.second = await nodeTranscript(SECOND, samples);
  assert.notEqual(expected.first, expected.second, "the republished base recognises otherwise");
  const mounts = { [PACKAGE_URL]: PUBLISHED, "/blank/": join(WORK, "blank") };
  server = await startServer({ root: WWW, mounts, hidden: ["/tests/"] });
});

after(() => server?.close());

/**
 * `from` copied to `to` with the data of two encoder layers' feed-forward output weights swapped in
 * base.gguf (same size, other weights) and model.json's sha256 for it recomputed.
 */
function republishWithSwappedLayers(from, to) {
  cpSync(from, to, { recursive: true });
  const base = readFileSync(join(from, "base.gguf"));
  const tensors = ggufTensors(base);
  const [a, b] = [0, 1].map((layer) => tensors.find((t) => t.name === `wav2vec2.encoder.layers.${layer}.feed_forward.output_dense.weight`));
  assert.ok(a && b && a.bytes === b.bytes, "two layers' tensors of the same size");
  const swapped = Buffer.from(base);
  base.copy(swapped, a.start, b.start, b.start + b.bytes);
  base.copy(swapped, b.start, a.start, a.start + a.bytes);
  writeFileSync(join(to, "base.gguf"), swapped);
  const manifest = JSON.parse(readFileSync(join(from, "model.json"), "utf8"));
  assert.equal(manifest.base.bytes, swapped.length);
  manifest.base.sha256 = createHash("sha256").update(swapped).digest("hex");
  writeFileSync(join(to, "model.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Each tensor of a GGUF file (u32 and string metadata, 32-byte alignment, as the converter writes) as {name, start, bytes}. */
function ggufTensors(gguf) {
  let at = 8; // after the magic and the version
  const u32 = () => ((at += 4), gguf.readUInt32LE(at - 4));
  const u64 = () => ((at += 8), Number(gguf.readBigUInt64LE(at - 8)));
  const string = () => {
    const length = u64();
    return gguf.toString("utf8", at, (at += length));
  };
  const tensorCount = u64();
  const metadataCount = u64();
  for (let i = 0; i < metadataCount; i++) {
    string();
    const type = u32();
    assert.ok(type === 4 || type === 8, `metadata type ${type}`);
    type === 4 ? u32() : string();
  }
  const tensors = Array.from({ length: tensorCount }, () => {
    const name = string();
    const dimensions = u32();
    at += 8 * dimensions + 4; // the dimensions and the type
    return { name, offset: u64() };
  });
  const data = Math.ceil(at / 32) * 32;
  tensors.sort((x, y) => x.offset - y.offset);
  // A tensor's bytes run to the next one's (its alignment padding included).
  const end = (i) => tensors[i + 1]?.offset ?? gguf.length - data;
  return tensors.map((t, i) => ({ name: t.name, start: data + t.offset, bytes: end(i) - t.offset }));
}

/** The committed speech sample (16 kHz mono PCM16 WAV) as floats. */
function speech() {
  const wav = readFileSync(join(WWW, "samples/sakha-sample.wav"));
  let chunk = 12; // after "RIFF", size, "WAVE"
  while (wav.toString("latin1", chunk, chunk + 4) !== "data") chunk += 8 + wav.readUInt32LE(chunk + 4);
  const data = wav.subarray(chunk + 8, chunk + 8 + wav.readUInt32LE(chunk + 4));
  return Float32Array.from({ length: data.length / 2 }, (_, i) => data.readInt16LE(2 * i) / 32_768);
}

/** The package in `folder` transcribing `samples` with its word LM, as the worker runs it. */
async function nodeTranscript(folder, samples) {
  const asr = await import(new URL("sakha_asr.js", PKG).href);
  asr.initSync({ module: readFileSync(new URL("sakha_asr_bg.wasm", PKG)) });
  const read = (file) => readFileSync(join(folder, file));
  const text = read("model.json").toString();
  const manifest = JSON.parse(text);
  const language = manifest.default_language;
  const recognizer = new asr.Recognizer(text, read(manifest.base.file), read(manifest.languages[language].file));
  const lm = asr.PackageFile.languageModel(text, language);
  lm.push(read(manifest.language_models[language].file));
  lm.finish();
  recognizer.setLanguageModel(lm);
  try {
    return recognizer.transcribe(samples).text;
  } finally {
    recognizer.free();
  }
}

function publish(folder) {
  rmSync(PUBLISHED, { recursive: true, force: true });
  cpSync(folder, PUBLISHED, { recursive: true });
}

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  let context;
  let page;

  before(async () => {
    publish(FIRST);
    browser = await launchBrowser(name);
    context = await browser.newContext();
    page = await context.newPage();
    await page.goto(`${server.url}${BLANK}`);
  });

  after(async () => {
    await context?.close();
    await browser?.close();
  });

  /**
   * Reloads the page, loads the published package there and transcribes the samples: resolves to the
   * text, the stages each file was read in, and the package's files the server was asked for.
   */
  async function reloadAndTranscribe() {
    await page.reload();
    const since = server.requests.length;
    const result = await page.evaluate(
      async ({ url, samples }) => {
        const { load } = await import("/pkg/index.js");
        const stages = {};
        const onProgress = ({ stage, file }) => (stages[file] ??= new Set()).add(stage);
        const asr = await load(url, { build: "simd128", onProgress });
        const { transcript } = await asr.transcribe(Float32Array.from(samples));
        asr.dispose();
        return { text: transcript.text, stages: Object.fromEntries(Object.entries(stages).map(([file, set]) => [file, [...set]])) };
      },
      { url: `${PACKAGE_URL}model.json`, samples: Array.from(samples) },
    );
    const requested = server.requests.slice(since).filter((path) => path.startsWith(PACKAGE_URL));
    return { ...result, requested: requested.map((path) => path.slice(PACKAGE_URL.length)).sort() };
  }

  /** The stages of a load that read every file in `stage`. */
  const everyFileIn = (stage) => ({ "base.gguf": [stage], "sah.gguf": [stage], "sah.lm": [stage] });

  test("a package republished with a same-size base.gguf is downloaded again, then read from the cache", TIMEOUT, async () => {
    assert.deepEqual(await reloadAndTranscribe(), {
      text: expected.first,
      stages: everyFileIn("download"),
      requested: ["base.gguf", "model.json", "sah.gguf", "sah.lm"],
    });
    publish(SECOND);
    assert.deepEqual(await reloadAndTranscribe(), {
      text: expected.second,
      stages: { ...everyFileIn("cache"), "base.gguf": ["download"] },
      requested: ["base.gguf", "model.json"],
    });
    assert.deepEqual(await reloadAndTranscribe(), { text: expected.second, stages: everyFileIn("cache"), requested: ["model.json"] });
  });

  // As a version of the app that did not record the sha256 stored it.
  test("a stored file without the sha256 it was verified against is downloaded again", TIMEOUT, async () => {
    await page.evaluate(async (url) => {
      const cache = await caches.open("sakha-asr-models");
      const stored = await cache.match(url);
      await cache.put(url, new Response(await stored.arrayBuffer()));
    }, new URL(`${PACKAGE_URL}base.gguf`, server.url).href);
    assert.deepEqual(await reloadAndTranscribe(), {
      text: expected.second,
      stages: { ...everyFileIn("cache"), "base.gguf": ["download"] },
      requested: ["base.gguf", "model.json"],
    });
    assert.deepEqual(await reloadAndTranscribe(), { text: expected.second, stages: everyFileIn("cache"), requested: ["model.json"] });
  });

  for (const fault of [Fault.NOT_FOUND, Fault.HANG]) {
    test(`where model.json gets ${fault === Fault.HANG ? "no answer" : "a 404"}, the stored package loads`, TIMEOUT, async () => {
      // The server would give the first package, were it asked.
      publish(FIRST);
      server.faults.set(`${PACKAGE_URL}model.json`, fault);
      try {
        assert.deepEqual(await reloadAndTranscribe(), { text: expected.second, stages: everyFileIn("cache"), requested: ["model.json"] });
      } finally {
        server.faults.clear();
      }
    });
  }
});

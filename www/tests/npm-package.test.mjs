// The npm package as another site uses it: `npm pack` of pkg/, the tarball installed into the example
// project examples/vite/ (Vite pinned by its lock), built by Vite, served from an origin of its own
// and run in Debian's Chromium and firefox-esr. Its page uses the API (load, transcribe, startLive)
// and the <sakha-asr> element (`import "sakha-asr/element"`); both must give the CLI's text, with every
// request to that origin.
// The page's code is type-checked against the package's .d.ts files (TypeScript pinned there too).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BROWSERS, assertCloseToCli, launchBrowser, nativeTranscript } from "./pages.mjs";
import { startServer } from "./server.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PKG = join(ROOT, "pkg");
const EXAMPLE = join(ROOT, "examples", "vite");
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const PACKED = join(WORK, "npm-pack");
const DIST = join(WORK, "vite-dist");
const MODELS = join(WORK, "models");
const DEFAULT_MODEL = join(ROOT, "crate", "models", "default");
const SPEECH = join(WORK, "audio", "sample_48k.wav");

const F32_MODEL = join(MODELS, "two-languages-f32");

let tarball;
let server;
let isolatedServer;

/** npm as the user runs it, quietly; its output is shown only when it fails. */
function npm(args, cwd) {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" });
}

before(async () => {
  rmSync(PACKED, { recursive: true, force: true });
  mkdirSync(PACKED, { recursive: true });
  npm(["pack", "--pack-destination", PACKED], PKG);
  [tarball] = readdirSync(PACKED).map((name) => join(PACKED, name));
  npm(["ci"], EXAMPLE);
  npm(["install", "--no-save", tarball], EXAMPLE);
  execFileSync(join(EXAMPLE, "node_modules", ".bin", "vite"), ["build", "--outDir", DIST, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: EXAMPLE,
    encoding: "utf8",
  });
  const mounts = { "/models/default/": DEFAULT_MODEL, "/test-models/": MODELS, "/audio/": join(WORK, "audio") };
  server = await startServer({ root: DIST, mounts });
  isolatedServer = await startServer({ root: DIST, mounts, isolated: true });
});

after(async () => {
  await server?.close();
  await isolatedServer?.close();
});

/** Waits until the example's page is in `state` (or failed, which fails with its status line). */
async function reached(page, state) {
  await page.waitForFunction((s) => [s, "failed"].includes(document.body.dataset.state), state, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), state, await page.textContent("#status"));
}

/**
 * Runs `fn(page)` in a page of a fresh profile of `browser` (`onRequest` sees its requests), then
 * checks that no page threw.
 */
async function withPage(browser, fn, { onRequest } = {}) {
  const context = await browser.newContext();
  if (onRequest) context.on("request", onRequest);
  const errors = [];
  try {
    const page = await context.newPage();
    page.on("pageerror", (error) => errors.push(error.message));
    await fn(page);
  } finally {
    await context.close();
  }
  assert.deepEqual(errors, [], "no page threw");
}

/**
 * Opens the example on `origin` with the f32 two-language package, gives its file input `file` and
 * resolves to what its status line said once loaded, and the transcript it shows.
 */
async function transcribeWithApi(page, origin, file) {
  await page.goto(`${origin}/?model=/test-models/two-languages-f32/model.json`);
  await reached(page, "ready");
  const status = await page.textContent("#status");
  await page.setInputFiles("#file", file);
  await reached(page, "done");
  return { status, text: await page.textContent("#transcript") };
}

test("the packed tarball holds the API, worker, loader, element, their types and all three wasm builds", () => {
  const [{ files }] = JSON.parse(npm(["pack", "--dry-run", "--json"], PKG));
  const paths = new Set(files.map((file) => file.path));
  const expected = [
    "package.json",
    "index.js",
    "index.d.ts",
    "asr-client.js",
    "worker.js",
    "model-loader.js",
    "protocol.js",
    "audio.js",
    "mic-worklet.js",
    "live-recording.js",
    "wasm-build.js",
    "element.js",
    "element.d.ts",
    "sakha_asr.js",
    "sakha_asr.d.ts",
    "sakha_asr_bg.wasm",
    "relaxed/sakha_asr.js",
    "relaxed/sakha_asr_bg.wasm",
    "threads/sakha_asr.js",
    "threads/sakha_asr_bg.wasm",
  ];
  assert.deepEqual(expected.filter((path) => !paths.has(path)), [], "missing from the tarball");
  assert.ok([...paths].some((path) => path.startsWith("threads/snippets/")), "the threads' worker helper");
  const manifest = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8"));
  assert.equal(manifest.name, "sakha-asr");
  for (const [entry, { types, default: main }] of Object.entries(manifest.exports).filter(([, target]) => typeof target === "object")) {
    assert.ok(paths.has(types.slice(2)) && paths.has(main.slice(2)), `${entry}: ${main} and ${types} are packed`);
  }
});

test("the example's code type-checks against the package's TypeScript types", () => {
  // checkJs with strict: a call the types do not allow fails, with tsc's message.
  try {
    execFileSync(join(EXAMPLE, "node_modules", ".bin", "tsc"), ["-p", EXAMPLE], { encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc: ${e.stdout}${e.stderr}`);
  }
});

for (const name of BROWSERS) describe(`the example built by Vite, in ${name}`, () => {
  let browser;
  before(async () => (browser = await launchBrowser(name, { microphone: SPEECH })));
  after(() => browser?.close());

  test("transcribes a file through the API as the CLI does, asking only its own origin", async () => {
    const requests = [];
    const since = server.requests.length;
    await withPage(browser, async (page) => {
      const { status, text } = await transcribeWithApi(page, server.url, SPEECH);
      // Not isolated: one thread.
      assert.match(status, /, 1 thread\)/);
      // An f32 package: the browser's sums are the CLI's, so the text is the same to the letter.
      assert.equal(text, nativeTranscript(SPEECH, "--model", F32_MODEL).text);
    }, { onRequest: (request) => requests.push(request.url()) });
    const foreign = requests.filter((url) => !url.startsWith(`${server.url}/`) && !/^(blob|data):/.test(url));
    assert.deepEqual(foreign, []);
    // Nothing was fetched from the package's own layout: every script and wasm file came out of Vite.
    const unbundled = server.requests.slice(since).filter((path) => /sakha_asr|\/(worker|element|asr-client)\.js$/.test(path) && !path.startsWith("/assets/"));
    assert.deepEqual(unbundled, []);
  });

  test("on a cross-origin isolated host runs the threaded wasm build, with the CLI's text", async () => {
    await withPage(browser, async (page) => {
      const { status, text } = await transcribeWithApi(page, isolatedServer.url, SPEECH);
      // rayon's helper workers (wasm-bindgen-rayon) start from inside Vite's bundle of the threaded build.
      assert.match(status, /wasm relaxed SIMD \+ threads, \d+ threads?\)/);
      assert.equal(text, nativeTranscript(SPEECH, "--model", F32_MODEL).text);
    });
  });

  test("the element transcribes a file too", async (t) => {
    await withPage(browser, async (page) => {
      await page.goto(`${server.url}/`);
      // Loaded (or failed, which the file's outcome then reports).
      await page.waitForFunction(
        () => {
          const status = document.querySelector("sakha-asr")?.shadowRoot?.querySelector(".status");
          return Boolean(status && (status.textContent.startsWith("Ready") || status.classList.contains("error")));
        },
        null,
        { timeout: 60_000 },
      );
      // The element's own file input, given the file as a person choosing it would.
      const outcome = await page.evaluate(async (url) => {
        const element = document.querySelector("sakha-asr");
        const input = element.shadowRoot.querySelector("input[type=file]");
        const files = new DataTransfer();
        files.items.add(new File([await (await fetch(url)).blob()], "speech.wav", { type: "audio/wav" }));
        input.files = files.files;
        const done = new Promise((resolve) => {
          element.addEventListener("sakha-asr-result", (event) => resolve({ text: event.detail.transcript.text }));
          element.addEventListener("sakha-asr-error", (event) => resolve({ error: event.detail }));
        });
        input.dispatchEvent(new Event("change"));
        return done;
      }, "/audio/sample_48k.wav");
      assert.ok(outcome.text !== undefined, `the element failed: ${JSON.stringify(outcome.error)}`);
      // The built-in (q8_0) package: the same text up to rounding, as in e2e.test.mjs.
      assertCloseToCli(t, `element in ${name}`, outcome.text, nativeTranscript(SPEECH).text);
      if (name === "chromium") {
        // One worker for the API's model, one for the element's, both run from Vite's output.
        const workers = page.workers().map((worker) => new URL(worker.url()).pathname);
        assert.ok(workers.length >= 2 && workers.every((path) => path.startsWith("/assets/")), `workers: ${workers}`);
      }
    });
  });


  test("records from the microphone with startLive: live partial transcripts, then the whole recording's", async () => {
    await withPage(browser, async (page) => {
      // The built-in package.
      await page.goto(`${server.url}/`);
      await reached(page, "ready");
      await page.click("#record");
      // A partial transcript with words (the first ones may still be empty).
      await page.waitForFunction(
        () => document.body.dataset.state === "failed" || (document.body.dataset.state === "live" && document.getElementById("transcript").textContent.trim()),
        null,
        { timeout: 60_000 },
      );
      assert.equal(await page.evaluate(() => document.body.dataset.state), "live", await page.textContent("#status"));
      await page.click("#record");
      await reached(page, "done");
      assert.notEqual((await page.textContent("#transcript")).trim(), "", "the recording's transcript");
    });
  });
});

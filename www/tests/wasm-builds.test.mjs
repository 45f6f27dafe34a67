// Which wasm build the app page runs (js/wasm-build.js), in Debian's Chromium and firefox-esr, which
// both validate relaxed SIMD: where the page is not cross-origin isolated, relaxed SIMD on one thread
// if the engine computes its dot product as vpdpbusd (Chromium on CPUs with AVX-VNNI, and here),
// else the plain SIMD build (the one Node runs; Firefox here); the threaded build where it is
// isolated; any build when asked. Each gives the CLI's text for the sample, and the page says which
// build and how many threads it runs. Run by scripts/test-web.sh.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BROWSERS, launchBrowser, nativeTranscript, transcribeFile, waitForModel } from "./pages.mjs";
import { Fault, startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
// The built-in sample, 16 kHz mono: no resampling, so every build and the CLI see the same samples.
const SPEECH = fileURLToPath(new URL("../samples/sakha-sample.wav", import.meta.url));

let expected;
const pageErrors = [];

before(async () => {
  assert.ok(process.env.SAKHA_ASR_CLI, "SAKHA_ASR_CLI must name the native CLI (scripts/test-web.sh sets it)");
  expected = nativeTranscript(SPEECH).text;
  assert.ok(expected.length > 0, "the CLI recognised something");
});

/** A fresh profile of `browser` (no service worker, empty caches) with the app page open at `query`. */
async function openApp(browser, server, query = "") {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${server.url}/${query}`);
  return { context, page };
}

/** The script each of the threaded build's workers fetches to start from (wasm-bindgen-rayon's). */
function threadHelperScript() {
  const [snippet] = readdirSync(new URL("../pkg/threads/snippets/", import.meta.url)).filter((name) => name.startsWith("wasm-bindgen-rayon-"));
  return `/pkg/threads/snippets/${snippet}/src/workerHelpers.no-bundler.js`;
}

/** The page's line for the threaded build on `threads` threads. */
const threaded = (threads) => `Running on wasm relaxed SIMD + threads, ${threads} thread${threads > 1 ? "s" : ""}.`;

/** What the page says it runs on, and whether it is cross-origin isolated. */
async function runningOn(page) {
  return { isolated: await page.evaluate(() => crossOriginIsolated), build: await page.textContent("#wasm-build") };
}

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  before(async () => (browser = await launchBrowser(name)));
  after(() => browser?.close());

  describe("a host that does not send COOP/COEP", () => {
    let server;
    before(async () => (server = await startServer({ root: WWW, hidden: ["/tests/"] })));
    after(() => server.close());

    test("runs the relaxed-SIMD build on one thread where its dot product is exact, else the SIMD128 build, to the CLI's text", async () => {
      const { context, page } = await openApp(browser, server);
      try {
        await waitForModel(page);
        const { available, exactDot } = await page.evaluate(async () => (await import("/pkg/wasm-build.js")).relaxedSimd());
        assert.ok(available, `Debian's ${name} has relaxed SIMD`);
        const build = exactDot ? "Running on wasm relaxed SIMD, 1 thread." : "Running on wasm SIMD, 1 thread.";
        assert.deepEqual(await runningOn(page), { isolated: false, build });
        assert.equal(await transcribeFile(page, SPEECH), expected);
      } finally {
        await context.close();
      }
    });

    // Each asked for, whichever way the relaxed build's kernel multiplies on this CPU.
    for (const [query, build] of [
      ["?wasm=relaxed", "Running on wasm relaxed SIMD, 1 thread."],
      ["?wasm=simd128", "Running on wasm SIMD, 1 thread."],
    ]) {
      test(`${query} runs that build to the same text`, async () => {
        const { context, page } = await openApp(browser, server, query);
        try {
          await waitForModel(page);
          assert.equal((await runningOn(page)).build, build);
          assert.equal(await transcribeFile(page, SPEECH), expected);
        } finally {
          await context.close();
        }
      });
    }

    test("?wasm=threads is refused, naming the headers it needs", async () => {
      const { context, page } = await openApp(browser, server, "?wasm=threads");
      try {
        await page.waitForSelector("#error:not([hidden])", { timeout: 60_000 });
        assert.match(await page.textContent("#error-message"), /threads build cannot run here: .*Cross-Origin-Embedder-Policy: require-corp/);
      } finally {
        await context.close();
      }
    });

    test("the service worker makes the next visit isolated, and it runs threads", async () => {
      const { context, page } = await openApp(browser, server);
      try {
        await waitForModel(page);
        await page.evaluate(() => navigator.serviceWorker.ready);
        await page.reload();
        await waitForModel(page);
        assert.ok(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), "the service worker controls the page");
        const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency, 8));
        assert.deepEqual(await runningOn(page), { isolated: true, build: threaded(cores) });
      } finally {
        await context.close();
      }
    });
  });

  describe("a cross-origin isolated host", () => {
    let server;
    before(async () => (server = await startServer({ root: WWW, hidden: ["/tests/"], isolated: true })));
    after(() => server.close());

    test("runs the threaded build on the cores, to the CLI's text; offline it reloads isolated", async () => {
      const { context, page } = await openApp(browser, server);
      try {
        await waitForModel(page);
        const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency, 8));
        assert.deepEqual(await runningOn(page), { isolated: true, build: threaded(cores) });
        assert.equal(await transcribeFile(page, SPEECH), expected);

        // From the service worker's cache, with the headers it adds: still isolated, still threaded.
        await page.evaluate(() => navigator.serviceWorker.ready);
        await context.setOffline(true);
        await page.reload();
        await waitForModel(page);
        assert.deepEqual(await runningOn(page), { isolated: true, build: threaded(cores) });
        assert.equal(await transcribeFile(page, SPEECH), expected);
      } finally {
        await context.close();
      }
    });

    // Firefox now and then never returns from starting them (asr-client.js); here they never start.
    test("where the threads never start, it tries once more, then runs on one thread, to the same text", async () => {
      const helper = threadHelperScript();
      server.faults.set(helper, Fault.EMPTY_FETCH);
      const { context, page } = await openApp(browser, server);
      try {
        const started = Date.now();
        await waitForModel(page);
        assert.ok(Date.now() - started >= 20_000, "two attempts of 10 s each before giving up on threads");
        const { exactDot } = await page.evaluate(async () => (await import("/pkg/wasm-build.js")).relaxedSimd());
        const build = exactDot ? "Running on wasm relaxed SIMD, 1 thread." : "Running on wasm SIMD, 1 thread.";
        assert.deepEqual(await runningOn(page), { isolated: true, build });
        assert.equal(await transcribeFile(page, SPEECH), expected);
      } finally {
        server.faults.delete(helper);
        await context.close();
      }
    });

    test("?wasm=threads, where the threads never start, fails saying so after two attempts", async () => {
      const helper = threadHelperScript();
      server.faults.set(helper, Fault.EMPTY_FETCH);
      const started = Date.now();
      const { context, page } = await openApp(browser, server, "?wasm=threads");
      try {
        await page.waitForSelector("#error:not([hidden])", { timeout: 60_000 });
        assert.ok(Date.now() - started >= 20_000, "two attempts of 10 s each");
        assert.match(await page.textContent("#error-message"), /threaded build's \d+ threads did not start within 10 s/);
      } finally {
        server.faults.delete(helper);
        await context.close();
      }
    });

    for (const threads of [1, 2]) {
      test(`?threads=${threads} runs the threaded build on ${threads} thread${threads > 1 ? "s" : ""}, to the same text`, async () => {
        const { context, page } = await openApp(browser, server, `?threads=${threads}`);
        try {
          await waitForModel(page);
          assert.equal((await runningOn(page)).build, threaded(threads));
          assert.equal(await transcribeFile(page, SPEECH), expected);
        } finally {
          await context.close();
        }
      });
    }
  });
});

test("no page threw", () => {
  assert.deepEqual(pageErrors, []);
});

// The <sakha-asr> element's lifecycle in Chromium and Firefox: removed from its page it lets go of
// the microphone, its timer, its worker and the worker's object URL, whatever it was doing (loading,
// opening the microphone, recording, transcribing), fifty times over without the page's memory
// growing; a double click records once; a load that another load overtook ends quietly.

import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { rendererRssMb } from "../../scripts/renderer-memory.mjs";
import { BROWSERS, launchBrowser, recordWidgetEvents, startWidgetHost } from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const SPEECH = join(WORK, "audio", "sample_48k.wav");

let server;
let host;

before(async () => {
  server = await startServer({ root: WWW, hidden: ["/tests/"] });
  host = await startWidgetHost(server, join(WORK, "lifecycle-host"));
});

after(async () => {
  await host?.close();
  await server?.close();
});

/** Notes every microphone track, worker and object URL the page makes, and what became of them. */
function watchResources(page) {
  return page.addInitScript(() => {
    const seen = (window.resources = { tracks: [], workers: [], objectUrls: new Set(), revoked: new Set() });
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      seen.tracks.push(...stream.getTracks());
      return stream;
    };
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(...args) {
        super(...args);
        this.terminated = false;
        seen.workers.push(this);
      }
      terminate() {
        this.terminated = true;
        super.terminate();
      }
    };
    const createObjectURL = URL.createObjectURL;
    URL.createObjectURL = (object) => {
      const url = createObjectURL(object);
      seen.objectUrls.add(url);
      return url;
    };
    const revokeObjectURL = URL.revokeObjectURL;
    URL.revokeObjectURL = (url) => {
      seen.revoked.add(url);
      revokeObjectURL(url);
    };
  });
}

/** Every microphone track, worker and object URL the page made: which are still live, running, unrevoked. */
const leftOver = (page) =>
  page.evaluate(() => {
    const { tracks, workers, objectUrls, revoked } = window.resources;
    return {
      tracks: tracks.length,
      liveTracks: tracks.filter((t) => t.readyState === "live").length,
      workers: workers.length,
      runningWorkers: workers.filter((w) => !w.terminated).length,
      unrevoked: [...objectUrls].filter((url) => !revoked.has(url)).length,
    };
  });

/** The host page, watched (events, resources), once its widget is ready. */
async function hostPageWithReadyWidget(browser) {
  const page = await browser.newPage();
  try {
    await recordWidgetEvents(page);
    await watchResources(page);
    await page.goto(`${host.url}/`);
    await page.waitForFunction(() => window.sakhaAsrEvents.some((e) => e.type === "sakha-asr-ready"), null, { timeout: 60_000 });
    return page;
  } catch (e) {
    await page.close();
    throw e;
  }
}

const events = (page, type) => page.evaluate((t) => window.sakhaAsrEvents.filter((e) => e.type === t), type);

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  before(async () => (browser = await launchBrowser(name, { microphone: SPEECH })));
  after(() => browser?.close());

  test("a removed widget stops its microphone, timer and worker and revokes its object URL", async () => {
    const page = await hostPageWithReadyWidget(browser);
    try {
      await page.click("sakha-asr .record");
      await page.waitForFunction(() => window.resources.tracks.some((t) => t.readyState === "live"));
      await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".status").textContent.startsWith("Recording"));

      const status = await page.evaluate(() => {
        const widget = document.querySelector("sakha-asr");
        window.removedWidget = widget;
        widget.remove();
        return widget.shadowRoot.querySelector(".status").textContent;
      });
      await page.waitForTimeout(1000);
      const after = await page.evaluate(() => {
        const { tracks, workers, objectUrls, revoked } = window.resources;
        return {
          tracks: tracks.map((t) => t.readyState),
          workers: workers.map((w) => w.terminated),
          unrevoked: [...objectUrls].filter((url) => !revoked.has(url)),
          objectUrls: objectUrls.size,
          status: window.removedWidget.shadowRoot.querySelector(".status").textContent,
        };
      });
      assert.ok(after.tracks.length > 0 && after.tracks.every((state) => state === "ended"), `microphone tracks: ${after.tracks}`);
      assert.ok(after.workers.length > 0 && after.workers.every(Boolean), `workers terminated: ${after.workers}`);
      assert.ok(after.objectUrls > 0, "the cross-origin widget started its worker from an object URL");
      assert.deepEqual(after.unrevoked, []);
      assert.equal(after.status, status, "the recording timer stopped with the element");
      assert.deepEqual(await events(page, "sakha-asr-error"), [], "removal is not an error");
    } finally {
      await page.close();
    }
  });

  test("a load overtaken by another ends without an error event, and only the last one is ready", async () => {
    const page = await browser.newPage();
    try {
      await recordWidgetEvents(page);
      await page.goto(`${host.url}/`);
      // Two more loads while the first is under way: the model attribute changes twice.
      await page.evaluate((model) => {
        const widget = document.querySelector("sakha-asr");
        widget.setAttribute("model", `${model}?first`);
        widget.setAttribute("model", `${model}?second`);
      }, `${server.url}/models/default/model.json`);
      await page.waitForFunction(() => window.sakhaAsrEvents.some((e) => e.type === "sakha-asr-ready"), null, { timeout: 60_000 });
      await page.waitForTimeout(500);
      assert.deepEqual(await events(page, "sakha-asr-error"), []);
      assert.equal((await events(page, "sakha-asr-ready")).length, 1);
      const status = await page.evaluate(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".status").textContent);
      assert.match(status, /^Ready/);
    } finally {
      await page.close();
    }
  });

  test("a double click records once, and an element removed while its microphone opens lets go of it", async () => {
    const page = await hostPageWithReadyWidget(browser);
    try {
      // Two clicks before the microphone opens, as a double click gives them.
      await page.evaluate(() => {
        const record = document.querySelector("sakha-asr").shadowRoot.querySelector(".record");
        record.click();
        record.click();
      });
      await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".status").textContent.startsWith("Recording"));
      await page.waitForTimeout(500);
      assert.equal((await leftOver(page)).tracks, 1, "one recording for a double click");
      await page.click("sakha-asr .record");
      await page.waitForFunction(() => window.sakhaAsrEvents.some((e) => e.type === "sakha-asr-result"), null, { timeout: 60_000 });
      assert.equal((await leftOver(page)).liveTracks, 0, "stopped");

      await page.evaluate(() => {
        const widget = document.querySelector("sakha-asr");
        widget.shadowRoot.querySelector(".record").click();
        widget.remove();
      });
      await page.waitForTimeout(1000);
      const after = await leftOver(page);
      assert.equal(after.tracks, 2, "the second click opened the microphone");
      assert.deepEqual({ ...after, tracks: 0, workers: 0 }, { tracks: 0, liveTracks: 0, workers: 0, runningWorkers: 0, unrevoked: 0 });
      assert.deepEqual(await events(page, "sakha-asr-error"), [], "removal is not an error");
    } finally {
      await page.close();
    }
  });

  test("from the keyboard, record and stop keep the focus on the record button throughout", async () => {
    const page = await hostPageWithReadyWidget(browser);
    const focusedIsRecord = () =>
      page.evaluate(() => {
        const widget = document.querySelector("sakha-asr");
        return widget.shadowRoot.activeElement === widget.shadowRoot.querySelector(".record");
      });
    try {
      await page.evaluate(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".record").focus());
      await page.keyboard.press("Enter");
      assert.ok(await focusedIsRecord(), "focus kept while the microphone opens");
      await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".record").getAttribute("aria-pressed") === "true");
      assert.ok(await focusedIsRecord(), "focus kept once recording");
      // A moment of audio: a recording stopped before any arrives is an audio error, not a result.
      await page.waitForTimeout(1000);
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => window.sakhaAsrEvents.some((e) => e.type === "sakha-asr-result"), null, { timeout: 60_000 });
      assert.ok(await focusedIsRecord(), "focus kept through the transcription");
      assert.equal((await leftOver(page)).liveTracks, 0);
    } finally {
      await page.close();
    }
  });

  // Memory is read from Chromium's renderer processes (/proc); the same steps run in Firefox.
  test("fifty widgets removed at any moment leave nothing running, and the page's memory returns", { timeout: 600_000 }, async () => {
    const page = await hostPageWithReadyWidget(browser);
    try {
      await page.evaluate(() => document.querySelector("sakha-asr").remove());
      const moments = ["loading", "ready", "opening the microphone", "recording", "transcribing a file"];
      const memory = [];
      for (let round = 0; round < 50; round++) {
        const moment = moments[round % moments.length];
        const readyEvents = (await events(page, "sakha-asr-ready")).length;
        await page.evaluate(() => document.body.append(document.createElement("sakha-asr")));
        if (moment !== "loading") {
          await page.waitForFunction((n) => window.sakhaAsrEvents.filter((e) => e.type === "sakha-asr-ready").length > n, readyEvents, { timeout: 60_000 });
        }
        if (moment === "opening the microphone" || moment === "recording") {
          await page.evaluate(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".record").click());
        }
        if (moment === "recording") {
          await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".status").textContent.startsWith("Recording"));
          await page.waitForTimeout(300);
        }
        if (moment === "transcribing a file") {
          await page.setInputFiles("sakha-asr input[type=file]", SPEECH);
          await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".status").textContent.startsWith("Transcribing"));
        }
        await page.evaluate(() => document.querySelector("sakha-asr").remove());
        if (round === 9 || round === 49) {
          await page.waitForTimeout(1500);
          memory.push(rendererRssMb());
        }
      }
      await page.waitForTimeout(1000);
      const after = await leftOver(page);
      assert.equal(after.workers, 51, "a worker for every widget");
      assert.deepEqual({ ...after, tracks: 0, workers: 0 }, { tracks: 0, liveTracks: 0, workers: 0, runningWorkers: 0, unrevoked: 0 });
      assert.deepEqual(await events(page, "sakha-asr-error"), [], "removal is not an error");
      if (name === "chromium") {
        const [tenth, last] = memory;
        console.log(`renderer memory after widget 10: ${tenth.toFixed(0)} MB, after widget 50: ${last.toFixed(0)} MB`);
        assert.ok(last <= tenth * 1.1, `the page grew from ${tenth.toFixed(0)} MB to ${last.toFixed(0)} MB`);
      }
    } finally {
      await page.close();
    }
  });
});

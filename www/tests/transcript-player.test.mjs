// The transcript player (js/transcript-player.js) in Chromium and Firefox, from the keyboard alone: a
// file chosen, transcribed, played; the third word, chosen with the arrow keys or clicked, plays from
// its start; a word corrected in place shows up in the SRT download, every cue's times as they were;
// a recording plays back from the samples the recognizer heard. And axe-core finds no accessibility
// violation on the app page or on widget-example.html (whose widget has the `player` attribute), in
// each interface language and each state: loading, ready, transcribing, recording, error, playing.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { LANGUAGES } from "../../js/i18n.js";
import { BROWSERS, launchBrowser, waitForModel } from "./pages.mjs";
import { startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const SPEECH = join(WORK, "audio", "sample_48k.wav");
const NOT_AUDIO = join(WORK, "player", "not-audio.wav");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
/** How far from a word's start a seek to it may land. */
const SEEK_TOLERANCE = 0.05;

let server;

before(async () => {
  mkdirSync(join(WORK, "player"), { recursive: true });
  writeFileSync(NOT_AUDIO, "not a sound");
  server = await startServer({ root: WWW, hidden: ["/tests/"] });
});

after(() => server?.close());

/**
 * Holds the worker messages of the types in `window.holding` until `window.release()`: the page
 * stays loading or transcribing for as long as a check of that state takes. Run before the page's
 * scripts; a model load is held from the start.
 */
function holdWorkerMessages() {
  const post = Worker.prototype.postMessage;
  const held = [];
  window.holding = new Set(["load"]);
  Worker.prototype.postMessage = function (message, transfer) {
    if (!window.holding.has(message?.type)) return post.call(this, message, transfer);
    held.push(() => post.call(this, message, transfer));
  };
  window.release = () => {
    window.holding.clear();
    for (const send of held.splice(0)) send();
  };
}

/**
 * Offered downloads are kept in `window.downloads` ({name, body}) instead of saved: the file the page
 * makes, read the same way in both browsers (e2e.test.mjs saves real ones in Chromium).
 */
function keepDownloads() {
  window.downloads = [];
  HTMLAnchorElement.prototype.click = function () {
    const { download: name, href } = this;
    window.downloads.push(fetch(href).then(async (response) => ({ name, body: await response.text() })));
  };
}

/**
 * Presses Tab (Shift+Tab where `back`) until the focused element matches `selector`, seen from its
 * own root; fails after 40.
 */
async function tabTo(page, selector, { back = false } = {}) {
  const matches = (selector) => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
    return Boolean(element?.matches(selector));
  };
  for (let presses = 0; presses < 40; presses++) {
    if (await page.evaluate(matches, selector)) return;
    if (back) await page.keyboard.down("Shift");
    await page.keyboard.press("Tab");
    if (back) await page.keyboard.up("Shift");
  }
  assert.fail(`Tab never reached ${selector}`);
}

/** The focused element's class and text. */
function focused(page) {
  return page.evaluate(() => ({ className: document.activeElement.className, text: document.activeElement.textContent }));
}

/** The app page's shown words: their text and start (from their title, "0.42–0.80 s" in English). */
function words(page) {
  return page.$$eval("#transcript .word", (spans) => spans.map((span) => ({ text: span.textContent, start: parseFloat(span.title) })));
}

function waitForFinal(page) {
  return page.waitForFunction(
    () => document.getElementById("transcript").dataset.state === "final" || !document.getElementById("error").hidden,
    null,
    { timeout: 60_000 },
  );
}

/** Where the app page's player audio was each time it seeked, from now on. */
function watchSeeks(page) {
  return page.evaluate(() => {
    const audio = document.querySelector(".player audio");
    window.seeks = [];
    audio.addEventListener("seeked", () => window.seeks.push(audio.currentTime));
  });
}

async function nextSeek(page) {
  await page.waitForFunction(() => window.seeks.length > 0, null, { timeout: 10_000 });
  return page.evaluate(() => window.seeks.splice(0)[0]);
}

/** An SRT's cues as {times, words}. */
function cues(srt) {
  return srt.trimEnd().split("\n\n").map((block) => {
    const [, times, text] = block.split("\n");
    return { times, words: text.split(" ") };
  });
}

/** axe-core's violations on the page as it is now, each as "rule: the elements". */
async function axeViolations(page) {
  await page.evaluate((source) => {
    if (!window.axe) (0, eval)(source);
  }, AXE);
  return page.evaluate(async () => {
    const { violations } = await window.axe.run(document, { resultTypes: ["violations"] });
    return violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
  });
}

for (const name of BROWSERS) describe(`the transcript player in ${name}`, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser(name, { microphone: SPEECH });
  });

  after(() => browser?.close());

  async function newPage(...initScripts) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    for (const script of initScripts) await page.addInitScript(script);
    return { context, page, errors };
  }

  test("from the keyboard: a file is transcribed and played, its third word plays from its start, a correction reaches the SRT", async () => {
    const { context, page, errors } = await newPage(keepDownloads);
    try {
      await page.goto(`${server.url}/`);
      await waitForModel(page);
      // The file input is reached with Tab; the file dialog it opens is the system's, so the file is set.
      await tabTo(page, "#file-input");
      await page.setInputFiles("#file-input", SPEECH);
      await waitForFinal(page);
      assert.ok(await page.isHidden("#error"), "transcribed");
      const shown = await words(page);
      assert.ok(shown.length >= 3, `three words at least: ${shown.map((word) => word.text).join(" ")}`);

      await tabTo(page, ".player .play");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector(".player audio").currentTime > 0.2, null, { timeout: 10_000 });
      await page.keyboard.press("Enter");
      assert.ok(await page.evaluate(() => document.querySelector(".player audio").paused), "Enter pauses");

      // The words are one tab stop; the arrows move between them.
      await watchSeeks(page);
      await tabTo(page, "#transcript .word");
      await page.keyboard.press("ArrowRight");
      await page.keyboard.press("ArrowRight");
      assert.equal((await focused(page)).text, shown[2].text);
      await page.keyboard.press("Enter");
      const seek = await nextSeek(page);
      assert.ok(Math.abs(seek - shown[2].start) <= SEEK_TOLERANCE, `Enter seeked to ${seek} s, the third word starts at ${shown[2].start} s`);
      await page.waitForFunction(() => document.querySelector("#transcript .word.current"), null, { timeout: 10_000 });

      await page.evaluate(() => document.querySelector(".player audio").pause());
      // One word per space-free selector: FirefoxPage reads a space as a step into a shadow root.
      await page.click(".word:nth-of-type(3)");
      const clicked = await nextSeek(page);
      assert.ok(Math.abs(clicked - shown[2].start) <= SEEK_TOLERANCE, `a click seeked to ${clicked} s, the third word starts at ${shown[2].start} s`);
      await page.evaluate(() => document.querySelector(".player audio").pause());

      await tabTo(page, "#download-srt");
      await page.keyboard.press("Enter");
      // The correction: as long as the word, so the cues break where they did.
      const correction = shown[2].text.toUpperCase() === shown[2].text ? shown[2].text.toLowerCase() : shown[2].text.toUpperCase();
      await tabTo(page, "#transcript .word", { back: true });
      assert.equal((await focused(page)).text, shown[2].text, "the words' tab stop is the word last played");
      await page.keyboard.press("F2");
      assert.equal((await focused(page)).className, "word-edit");
      await page.keyboard.type(correction);
      await page.keyboard.press("Enter");
      assert.equal((await focused(page)).text, correction, "the corrected word has the focus back");
      assert.deepEqual((await words(page))[2], { text: correction, start: shown[2].start }, "the word keeps its times");

      await tabTo(page, "#download-srt");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => window.downloads.length === 2);
      const [before, edited] = await page.evaluate(() => Promise.all(window.downloads));
      assert.equal(edited.name, before.name);
      const expected = cues(before.body);
      const all = expected.flatMap((cue) => cue.words);
      assert.deepEqual(all, shown.map((word) => word.text), "the SRT had the page's words");
      let index = 0;
      for (const cue of expected) cue.words = cue.words.map((word) => (index++ === 2 ? correction : word));
      assert.deepEqual(cues(edited.body), expected, "the SRT has the correction, every cue at its times");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("a recording plays back from the samples the recognizer heard", async () => {
    const { context, page, errors } = await newPage();
    try {
      await page.goto(`${server.url}/`);
      await waitForModel(page);
      await tabTo(page, "#record-button");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => parseFloat(document.getElementById("record-time").textContent) >= 3, null, { timeout: 30_000 });
      await page.keyboard.press("Enter");
      await waitForFinal(page);
      assert.ok(await page.isHidden("#error"), "recorded");
      const audio = await page.evaluate(async () => {
        const element = document.querySelector(".player audio");
        if (!(element.duration > 0)) await new Promise((loaded) => element.addEventListener("loadedmetadata", loaded, { once: true }));
        return { src: element.src, duration: element.duration };
      });
      assert.match(audio.src, /^blob:/);
      assert.ok(audio.duration >= 3, `the recording's audio lasts ${audio.duration} s`);
      await tabTo(page, ".player .play");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector(".player audio").currentTime > 0.5, null, { timeout: 10_000 });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("axe-core finds nothing on the app page, in any language or state", async () => {
    const { context, page, errors } = await newPage(holdWorkerMessages);
    const found = [];
    const check = async (state) => {
      for (const lang of Object.keys(LANGUAGES)) {
        await page.selectOption("#interface-language", lang);
        for (const violation of await axeViolations(page)) found.push(`${state}, ${lang}: ${violation}`);
      }
    };
    try {
      await page.goto(`${server.url}/`);
      assert.equal(await page.evaluate(() => document.body.dataset.model), "loading");
      await check("loading");
      await page.evaluate(() => window.release());
      await waitForModel(page);
      await check("ready");

      await page.evaluate(() => (window.holding = new Set(["pushStream", "finishStream", "transcribe"])));
      await page.setInputFiles("#file-input", SPEECH);
      await page.waitForFunction(() => document.body.dataset.transcribing === "true");
      await check("transcribing");
      await page.evaluate(() => window.release());
      await waitForFinal(page);

      await page.click(".play");
      await page.waitForFunction(() => !document.querySelector(".player audio").paused);
      await check("playing");
      await page.evaluate(() => document.querySelector(".player audio").pause());

      await page.click("#record-button");
      await page.waitForFunction(() => document.getElementById("record-button").getAttribute("aria-pressed") === "true");
      await check("recording");
      await page.click("#record-button");
      await waitForFinal(page);

      await page.setInputFiles("#file-input", NOT_AUDIO);
      await page.waitForSelector("#error:not([hidden])");
      await check("error");
      assert.deepEqual(found, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("axe-core finds nothing on widget-example.html, its widget playing too, in any language or state", async () => {
    const { context, page, errors } = await newPage(holdWorkerMessages);
    const found = [];
    const check = async (state) => {
      for (const lang of Object.keys(LANGUAGES)) {
        await page.evaluate((value) => document.querySelector("sakha-asr").setAttribute("lang", value), lang);
        for (const violation of await axeViolations(page)) found.push(`${state}, ${lang}: ${violation}`);
      }
    };
    // The record button: disabled without a model, aria-disabled while the widget works.
    const ready = () =>
      page.waitForFunction(
        () => {
          const record = document.querySelector("sakha-asr").shadowRoot.querySelector(".record");
          return !record.disabled && record.getAttribute("aria-disabled") !== "true";
        },
        null,
        { timeout: 60_000 },
      );
    try {
      await page.addInitScript(() => {
        window.results = 0;
        document.addEventListener("sakha-asr-result", () => window.results++);
      });
      await page.goto(`${server.url}/widget-example.html`);
      await check("loading");
      await page.evaluate(() => window.release());
      await ready();
      await check("ready");

      await page.evaluate(() => (window.holding = new Set(["pushStream", "finishStream", "transcribe"])));
      await page.setInputFiles("sakha-asr input[type=file]", SPEECH);
      await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".record").getAttribute("aria-disabled") === "true");
      await check("transcribing");
      await page.evaluate(() => window.release());
      await page.waitForFunction(() => window.results === 1, null, { timeout: 60_000 });

      await page.click("sakha-asr .play");
      await page.waitForFunction(() => !document.querySelector("sakha-asr").shadowRoot.querySelector(".player audio").paused);
      await check("playing");
      await page.evaluate(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".player audio").pause());

      await page.click("sakha-asr .record");
      await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".record").getAttribute("aria-pressed") === "true");
      await check("recording");
      await page.click("sakha-asr .record");
      await page.waitForFunction(() => window.results === 2, null, { timeout: 60_000 });

      await page.setInputFiles("sakha-asr input[type=file]", NOT_AUDIO);
      await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".status.error"), null, { timeout: 60_000 });
      await check("error");
      assert.deepEqual(found, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

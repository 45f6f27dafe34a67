// What the browser tests share: Chromium as the project runs it, the app page's and the widget's
// states, and the native CLI's transcripts (SAKHA_ASR_CLI, set by scripts/test-web.sh) as the
// reference.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

/** Debian's headless Chromium; `args` are added to the flags every test run uses. */
export function launchChromium(args = []) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", ...args],
  });
}

/** Chromium with a fake microphone that plays `audioFile`, allowed without a prompt. */
export function launchChromiumWithMicrophone(audioFile) {
  return launchChromium([
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    `--use-file-for-fake-audio-capture=${audioFile}`,
  ]);
}

export function nativeTranscript(file, ...options) {
  const output = execFileSync(process.env.SAKHA_ASR_CLI, ["transcribe", "--format", "json", ...options, file], { encoding: "utf8" });
  return JSON.parse(output).transcript;
}

/** Waits until the app page has loaded its model; fails with the page's error if it could not. */
export async function waitForModel(page) {
  await page.waitForFunction(() => ["ready", "failed"].includes(document.body.dataset.model), null, { timeout: 60_000 });
  const state = await page.evaluate(() => document.body.dataset.model);
  if (state !== "ready") assert.fail(`the model did not load: ${await page.textContent("#error")}`);
}

/** Gives the app page `file` and resolves to the transcript it shows. */
export async function transcribeFile(page, file) {
  await page.evaluate(() => (document.getElementById("transcript").dataset.state = "pending"));
  await page.setInputFiles("#file-input", file);
  await page.waitForFunction(
    () => document.getElementById("transcript").dataset.state === "final" || !document.getElementById("error").hidden,
    null,
    { timeout: 60_000 },
  );
  if (await page.isVisible("#error")) assert.fail(`transcribing ${file} failed: ${await page.textContent("#error")}`);
  return (await page.textContent("#transcript")).trim();
}

/** Waits for the app page's error box and resolves to what it says. */
export async function waitForError(page) {
  await page.waitForSelector("#error:not([hidden])", { timeout: 60_000 });
  return {
    kind: await page.getAttribute("#error", "data-kind"),
    title: await page.textContent("#error-title"),
    message: await page.textContent("#error-message"),
  };
}

/** Whether the model file at `path` (relative to the page) is in the page's Cache API. */
export function isCached(page, path) {
  return page.evaluate(
    async (url) => Boolean(await (await caches.open("sakha-asr-models")).match(url)),
    new URL(path, page.url()).href,
  );
}

/** At most 5 % of the CLI's characters differ: rounding moves a letter, a broken pipeline garbles.
 * `t`, where given, gets the share as a diagnostic. */
export function assertCloseToCli(t, label, actual, expected) {
  assert.ok(expected.length > 0, "the CLI recognised something");
  const rate = editDistance(actual, expected) / expected.length;
  t?.diagnostic(`${label}: ${(rate * 100).toFixed(1)}% of characters differ from the CLI's`);
  assert.ok(rate <= 0.05, `${label}: ${(rate * 100).toFixed(1)}% of characters differ\n  web: ${actual}\n  cli: ${expected}`);
}

export function editDistance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Collects the widget's events from page load on, in `window.sakhaAsrEvents`. */
export function recordWidgetEvents(page) {
  return page.addInitScript(() => {
    window.sakhaAsrEvents = [];
    for (const name of ["ready", "partial", "result", "error"]) {
      document.addEventListener(`sakha-asr-${name}`, (event) => window.sakhaAsrEvents.push({ type: event.type, detail: event.detail }));
    }
  });
}

/**
 * Waits for the widget to be ready, gives it `file`, and resolves to all its events once that file is
 * done (a result or an error after those seen before).
 */
export async function widgetResult(page, file) {
  const count = (types) => page.evaluate((t) => window.sakhaAsrEvents.filter((e) => t.includes(e.type)).length, types);
  const more = (types, than) =>
    page.waitForFunction(([t, n]) => window.sakhaAsrEvents.filter((e) => t.includes(e.type)).length > n, [types, than], {
      timeout: 60_000,
    });
  await more(["sakha-asr-ready", "sakha-asr-error"], 0);
  const done = ["sakha-asr-result", "sakha-asr-error"];
  const before = await count(done);
  await page.setInputFiles("sakha-asr input[type=file]", file);
  await more(done, before);
  return page.evaluate(() => window.sakhaAsrEvents);
}

// What the browser tests share: Chromium as the project runs it, the app page's states, and the
// native CLI's transcripts (SAKHA_ASR_CLI, set by scripts/test-web.sh) as the reference.

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

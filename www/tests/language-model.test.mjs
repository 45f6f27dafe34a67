// The word language model in the browser (issue 16), in Chromium and Firefox: a package that lists
// one (language_models in model.json) has it downloaded, verified and stored like its other files, and
// the page decodes with it as the CLI does with the same package; the page's switch and the widget's
// `language-model="off"` give the CLI's greedy text without reloading the model. The packages here get
// the tiny LM fixture (crate/tests/fixtures/lm, a dozen Sakha words) from the CLI's add-lm, so the LM
// changes the text a lot; the built-in package's own LM is covered by e2e.test.mjs. Run by
// scripts/test-web.sh, which builds the wasm package and prepares WEB_TEST_DIR (audio/, models/) and
// SAKHA_ASR_CLI (the native CLI).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  BROWSERS,
  assertCloseToCli,
  isCached,
  launchBrowser,
  nativeTranscript,
  recordWidgetEvents,
  transcribeFile,
  waitForError,
  waitForModel,
  widgetResult,
} from "./pages.mjs";
import { Fault, startServer } from "./server.mjs";

const WWW = fileURLToPath(new URL("..", import.meta.url));
const CLI = process.env.SAKHA_ASR_CLI;
const WORK = resolve(process.env.WEB_TEST_DIR ?? "out/web-test");
const AUDIO = join(WORK, "audio");
const TINY_LM = fileURLToPath(new URL("../../crate/tests/fixtures/lm/tiny.lm", import.meta.url));
const SPEECH = join(AUDIO, "sample_48k.wav");
const FILES = ["sample_8k.wav", "sample_44k1_stereo.ogg", "sample_48k.wav"].map((file) => join(AUDIO, file));
// The built-in package, and the two-language test package (f32), with the tiny LM for each language.
const ONE_LANGUAGE = { dir: join(WORK, "models/default-lm"), url: "/test-models/default-lm" };
const TWO_LANGUAGES = { dir: join(WORK, "models/two-languages-lm"), url: "/test-models/two-languages-lm" };
const PAGES = join(WORK, "lm-pages");

let server;
const pageErrors = [];

before(async () => {
  assert.ok(CLI, "SAKHA_ASR_CLI must name the native CLI (scripts/test-web.sh sets it)");
  for (const [from, { dir }] of [[join(WWW, "models/default"), ONE_LANGUAGE], [join(WORK, "models/two-languages-f32"), TWO_LANGUAGES]]) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(from, dir, { recursive: true });
    for (const language of Object.keys(manifestOf(dir).languages)) {
      execFileSync(CLI, ["add-lm", "--model", dir, "--lang", language, TINY_LM], { stdio: ["ignore", "ignore", "inherit"] });
    }
  }
  // The widget with the LM package, as a host page would embed it.
  mkdirSync(PAGES, { recursive: true });
  writeFileSync(
    join(PAGES, "widget-lm.html"),
    `<!doctype html><meta charset="utf-8"><title>Widget with a language model</title>
     <script type="module" src="/widget.js"></script>
     <sakha-asr model="${ONE_LANGUAGE.url}/model.json"></sakha-asr>`,
  );
  server = await startServer({
    root: WWW,
    mounts: { "/test-models/": join(WORK, "models"), "/test-pages/": PAGES },
    hidden: ["/tests/"],
  });
});

after(async () => {
  await server?.close();
});

async function freshPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return { context, page };
}

function manifestOf(dir) {
  return JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
}

const withLm = (file, ...options) => nativeTranscript(file, "--model", ONE_LANGUAGE.dir, ...options).text;
const greedy = (file, ...options) => withLm(file, "--greedy", ...options);

test("the CLI's text with the LM differs from its greedy text (else nothing below could tell them apart)", () => {
  for (const file of FILES) assert.notEqual(withLm(file), greedy(file), file);
});

for (const name of BROWSERS) describe(`in ${name}`, () => {
  let browser;
  before(async () => (browser = await launchBrowser(name)));
  after(() => browser?.close());

  test("the page downloads, verifies and stores the language model and decodes with it; the switch gives greedy text without reloading", async (t) => {
    const { context, page } = await freshPage(browser);
    try {
      const since = server.requests.length;
      await page.goto(`${server.url}/?model=${ONE_LANGUAGE.url}/model.json`);
      await waitForModel(page);
      assert.ok(server.requests.slice(since).includes(`${ONE_LANGUAGE.url}/sah.lm`), "the language model was downloaded");
      assert.ok(await isCached(page, `${ONE_LANGUAGE.url}/sah.lm`), "the language model is in the Cache API");
      assert.ok(await page.isChecked("#lm-switch"), "the switch is on");
      assert.ok(await page.isEnabled("#lm-switch"), "the switch can be turned off");
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR ?? "out/screenshots", `app-language-model-${name}.png`), fullPage: true });
      for (const file of FILES) assertCloseToCli(t, `lm ${file}`, await transcribeFile(page, file), withLm(file));

      const loaded = server.requests.length;
      await page.click("#lm-switch");
      assert.equal(await page.isChecked("#lm-switch"), false);
      assert.match(await page.textContent("#lm-hint"), /letter by letter/);
      for (const file of FILES) assertCloseToCli(t, `greedy ${file}`, await transcribeFile(page, file), greedy(file));
      await page.click("#lm-switch");
      assertCloseToCli(t, "lm again", await transcribeFile(page, SPEECH), withLm(SPEECH));
      assert.deepEqual(server.requests.slice(loaded), [], "switching decoding loads nothing");
    } finally {
      await context.close();
    }
  });

  test("a corrupt language model is downloaded once more, then reported, and never stored", async () => {
    const { context, page } = await freshPage(browser);
    const path = `${ONE_LANGUAGE.url}/sah.lm`;
    server.faults.set(path, Fault.CORRUPT);
    try {
      const since = server.requests.length;
      await page.goto(`${server.url}/?model=${ONE_LANGUAGE.url}/model.json`);
      const error = await waitForError(page);
      assert.equal(error.kind, "corrupt");
      assert.match(error.message, /^sah\.lm is corrupt: it does not match the size and sha256 in model\.json/);
      assert.equal(server.requests.slice(since).filter((p) => p === path).length, 2);
      assert.equal(await isCached(page, path), false);
      assert.equal(await isCached(page, `${ONE_LANGUAGE.url}/model.json`), false);

      server.faults.clear();
      await page.click("#error-retry");
      await waitForModel(page);
      assert.ok(await isCached(page, path));
      assert.ok(await page.isChecked("#lm-switch"));
    } finally {
      server.faults.clear();
      await context.close();
    }
  });

  test("switching language loads that language's language model and decodes with it as the CLI does", async () => {
    const { context, page } = await freshPage(browser);
    const { dir, url } = TWO_LANGUAGES;
    const manifest = manifestOf(dir);
    try {
      const since = server.requests.length;
      await page.goto(`${server.url}/?model=${url}/model.json`);
      await waitForModel(page);
      const first = manifest.default_language;
      const other = Object.keys(manifest.languages).find((language) => language !== first);
      const requested = server.requests.slice(since);
      assert.ok(requested.includes(`${url}/${first}.lm`) && !requested.includes(`${url}/${other}.lm`), `${requested}`);
      assert.ok(await page.isChecked("#lm-switch"));
      assert.equal(await transcribeFile(page, SPEECH), nativeTranscript(SPEECH, "--model", dir, "--lang", first).text);

      const switched = server.requests.length;
      await page.selectOption("#language-select", other);
      await page.waitForFunction(
        (language) => document.body.dataset.model === "ready" && document.getElementById("model-status").textContent.includes(language),
        other,
      );
      assert.deepEqual(server.requests.slice(switched), [`${url}/${manifest.languages[other].file}`, `${url}/${other}.lm`]);
      assert.ok(await page.isChecked("#lm-switch"));
      assert.equal(await transcribeFile(page, SPEECH), nativeTranscript(SPEECH, "--model", dir, "--lang", other).text);
      await page.click("#lm-switch");
      assert.equal(await transcribeFile(page, SPEECH), nativeTranscript(SPEECH, "--model", dir, "--lang", other, "--greedy").text);
    } finally {
      await context.close();
    }
  });

  test("for a package without a language model the switch is off and disabled, and says why", async () => {
    const { context, page } = await freshPage(browser);
    try {
      await page.goto(`${server.url}/?model=/test-models/two-languages-f32/model.json`);
      await waitForModel(page);
      assert.equal(await page.isChecked("#lm-switch"), false);
      assert.ok(await page.isDisabled("#lm-switch"));
      const language = manifestOf(join(WORK, "models/two-languages-f32")).default_language;
      assert.equal(await page.textContent("#lm-hint"), `This model has no language model for ${language}: words are spelled letter by letter.`);
    } finally {
      await context.close();
    }
  });

  test('the widget decodes with the language model, and greedily once language-model="off" is set', async (t) => {
    const { context, page } = await freshPage(browser);
    try {
      await recordWidgetEvents(page);
      await page.goto(`${server.url}/test-pages/widget-lm.html`);
      /** The widget's text for SPEECH: its last event must be a result. */
      const text = async () => {
        const events = await widgetResult(page, SPEECH);
        const last = events.findLast((e) => ["sakha-asr-result", "sakha-asr-error"].includes(e.type));
        assert.equal(last.type, "sakha-asr-result", JSON.stringify(last.detail));
        return last.detail.transcript.text;
      };
      assertCloseToCli(t, "widget lm", await text(), withLm(SPEECH));
      const ready = await page.evaluate(() => window.sakhaAsrEvents.filter((e) => e.type === "sakha-asr-ready"));
      assert.equal(ready.length, 1);
      assert.equal(ready[0].detail.languageModel, true);

      const loaded = server.requests.length;
      await page.evaluate(() => document.querySelector("sakha-asr").setAttribute("language-model", "off"));
      assertCloseToCli(t, "widget greedy", await text(), greedy(SPEECH));
      assert.deepEqual(server.requests.slice(loaded), [], "the attribute reloads nothing");
      assert.equal(await page.evaluate(() => window.sakhaAsrEvents.filter((e) => e.type === "sakha-asr-ready").length), 1);
    } finally {
      await context.close();
    }
  });
});

test("no page threw", () => {
  assert.deepEqual(pageErrors, []);
});

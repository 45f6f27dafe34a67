// The interface in Sakha, Russian and English (js/i18n.js): every catalogue has every key, with the
// placeholders and plural forms its language needs, and no key is left unused; every Sakha word of
// the catalogue is one of the sakhaspell corpus's (the counts the word LM is built from) or listed,
// with a reason, in js/i18n-sah-allowed.json; and in Chromium and Firefox the app page and the
// widget, in a browser whose first language is Sakha, show no English but names, follow a switch to
// Russian, remember it, and report a missing model in it.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { LANGUAGES, translate } from "../../js/i18n.js";
import { BROWSERS, launchBrowser, waitForError, waitForModel } from "./pages.mjs";
import { startServer } from "./server.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WWW = join(ROOT, "www");
const CATALOGUES = Object.fromEntries(
  await Promise.all(Object.keys(LANGUAGES).map(async (lang) => [lang, (await import(`../../js/i18n-${lang}.js`)).default])),
);
const SAKHA_ALLOWED = JSON.parse(readFileSync(join(ROOT, "js/i18n-sah-allowed.json"), "utf8"));

/** A catalogue entry's texts: one, or one per plural form. */
const textsOf = (entry) => (typeof entry === "string" ? [entry] : Object.values(entry));
const placeholders = (text) => [...text.matchAll(/\{(\w+)(?::\w+)?\}/g)].map((m) => m[1]).sort();

describe("catalogues", () => {
  test("every language has every key, the same placeholders, and the plural forms it needs", () => {
    const keys = Object.keys(CATALOGUES.en).sort();
    for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
      assert.deepEqual(Object.keys(catalogue).sort(), keys, `${lang}: keys`);
      const categories = new Intl.PluralRules(lang === "en" ? "en-GB" : lang).resolvedOptions().pluralCategories.sort();
      for (const key of keys) {
        const entry = catalogue[key];
        const english = CATALOGUES.en[key];
        assert.equal(typeof entry, typeof english, `${lang} ${key}: a plural entry in one language is one in all`);
        if (typeof entry === "object") {
          assert.deepEqual(Object.keys(entry).sort(), categories, `${lang} ${key}: plural forms`);
          assert.ok(placeholders(textsOf(english)[0]).includes("count"), `${key}: a plural entry takes its number as {count}`);
        }
        const expected = [...new Set(textsOf(english).flatMap(placeholders))].sort();
        for (const text of textsOf(entry)) {
          assert.deepEqual([...new Set(placeholders(text))].sort(), expected, `${lang} ${key}: placeholders of "${text}"`);
        }
      }
    }
  });

  test("every key is used, and every key the code uses is in the catalogues", () => {
    const sources = [
      ...readdirSync(join(ROOT, "js"))
        .filter((name) => name.endsWith(".js") && !/^i18n-/.test(name))
        .map((name) => join(ROOT, "js", name)),
      ...readdirSync(WWW)
        .filter((name) => /\.(js|html)$/.test(name))
        .map((name) => join(WWW, name)),
    ].map((file) => readFileSync(file, "utf8"));
    const literals = new Set(sources.flatMap((text) => [...text.matchAll(/"([a-z]+\.[a-zA-Z0-9]+)"/g)].map((m) => m[1])));
    const keys = Object.keys(CATALOGUES.en);
    assert.deepEqual(keys.filter((key) => !literals.has(key)), [], "keys no source names");
    // Literals that look like keys of a catalogue's groups, less file names.
    const groups = new Set(keys.map((key) => key.split(".")[0]));
    const unknown = [...literals].filter((literal) => groups.has(literal.split(".")[0]) && !keys.includes(literal) && !/\.(json|js)$/.test(literal));
    assert.deepEqual(unknown, [], "keys the sources name that no catalogue has");
  });

  test("every Sakha word is one of the sakhaspell corpus's, or allowed with a reason", () => {
    // scripts/test-web.sh downloads the counts beforehand: no network here.
    const folder = execFileSync("python3", [join(ROOT, "scripts/sakhaspell_data.py"), "--offline"], { encoding: "utf8" }).trim();
    const rows = gunzipSync(readFileSync(join(folder, "lm/unigrams.tsv.gz"))).toString("utf8").split("\n");
    const corpus = new Set(rows.slice(1).map((row) => row.split("\t")[0]));
    assert.ok(corpus.size > 100_000, `${corpus.size} words in the sakhaspell counts`);
    // A word: letters and digits, joined by "-" or "." inside (sakha-asr, model.json, sha256).
    const words = new Map(); // word → the keys it is in
    for (const [key, entry] of Object.entries(CATALOGUES.sah)) {
      for (const text of textsOf(entry)) {
        for (const [word] of text.replace(/\{[^}]*\}/g, " ").toLowerCase().matchAll(/[\p{L}\p{N}]+(?:[-.][\p{L}\p{N}]+)*/gu)) {
          if (/^\p{N}+$/u.test(word)) continue;
          words.set(word, [...(words.get(word) ?? []), key]);
        }
      }
    }
    const unknown = [...words].filter(([word]) => !corpus.has(word) && !Object.hasOwn(SAKHA_ALLOWED, word));
    assert.deepEqual(unknown.map(([word, keys]) => `${word} (${keys.join(", ")})`), [], "Sakha words not in the sakhaspell counts");
    const stale = Object.keys(SAKHA_ALLOWED).filter((word) => !words.has(word) || corpus.has(word));
    assert.deepEqual(stale, [], "allowed words that no text uses, or that the corpus has");
    for (const [word, reason] of Object.entries(SAKHA_ALLOWED)) assert.ok(reason.trim(), `${word}: a reason`);
  });
});

/**
 * The Latin words of 3 or more letters that `text` shows and are not names: paths, URLs and file
 * names left out.
 */
const NAMES = new Set(["sakha", "asr", "webassembly", "simd", "relaxed", "english", "http", "sah"]);
function englishWords(text) {
  const shown = text.replace(/\S*\/\S*/g, " ").replace(/[\w-]*\.[A-Za-z0-9]+/g, " ");
  return [...new Set(shown.match(/[A-Za-z]{3,}/g) ?? [])].filter((word) => !NAMES.has(word.toLowerCase()));
}

for (const name of BROWSERS) {
  describe(`${name}: the interface in Sakha and Russian`, () => {
    let server;
    let browser;

    before(async () => {
      server = await startServer({ root: WWW, hidden: ["/tests/"] });
      // The browser's first language is Sakha: as a profile's locale in Chromium, as Firefox's pref.
      browser = await launchBrowser(name, { firefoxPrefs: { "intl.accept_languages": "sah, en" } });
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    const shownText = (page) => page.evaluate(() => document.body.innerText);
    const interfaceLanguage = (page) => page.evaluate(() => [document.documentElement.lang, document.getElementById("interface-language").value]);

    test("the page follows the browser's language, switches, remembers it and reports errors in it", async () => {
      const context = await browser.newContext({ locale: "sah" });
      try {
        const page = await context.newPage();
        await page.goto(`${server.url}/`);
        await waitForModel(page);
        assert.deepEqual(await interfaceLanguage(page), ["sah", "sah"]);
        const sakha = await shownText(page);
        assert.deepEqual(englishWords(sakha), [], sakha);
        assert.ok(sakha.includes(translate("sah", "audio.drop")), sakha);
        assert.match(await page.textContent("#model-status"), /^Бэлэм: /);

        await page.selectOption("#interface-language", "ru");
        assert.deepEqual(await interfaceLanguage(page), ["ru", "ru"]);
        const russian = await shownText(page);
        assert.deepEqual(englishWords(russian), [], russian);
        assert.match(await page.textContent("#model-status"), /^Готово: /);
        assert.equal(await page.evaluate(() => document.title), translate("ru", "page.title"));

        // Remembered over the browser's own language.
        await page.reload();
        await waitForModel(page);
        assert.deepEqual(await interfaceLanguage(page), ["ru", "ru"]);
        assert.deepEqual(englishWords(await shownText(page)), []);

        await page.goto(`${server.url}/?model=/nope/model.json`);
        const error = await waitForError(page);
        assert.equal(error.kind, "not-found");
        assert.equal(error.title, translate("ru", "title.notFound"));
        const url = `${server.url}/nope/model.json`;
        assert.equal(error.message, translate("ru", "error.notFound", { file: "model.json", url }));
        const failed = await shownText(page);
        assert.deepEqual(englishWords(failed), [], failed);
      } finally {
        await context.close();
      }
    });

    test("the widget takes its lang attribute, else the page's", async () => {
      const context = await browser.newContext({ locale: "sah" });
      try {
        const page = await context.newPage();
        await page.goto(`${server.url}/widget-example.html`);
        const status = () => page.evaluate(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".status").textContent);
        const shown = () => page.evaluate(() => document.querySelector("sakha-asr").shadowRoot.querySelector(".card").innerText);
        // The example page is in English: so is its widget, until it is given a language.
        await page.waitForFunction(() => document.querySelector("sakha-asr").shadowRoot?.querySelector(".status").textContent.startsWith("Ready"), null, {
          timeout: 60_000,
        });
        await page.evaluate(() => document.querySelector("sakha-asr").setAttribute("lang", "sah"));
        assert.equal(await status(), translate("sah", "widget.ready", { language: "sah" }));
        assert.deepEqual(englishWords(await shown()), [], await shown());

        await page.evaluate(() => {
          document.querySelector("sakha-asr").removeAttribute("lang");
          document.documentElement.lang = "ru";
        });
        await page.waitForFunction((text) => document.querySelector("sakha-asr").shadowRoot.querySelector(".status").textContent === text, translate("ru", "widget.ready", { language: "sah" }));
        assert.deepEqual(englishWords(await shown()), [], await shown());
      } finally {
        await context.close();
      }
    });
  });
}

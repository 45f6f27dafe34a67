// What the browser tests share: the browsers as the project runs them (Chromium through
// playwright-core, Firefox through puppeteer-core over WebDriver BiDi, WebKitGTK over plain W3C
// WebDriver, behind the part of Playwright's page API the shared tests use), the app page's and the
// widget's states, and the native CLI's transcripts (SAKHA_ASR_CLI, set by scripts/test-web.sh) as
// the reference.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import puppeteer from "puppeteer-core";
import { startServer } from "./server.mjs";

const builtInManifest = JSON.parse(readFileSync(fileURLToPath(new URL("../models/default/model.json", import.meta.url)), "utf8"));
/**
 * The built-in package's (www/models/default) file entries a first visit downloads: base, Sakha
 * adapters and, where the package has one, Sakha's word language model; and their bytes.
 */
export const BUILT_IN_ENTRIES = [builtInManifest.base, builtInManifest.languages.sah, builtInManifest.language_models?.sah].filter(Boolean);
export const BUILT_IN_BYTES = BUILT_IN_ENTRIES.reduce((sum, entry) => sum + entry.bytes, 0);

/** The nine test files scripts/test-web.sh makes in its audio folder: three rates, WAV, MP3 and OGG. */
export const TEST_AUDIO_FILES = ["8k", "44k1_stereo", "48k"].flatMap((rate) => ["wav", "mp3", "ogg"].map((format) => `sample_${rate}.${format}`));

/** The browsers the shared page tests run in, as `launchBrowser` names them. */
export const BROWSERS = ["chromium", "firefox"];

/**
 * Debian's headless `name` ("chromium" or "firefox") with a microphone allowed without a prompt that
 * plays `microphone` (an audio file) over and over, where given. `firefoxPrefs` are added to
 * Firefox's. "webkit" is WebKitGTK (WebKitBrowser below), which runs its own tests
 * (webkit.test.mjs), not the shared ones: its microphone is WebKit's mock device whatever is given.
 */
export function launchBrowser(name, { microphone, firefoxPrefs = {} } = {}) {
  if (name === "chromium") return microphone ? launchChromiumWithMicrophone(microphone) : launchChromium();
  if (name === "firefox") return FirefoxBrowser.launch(microphone, firefoxPrefs);
  if (name === "webkit") return new WebKitBrowser();
  throw new Error(`no browser named ${name}: one of ${BROWSERS.join(", ")} or webkit`);
}

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

/**
 * The transcript of a live stream given exactly `pushes` (arrays of samples, as a page sent them with
 * pushStream) and then `last` (sent with finishStream), run here in Node on the npm package's wasm
 * (the SIMD128 build) with the built-in package and its word LM, as the page's worker runs them. A
 * live stream's windows depend on how its audio was pushed, so this, not offline recognition, is what
 * the page's live text must equal; how far live text is from offline's, crate/tests/streaming.rs
 * measures.
 */
export async function replayLiveStream(pushes, last) {
  const pkg = new URL("../../pkg/", import.meta.url);
  const asr = await import(new URL("sakha_asr.js", pkg).href);
  asr.initSync({ module: readFileSync(new URL("sakha_asr_bg.wasm", pkg)) });
  const model = new URL("../../crate/models/default/", import.meta.url);
  const manifestText = readFileSync(new URL("model.json", model), "utf8");
  const manifest = JSON.parse(manifestText);
  const language = manifest.default_language;
  const recognizer = new asr.Recognizer(manifestText, readFileSync(new URL(manifest.base.file, model)), readFileSync(new URL(manifest.languages[language].file, model)));
  const lm = asr.PackageFile.languageModel(manifestText, language);
  lm.push(readFileSync(new URL(manifest.language_models[language].file, model)));
  lm.finish();
  recognizer.setLanguageModel(lm);
  const stream = recognizer.startStream(true);
  try {
    const segments = pushes.flatMap((samples) => stream.push(Float32Array.from(samples)).final);
    segments.push(...stream.finish(Float32Array.from(last)));
    return segments.flatMap((segment) => segment.words.map((word) => word.text)).join(" ");
  } finally {
    stream.free();
    recognizer.free();
  }
}

/**
 * Opens `url` in a fresh profile of `browser` (after `initScript`, where given, runs in the page),
 * runs `fn(arg)` there and resolves to what it returns; the profile is closed either way.
 */
export async function evaluateInFreshPage(browser, url, fn, arg, { initScript } = {}) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    if (initScript) await page.addInitScript(initScript);
    await page.goto(url);
    return await page.evaluate(fn, arg);
  } finally {
    await context.close();
  }
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

/** At most `maxRate` (5 %) of the CLI's characters differ: rounding moves a letter, a broken pipeline
 * garbles. `t`, where given, gets the share as a diagnostic. */
export function assertCloseToCli(t, label, actual, expected, maxRate = 0.05) {
  assert.ok(expected.length > 0, "the CLI recognised something");
  const rate = editDistance(actual, expected) / expected.length;
  t?.diagnostic(`${label}: ${(rate * 100).toFixed(1)}% of characters differ from the CLI's`);
  assert.ok(rate <= maxRate, `${label}: ${(rate * 100).toFixed(1)}% of characters differ\n  web: ${actual}\n  cli: ${expected}`);
}

/**
 * From now on, in `page` (after it loaded): the microphone tracks it opens (`window.microphoneTracks`,
 * to see that stopping ends them) and a copy of the audio it streams to its worker
 * (`window.streamed`, {type, samples} of each pushStream and finishStream, to run the same stream again).
 */
export function watchRecording(page) {
  return page.evaluate(() => {
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    window.microphoneTracks = [];
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      window.microphoneTracks.push(...stream.getTracks());
      return stream;
    };
    window.streamed = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, transfer) {
      // Copied before the samples are moved to the worker.
      if (["pushStream", "finishStream"].includes(message?.type)) window.streamed.push({ type: message.type, samples: Array.from(message.samples) });
      return post.call(this, message, transfer);
    };
  });
}

/**
 * Seconds the app page's recording counter (samples captured / the AudioContext's rate) advances per
 * second of the page's clock, between 1 s and 4 s recorded: 1 when the AudioWorklet gets every sample
 * at the rate the context claims.
 */
export function recordingPace(page) {
  return page.evaluate(async () => {
    const recorded = () => parseFloat(document.getElementById("record-time").textContent) || 0;
    const reach = async (seconds) => {
      while (recorded() < seconds) await new Promise((tick) => setTimeout(tick, 20));
      return { at: performance.now() / 1000, recorded: recorded() };
    };
    const start = await reach(1);
    const end = await reach(4);
    return (end.recorded - start.recorded) / (end.at - start.at);
  });
}

/** How far a live recording's final text may be from offline recognition of the same samples: its
 * windows are short (crate/src/streaming.rs), and over the demo model's held-out sentences the two
 * differ by about 1 % of characters (crate/tests/streaming.rs), more on a single short sentence
 * (about 3 % on the repeated speech sample). */
export const LIVE_AGAINST_OFFLINE = 0.1;

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

/**
 * A host page on another origin (a server of its own, serving `dir`) that embeds the widget from
 * `server`, so the widget's worker starts from a same-origin blob URL (asr-client.js). With
 * `recordEvents` the page itself collects the widget's events, as recordWidgetEvents would, for a
 * browser whose driver has no init scripts (WebKit's).
 */
export async function startWidgetHost(server, dir, { recordEvents = false } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "index.html"),
    `<!doctype html><meta charset="utf-8"><title>Host</title>
     ${recordEvents ? `<script>(${collectWidgetEvents})()</script>` : ""}
     <script type="module" src="${server.url}/widget.js"></script>
     <sakha-asr></sakha-asr>`,
  );
  return startServer({ root: dir });
}

/** Collects the widget's events from page load on, in `window.sakhaAsrEvents`. */
export function recordWidgetEvents(page) {
  return page.addInitScript(collectWidgetEvents);
}

/** Run in a page before the widget's script. */
function collectWidgetEvents() {
  window.sakhaAsrEvents = [];
  for (const name of ["ready", "partial", "result", "error"]) {
    document.addEventListener(`sakha-asr-${name}`, (event) => window.sakhaAsrEvents.push({ type: event.type, detail: event.detail }));
  }
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

/**
 * Debian's firefox-esr, headless, driven by puppeteer-core over WebDriver BiDi, with the part of
 * Playwright's Browser / BrowserContext / Page API that the shared tests use, so one test body runs
 * in both browsers.
 */
class FirefoxBrowser {
  #browser;
  #sound;

  static async launch(microphone, prefs) {
    const sound = await startSoundServer(microphone);
    try {
      const browser = await puppeteer.launch({
        browser: "firefox",
        executablePath: "/usr/bin/firefox-esr",
        headless: true,
        env: { ...process.env, PULSE_SERVER: sound.address },
        extraPrefsFirefox: { "media.navigator.permission.disabled": true, ...prefs },
      });
      return new FirefoxBrowser(browser, sound);
    } catch (e) {
      sound.stop();
      throw e;
    }
  }

  constructor(browser, sound) {
    this.#browser = browser;
    this.#sound = sound;
  }

  /**
   * A fresh profile (puppeteer's browser context: its own Cache API and service workers). Of the
   * options only the viewport: blocking service workers is a pref of the browser's.
   */
  async newContext({ viewport } = {}) {
    return new FirefoxContext(await this.#browser.createBrowserContext(), viewport);
  }

  /** A page in a fresh profile of its own, which goes when the page is closed. */
  async newPage() {
    const context = await this.#browser.createBrowserContext();
    return new FirefoxPage(await context.newPage(), context);
  }

  async close() {
    try {
      await this.#browser.close();
    } finally {
      this.#sound.stop();
    }
  }
}

class FirefoxContext {
  #context;
  #viewport;
  #pages = [];
  #requestListeners = [];

  constructor(context, viewport) {
    this.#context = context;
    this.#viewport = viewport;
  }

  async newPage() {
    const page = await this.#context.newPage();
    if (this.#viewport) await page.setViewport(this.#viewport);
    page.on("request", (request) => this.#requestListeners.forEach((listener) => listener(request)));
    this.#pages.push(page);
    return new FirefoxPage(page);
  }

  /** Only "request" (the pages' requests; puppeteer's, like Playwright's, have a url()). */
  on(event, listener) {
    if (event !== "request") throw new Error(`FirefoxContext has no ${event} event`);
    this.#requestListeners.push(listener);
  }

  async setOffline(offline) {
    for (const page of this.#pages) await page.setOfflineMode(offline);
  }

  close() {
    return this.#context.close();
  }
}

const ERRORED_STREAM = /^Failed to read data from the ReadableStream: /;

/** A selector as Playwright reads it, seeing into open shadow roots (puppeteer's `>>>`). */
const deep = (selector) => selector.split(" ").join(" >>> ");

class FirefoxPage {
  #page;
  #ownContext;

  constructor(page, ownContext = null) {
    this.#page = page;
    this.#ownContext = ownContext;
  }

  close() {
    return (this.#ownContext ?? this.#page).close();
  }

  on(event, listener) {
    // Firefox also logs, as an error, the reason a page errored a body stream that the browser was
    // reading: the loader breaks off a Cache API write so (model-loader.js), and handles the rejected
    // put. Nothing threw; puppeteer would report it as a page error.
    const thrown = event === "pageerror" ? (error) => ERRORED_STREAM.test(error.message) || listener(error) : listener;
    this.#page.on(event, thrown);
  }

  addInitScript(fn) {
    return this.#page.evaluateOnNewDocument(fn);
  }

  goto(url) {
    return this.#page.goto(url);
  }

  reload() {
    return this.#page.reload();
  }

  url() {
    return this.#page.url();
  }

  evaluate(fn, arg) {
    return this.#page.evaluate(fn, arg);
  }

  /** press(key) and type(text), with Playwright's key names, which are puppeteer's too. */
  get keyboard() {
    return this.#page.keyboard;
  }

  waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    return this.#page.waitForFunction(fn, { timeout, polling: 100 }, arg);
  }

  waitForSelector(selector, { timeout = 30_000 } = {}) {
    return this.#page.waitForSelector(selector, { timeout });
  }

  textContent(selector) {
    return this.#page.$eval(selector, (element) => element.textContent);
  }

  $$(selector) {
    return this.#page.$$(selector);
  }

  $$eval(selector, fn) {
    return this.#page.$$eval(selector, fn);
  }

  async selectOption(selector, value) {
    await this.#page.select(selector, value);
  }

  inputValue(selector) {
    return this.#page.$eval(selector, (element) => element.value);
  }

  getAttribute(selector, name) {
    return this.#page.$eval(selector, (element, attribute) => element.getAttribute(attribute), name);
  }

  async isVisible(selector) {
    const element = await this.#page.$(selector);
    return Boolean(element && (await element.isVisible()));
  }

  async isHidden(selector) {
    return !(await this.isVisible(selector));
  }

  isChecked(selector) {
    return this.#page.$eval(selector, (element) => element.checked);
  }

  isDisabled(selector) {
    return this.#page.$eval(selector, (element) => element.disabled);
  }

  async isEnabled(selector) {
    return !(await this.isDisabled(selector));
  }

  // The widget's buttons and file input are in its shadow root.
  click(selector) {
    return this.#page.click(deep(selector));
  }

  async setInputFiles(selector, file) {
    await (await this.#page.$(deep(selector))).uploadFile(file);
  }

  waitForTimeout(ms) {
    return sleep(ms);
  }

  screenshot(options) {
    return this.#page.screenshot(options);
  }
}

/**
 * A PulseAudio server of its own, for Firefox: Firefox on Linux has no audio output without one, and
 * then an AudioContext never leaves "suspended" (so nothing is recorded). Its one device is a null
 * sink, "room"; the default microphone is the room's monitor, into which `microphone` (a file), where
 * given, plays on a loop. (Firefox's fake device, media.navigator.streams.fake, only plays a 1 kHz
 * tone; this way Firefox records speech through its real capture path.) Resolves to {address} for
 * PULSE_SERVER and stop().
 */
async function startSoundServer(microphone) {
  const dir = mkdtempSync(join(tmpdir(), "sakha-asr-pulse-"));
  const socket = join(dir, "native");
  let stderr = "";
  let exited = null;
  const daemon = spawn(
    "pulseaudio",
    ["-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disallow-exit", "--load=module-null-sink sink_name=room",
      `--load=module-native-protocol-unix auth-anonymous=1 socket=${socket}`],
    { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir }, stdio: ["ignore", "ignore", "pipe"] },
  );
  daemon.stderr.on("data", (data) => (stderr += data));
  daemon.on("error", (error) => (exited = error.message));
  daemon.on("exit", (code, signal) => (exited ??= `exit status ${code ?? signal}`));
  let player = null;
  let stopped = false;
  const stop = () => {
    stopped = true;
    player?.kill();
    daemon.kill();
    rmSync(dir, { recursive: true, force: true });
    process.off("exit", stop);
  };
  // Not left running when a test process ends without closing its browser.
  process.on("exit", stop);
  for (let waited = 0; !existsSync(socket); waited += 50) {
    if (exited || waited > 10_000) {
      stop();
      throw new Error(`PulseAudio did not start (${exited ?? "no socket after 10 s"}; scripts/test-web.sh installs it): ${stderr}`);
    }
    await sleep(50);
  }
  const address = `unix:${socket}`;
  const client = { ...process.env, PULSE_SERVER: address };
  try {
    execFileSync("pactl", ["set-default-source", "room.monitor"], { env: client, stdio: "pipe" });
  } catch (e) {
    stop();
    throw new Error(`PulseAudio did not take the room as the default microphone: ${e.stderr ?? e.message}`);
  }
  const play = () => {
    player = spawn("paplay", ["--device=room", microphone], { env: client, stdio: "ignore" });
    player.on("exit", (code) => code === 0 && !stopped && play());
  };
  if (microphone) play();
  return { address, stop };
}

/**
 * Debian's WebKitGTK, the engine of Safari: webkit2gtk-driver's WebKitWebDriver starts its
 * MiniBrowser, driven over plain W3C WebDriver (HTTP; WebKitGTK has no BiDi), with the part of
 * Playwright's Browser / BrowserContext / Page API that webkit.test.mjs uses. WebDriver classic has
 * no init scripts, no network events, no console log and no offline switch, so neither has this.
 * The driver holds one session at a time, so each context (a fresh profile: an automation session's
 * storage lives only as long as the session) is a driver of its own, in a virtual display of its own
 * (MiniBrowser is a GTK window; `xvfb-run`). Its microphone is WebKit's mock capture device (its own
 * tone, not a file), allowed without a prompt in an automation session.
 */
class WebKitBrowser {
  #contexts = new Set();

  async newContext({ viewport } = {}) {
    const context = await WebKitContext.start(viewport, () => this.#contexts.delete(context));
    this.#contexts.add(context);
    return context;
  }

  async close() {
    for (const context of this.#contexts) await context.close();
  }
}

const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

class WebKitContext {
  #driver;
  #session;
  #onClose;
  #page = null;

  static async start(viewport, onClose) {
    const driver = await startWebKitDriver();
    try {
      const { sessionId } = await webDriverCommand(driver.url, "POST", "/session", {
        capabilities: {
          alwaysMatch: {
            browserName: "MiniBrowser",
            "webkitgtk:browserOptions": {
              binary: MINIBROWSER,
              args: ["--automation", "--enable-media-stream=true", "--enable-mock-capture-devices=true"],
            },
          },
        },
      });
      const context = new WebKitContext(driver, `${driver.url}/session/${sessionId}`, onClose);
      // Scripts may wait for a transcription; WebDriver's default gives them 30 s.
      await context.command("POST", "/timeouts", { script: 300_000 });
      if (viewport) await context.command("POST", "/window/rect", viewport);
      return context;
    } catch (e) {
      driver.stop();
      throw e;
    }
  }

  constructor(driver, session, onClose) {
    this.#driver = driver;
    this.#session = session;
    this.#onClose = onClose;
  }

  command(method, path, body) {
    return webDriverCommand(this.#session, method, path, body);
  }

  /** The session's one window: a context has one page. */
  newPage() {
    if (this.#page) throw new Error("a WebKit context has one page");
    return (this.#page = new WebKitPage(this));
  }

  async close() {
    if (!this.#driver) return;
    try {
      await this.command("DELETE", "");
    } finally {
      this.#driver.stop();
      this.#driver = null;
      this.#onClose();
    }
  }
}

/** The key of an element reference in WebDriver's JSON. */
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/**
 * In the page: the element `selector` names, seeing into open shadow roots at each space as
 * Playwright's selectors do (and FirefoxPage's `deep`), or null.
 */
const FIND_ELEMENT = `(selector) => selector.split(" ").reduce((scope, part) => scope && (scope.shadowRoot ?? scope).querySelector(part), document)`;

class WebKitPage {
  #context;
  #url = "about:blank";

  constructor(context) {
    this.#context = context;
  }

  /** The whole session: its one page is all of its context. */
  close() {
    return this.#context.close();
  }

  async goto(url) {
    await this.#context.command("POST", "/url", { url });
    this.#url = await this.#context.command("GET", "/url");
  }

  async reload() {
    await this.#context.command("POST", "/refresh", {});
    this.#url = await this.#context.command("GET", "/url");
  }

  /** The URL the last goto or reload ended at (synchronous, as Playwright's). */
  url() {
    return this.#url;
  }

  /** `fn(arg)` in the page, awaited there; `fn` a function or its source. Resolves to its JSON value. */
  async evaluate(fn, arg) {
    const { value, error } = await this.#context.command("POST", "/execute/async", {
      script: `const done = arguments[arguments.length - 1];
        Promise.resolve(arguments.length > 1 ? arguments[0] : undefined).then(${fn})
          .then((value) => done({ value }), (error) => done({ error: String(error) }));`,
      args: arg === undefined ? [] : [arg],
    });
    if (error !== undefined) throw new Error(`evaluate in WebKit: ${error}`);
    return value;
  }

  /** Polls `fn(arg)` until it is truthy; the driver cannot wait in the page across navigations. */
  async waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    const deadline = Date.now() + timeout;
    while (!(await this.evaluate(`async (arg) => Boolean(await (${fn})(arg))`, arg))) {
      if (Date.now() > deadline) throw new Error(`waitForFunction: still false after ${timeout} ms: ${fn}`);
      await sleep(100);
    }
  }

  /** Waits for `selector` to name a visible element, as Playwright's waitForSelector does by default. */
  waitForSelector(selector, { timeout = 30_000 } = {}) {
    return this.waitForFunction(`(selector) => { const element = (${FIND_ELEMENT})(selector); return element?.checkVisibility(); }`, selector, { timeout });
  }

  textContent(selector) {
    return this.#onElement(selector, (element) => element.textContent);
  }

  getAttribute(selector, name) {
    return this.#onElement(selector, (element, attribute) => element.getAttribute(attribute), name);
  }

  isVisible(selector) {
    return this.evaluate(`(selector) => Boolean((${FIND_ELEMENT})(selector)?.checkVisibility())`, selector);
  }

  /** WebDriver's click: real input events, so the page sees a user gesture (the microphone, audio). */
  async click(selector) {
    await this.#context.command("POST", `/element/${await this.#reference(selector)}/click`, {});
  }

  /** WebDriver's Element Send Keys with a path, which sets a file input's file (hidden ones too). */
  async setInputFiles(selector, file) {
    await this.#context.command("POST", `/element/${await this.#reference(selector)}/value`, { text: file });
  }

  /** The window as WebDriver takes it: the viewport, never the full page. */
  async screenshot({ path }) {
    writeFileSync(path, Buffer.from(await this.#context.command("GET", "/screenshot"), "base64"));
  }

  /** `fn(element, arg)` in the page on the element `selector` names; an error where there is none. */
  #onElement(selector, fn, arg) {
    return this.evaluate(
      `([selector, arg]) => {
        const element = (${FIND_ELEMENT})(selector);
        if (!element) throw new Error("no element matches " + selector);
        return (${fn})(element, arg);
      }`,
      [selector, arg ?? null],
    );
  }

  /** The WebDriver reference of the element `selector` names. */
  async #reference(selector) {
    return (await this.#onElement(selector, (element) => element))[ELEMENT];
  }
}

/** One W3C WebDriver command; its `value`, or an error with the driver's message. */
async function webDriverCommand(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "Content-Type": "application/json; charset=utf-8" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const { value } = await response.json();
  if (!response.ok) throw new Error(`WebDriver ${method} ${path || "/"}: ${value.error}: ${value.message}`);
  return value;
}

/**
 * WebKitWebDriver on a free port inside `xvfb-run -a` (a display of its own), in a process group of
 * its own, so that stop() ends it, its Xvfb and the browsers it started. Resolves to {url, stop}.
 */
async function startWebKitDriver() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = "";
  let exited = null;
  const driver = spawn("xvfb-run", ["-a", "WebKitWebDriver", `--port=${port}`], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  // The browsers' messages come here too, for as long as the driver runs: only the last are kept.
  driver.stderr.on("data", (data) => (stderr = (stderr + data).slice(-4000)));
  driver.on("error", (error) => (exited = error.message));
  driver.on("exit", (code, signal) => (exited ??= `exit status ${code ?? signal}`));
  const stop = () => {
    process.off("exit", stop);
    try {
      process.kill(-driver.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  };
  // Not left running when a test process ends without closing its browser.
  process.on("exit", stop);
  for (let waited = 0; ; waited += 100) {
    try {
      if ((await webDriverCommand(url, "GET", "/status")).ready) return { url, stop };
    } catch {
      // Not listening yet.
    }
    if (exited || waited > 20_000) {
      stop();
      throw new Error(`WebKitWebDriver did not start (${exited ?? "not ready after 20 s"}; scripts/test-web.sh installs webkit2gtk-driver and xvfb): ${stderr}`);
    }
    await sleep(100);
  }
}

/** A TCP port nothing listens on just now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Mono float32 samples as a WAV file (IEEE float) at `rate`. */
export function floatWav(samples, rate) {
  const wav = Buffer.alloc(44 + 4 * samples.length);
  wav.write("RIFF", 0, "latin1");
  wav.writeUInt32LE(36 + 4 * samples.length, 4);
  wav.write("WAVEfmt ", 8, "latin1");
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(3, 20); // IEEE float
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 4, 28);
  wav.writeUInt16LE(4, 32);
  wav.writeUInt16LE(32, 34);
  wav.write("data", 36, "latin1");
  wav.writeUInt32LE(4 * samples.length, 40);
  samples.forEach((s, i) => wav.writeFloatLE(s, 44 + 4 * i));
  return wav;
}

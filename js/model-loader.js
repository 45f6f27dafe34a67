// Fetches the files of a packaged model (model.json, base.gguf, <lang>.gguf and, when the package has
// one, the language's word language model <lang>.lm) and keeps them in the Cache API. Each file is
// streamed, piece by piece as it is read from the cache or the network, into a sink from the
// recognizer (a wasm `PackageFile`), which builds the model as the bytes arrive, so no copy of a whole
// file is ever held here, and checks a download's size and sha256 against model.json.
// A download is stored while it streams, but the stored copy is completed only once the sink has
// verified it, so the cache never holds a partial or corrupt download. The copy carries the sha256 it
// was verified against (a header of the stored response), and is used only while model.json still
// names that sha256: a package republished at the same URL is downloaded again, even where a file
// keeps its size. A stored copy is not hashed again (only its size is checked) and is read with no
// network request. model.json itself is asked of the server on every load, and the stored one is used
// when the server cannot be reached, answers an error or does not answer in time, so the app loads
// offline. When the browser refuses to store a file (no space left, or a private window that keeps
// storage in memory and refuses large files), the model still runs from the download, with a notice
// saying why it was not kept.

import { translate } from "./i18n.js";
import { AsrError, ErrorKind, Stage } from "./protocol.js";

// Where the package first exported it from.
export { formatSize } from "./i18n.js";

const MODEL_CACHE = "sakha-asr-models";
const PROGRESS_INTERVAL_MS = 100;
// Bytes per read of a file from the Cache API (see bodyReader).
const READ_BYTES = 1 << 20;
/**
 * How long a read of a stored file may wait for its next bytes, and how often it is then resumed from
 * a fresh copy of the response (see readStored): Chromium 156 now and then never answers a read of a
 * Cache API body mid-file, with the worker otherwise idle. A stored file arrives at hundreds of MB/s,
 * so seconds without a byte are a stall, not a slow disk.
 */
const STORED_READ_STALL_MS = 10_000;
const STORED_READ_RESUMES = 2;
/** How much of a download may wait in memory for the Cache API to take it in. */
const STORE_QUEUE_BYTES = 8 << 20;
/** The header of a stored file that names the sha256 it was verified against. */
const SHA256_HEADER = "X-Sakha-Asr-Sha256";
/**
 * How long model.json may take to arrive when a stored one can stand in: a server that hangs, or a
 * network that is all but gone, then delays the start only this long.
 */
const MANIFEST_WAIT_MS = 5_000;
/** WebAssembly (wasm32) memory ends at 4 GiB, and the recognizer holds all of the model's weights in it. */
const WASM_MEMORY_BYTES = 2 ** 32;

/**
 * Opens the package whose manifest is at `manifestUrl`: the server's model.json, so that a package
 * republished at the same URL is seen, or the stored one where the server gives none in time.
 * `parseManifest` (from the wasm module) checks format and version, so a package this version cannot
 * run is refused before any weights are downloaded.
 */
export async function openPackage(manifestUrl, parseManifest) {
  const cache = await caches.open(MODEL_CACHE);
  const stored = await storedManifest(cache, manifestUrl, parseManifest);
  let text;
  try {
    const deadline = stored ? AbortSignal.timeout(MANIFEST_WAIT_MS) : undefined;
    text = await (await fetchOrThrow(manifestUrl, "model.json", deadline)).text();
  } catch (e) {
    if (!stored) throw e;
    return new ModelPackage(cache, manifestUrl, stored.text, stored.manifest, true);
  }
  if (text === stored?.text) return new ModelPackage(cache, manifestUrl, text, stored.manifest, true);
  let manifest;
  try {
    manifest = parseManifest(text);
  } catch (e) {
    // The library says which: not a package (format), or one of another format version (version); its
    // message, in English, has no catalogue key (protocol.js).
    throw new AsrError(e.kind === ErrorKind.VERSION ? ErrorKind.VERSION : ErrorKind.FORMAT, `${manifestUrl}: ${e.message}`);
  }
  return new ModelPackage(cache, manifestUrl, text, manifest, false);
}

/** The stored model.json as `{text, manifest}`, or null. */
async function storedManifest(cache, manifestUrl, parseManifest) {
  const response = await cache.match(manifestUrl);
  if (!response) return null;
  const text = await response.text();
  try {
    return { text, manifest: parseManifest(text) };
  } catch {
    // Stored by an older version of this app that read another format.
    await cache.delete(manifestUrl);
    return null;
  }
}

/** Deletes every downloaded model from this browser. */
export async function clearModelCache() {
  await caches.delete(MODEL_CACHE);
}

class ModelPackage {
  constructor(cache, manifestUrl, manifestText, manifest, manifestCached) {
    this.cache = cache;
    this.manifestUrl = manifestUrl;
    this.manifestText = manifestText;
    this.manifest = manifest;
    this.manifestCached = manifestCached;
  }

  /** The manifest entry of `language`, or of the default language when it is not given. */
  languageEntry(language) {
    const name = language || this.manifest.default_language;
    const entry = this.manifest.languages[name];
    if (!entry) {
      const available = Object.keys(this.manifest.languages).join(", ");
      throw AsrError.of(ErrorKind.SETTINGS, "error.noLanguage", { language: name, available });
    }
    return { name, entry };
  }

  /** The manifest entry of `language`'s word language model, or null when the package has none for it. */
  languageModelEntry(language) {
    return this.manifest.language_models?.[language] ?? null;
  }

  /**
   * Streams each file into a sink and finishes it: `files` is a list of `{entry, open}`, where
   * `open(stored)` makes a fresh sink for `entry` (`push(chunk)`, which copies what it keeps, as the
   * chunk's buffer may be read into again; `isOverlong`, `finish()` throwing an
   * Error named "FileMismatch" when the file is not the one model.json lists, `free()`); `stored` is
   * true for a stored copy, which was verified before it was stored and is not hashed again. Cached
   * copies are read, the rest downloaded and stored. Resolves to `{files, notice}`: the finished
   * sinks in order, and null or, for people, why a downloaded file could not be kept for offline use
   * ({message, key, params}, as protocol.js describes a notice).
   * `onProgress({stage, file, loaded, total})` reports progress.
   */
  async read(files, onProgress) {
    const entries = files.map(({ entry }) => entry);
    checkFitsInMemory(entries);
    const urls = entries.map((entry) => this.fileUrl(entry));
    const cached = await Promise.all(entries.map((entry, i) => this.storedCopy(urls[i], entry)));
    const storing = new Storing(this.cache, entries.filter((_, i) => !cached[i]));
    const sinks = [];
    try {
      for (const [i, { entry, open }] of files.entries()) {
        sinks.push(await this.readFile(entry, open, urls[i], cached[i], onProgress, storing));
      }
    } catch (e) {
      for (const sink of sinks) sink.free();
      throw e;
    }
    if (!this.manifestCached) {
      this.manifestCached = await storing.put(this.manifestUrl, this.manifestText, "model.json");
    }
    return { files: sinks, notice: storing.notice };
  }

  /**
   * The stored copy of `entry` at `url`, or null. A copy verified against another sha256 (the package
   * was republished at this URL), or stored by a version of this app that did not record it, is
   * deleted: it is downloaded again.
   */
  async storedCopy(url, entry) {
    const response = await this.cache.match(url);
    if (!response) return null;
    if (response.headers.get(SHA256_HEADER) === entry.sha256) return response;
    await this.cache.delete(url);
    return null;
  }

  /**
   * Pumps the stored file `response` into `sink`; where a read stalls, reads the file again from a
   * fresh match of `url` and goes on from the byte where it stopped, rather than download it again.
   */
  async readStored(url, response, entry, onProgress, sink) {
    let pushed = 0;
    for (let resumes = 0; ; resumes++) {
      try {
        return await pump(response, entry, Stage.CACHE, onProgress, sink, null, pushed);
      } catch (e) {
        if (!(e instanceof StalledRead) || resumes === STORED_READ_RESUMES) throw e;
        pushed = e.loaded;
        response = await this.cache.match(url);
        if (!response) throw e;
      }
    }
  }

  fileUrl(entry) {
    const url = new URL(entry.file, this.manifestUrl);
    if (url.origin !== new URL(this.manifestUrl).origin) {
      throw AsrError.of(ErrorKind.FORMAT, "error.otherSite", { origin: url.origin });
    }
    return url.href;
  }

  async readFile(entry, open, url, cachedResponse, onProgress, storing) {
    if (cachedResponse) {
      const sink = open(true);
      try {
        await this.readStored(url, cachedResponse, entry, onProgress, sink);
        sink.finish();
        return sink;
      } catch (e) {
        sink.free();
        // The wasm instance is unusable after a trap (out of memory): downloading cannot help.
        if (e instanceof WebAssembly.RuntimeError) throw e;
        // A stored copy that cannot be read or used is replaced by a download, which is verified (a
        // model that cannot run then fails there too).
      }
      await this.cache.delete(url);
    }
    // A mismatch can be a transfer glitch or a server mid-update: one fresh download, then give up.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const response = await fetchOrThrow(url, entry.file);
      const sink = open(false);
      const copy = storing.open(url, entry);
      try {
        await pump(response, entry, Stage.DOWNLOAD, onProgress, sink, copy);
        sink.finish();
      } catch (e) {
        await copy?.discard();
        sink.free();
        if (isMismatch(e)) continue;
        throw e;
      }
      await copy?.keep();
      return sink;
    }
    throw AsrError.of(ErrorKind.CORRUPT, "error.corrupt", { file: entry.file });
  }
}

/** A read that got no bytes for `STORED_READ_STALL_MS`, after `loaded` bytes had gone to the sink. */
class StalledRead extends Error {
  constructor(loaded) {
    super(`a read stalled after ${loaded} bytes`);
    this.loaded = loaded;
  }
}

function isMismatch(error) {
  return error?.name === "FileMismatch";
}

/**
 * Stores the downloaded files of one read. After the first refusal it stores nothing more (the rest
 * would only take space without making the model usable offline) and keeps the reason in `notice`.
 */
class Storing {
  constructor(cache, downloads) {
    this.cache = cache;
    this.needed = downloads.reduce((sum, entry) => sum + entry.bytes, 0);
    this.notice = null;
  }

  /**
   * Stores `body` under `url` with `headers` added; false when nothing was stored: the browser refused
   * (the reason goes to `notice`), or `discarded()` says that we broke off the body ourselves.
   */
  async put(url, body, name, headers = {}, discarded = () => false) {
    if (this.notice) return false;
    try {
      await this.cache.put(url, new Response(body, { headers: { "Content-Type": "application/octet-stream", ...headers } }));
      return true;
    } catch (e) {
      if (!discarded()) this.notice ??= await notStoredNotice(e, name, this.needed);
      return false;
    }
  }

  /**
   * A copy of the download of `entry`, stored under `url` with the sha256 it is verified against
   * while it arrives: `push` each chunk (and wait for `room()`, so a download faster than the disk
   * does not pile up in memory), then `keep()` once the file is verified (resolves when it is stored
   * or refused) or `discard()` (resolves once nothing of it is stored). Null after a refusal.
   */
  open(url, entry) {
    if (this.notice) return null;
    const name = entry.file;
    let controller;
    let wake = () => {};
    const body = new ReadableStream(
      { start: (c) => (controller = c), pull: () => wake() },
      new ByteLengthQueuingStrategy({ highWaterMark: STORE_QUEUE_BYTES }),
    );
    // Once the cache has stopped reading (a refusal, which `put` reports), the stream throws.
    const quietly = (action) => {
      try {
        action();
      } catch {}
    };
    let discarded = false;
    let settled = false;
    const stored = this.put(url, body, name, { [SHA256_HEADER]: entry.sha256 }, () => discarded).finally(() => {
      settled = true;
      wake();
    });
    return {
      push: (chunk) => quietly(() => controller.enqueue(chunk)),
      room: () => (settled || controller.desiredSize > 0 ? null : new Promise((resolve) => (wake = resolve))),
      keep: () => {
        quietly(() => controller.close());
        return stored;
      },
      discard: async () => {
        discarded = true;
        quietly(() => controller.error(new Error(`${name} was not verified`)));
        // A body that errors should store nothing, but Firefox 153 on a busy machine now and then
        // commits the part it had read (www/tests/e2e.test.mjs, "loading failures"): take it out.
        if (await stored) await this.cache.delete(url);
      },
    };
  }
}

async function fetchOrThrow(url, name, signal) {
  let response;
  try {
    // The Cache API is our cache; the HTTP cache would only hold a second copy.
    response = await fetch(url, { cache: "no-store", signal });
  } catch {
    throw AsrError.of(ErrorKind.NETWORK, "error.unreachable", { file: name });
  }
  if (response.status === 404) throw AsrError.of(ErrorKind.NOT_FOUND, "error.notFound", { file: name, url });
  if (!response.ok) throw AsrError.of(ErrorKind.HTTP, "error.httpStatus", { file: name, status: response.status });
  return response;
}

/**
 * Pushes a response body into `sink` (and `copy`) chunk by chunk, leaving out its first `pushedBefore`
 * bytes, which an earlier read pushed. A body that breaks off or ends short is a lost connection; one
 * longer than the manifest's size is left for `sink.finish()` to report. A stored file's read that
 * stalls throws a StalledRead.
 */
async function pump(response, entry, stage, onProgress, sink, copy, pushedBefore = 0) {
  // A resumed read takes the default reader: the stalls were seen with our buffer.
  const reader = bodyReader(response.body, !copy && pushedBefore === 0);
  // bytes of the file pushed so far, and how many of this body's first bytes are still to skip
  let loaded = pushedBefore;
  let skip = pushedBefore;
  let reportedAt = 0;
  const report = () => onProgress({ stage, file: entry.file, loaded, total: entry.bytes });
  report();
  for (;;) {
    let chunk;
    try {
      chunk = await (stage === Stage.CACHE ? readWithin(reader, STORED_READ_STALL_MS) : reader.read());
    } catch {
      throw lostConnection(entry, loaded);
    }
    if (chunk === null) {
      // the pending read may never settle: nothing waits for it
      reader.cancel().catch(() => {});
      throw new StalledRead(loaded);
    }
    if (chunk.done) break;
    let bytes = chunk.value;
    if (skip > 0) {
      const skipped = Math.min(skip, bytes.length);
      skip -= skipped;
      bytes = bytes.subarray(skipped);
      if (bytes.length === 0) continue;
    }
    sink.push(bytes);
    copy?.push(bytes);
    await copy?.room();
    loaded += bytes.length;
    if (sink.isOverlong) {
      await reader.cancel();
      return;
    }
    if (performance.now() - reportedAt >= PROGRESS_INTERVAL_MS) {
      reportedAt = performance.now();
      report();
    }
  }
  report();
  if (loaded < entry.bytes) throw lostConnection(entry, loaded);
}

/** What `reader.read()` resolves to, or null where it has not settled after `ms`. */
function readWithin(reader, ms) {
  let timer;
  const stalled = new Promise((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  return Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer));
}

/**
 * A reader of `body` whose `read()` resolves as a default reader's. Where nothing keeps the chunks
 * (`reusable`) and the body is a byte stream, every chunk is read into one buffer of our own: a
 * file from the Cache API otherwise passes through as hundreds of MB of fresh chunks, which the
 * worker's heap collects only now and then, so the page's peak memory while loading MMS-300m's
 * q8_0 package varied by tens of MB from page to page (with one buffer, scripts/bench-browser.sh
 * measures its peak).
 */
function bodyReader(body, reusable) {
  let byob;
  try {
    byob = reusable ? body.getReader({ mode: "byob" }) : null;
  } catch {
    byob = null; // not a byte stream
  }
  if (!byob) return body.getReader();
  let buffer = new ArrayBuffer(READ_BYTES);
  return {
    async read() {
      const chunk = await byob.read(new Uint8Array(buffer));
      // the read moved `buffer` into the chunk: take it back for the next read
      if (chunk.value) buffer = chunk.value.buffer;
      return chunk;
    },
    cancel: () => byob.cancel(),
  };
}

function lostConnection(entry, loaded) {
  return AsrError.of(ErrorKind.NETWORK, "error.brokeOff", { file: entry.file, loaded, total: entry.bytes });
}

function checkFitsInMemory(entries) {
  const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  if (total <= WASM_MEMORY_BYTES) return;
  throw AsrError.of(ErrorKind.FORMAT, "error.tooLarge", { files: entries.map((e) => e.file), total, limit: WASM_MEMORY_BYTES });
}

// What a Cache API write over the quota rejects with: the standard's DOMException, or in Firefox an
// exception of its own (with an empty message).
const QUOTA_ERRORS = new Set(["QuotaExceededError", "NS_ERROR_FILE_NO_DEVICE_SPACE"]);

/**
 * Why `name` was not stored, for people: what the browser said, the space needed and what to do, as
 * {message, key, params} (protocol.js).
 */
async function notStoredNotice(error, name, needed) {
  const { quota, usage } = (await navigator.storage?.estimate?.().catch(() => null)) ?? {};
  const free = quota - usage;
  let key;
  let params;
  if (QUOTA_ERRORS.has(error?.name)) {
    // The estimate is coarse; quoted only when it agrees that space is short.
    key = free < needed ? "notice.noSpaceLeft" : "notice.noSpace";
    params = { needed, free: Math.max(0, free) };
  } else {
    key = "notice.refused";
    params = { file: name, detail: error?.message || error?.name || String(error), needed };
  }
  return { message: translate("en", key, params), key, params };
}

// Fetches the files of a packaged model (model.json, base.gguf, <lang>.gguf) and keeps them in the
// Cache API. A file is stored only after its size and sha256 match model.json, so the cache never
// holds a partial or corrupt download; a cached file is served with no network request at all.
// When the browser refuses to store a file (no space left, or a private window that keeps storage
// in memory and refuses large files), the model still runs from the download, with a notice saying
// why it was not kept. A package is treated as immutable at its URL: publish a changed model under a
// new URL.

import { AsrError, ErrorKind, Stage } from "./protocol.js";

const MODEL_CACHE = "sakha-asr-models";
const PROGRESS_INTERVAL_MS = 100;
/** WebAssembly (wasm32) memory ends at 4 GiB, and the recognizer holds all of the model's weights in it. */
const WASM_MEMORY_BYTES = 2 ** 32;

/** A byte count as people read it: "112 kB", "5.0 MB", "1.3 GB". */
export function formatSize(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`;
}

/**
 * Opens the package whose manifest is at `manifestUrl`: from the cache when it was fully downloaded
 * before, else from the server. `parseManifest` (from the wasm module) checks format and version, so
 * a package this version cannot run is refused before any weights are downloaded.
 */
export async function openPackage(manifestUrl, parseManifest) {
  const cache = await caches.open(MODEL_CACHE);
  const cached = await cache.match(manifestUrl);
  if (cached) {
    const text = await cached.text();
    try {
      return new ModelPackage(cache, manifestUrl, text, parseManifest(text), true);
    } catch {
      // Stored by an older version of this app that read another format: ask the server again.
      await cache.delete(manifestUrl);
    }
  }
  const response = await fetchOrThrow(manifestUrl, "model.json");
  const text = await response.text();
  let manifest;
  try {
    manifest = parseManifest(text);
  } catch (e) {
    throw new AsrError(ErrorKind.FORMAT, `${manifestUrl}: ${e.message}`);
  }
  return new ModelPackage(cache, manifestUrl, text, manifest, false);
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
      throw new AsrError(ErrorKind.FORMAT, `This model has no language "${name}"; it has: ${available}.`);
    }
    return { name, entry };
  }

  /**
   * The verified bytes of each entry, in order, reading cached copies and downloading (and storing)
   * the rest: `{files, notice}`, where `notice` is null, or says for people why a downloaded file
   * could not be kept for offline use. `onProgress({stage, file, loaded, total})` reports progress.
   */
  async read(entries, onProgress) {
    checkFitsInMemory(entries);
    const urls = entries.map((entry) => this.fileUrl(entry));
    const cached = await Promise.all(urls.map((url) => this.cache.match(url)));
    const storing = new Storing(this.cache, entries.filter((_, i) => !cached[i]));
    const files = [];
    for (const [i, entry] of entries.entries()) {
      files.push(await this.readFile(entry, urls[i], cached[i], onProgress, storing));
    }
    if (!this.manifestCached) {
      this.manifestCached = await storing.put(this.manifestUrl, new TextEncoder().encode(this.manifestText), "model.json");
    }
    return { files, notice: storing.notice };
  }

  fileUrl(entry) {
    const url = new URL(entry.file, this.manifestUrl);
    if (url.origin !== new URL(this.manifestUrl).origin) {
      throw new AsrError(ErrorKind.FORMAT, `model.json names a file on another site (${url.origin}); refused.`);
    }
    return url.href;
  }

  async readFile(entry, url, cachedResponse, onProgress, storing) {
    if (cachedResponse) {
      const bytes = await readBody(cachedResponse, entry, Stage.CACHE, onProgress);
      if (bytes && (await matchesEntry(bytes, entry))) return bytes;
      await this.cache.delete(url);
    }
    // A mismatch can be a transfer glitch or a server mid-update: one fresh download, then give up.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const response = await fetchOrThrow(url, entry.file);
      const bytes = await readBody(response, entry, Stage.DOWNLOAD, onProgress);
      if (bytes && (await matchesEntry(bytes, entry))) {
        await storing.put(url, bytes, entry.file);
        return bytes;
      }
    }
    throw new AsrError(
      ErrorKind.CORRUPT,
      `${entry.file} is corrupt: it does not match the size and sha256 in model.json, even after ` +
        `downloading it again. The copy on the server is damaged or belongs to another model. ` +
        `Nothing was saved.`,
    );
  }
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

  /** Stores `bytes` under `url`; false when the browser refused (and nothing was stored). */
  async put(url, bytes, name) {
    if (this.notice) return false;
    try {
      await this.cache.put(url, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
      return true;
    } catch (e) {
      this.notice = await notStoredNotice(e, name, this.needed);
      return false;
    }
  }
}

async function fetchOrThrow(url, name) {
  let response;
  try {
    // The Cache API is our cache; the HTTP cache would only hold a second copy.
    response = await fetch(url, { cache: "no-store" });
  } catch {
    throw new AsrError(
      ErrorKind.NETWORK,
      `Could not download ${name}: the server cannot be reached. Check the connection and try again.`,
    );
  }
  if (response.status === 404) {
    throw new AsrError(ErrorKind.NOT_FOUND, `${name} was not found on the server (HTTP 404 for ${url}).`);
  }
  if (!response.ok) {
    throw new AsrError(ErrorKind.HTTP, `Could not download ${name}: the server answered HTTP ${response.status}.`);
  }
  return response;
}

/**
 * Reads a response body into a buffer of the manifest's size; `null` when the body is longer than
 * that (the caller treats it like a checksum mismatch). A body that breaks off or ends short is a
 * lost connection.
 */
async function readBody(response, entry, stage, onProgress) {
  const bytes = new Uint8Array(entry.bytes);
  const reader = response.body.getReader();
  let loaded = 0;
  let reportedAt = 0;
  const report = () => onProgress({ stage, file: entry.file, loaded, total: entry.bytes });
  report();
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      throw lostConnection(entry, loaded);
    }
    if (chunk.done) break;
    if (loaded + chunk.value.length > bytes.length) {
      await reader.cancel();
      return null;
    }
    bytes.set(chunk.value, loaded);
    loaded += chunk.value.length;
    if (performance.now() - reportedAt >= PROGRESS_INTERVAL_MS) {
      reportedAt = performance.now();
      report();
    }
  }
  report();
  if (loaded < bytes.length) throw lostConnection(entry, loaded);
  return bytes;
}

function lostConnection(entry, loaded) {
  return new AsrError(
    ErrorKind.NETWORK,
    `The download of ${entry.file} broke off after ${formatSize(loaded)} of ${formatSize(entry.bytes)}. ` +
      `Nothing was saved; try again to download it from the start.`,
  );
}

async function matchesEntry(bytes, entry) {
  if (bytes.length !== entry.bytes) return false;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return hex === entry.sha256;
}

function checkFitsInMemory(entries) {
  const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  if (total <= WASM_MEMORY_BYTES) return;
  throw new AsrError(
    ErrorKind.FORMAT,
    `This model is too large for a browser: ${entries.map((e) => e.file).join(" and ")} take ` +
      `${formatSize(total)}, and a WebAssembly page can hold at most ${formatSize(WASM_MEMORY_BYTES)}. ` +
      `Use the sakha-asr command-line tool for it.`,
  );
}

/** Why `name` was not stored, for people: what the browser said, the space needed and what to do. */
async function notStoredNotice(error, name, needed) {
  const { quota, usage } = (await navigator.storage?.estimate?.().catch(() => null)) ?? {};
  const free = quota - usage;
  const keeping = `Keeping it needs ${formatSize(needed)}`;
  let why;
  if (error?.name === "QuotaExceededError") {
    // The estimate is coarse; quoted only when it agrees that space is short.
    const available = free < needed ? `, and this browser lets the site store only ${formatSize(Math.max(0, free))} more` : "";
    why = `there is not enough storage. ${keeping}${available}. Free up disk space or remove other sites' data to keep it.`;
  } else {
    why =
      `the browser refused to store ${name} ("${error?.message ?? error}"). ${keeping}. Private windows keep ` +
      `storage in memory and refuse large files; in a normal window it is kept.`;
  }
  return `The model could not be kept for offline use, so it runs from this download and will be downloaded again next time: ${why}`;
}

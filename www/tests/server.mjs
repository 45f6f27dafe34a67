// A small static file server for the web app: correct MIME types (wasm, modules, manifest), a log of
// every request it answered, and faults the tests switch on per path (404, a corrupt byte, a
// connection cut mid-body, no answer). Run it by hand to try the app:
//
//   node www/tests/server.mjs [PORT]      serves www/ on http://127.0.0.1:PORT (default 8080),
//                                         cross-origin isolated (the threaded wasm build runs)

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const MIME_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".gguf": "application/octet-stream",
};

export const Fault = Object.freeze({
  NOT_FOUND: "not-found",
  /** The file with one byte flipped in the middle: same size, wrong sha256. */
  CORRUPT: "corrupt",
  /** Headers promise the whole file, half of it is sent, then the connection is destroyed. */
  CUT: "cut",
  /**
   * A page's or worker's `fetch()` of the file (not a script or module load of it) gets an empty
   * file: the threaded build's workers, which fetch their own script and start from that copy, then
   * start but never answer. The service worker's fetch of it fails, so that it installs no copy that
   * would serve the whole file instead. (Not an answer left hanging: Firefox keeps at most 6
   * connections to a host, and each attempt's hanging fetches held some for good, starving the loads
   * after them.)
   */
  EMPTY_FETCH: "empty-fetch",
  /** No answer at all, until the client gives up: a server that hangs. */
  HANG: "hang",
});

/**
 * Serves `root` (a folder) on 127.0.0.1; `mounts` maps URL prefixes ("/test-models/") to other folders.
 * Paths starting with one of `hidden` ("/tests/") answer 404. Resolves to {url, requests,
 * serviceWorkerScripts, faults, deploy, close}: `requests` lists the paths the pages, their workers
 * and the service worker's own code asked for; `serviceWorkerScripts` the service worker's scripts
 * that the browser fetched to install it or look for a new one (even in a context the test set
 * offline: Chromium's offline emulation does not cover them); `deploy(folder)` serves another folder
 * as the root from then on, as a deploy does. `isolated` makes every page it serves cross-origin
 * isolated (COOP same-origin + COEP require-corp on every answer), which shared wasm memory needs.
 */
export async function startServer({ root, mounts = {}, hidden = [], port = 0, isolated = false }) {
  const requests = [];
  const serviceWorkerScripts = [];
  const faults = new Map();
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    (isServiceWorkerScript(request) ? serviceWorkerScripts : requests).push(path);
    const file = hidden.some((prefix) => path.startsWith(prefix)) ? null : locate(root, mounts, path);
    const fault = faults.get(path);
    if (fault === Fault.HANG) return;
    const emptyFetch = fault === Fault.EMPTY_FETCH && request.headers["sec-fetch-dest"] === "empty";
    const refused = fault === Fault.NOT_FOUND || (emptyFetch && sentByServiceWorker(request));
    const body = file && (emptyFetch ? Buffer.alloc(0) : await readIfFile(file));
    if (!body || refused) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end(`not found: ${path}\n`);
      return;
    }
    response.writeHead(200, {
      "Content-Type": MIME_TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": body.length,
      // Revalidate every time: the tests change files between page loads.
      "Cache-Control": "no-cache",
      // The widget may be embedded in pages of other origins, which then load its modules and models.
      "Access-Control-Allow-Origin": "*",
      ...(isolated ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } : {}),
    });
    if (fault === Fault.CORRUPT) {
      const damaged = Buffer.from(body);
      damaged[damaged.length >> 1] ^= 0xff;
      response.end(damaged);
    } else if (fault === Fault.CUT) {
      response.write(body.subarray(0, body.length >> 1), () => setTimeout(() => response.destroy(), 50));
    } else {
      response.end(body);
    }
  });
  await new Promise((done) => server.listen(port, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    serviceWorkerScripts,
    faults,
    deploy: (folder) => (root = folder),
    close: () => new Promise((done) => server.close(done)),
  };
}

/** sw.js (the browser marks it) or a script it imports (importScripts: asked for by sw.js itself). */
function isServiceWorkerScript(request) {
  return request.headers["service-worker"] === "script" || (request.headers["sec-fetch-dest"] === "script" && sentByServiceWorker(request));
}

function sentByServiceWorker(request) {
  const { referer } = request.headers;
  return Boolean(referer) && new URL(referer).pathname.endsWith("/sw.js");
}

function locate(root, mounts, path) {
  for (const [prefix, folder] of Object.entries(mounts)) {
    if (path.startsWith(prefix)) return inside(folder, path.slice(prefix.length));
  }
  return inside(root, path.endsWith("/") ? `${path}index.html` : path);
}

/** `relative` resolved under `folder`, or null when it would escape it. */
function inside(folder, relative) {
  const base = resolve(folder);
  const file = resolve(base, normalize(`.${sep}${relative}`));
  return file === base || file.startsWith(base + sep) ? file : null;
}

async function readIfFile(file) {
  try {
    return (await stat(file)).isFile() ? await readFile(file) : null;
  } catch {
    return null;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const www = join(fileURLToPath(new URL(".", import.meta.url)), "..");
  const port = Number(process.argv[2] ?? 8080);
  const { url } = await startServer({ root: www, hidden: ["/tests/"], port, isolated: true });
  console.log(`serving ${resolve(www)} on ${url}/ (Ctrl-C stops)`);
}

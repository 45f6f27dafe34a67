// Service worker: keeps the app shell, the JS and the wasm module in a cache named after the build,
// so a second visit works with the network off. Model files are not its business: the recognizer's
// worker keeps them in their own cache (model-loader.js) and they pass through here untouched.
//
// A deploy never mixes builds in one page. A new build's worker takes over at once and serves every
// new page its own files, but it keeps the caches of the builds that open pages still run, and it
// answers each request from the build of whoever asks: the build named in the URL (the page asks for
// its recognizer's worker and the microphone worklet that way: pkg/protocol.js ofThisBuild), else
// the build of the worker or page that sent it (the worker's modules and wasm: the worker's URL's).
// A build's cache goes once no open page runs it.

importScripts("./build-version.js");

const BUILD = self.SAKHA_ASR_BUILD;
const CACHE_PREFIX = "sakha-asr-app-";
// Which build each open page runs, as entries <scope>page/<client id> → build id. A cache, not
// memory: the browser stops an idle service worker and starts it again when needed.
const PAGES = "sakha-asr-pages";
const PAGE_KEY_PREFIX = new URL("page/", self.registration.scope).href;
const APP_FILES = [
  "./",
  "index.html",
  "app.css",
  "app.js",
  "build-version.js",
  "widget.js",
  "manifest.webmanifest",
  "icon.svg",
  // The package in pkg/: its modules and every wasm build (pkg/wasm-build.js picks one in the
  // worker), listed by scripts/build-wasm.sh.
  ...self.SAKHA_ASR_PACKAGE_FILES,
];
const APP_URLS = new Set(APP_FILES.map((file) => new URL(file, self.registration.scope).href));
// The build of each worker whose script this service worker served, by client id. A module worker
// fetches its imports before it is "execution ready", and clients.get() waits for that (Firefox does,
// as the spec says), so asking it about the worker would deadlock the worker's start.
const workerBuilds = new Map();

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE_PREFIX + BUILD);
      // "reload": the HTTP cache may still hold the previous build's files.
      await cache.addAll(APP_FILES.map((file) => new Request(file, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim().then(dropUnusedBuilds));
});

// Each page says which build it runs (app.js), which matters for pages this worker did not serve:
// the first visit, loaded before any service worker, or pages of an older build.
self.addEventListener("message", (event) => {
  // The page that reloaded into this one has gone by now: a good moment to drop what it used.
  if (event.data?.type === "page-build") event.waitUntil(remember(event.source.id, event.data.build).then(dropUnusedBuilds));
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const pinned = url.searchParams.get("build");
  url.search = "";
  if (!APP_URLS.has(url.href)) return;
  if (request.mode === "navigate") {
    // A new page gets this, the newest, build.
    event.waitUntil(remember(event.resultingClientId, BUILD).then(dropUnusedBuilds));
    event.respondWith(answer(request, url.href, BUILD));
  } else {
    event.respondWith(
      buildOf(pinned, event.clientId).then((build) => {
        // A worker's script: its client starts here (resultingClientId); see workerBuilds.
        if (event.resultingClientId) workerBuilds.set(event.resultingClientId, build);
        return answer(request, url.href, build);
      }),
    );
  }
});

/**
 * The file from `build`'s cache; from the network when that build is not stored (any more). Always
 * cross-origin isolated (COOP + COEP: every app file is same-origin, so nothing is blocked), so that
 * the page runs the threaded wasm build offline too, and from its second visit on even where the
 * host cannot send these headers.
 */
async function answer(request, key, build) {
  const response = (await caches.match(key, { cacheName: CACHE_PREFIX + build })) ?? (await fetch(request));
  if (response.type === "opaque") return response;
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The build a request is for: named in its URL, else its sender's, else this one. */
async function buildOf(pinned, clientId) {
  if (pinned) return pinned;
  if (workerBuilds.has(clientId)) return workerBuilds.get(clientId);
  const client = clientId && (await self.clients.get(clientId));
  if (!client) return BUILD;
  // The recognizer's worker was started with its build in its URL; its own imports do not repeat it.
  const fromUrl = new URL(client.url).searchParams.get("build");
  if (fromUrl) return fromUrl;
  const page = await (await caches.open(PAGES)).match(PAGE_KEY_PREFIX + encodeURIComponent(clientId));
  return page ? page.text() : BUILD;
}

async function remember(clientId, build) {
  if (!clientId || typeof build !== "string") return;
  await (await caches.open(PAGES)).put(PAGE_KEY_PREFIX + encodeURIComponent(clientId), new Response(build));
}

/** Deletes the caches of builds that no open page runs (this build's stays), and closed pages' entries. */
async function dropUnusedBuilds() {
  const open = new Set((await self.clients.matchAll({ type: "window", includeUncontrolled: true })).map((c) => c.id));
  const pages = await caches.open(PAGES);
  const inUse = new Set([BUILD]);
  for (const key of await pages.keys()) {
    const id = decodeURIComponent(key.url.slice(PAGE_KEY_PREFIX.length));
    if (open.has(id)) inUse.add(await (await pages.match(key)).text());
    else await pages.delete(key);
  }
  const names = await caches.keys();
  const unused = names.filter((name) => name.startsWith(CACHE_PREFIX) && !inUse.has(name.slice(CACHE_PREFIX.length)));
  await Promise.all(unused.map((name) => caches.delete(name)));
}

// Service worker: keeps the app shell, the JS and the wasm module in a cache named after the build,
// so a second visit works with the network off. Model files are not its business: the recognizer's
// worker keeps them in their own cache (model-loader.js) and they pass through here untouched.

importScripts("./build-version.js");

const CACHE_PREFIX = "sakha-asr-app-";
const CACHE = CACHE_PREFIX + self.SAKHA_ASR_BUILD;
const APP_FILES = [
  "./",
  "index.html",
  "app.css",
  "app.js",
  "asr-client.js",
  "audio.js",
  "live-recording.js",
  "mic-worklet.js",
  "model-loader.js",
  "protocol.js",
  "worker.js",
  "widget.js",
  "manifest.webmanifest",
  "icon.svg",
  "pkg/sakha_asr.js",
  "pkg/sakha_asr_bg.wasm",
];
const APP_URLS = new Set(APP_FILES.map((file) => new URL(file, self.registration.scope).href));

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // "reload": the HTTP cache may still hold the previous build's files.
      await cache.addAll(APP_FILES.map((file) => new Request(file, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  url.search = "";
  if (!APP_URLS.has(url.href)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => (await cache.match(url.href)) ?? fetch(request)),
  );
});

// How often the threaded wasm build fails to start in Firefox, and what the page does about it
// (js/asr-client.js restarts a recognizer worker whose threads do not start, then runs one thread).
// Firefox now and then never returns from `new Worker()` inside the recognizer's worker while the
// build starts its threads; it happens on a busy machine, so this keeps every core busy meanwhile.
// Each run: a fresh profile on a cross-origin isolated host, the app page loads its model, then
// offline, reloaded from the service worker, loads it again. Prints each load's outcome and time.
//   node scripts/firefox-thread-starts.mjs [RUNS]      (default 30; after scripts/build-wasm.sh)
// Uses the web tests' Firefox and server (www/tests/pages.mjs, server.mjs; scripts/test-web.sh
// installs firefox-esr and PulseAudio).

import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../www/tests/pages.mjs";
import { startServer } from "../www/tests/server.mjs";

const runs = Number(process.argv[2] ?? 30);
const WWW = fileURLToPath(new URL("../www/", import.meta.url));
const LOAD_LIMIT_MS = 60_000;

/** The client's wait for threads before it restarts a worker (asr-client.js THREADS_START_MS). */
const THREADS_START_MS = 10_000;

/**
 * Waits for the page's model and says how it went: "threads" (at once), "threads after a restart",
 * "one thread" (after two stalled attempts), "failed", or "stalled" (no answer within a minute).
 */
async function loadOutcome(page) {
  const started = Date.now();
  try {
    await page.waitForFunction(() => ["ready", "failed"].includes(document.body.dataset.model), null, { timeout: LOAD_LIMIT_MS });
  } catch {
    return { outcome: "stalled", ms: Date.now() - started };
  }
  const { model, build } = await page.evaluate(() => ({ model: document.body.dataset.model, build: document.getElementById("wasm-build").textContent }));
  const ms = Date.now() - started;
  const threads = ms < THREADS_START_MS ? "threads" : "threads after a restart";
  const outcome = model !== "ready" ? "failed" : build.includes("threads") ? threads : "one thread";
  return { outcome, ms };
}

const busy = Array.from({ length: availableParallelism() }, () => spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" }));
const browser = await launchBrowser("firefox");
const server = await startServer({ root: WWW, hidden: ["/tests/"], isolated: true });
const counts = {};
try {
  for (let run = 1; run <= runs; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const loads = [];
    await page.goto(`${server.url}/`);
    loads.push(await loadOutcome(page));
    if (loads[0].outcome !== "stalled") {
      await page.evaluate(() => navigator.serviceWorker.ready);
      await context.setOffline(true);
      await page.reload();
      loads.push(await loadOutcome(page));
    }
    await context.close();
    for (const { outcome } of loads) counts[outcome] = (counts[outcome] ?? 0) + 1;
    console.log(`run ${run}: ${loads.map(({ outcome, ms }) => `${outcome} in ${(ms / 1000).toFixed(1)} s`).join(", then offline ")}`);
  }
} finally {
  for (const child of busy) child.kill();
  await browser.close();
  await server.close();
}
console.log(`loads by outcome, ${runs} runs with every core busy: ${JSON.stringify(counts)}`);

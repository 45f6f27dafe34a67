// Which of the recognizer's three wasm builds (scripts/build-wasm.sh) this browser runs, and starting
// it. The worker (worker.js) calls startWasm once; the page formats what it reports (describeWasm).
//
//   simd128  pkg/          wasm SIMD, one thread: every browser the app supports; the fallback
//   relaxed  pkg/relaxed/  also relaxed SIMD (faster int8 dot products), one thread
//   threads  pkg/threads/  also relaxed SIMD, and rayon's threads as Web Workers over shared memory:
//                          only where the page is cross-origin isolated (COOP + COEP headers)

import { AsrError, ErrorKind } from "./protocol.js";

export const WasmBuild = Object.freeze({ SIMD128: "simd128", RELAXED: "relaxed", THREADS: "threads" });

// Each build's bindings, imported only when chosen. Literal paths, so that bundlers include all three
// (with the wasm file each resolves next to itself). In the web app the service worker answers the
// worker's requests from the worker's own build (www/sw.js).
const BINDINGS = {
  simd128: () => import("./sakha_asr.js"),
  relaxed: () => import("./relaxed/sakha_asr.js"),
  threads: () => import("./threads/sakha_asr.js"),
};

/** More workers than this gain little on the matrix sizes of one utterance, and each costs memory. */
const MAX_THREADS = 8;

// The smallest module that uses a relaxed SIMD instruction: it validates only where the engine has
// relaxed SIMD (Chromium does, Node 20 does not).
//   (module (func (result v128) (local v128)
//     local.get 0  local.get 0  local.get 0  i32x4.relaxed_dot_i8x16_i7x16_add_s))
// prettier-ignore
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, //       type section: one type, () -> v128
  0x03, 0x02, 0x01, 0x00, //                         function section: one function of type 0
  0x0a, 0x0f, 0x01, 0x0d, //                         code section: one body of 13 bytes
  0x01, 0x01, 0x7b, //                               one local of type v128
  0x20, 0x00, 0x20, 0x00, 0x20, 0x00, //             local.get 0, three times
  0xfd, 0x93, 0x02, //                               i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x113)
  0x0b, //                                           end
]);

/** The builds this context can run, best first. */
export function availableBuilds() {
  const builds = [WasmBuild.SIMD128];
  if (!WebAssembly.validate(RELAXED_SIMD_PROBE)) return builds;
  builds.unshift(WasmBuild.RELAXED);
  if (canShareMemory()) builds.unshift(WasmBuild.THREADS);
  return builds;
}

/** Shared wasm memory: a cross-origin isolated context whose engine has wasm threads. */
function canShareMemory() {
  if (!globalThis.crossOriginIsolated || typeof SharedArrayBuffer !== "function") return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * Loads and starts a build: `build` when given (an error if this context cannot run it), else the
 * best available, falling back to the next when one fails to start (say, a host's Content Security
 * Policy forbids the threads' blob workers); the threaded build with `threads` workers (default:
 * the cores, at most MAX_THREADS). Resolves to {bindings, build, threads}: the build's wasm-bindgen
 * module, its name, and how many threads compute.
 */
export async function startWasm({ build, threads } = {}) {
  const available = availableBuilds();
  if (build !== undefined && !available.includes(build)) throw unavailable(build);
  const candidates = build === undefined ? available : [build];
  let failure;
  for (const candidate of candidates) {
    try {
      return await start(candidate, candidate === WasmBuild.THREADS ? threadCount(threads) : 1);
    } catch (e) {
      if (e instanceof AsrError) throw e;
      failure = e;
    }
  }
  const needs =
    failure instanceof WebAssembly.CompileError
      ? " It needs WebAssembly with SIMD: Chrome or Edge 91+, Firefox 89+ or Safari 16.4+."
      : "";
  throw new AsrError(ErrorKind.RECOGNIZER, `The recognizer could not start (${failure.message}).${needs}`);
}

async function start(build, threads) {
  const bindings = await BINDINGS[build]();
  await bindings.default();
  if (build === WasmBuild.THREADS) await bindings.initThreadPool(threads);
  return { bindings, build, threads };
}

function threadCount(requested) {
  if (requested === undefined) return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS));
  if (Number.isInteger(requested) && requested >= 1 && requested <= MAX_THREADS) return requested;
  throw new AsrError(ErrorKind.RECOGNIZER, `threads must be a whole number from 1 to ${MAX_THREADS} (got ${requested}).`);
}

function unavailable(build) {
  if (!(build in BINDINGS)) {
    return new AsrError(ErrorKind.RECOGNIZER, `Unknown wasm build "${build}" (one of ${Object.keys(BINDINGS).join(", ")}).`);
  }
  const why =
    build === WasmBuild.THREADS
      ? "threads need a cross-origin isolated page (served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp) and relaxed SIMD"
      : "this browser does not validate relaxed SIMD";
  return new AsrError(ErrorKind.RECOGNIZER, `The ${build} build cannot run here: ${why}.`);
}

const NAMES = { simd128: "wasm SIMD", relaxed: "wasm relaxed SIMD", threads: "wasm relaxed SIMD + threads" };

/** For people: "wasm relaxed SIMD + threads, 2 threads" from a worker's {build, threads}. */
export function describeWasm({ build, threads }) {
  return `${NAMES[build]}, ${threads} thread${threads === 1 ? "" : "s"}`;
}

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

// A module that exports relaxed SIMD's dot product of two splatted words, lane 0: it validates only
// where the engine has relaxed SIMD (Chromium does, Node 20 does not), and its answers tell how the
// engine computes the product where the standard lets engines differ (see relaxedSimd).
//   (module (func (export "dot") (param i32 i32) (result i32)
//     local.get 0  i32x4.splat  local.get 1  i32x4.splat  i32.const 0  i32x4.splat
//     i32x4.relaxed_dot_i8x16_i7x16_add_s  i32x4.extract_lane 0))
// prettier-ignore
const RELAXED_DOT_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type section: (i32, i32) -> i32
  0x03, 0x02, 0x01, 0x00, //                         function section: one function of type 0
  0x07, 0x07, 0x01, 0x03, 0x64, 0x6f, 0x74, 0x00, 0x00, // export section: "dot", function 0
  0x0a, 0x16, 0x01, 0x14, 0x00, //                   code section: one body of 20 bytes, no locals
  0x20, 0x00, 0xfd, 0x11, //                         local.get 0, i32x4.splat
  0x20, 0x01, 0xfd, 0x11, //                         local.get 1, i32x4.splat
  0x41, 0x00, 0xfd, 0x11, //                         i32.const 0, i32x4.splat
  0xfd, 0x93, 0x02, //                               i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x113)
  0xfd, 0x1b, 0x00, //                               i32x4.extract_lane 0
  0x0b, //                                           end
]);

/**
 * Whether the engine has relaxed SIMD, and whether its dot product reads the second operand as
 * unsigned bytes without saturating, as x86's vpdpbusd does (Chromium on CPUs with AVX-VNNI): only
 * there does the relaxed build's int8 kernel take its fast path (crate/src/wav2vec2/kernels/int8/
 * wasm.rs asks the same question); elsewhere it widens, a little slower than the SIMD128 build.
 */
export function relaxedSimd() {
  if (!WebAssembly.validate(RELAXED_DOT_PROBE)) return { available: false, exactDot: false };
  const { dot } = new WebAssembly.Instance(new WebAssembly.Module(RELAXED_DOT_PROBE)).exports;
  // saturating pmaddubsw gives 65534, signed sdot -508 and 512
  const exactDot = dot(0x7f7f7f7f, -1) === 4 * 127 * 255 && dot(0x80808080 | 0, -1) === -4 * 128 * 255;
  return { available: true, exactDot };
}

/** The builds this context can run, best first. */
export function availableBuilds() {
  const builds = [WasmBuild.SIMD128];
  const relaxed = relaxedSimd();
  if (!relaxed.available) return builds;
  if (relaxed.exactDot) builds.unshift(WasmBuild.RELAXED);
  else builds.push(WasmBuild.RELAXED);
  if (whyNoThreads() === null) builds.unshift(WasmBuild.THREADS);
  return builds;
}

/**
 * Why the threaded build cannot run in this context, for people, or null where it can: the page is
 * not cross-origin isolated, or it is but the engine gives no shared memory (WebKitGTK has no
 * SharedArrayBuffer even then), or it lacks relaxed SIMD, which that build is compiled with.
 */
export function whyNoThreads() {
  if (!globalThis.crossOriginIsolated) {
    return "the page is not cross-origin isolated (served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  let shared = false;
  try {
    shared = typeof SharedArrayBuffer === "function" && new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    shared = false;
  }
  if (!shared) return "this browser gives no shared WebAssembly memory, even to a cross-origin isolated page";
  if (!relaxedSimd().available) return "this browser has no relaxed SIMD, which the threaded build needs";
  return null;
}

/**
 * Loads and starts a build: `build` when given (an error if this context cannot run it), else the
 * best available (of the one-thread builds where `oneThread`), falling back to the next when one
 * fails to start (say, a host's Content Security Policy forbids the threads' blob workers); the
 * threaded build with `threads` workers (default: the cores, at most MAX_THREADS), calling
 * `onThreads(loaded, total)` before the workers start (0 of them) and once they have. Resolves to
 * {bindings, build, threads}: the build's wasm-bindgen module, its name, and how many threads compute.
 */
export async function startWasm({ build, threads, oneThread = false, onThreads } = {}) {
  const available = availableBuilds().filter((name) => !oneThread || name !== WasmBuild.THREADS);
  if (build !== undefined && !available.includes(build)) throw unavailable(build);
  const candidates = build === undefined ? available : [build];
  let failure;
  for (const candidate of candidates) {
    try {
      return await start(candidate, candidate === WasmBuild.THREADS ? threadCount(threads) : 1, onThreads);
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

async function start(build, threads, onThreads) {
  const bindings = await BINDINGS[build]();
  await bindings.default();
  if (build === WasmBuild.THREADS) {
    onThreads?.(0, threads);
    await bindings.initThreadPool(threads);
    onThreads?.(threads, threads);
  }
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
  const why = build === WasmBuild.THREADS ? whyNoThreads() : "this browser does not validate relaxed SIMD";
  return new AsrError(ErrorKind.RECOGNIZER, `The ${build} build cannot run here: ${why}.`);
}

const NAMES = { simd128: "wasm SIMD", relaxed: "wasm relaxed SIMD", threads: "wasm relaxed SIMD + threads" };

/** For people: "wasm relaxed SIMD + threads, 2 threads" from a worker's {build, threads}. */
export function describeWasm({ build, threads }) {
  return `${NAMES[build]}, ${threads} thread${threads === 1 ? "" : "s"}`;
}

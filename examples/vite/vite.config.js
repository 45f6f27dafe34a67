import { defineConfig } from "vite";

export default defineConfig({
  // sakha-asr's worker imports its wasm builds on demand: a code-split worker needs ES module output.
  worker: { format: "es" },
  // The dev server's dependency pre-bundling would move the package's files away from the worker,
  // wasm and worklet they find next to themselves (new URL(…, import.meta.url)).
  optimizeDeps: { exclude: ["sakha-asr"] },
});

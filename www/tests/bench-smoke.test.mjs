// Every benchmark script in its smoke mode (`--smoke`: the built-in demo package, seconds of audio,
// one repeat, no torch), so that none rots between the rare full runs: each must finish and write its
// section of BENCHMARKS.md, with a table, to a file of its own here (never to BENCHMARKS.md).
// scripts/test-web.sh has built the wasm package and a CLI (SAKHA_ASR_CLI) of the current source just
// before: SAKHA_ASR_PREBUILT makes the scripts run those rather than build again (scripts/bench-common.sh).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OUT = mkdtempSync(join(tmpdir(), "sakha-asr-bench-smoke-"));
after(() => rmSync(OUT, { recursive: true, force: true }));
const env = process.env.SAKHA_ASR_CLI ? { ...process.env, SAKHA_ASR_PREBUILT: "1" } : process.env;

/** Runs `script` with `args`; its output, or a failure that shows the end of it. */
function run(script, ...args) {
  const result = spawnSync(join(ROOT, "scripts", script), args, { cwd: ROOT, env, encoding: "utf8", maxBuffer: 1 << 26 });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, `${script} ${args.join(" ")} exited with ${result.status ?? result.signal}:\n${output.slice(-4000)}`);
  return output;
}

/** The section between `begin` and its end marker in `text` holds a table: header, rule and a row. */
function assertTable(text, begin, end) {
  const from = text.indexOf(begin);
  assert.ok(from >= 0, `no ${begin} in:\n${text}`);
  const lines = text.slice(from, end ? text.indexOf(end, from) : undefined).split("\n");
  const rule = lines.findIndex((line) => /^\|( ?-+ ?\|)+$/.test(line));
  assert.ok(rule > 0 && lines[rule - 1].startsWith("| ") && lines[rule + 1]?.startsWith("| "), `no table after ${begin}:\n${lines.join("\n")}`);
}

/** `script --smoke --out FILE` writes its section, between `begin` and `end`, with a table. */
function smokeTest(script, begin, end) {
  test(`${script} --smoke`, { timeout: 300_000 }, () => {
    const out = join(OUT, `${script}.md`);
    run(script, "--smoke", "--out", out);
    assertTable(readFileSync(out, "utf8"), begin, end);
  });
}

const markers = (name) => [`<!-- ${name}: begin -->`, `<!-- ${name}: end -->`];
smokeTest("bench-native.sh", "# Benchmarks", "## Accuracy");
smokeTest("bench-decoding.sh", ...markers("bench-decoding.mjs"));
smokeTest("bench-long-files.sh", ...markers("bench-long-files.mjs"));
smokeTest("bench-streaming.sh", ...markers("bench-streaming.mjs"));
smokeTest("bench-live.sh", ...markers("bench-live.mjs"));
smokeTest("measure-lm.sh", ...markers("measure-lm.sh"));

test("bench-browser.sh --smoke", { timeout: 300_000 }, () => {
  const out = join(OUT, "bench-browser.md");
  run("bench-browser.sh", "--smoke", "--out", out);
  const text = readFileSync(out, "utf8");
  assertTable(text, ...markers("bench-browser.mjs"));
  assertTable(text, ...markers("bench-browser.mjs files"));
});

test("measure-chunking.sh --smoke", { timeout: 300_000 }, () => {
  // It prints its lines, one per configuration, and writes no section.
  assert.match(run("measure-chunking.sh", "--smoke"), /argmax agreement [\d.]+ %, CER [\d.]+ %/);
});

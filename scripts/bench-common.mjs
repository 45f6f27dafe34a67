// What the benchmark scripts' Node halves share. Each script owns a section of BENCHMARKS.md between
// two marker comments of its own.

import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
/** The native CLI the shell half built (scripts/bench-common.sh's bench_build exports its path). */
export const CLI = process.env.SAKHA_ASR_CLI ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "release/sakha-asr");

/** Replaces the section of `file` between `begin` and `end` (markers included in `section`), or appends it. */
export function writeSection(file, section, begin, end) {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // No file yet: the section is all of it.
  }
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  text =
    from >= 0 && to > from
      ? text.slice(0, from) + section + text.slice(to + end.length).replace(/^\n/, "")
      : `${text.trimEnd()}${text.trim() ? "\n\n" : ""}${section}`;
  writeFileSync(file, text);
}

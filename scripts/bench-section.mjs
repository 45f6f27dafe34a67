// Each benchmark script owns a section of BENCHMARKS.md between two marker comments of its own.

import { readFileSync, writeFileSync } from "node:fs";

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

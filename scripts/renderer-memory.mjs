// Chromium's renderer processes and their memory, read from /proc (Linux): what the benchmarks and
// the browser tests that bound a page's memory measure.

import { readFileSync, readdirSync } from "node:fs";

/** A number field ("VmHWM", "PPid", ...) of a /proc/PID/status text, in its own unit (kB for sizes); 0 where absent. */
export const statusField = (status, key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, "m"))?.[1] ?? 0);

function processes() {
  const list = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, "utf8");
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      list.push({ pid: Number(name), ppid: statusField(status, "PPid"), hwmKb: statusField(status, "VmHWM"), rssKb: statusField(status, "VmRSS"), cmdline });
    } catch {
      // The process ended while we read it.
    }
  }
  return list;
}

/** Chromium renderer processes started (through the browser and its zygote) by this Node process. */
export function renderers() {
  const all = processes();
  const ours = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!ours.has(p.pid) && ours.has(p.ppid)) ours.add(p.pid), (grew = true);
  }
  return all.filter((p) => ours.has(p.pid) && p.cmdline.includes("--type=renderer"));
}

/** What this Node process's Chromium renderers hold in memory now (their RSS), in MB. */
export function rendererRssMb() {
  return renderers().reduce((sum, p) => sum + p.rssKb, 0) / 1024;
}

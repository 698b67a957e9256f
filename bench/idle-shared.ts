// What bench/idle.ts and bench/idle-procs.ts share: progress lines, percentiles, figures as
// text, a kernel setting, and the day's results file their reports are added to.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A progress line on stderr, with the time. */
export function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const v = values.slice().sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtKiB(kib: number | undefined): string {
  if (kib === undefined) return '-';
  return kib < 1024 ? `${kib.toFixed(0)} KiB` : `${(kib / 1024).toFixed(1)} MiB`;
}

export function sysctl(name: string): string {
  try {
    return fs.readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Adds the report to the day's file (bench/results/DATE-idle.md), or to `out`; returns where it went. */
export function saveReport(report: string, started: Date, out: string | undefined): string {
  const file = out ?? path.join(HERE, 'results', `${started.toISOString().slice(0, 10)}-idle.md`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // several people run the benchmarks on the same day: add to the day's file, never replace it
  if (fs.existsSync(file)) fs.appendFileSync(file, `\n---\n\n${report}`);
  else fs.writeFileSync(file, report);
  return file;
}

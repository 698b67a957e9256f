// Finding the shortest command sequence that still fails: split a session's history into
// commands, replay it on a fresh server, and cut it down by delta debugging (ddmin).

import { announcement } from './wire.js';
import type { FindingKind } from './driver.js';

/** Split one case's bytes into commands the way the client frames them. */
export function splitCommands(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  let pos = 0;
  while (pos < data.length) {
    const lf = data.indexOf(0x0a, pos);
    if (lf === -1) break;
    const ann = announcement(data.subarray(pos, lf + 1));
    pos = lf + 1;
    if (ann !== null) {
      if (ann.size > data.length - pos) {
        pos = data.length;
        break;
      }
      pos += ann.size;
      continue;
    }
    out.push(data.subarray(start, pos));
    start = pos;
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

/** Problems that count as the same failure when replayed. */
export function sameFailure(a: FindingKind, b: FindingKind): boolean {
  const group = (k: FindingKind) => (k === 'exit' || k === 'dropped' ? 'crash' : k === 'stall' || k === 'no-greeting' ? 'stall' : k);
  return group(a) === group(b);
}

/**
 * Zeller's ddmin over `units`: the smallest subsequence (1-minimal, within the time
 * budget) for which `fails` still holds. `fails(units)` must already be true.
 */
export async function ddmin<T>(units: T[], fails: (units: T[]) => Promise<boolean>, deadline: number): Promise<T[]> {
  let current = units;
  let n = 2;
  while (current.length >= 2 && Date.now() < deadline) {
    const size = Math.ceil(current.length / n);
    const chunks: T[][] = [];
    for (let i = 0; i < current.length; i += size) chunks.push(current.slice(i, i + size));
    let reduced = false;
    for (let i = 0; i < chunks.length && Date.now() < deadline; i++) {
      if (await fails(chunks[i])) {
        current = chunks[i];
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      for (let i = 0; i < chunks.length && Date.now() < deadline; i++) {
        const complement = chunks.filter((_, j) => j !== i).flat();
        if (await fails(complement)) {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, n * 2);
    }
  }
  return current;
}

/** A command as a readable line for reports: escapes, long runs shown as a count. */
export function showCommand(cmd: Buffer, max = 300): string {
  let text = cmd.toString('latin1').replace(/(.)\1{19,}/gs, (run, c: string) => `${c}{x${run.length}}`);
  text = JSON.stringify(text);
  return text.length > max ? `${text.slice(0, max)}... (${cmd.length} bytes)` : text;
}

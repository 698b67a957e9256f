// The full-text index alone (issue 14): how long indexing a folder takes, how much it delays
// another session's commands meanwhile, and SEARCH TEXT from the full index.
//
//   node --import tsx bench/fts.ts [--n 10000] [--interval 20] [--baseline 15] [--searches 7]
//
// On one fresh copy of the generated corpus, our imapd (PREAUTH over stdio, dist/):
//   1. a server with IMAP_FTS_INDEX=0 on a second copy: SELECT INBOX, UID SEARCH TEXT of the
//      rare word by scanning (its answer is the reference);
//   2. a server with the index on: SELECT INBOX starts the indexing; until the index has every
//      message, NOOPs to it and to the server without index in turn, every `interval` ms: the
//      second is the baseline (how long a NOOP takes on this machine under the same load);
//   3. the same server, index full: UID SEARCH TEXT of the rare word (the first separately: it
//      may read what the index added), `searches` times, and of the 10 % word; then NOOPs to
//      both servers for `baseline` seconds;
//   4. `--fresh` new processes on the indexed copy, one after another (as stdio imapd runs one
//      per session): SELECT INBOX and the first UID SEARCH TEXT of the rare word in each, which
//      reads the folder's coverage from the index file.
// Every figure comes with the 1-minute load average. IMAPD_BENCH_NODE_ARGS adds node options to
// the indexing server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCorpus, freshCopy, BENCH_ROOT } from './corpus.js';
import { indexBytes, indexedCount } from './fts-files.js';
import { quote, spawnPreauth, stopProcess, type ServerProcess } from './imap-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = process.env.IMAPD_BENCH_DIST ?? path.join(HERE, '..', 'dist');
const NODE_ARGS = (process.env.IMAPD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const RARE_WORD = 'quindlefax';
const COMMON_WORD = 'zorbulate';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const n = arg('--n', 10000);
const intervalMs = arg('--interval', 20);
const baselineS = arg('--baseline', 15);
const searches = arg('--searches', 7);
const fresh = arg('--fresh', 5);

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const load = (): string => os.loadavg()[0]!.toFixed(2);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function describe(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const over20 = s.filter((v) => v > 20).length;
  return `n=${s.length} p50 ${percentile(s, 50).toFixed(1)} p90 ${percentile(s, 90).toFixed(1)} p99 ${percentile(s, 99).toFixed(1)} max ${s[s.length - 1]!.toFixed(1)} ms; over 20 ms: ${over20}`;
}



async function start(maildir: string, fts: boolean, logFile: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  const file = path.join(DIST, 'server/bin/imapd.js');
  const proc = spawnPreauth([process.execPath, ...nodeArgs, file, maildir], 'ours', logFile, { ...process.env, IMAP_FTS_INDEX: fts ? '1' : '0' });
  await proc.client.greeting(60_000);
  return proc;
}

async function ok(proc: ServerProcess, command: string, onUntagged?: (text: string) => void): Promise<number> {
  const r = await proc.client.command(command, { timeoutMs: 600_000, onUntagged: onUntagged ? (resp) => onUntagged(resp.text) : undefined });
  if (r.status !== 'OK') throw new Error(`${command}: ${r.status} ${r.text}`);
  return r.ms;
}

/** NOOPs to each server in turn, every `interval` ms, until `until()`: the delays of each. */
async function noops(procs: ServerProcess[], until: () => boolean): Promise<number[][]> {
  const ms: number[][] = procs.map(() => []);
  while (!until()) {
    for (let i = 0; i < procs.length; i++) ms[i]!.push(await ok(procs[i]!, 'NOOP'));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return ms;
}

async function searchUids(proc: ServerProcess, word: string): Promise<{ ms: number; uids: string }> {
  let uids = '';
  const ms = await ok(proc, `UID SEARCH TEXT ${quote(word)}`, (t) => {
    const m = /^\* SEARCH\b(.*)$/im.exec(t);
    if (m) uids = m[1]!.trim();
  });
  return { ms, uids };
}

async function main(): Promise<void> {
  const corpus = ensureCorpus(n, log);
  const maildir = path.join(BENCH_ROOT, 'work', `fts-n${n}`);
  const plainDir = path.join(BENCH_ROOT, 'work', `fts-plain-n${n}`);
  const logDir = path.join(BENCH_ROOT, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  log(`copying the corpus of ${n} twice (load ${load()})`);
  freshCopy(corpus, maildir);
  freshCopy(corpus, plainDir);

  // 1. A server without an index on the other copy: the reference answer, and the baseline.
  const plain = await start(plainDir, false, path.join(logDir, `fts-plain-n${n}.log`));
  await ok(plain, 'SELECT INBOX');
  const scan = await searchUids(plain, RARE_WORD);
  log(`UID SEARCH TEXT ${RARE_WORD} by scanning: ${scan.ms.toFixed(1)} ms (load ${load()})`);

  // 2. Indexing from the first SELECT; meanwhile NOOPs to both servers in turn (same load).
  const proc = await start(maildir, true, path.join(logDir, `fts-n${n}.log`), NODE_ARGS);
  const selectedAt = Date.now();
  await ok(proc, 'SELECT INBOX');
  const [during, beside] = await noops([proc, plain], () => indexedCount(maildir) >= n);
  const buildS = (Date.now() - selectedAt) / 1000;
  log(`indexing ${n} messages: ${buildS.toFixed(1)} s from SELECT (load ${load()}); index ${(indexBytes(maildir) / 1048576).toFixed(1)} MiB = ${((100 * indexBytes(maildir)) / corpus.manifest.totalBytes).toFixed(1)} % of the mail`);
  log(`NOOP while indexing (load ${load()}): ${describe(during!)}`);
  log(`NOOP meanwhile, server without index (load ${load()}): ${describe(beside!)}`);

  // 3. Searches from the full index (the first one separately), then both servers idle.
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the last batch's close
  const times: number[] = [];
  for (let i = 0; i < searches; i++) {
    const r = await searchUids(proc, RARE_WORD);
    if (r.uids !== scan.uids) log(`DIFFERENT ANSWER from the index: ${r.uids.split(' ').length} UIDs against ${scan.uids.split(' ').length}`);
    if (i === 0) log(`UID SEARCH TEXT ${RARE_WORD} from the index, first: ${r.ms.toFixed(1)} ms (load ${load()})`);
    else times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  if (times.length > 0) log(`UID SEARCH TEXT ${RARE_WORD} from the index, then: median ${percentile(times, 50).toFixed(1)} ms, min ${times[0]!.toFixed(1)}, all ${times.map((t) => t.toFixed(1)).join(' ')} (load ${load()}); ${scan.uids.split(' ').length} hits`);
  const common = await searchUids(proc, COMMON_WORD);
  log(`UID SEARCH TEXT ${COMMON_WORD} from the index: ${common.ms.toFixed(1)} ms (load ${load()}); ${common.uids.split(' ').length} hits`);
  const end = Date.now() + baselineS * 1000;
  const [after, besideAfter] = await noops([proc, plain], () => Date.now() > end);
  log(`NOOP after indexing (load ${load()}): ${describe(after!)}`);
  log(`NOOP meanwhile, server without index (load ${load()}): ${describe(besideAfter!)}`);
  for (const p of [proc, plain]) {
    await ok(p, 'LOGOUT');
    await stopProcess(p.child);
  }

  // 4. The first search of new processes on the full index.
  const firsts: number[] = [];
  for (let i = 0; i < fresh; i++) {
    const p = await start(maildir, true, path.join(logDir, `fts-fresh-n${n}.log`), NODE_ARGS);
    await ok(p, 'SELECT INBOX');
    const r = await searchUids(p, RARE_WORD);
    if (r.uids !== scan.uids) log(`DIFFERENT ANSWER from a new process: ${r.uids.split(' ').length} UIDs against ${scan.uids.split(' ').length}`);
    firsts.push(r.ms);
    await ok(p, 'LOGOUT');
    await stopProcess(p.child);
  }
  if (firsts.length > 0) {
    const sorted = [...firsts].sort((a, b) => a - b);
    log(`UID SEARCH TEXT ${RARE_WORD}, first in a new process: median ${percentile(sorted, 50).toFixed(1)} ms, all ${firsts.map((t) => t.toFixed(1)).join(' ')} (load ${load()})`);
  }
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});

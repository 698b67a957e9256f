// IDLE with one server process per client (issue 11): N PREAUTH processes on stdin/stdout, each
// SELECTed and in IDLE on one folder of --messages messages, while an outside writer delivers
// --deliveries messages one after another (tmp/ then a rename into new/, as a delivery agent
// does). Latency = from just before the rename to each process's `* n EXISTS`. Ours is
// dist/server/bin/imapd.js, Dovecot its imap binary (test/peers/dovecot-preauth.sh), in turn on
// fresh copies of the same Maildir.
//
//   npm run bench:idle -- --procs 50,100 [--servers ours,dovecot] [--messages 1000] [--deliveries 10]
//   node --import tsx bench/idle-procs.ts --procs 50 [same options] [--out FILE]
//
// Also: start-up of one process alone (time to the greeting, to SELECT's reply, RSS after SELECT),
// memory of every process (RSS, and PSS from /proc/PID/smaps_rollup), the CPU all of them spent
// on the deliveries, and the load average, since the machine may be shared. Every wait is bounded.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BENCH_ROOT, ensureCorpus } from './corpus.js';
import { fmtKiB, fmtMs, log, percentile, saveReport, sleep, sysctl } from './idle-shared.js';
import { spawnPreauth, stopProcess, type CommandResult, type ImapResponse, type ServerProcess } from './imap-client.js';
import { memAvailableKiB, memoryOfPids } from './procs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const PEERS = process.env.IMAPD_PEERS ?? path.join(REPO, 'test', 'peers');
const DIST = process.env.IMAPD_BENCH_DIST ?? path.join(REPO, 'dist');
const ROOT = path.join(BENCH_ROOT, 'idle-procs');
/** IMAPD_BENCH_NODE_ARGS: extra node options for our imapd (e.g. --cpu-prof). */
const NODE_ARGS = (process.env.IMAPD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const DEADLINE_MS = 30_000;
const SPAWN_CONCURRENCY = 8;
const START_SAMPLES = 5;

export type ProcServer = 'ours' | 'dovecot';
const TITLES: Record<ProcServer, string> = { ours: 'ours', dovecot: 'Dovecot' };

export interface ProcsOptions {
  procs: number[];
  servers: ProcServer[];
  messages: number;
  deliveries: number;
  out?: string;
}

interface StartFigures {
  greetingMs: number;
  selectMs: number;
  rssKiB: number;
  pssKiB: number;
}

interface ProcsResult {
  server: ProcServer;
  wanted: number;
  taken: number;
  error?: string;
  start?: StartFigures;
  /** spawning all N and getting them into IDLE */
  spawnAllMs?: number;
  rssKiB: number[];
  pssKiB: number[];
  latenciesMs: number[];
  missed: number;
  expected: number;
  /** CPU seconds all server processes used from the first delivery to the last notification */
  cpuSeconds?: number;
  /** processes that logged falling back to polling (inotify limits) */
  polling: number;
  load: { before: string; after: string };
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

// ---------- the Maildir and the deliveries ----------

function buildMaildir(dest: string, messages: number): void {
  const corpus = ensureCorpus(messages, log);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dest, sub), { mode: 0o755 });
  for (const name of fs.readdirSync(path.join(corpus.dir, 'cur'))) {
    fs.copyFileSync(path.join(corpus.dir, 'cur', name), path.join(dest, 'cur', name.replace(/:2,.*$/, ':2,S')));
  }
}

let delivered = 0;
/** One message the Maildir way; returns the time just before the rename into new/. */
function deliver(folder: string): number {
  const n = ++delivered;
  const body = `From: Delivery Agent <mda@example.org>\nTo: alice@example.com\nSubject: delivery ${n}\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\nMessage-ID: <procs.${n}.${process.pid}@example.org>\n\nNew mail number ${n}.\n`;
  const name = `${Math.floor(Date.now() / 1000)}.M${n}P${process.pid}.bench-mda,S=${Buffer.byteLength(body)}`;
  const tmp = path.join(folder, 'tmp', name);
  fs.writeFileSync(tmp, body);
  const st = fs.statSync(folder); // Dovecot's Maildir belongs to the mail user
  fs.chownSync(tmp, st.uid, st.gid);
  const t0 = performance.now();
  fs.renameSync(tmp, path.join(folder, 'new', name));
  return t0;
}

// ---------- processes ----------

function command(server: ProcServer, maildir: string): string[] {
  if (server === 'ours') return [process.execPath, ...NODE_ARGS, path.join(DIST, 'server/bin/imapd.js'), maildir];
  return ['/bin/bash', path.join(PEERS, 'dovecot-preauth.sh'), maildir];
}

interface Idler {
  proc: ServerProcess;
  exists: number;
  want?: number;
  t0?: number;
  arrivedAt?: number;
  idle?: Promise<CommandResult>;
}

const EXISTS = /^\* (\d+) EXISTS/i;

/** Starts one process, SELECTs INBOX and enters IDLE; with timings of each step. */
async function startIdler(server: ProcServer, maildir: string, logFile: string): Promise<{ idler: Idler; greetingMs: number; selectMs: number }> {
  const env = server === 'dovecot' ? { ...process.env, DOVECOT_BENCH_STATE: path.join(ROOT, 'dovecot-state'), DOVECOT_NS_PREFIX: '' } : process.env;
  const t = performance.now();
  const proc = spawnPreauth(command(server, maildir), TITLES[server], logFile, env);
  const idler: Idler = { proc, exists: 0 };
  try {
    const g = await proc.client.greeting(60_000);
    if (!/^\* PREAUTH\b/i.test(g.text)) throw new Error(`greeting: ${g.text.slice(0, 80)}`);
    const greetingMs = performance.now() - t;
    const sel = await proc.client.command('SELECT INBOX', {
      timeoutMs: 60_000,
      onUntagged: (r) => {
        const m = EXISTS.exec(r.text);
        if (m) idler.exists = Number(m[1]);
      },
    });
    if (sel.status !== 'OK') throw new Error(`SELECT: ${sel.text.slice(0, 80)}`);
    const onUntagged = (r: ImapResponse): void => {
      const m = EXISTS.exec(r.text);
      if (!m) return;
      idler.exists = Math.max(idler.exists, Number(m[1]));
      if (idler.want !== undefined && idler.arrivedAt === undefined && idler.exists >= idler.want) idler.arrivedAt = r.at;
    };
    proc.client.onUnsolicited = onUntagged;
    const go = proc.client.waitFor((r) => r.text.startsWith('+'), 30_000, 'IDLE continuation');
    idler.idle = proc.client.command('IDLE', { timeoutMs: 3 * 3600_000, onUntagged });
    idler.idle.catch(() => undefined);
    await Promise.race([go, idler.idle.then((r) => Promise.reject(new Error(`IDLE: ${r.status} ${r.text.slice(0, 80)}`)))]);
    return { idler, greetingMs, selectMs: sel.ms };
  } catch (err) {
    await stopProcess(proc.child, 0);
    throw err;
  }
}

async function stopIdler(idler: Idler): Promise<void> {
  const client = idler.proc.client;
  if (!client.isClosed && idler.idle) {
    client.write('DONE\r\n');
    await Promise.race([idler.idle.catch(() => undefined), sleep(3000)]);
    if (!client.isClosed) await client.command('LOGOUT', { timeoutMs: 3000 }).catch(() => undefined);
  }
  await stopProcess(idler.proc.child, 2000);
}

/** utime + stime of a process in seconds (0 when it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Start-up of one process alone, the median of a few (nothing else of ours running). */
async function measureStart(server: ProcServer, maildir: string, logFile: string): Promise<StartFigures> {
  const samples: StartFigures[] = [];
  for (let i = 0; i < START_SAMPLES; i++) {
    const { idler, greetingMs, selectMs } = await startIdler(server, maildir, logFile);
    await sleep(300);
    const mem = memoryOfPids([idler.proc.pid]);
    samples.push({ greetingMs, selectMs, rssKiB: mem.rssKiB, pssKiB: mem.pssKiB });
    await stopIdler(idler);
  }
  const median = (f: (s: StartFigures) => number): number => samples.map(f).sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
  return { greetingMs: median((s) => s.greetingMs), selectMs: median((s) => s.selectMs), rssKiB: median((s) => s.rssKiB), pssKiB: median((s) => s.pssKiB) };
}

async function runOne(server: ProcServer, n: number, opts: ProcsOptions): Promise<ProcsResult> {
  const result: ProcsResult = { server, wanted: n, taken: 0, rssKiB: [], pssKiB: [], latenciesMs: [], missed: 0, expected: 0, polling: 0, load: { before: loadAverage(), after: '' } };
  const maildir = path.join(ROOT, `${server}-maildir`);
  const logFile = path.join(ROOT, `${server}.log`);
  fs.writeFileSync(logFile, '');
  log(`${TITLES[server]}: ${n} processes: preparing a ${opts.messages}-message Maildir (load ${result.load.before})`);
  buildMaildir(maildir, opts.messages);
  const idlers: Idler[] = [];
  try {
    // the first process makes the UID database (and our listing); the start-up figures are of later ones
    const first = await startIdler(server, maildir, logFile);
    await sleep(1500);
    await stopIdler(first.idler);
    result.start = await measureStart(server, maildir, logFile);
    log(`${TITLES[server]}: start-up alone: greeting ${fmtMs(result.start.greetingMs)}, SELECT ${fmtMs(result.start.selectMs)}, RSS ${fmtKiB(result.start.rssKiB)} (PSS ${fmtKiB(result.start.pssKiB)})`);

    const t = performance.now();
    let firstError = '';
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(SPAWN_CONCURRENCY, n) }, async () => {
      while (next < n && !firstError) {
        next++;
        if (memAvailableKiB() < 2 * 1024 * 1024) {
          firstError = 'less than 2 GiB of memory left';
          return;
        }
        try {
          idlers.push((await startIdler(server, maildir, logFile)).idler);
        } catch (err) {
          firstError ||= (err as Error).message.slice(0, 160);
        }
      }
    }));
    result.taken = idlers.length;
    result.spawnAllMs = performance.now() - t;
    if (firstError) result.error = firstError;
    log(`${TITLES[server]}: ${idlers.length} of ${n} in IDLE after ${fmtMs(result.spawnAllMs)}${firstError ? ` (${firstError})` : ''}`);
    if (!idlers.length) return result;
    await sleep(3000); // let start-up work (listing reads, cache writes, GC) settle
    for (const idler of idlers) {
      const m = memoryOfPids([idler.proc.pid]);
      if (m.processes) {
        result.rssKiB.push(m.rssKiB);
        result.pssKiB.push(m.pssKiB);
      }
    }

    const pids = idlers.map((i) => i.proc.pid);
    const cpuBefore = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    for (let d = 0; d < opts.deliveries; d++) {
      for (const idler of idlers) {
        idler.want = idler.exists + 1;
        idler.arrivedAt = undefined;
      }
      const t0 = deliver(maildir);
      for (const idler of idlers) idler.t0 = t0;
      for (;;) {
        const now = performance.now();
        if (!idlers.some((i) => i.arrivedAt === undefined && !i.proc.client.isClosed && now - t0 < DEADLINE_MS)) break;
        await sleep(10);
      }
      const round: number[] = [];
      for (const idler of idlers) {
        result.expected++;
        if (idler.arrivedAt !== undefined && idler.arrivedAt - t0 <= DEADLINE_MS) round.push(idler.arrivedAt - t0);
        else result.missed++;
        idler.want = undefined;
      }
      result.latenciesMs.push(...round);
      log(`${TITLES[server]}: delivery ${d + 1}: ${round.length} of ${idlers.length} told, p50 ${fmtMs(percentile(round, 50))}, max ${fmtMs(percentile(round, 100))} (load ${os.loadavg()[0]!.toFixed(2)})`);
      await sleep(500);
    }
    result.cpuSeconds = pids.reduce((s, p) => s + cpuSeconds(p), 0) - cpuBefore;
  } catch (err) {
    result.error = (err as Error).message.replace(/\s+/g, ' ').slice(0, 200);
    log(`${TITLES[server]}: ${result.error}`);
  } finally {
    result.load.after = loadAverage();
    await Promise.all(idlers.map((i) => stopIdler(i)));
    result.polling = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => /polling instead/i.test(l)).length;
    fs.rmSync(maildir, { recursive: true, force: true });
  }
  return result;
}

// ---------- report ----------

const mean = (v: number[]): number | undefined => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined);

function table(results: ProcsResult[]): string {
  const cols = results.map((r) => `${TITLES[r.server]}, ${r.wanted}`);
  const rows: [string, (r: ProcsResult) => string][] = [
    ['processes in IDLE', (r) => `${r.taken} of ${r.wanted}${r.error ? ` (${r.error})` : ''}`],
    ['one process alone: greeting / SELECT', (r) => (r.start ? `${fmtMs(r.start.greetingMs)} / ${fmtMs(r.start.selectMs)}` : '-')],
    ['one process alone: RSS (PSS) after SELECT', (r) => (r.start ? `${fmtKiB(r.start.rssKiB)} (${fmtKiB(r.start.pssKiB)})` : '-')],
    ['all N started and in IDLE', (r) => fmtMs(r.spawnAllMs)],
    ['RSS per process, mean / max', (r) => `${fmtKiB(mean(r.rssKiB))} / ${fmtKiB(percentile(r.rssKiB, 100))}`],
    ['PSS per process, mean', (r) => fmtKiB(mean(r.pssKiB))],
    ['delivery -> EXISTS: p50', (r) => fmtMs(percentile(r.latenciesMs, 50))],
    ['delivery -> EXISTS: p99', (r) => fmtMs(percentile(r.latenciesMs, 99))],
    ['delivery -> EXISTS: max', (r) => fmtMs(percentile(r.latenciesMs, 100))],
    [`missed (not told within ${DEADLINE_MS / 1000} s)`, (r) => `${r.missed} of ${r.expected}`],
    ['CPU of all processes over the deliveries', (r) => (r.cpuSeconds === undefined ? '-' : `${r.cpuSeconds.toFixed(2)} s`)],
    ['processes polling (inotify limit)', (r) => String(r.polling)],
    ['load average before / after (1, 5, 15 min)', (r) => `${r.load.before} / ${r.load.after}`],
  ];
  return [
    `| figure | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    ...rows.map(([name, cell]) => `| ${name} | ${results.map(cell).join(' | ')} |`),
  ].join('\n');
}

export async function runProcs(opts: ProcsOptions): Promise<void> {
  fs.mkdirSync(ROOT, { recursive: true, mode: 0o755 });
  fs.chmodSync(BENCH_ROOT, 0o755);
  const started = new Date();
  const results: ProcsResult[] = [];
  for (const n of opts.procs) for (const server of opts.servers) results.push(await runOne(server, n, opts));
  const report = [
    `## IDLE with one process per client, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, inotify max_user_instances ${sysctl('fs/inotify/max_user_instances')}; ` +
      `shared with other work (see the load averages). One folder (INBOX) of ${opts.messages} messages; ${opts.deliveries} deliveries one after another ` +
      `(tmp/ then rename into new/), each waited for by every process; latency from just before the rename to each process's \`* n EXISTS\`. ` +
      `Ours: \`node dist/server/bin/imapd.js MAILDIR\`${NODE_ARGS.length ? ` with ${NODE_ARGS.join(' ')}` : ''}; Dovecot: its imap binary by test/peers/dovecot-preauth.sh. ` +
      `RSS and PSS from /proc/PID/status and smaps_rollup after 3 s in IDLE.`,
    `Command: \`npm run bench:idle -- --procs ${opts.procs.join(',')} --servers ${opts.servers.join(',')} --messages ${opts.messages} --deliveries ${opts.deliveries}\``,
    '',
    table(results),
    '',
  ].join('\n');
  process.stdout.write('\n' + report);
  const out = saveReport(report, started, opts.out);
  log(`written to ${path.relative(process.cwd(), out)}`);
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: --procs 50,100 [--servers ours,dovecot] [--messages 1000] [--deliveries 10] [--out FILE]\n`);
  process.exit(2);
}

/** Options of the process mode (shared with idle.ts, which hands over when it sees --procs). */
export function parseProcsArgs(argv: string[]): ProcsOptions {
  const o: ProcsOptions = { procs: [], servers: ['ours', 'dovecot'], messages: 1000, deliveries: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--procs') o.procs = v().split(',').filter(Boolean).map(Number);
    else if (a === '--servers') o.servers = v().split(',').map((s) => s.trim() as ProcServer);
    else if (a === '--messages') o.messages = Number(v());
    else if (a === '--deliveries') o.deliveries = Number(v());
    else if (a === '--out') o.out = v();
    else usage(`unknown option ${a} with --procs`);
  }
  if (!o.procs.length || o.procs.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) usage('--procs: 1..1000');
  if (o.servers.some((s) => !(s in TITLES))) usage('--servers with --procs: ours, dovecot');
  if (!Number.isInteger(o.messages) || o.messages < 1 || o.messages > 100_000) usage('--messages: 1..100000');
  if (!Number.isInteger(o.deliveries) || o.deliveries < 1 || o.deliveries > 1000) usage('--deliveries: 1..1000');
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runProcs(parseProcsArgs(process.argv.slice(2)));
}

// IMAP benchmark: our imapd against Courier-IMAP and Dovecot, in PREAUTH mode over stdin/stdout,
// each on a fresh copy of the same generated Maildir.
//
//   npm run bench -- [--sizes 10000,100000] [--runs 3] [--servers ours,courier,dovecot] [--timeout 600]
//
// Prints a markdown table of medians and writes it to bench/results/<date>-imap.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCorpus, freshCopy, BENCH_ROOT, TARGET_SENDER, type Corpus } from './corpus.js';
import { indexBytes, indexedCount } from './fts-files.js';
import { cpuMsOfPids, processTree } from './procs.js';
import { cpuTable, median, SERVER_TITLES, table, type Metric, type RunResult, type ServerName } from './run-report.js';
import { deflateStreams, ImapClient, memoryOf, quote, shebangOptions, spawnPreauth, stopProcess, TimeoutError, type CommandResult, type ServerProcess } from './imap-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const DIST = process.env.IMAPD_BENCH_DIST ?? path.join(REPO, 'dist');
const PEERS = process.env.IMAPD_PEERS ?? path.join(REPO, 'test', 'peers');

/** The word searched for: it occurs in about 10 % of the bodies (exact count in the manifest). */
const SEARCH_WORD = 'zorbulate';
/** A rarer word (about 1 % of the bodies), searched once our full-text index has read every message. */
const RARE_WORD = 'quindlefax';
/** Our full-text index file in the Maildir folder (server/maildir/fts/fts-db.ts). */
const BODY_FETCHES = 1000;
const STORE_RANGE = '1:1000';
const APPENDS = 200;
const APPEND_BYTES = 20 * 1024;
/** Messages written into new/ from outside (as a delivery agent does) between the two sessions. */
const DELIVERIES = 200;

/** "before": another build of ours (IMAPD_BENCH_BEFORE_DIST, e.g. a copy of dist/ made before a change), for before/after in one run. */
const BEFORE_DIST = process.env.IMAPD_BENCH_BEFORE_DIST;
/** Node options for "ours" only (IMAPD_BENCH_NODE_ARGS, e.g. "--max-semi-space-size=2"): to measure one against "before" = the same build. */
const OURS_NODE_ARGS = (process.env.IMAPD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Options {
  sizes: number[];
  runs: number;
  servers: ServerName[];
  timeoutMs: number;
  out: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { sizes: [10000], runs: 3, servers: ['ours', 'courier', 'dovecot'], timeoutMs: 600_000, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--sizes') opts.sizes = value().split(',').map((s) => Number(s.trim()));
    else if (a === '--runs') opts.runs = Number(value());
    else if (a === '--servers') opts.servers = value().split(',').map((s) => s.trim() as ServerName);
    else if (a === '--timeout') opts.timeoutMs = Number(value()) * 1000;
    else if (a === '--out') opts.out = value();
    else usage(`unknown option ${a}`);
  }
  if (opts.sizes.some((n) => !Number.isInteger(n) || n < 1000)) usage('--sizes: integers >= 1000');
  if (!Number.isInteger(opts.runs) || opts.runs < 1) usage('--runs: a positive integer');
  if (opts.servers.some((s) => !(s in SERVER_TITLES))) usage('--servers: ours, before, courier, dovecot');
  if (opts.servers.includes('before') && !BEFORE_DIST) usage('--servers before needs IMAPD_BENCH_BEFORE_DIST (a build of ours to compare with)');
  if (!(opts.timeoutMs > 0)) usage('--timeout: seconds');
  return opts;
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench -- [--sizes 10000,100000] [--runs 3] [--servers ours,courier,dovecot] [--timeout SECONDS] [--out FILE]\n`);
  process.exit(2);
}

function commandFor(server: ServerName, maildir: string): string[] {
  switch (server) {
    case 'ours': {
      const file = path.join(DIST, 'server/bin/imapd.js');
      return [process.execPath, ...shebangOptions(file), ...OURS_NODE_ARGS, file, maildir];
    }
    case 'before': {
      if (!BEFORE_DIST) throw new Error('the server "before" needs IMAPD_BENCH_BEFORE_DIST');
      const file = path.join(BEFORE_DIST, 'server/bin/imapd.js');
      return [process.execPath, ...shebangOptions(file), file, maildir];
    }
    case 'courier':
      return ['/bin/bash', path.join(PEERS, 'courier-preauth.sh'), maildir];
    case 'dovecot':
      return ['/bin/bash', path.join(PEERS, 'dovecot-preauth.sh'), maildir];
  }
}

// ---------- measurements ----------

const METRICS: Metric[] = [
  { key: 'select1', label: 'session 1: SELECT INBOX, cold', unit: 's', higherIsBetter: false },
  { key: 'fetchEnv1', label: 'FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE), first', unit: 's', higherIsBetter: false },
  { key: 'fetchEnvAgain', label: 'same again, same session (Dovecot\'s cache settles)', unit: 's', higherIsBetter: false },
  { key: 'bodystructure', label: 'FETCH 1:* BODYSTRUCTURE', unit: 's', higherIsBetter: false },
  { key: 'searchText', label: `UID SEARCH TEXT "${SEARCH_WORD}"`, unit: 's', higherIsBetter: false },
  { key: 'ftsBuild', label: 'full-text index of every message, in the background (ours; from the first SELECT)', unit: 's', higherIsBetter: false },
  { key: 'ftsNoop', label: 'slowest NOOP while the full-text index is filled (ours)', unit: 's', higherIsBetter: false },
  { key: 'ftsSize', label: 'full-text index size (ours)', unit: 'MiB', higherIsBetter: false },
  { key: 'searchRare', label: `UID SEARCH TEXT "${RARE_WORD}" (ours: from the full-text index)`, unit: 's', higherIsBetter: false },
  { key: 'searchFrom', label: `UID SEARCH FROM "${TARGET_SENDER.name}"`, unit: 's', higherIsBetter: false },
  { key: 'bodies', label: `UID FETCH ${BODY_FETCHES} spread UIDs BODY.PEEK[]`, unit: 'MB/s', higherIsBetter: true },
  { key: 'store', label: `UID STORE ${STORE_RANGE} +FLAGS (\\Seen)`, unit: 's', higherIsBetter: false },
  { key: 'append', label: `${APPENDS} x APPEND of ${APPEND_BYTES / 1024} KB (synchronizing literal)`, unit: 'msg/s', higherIsBetter: true },
  // The bodies FETCH again in a new session after COMPRESS DEFLATE (RFC 4978): MB/s of message
  // data (inflated). Last, as Courier has no COMPRESS and a failed step ends the run.
  { key: 'bodiesCompressed', label: `UID FETCH ${BODY_FETCHES} spread UIDs BODY.PEEK[] after COMPRESS DEFLATE`, unit: 'MB/s', higherIsBetter: true },
  { key: 'memory1', label: 'peak RSS, session 1 (VmHWM)', unit: 'MiB', higherIsBetter: false },
  { key: 'select2', label: `session 2, after ${DELIVERIES} deliveries into new/: SELECT INBOX`, unit: 's', higherIsBetter: false },
  { key: 'fetchEnv2', label: 'session 2: FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)', unit: 's', higherIsBetter: false },
  { key: 'memory2', label: 'peak RSS, session 2 (VmHWM)', unit: 'MiB', higherIsBetter: false },
];

/** What a run noticed about wrong answers (counts that do not match the corpus). */
const notes = new Set<string>();

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** A 20 KB message with CRLF line ends, different for each index. */
function appendMessage(i: number): Buffer {
  const head = `From: Bench Appender <appender@example.org>\r\nTo: alice@example.com\r\nSubject: appended message ${i}\r\n` +
    `Date: Mon, 1 Jul 2024 12:00:00 +0000\r\nMessage-ID: <append.${i}@example.org>\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const line = `Appended body line of message ${i}, filler text to reach twenty kilobytes.`.padEnd(76, '.') + '\r\n';
  let body = '';
  while (head.length + body.length + line.length <= APPEND_BYTES) body += line;
  body += 'x'.repeat(APPEND_BYTES - head.length - body.length - 2) + '\r\n';
  return Buffer.from(head + body, 'latin1');
}

/** Picks `count` UIDs spread evenly over the list. */
function spread(uids: number[], count: number): number[] {
  if (uids.length <= count) return uids.slice();
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(uids[Math.floor((i * uids.length) / count)]!);
  return out;
}

/** Compresses sorted UIDs into an IMAP sequence set. */
function uidSet(uids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    parts.push(i === j ? `${uids[i]}` : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const searchCount = (text: string): number => {
  const m = /^\* SEARCH\b(.*)$/im.exec(text);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean).length : 0;
};

class Session {
  private constructor(readonly server: ServerName, readonly proc: ServerProcess, private readonly timeoutMs: number) {}

  static async open(server: ServerName, maildir: string, logFile: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<Session> {
    const proc = spawnPreauth(commandFor(server, maildir), SERVER_TITLES[server], logFile, env);
    const session = new Session(server, proc, timeoutMs);
    // the peer scripts may chown a large tree before exec: allow that in the greeting wait
    const greeting = await proc.client.greeting(timeoutMs);
    if (!/^\* PREAUTH\b/i.test(greeting.text)) throw new Error(`${server}: unexpected greeting ${greeting.text.slice(0, 120)}`);
    return session;
  }

  get client(): ImapClient {
    return this.proc.client;
  }

  /** COMPRESS DEFLATE, then the client talks through the compressed streams. */
  async compress(): Promise<void> {
    await this.run('COMPRESS DEFLATE');
    const { stdout, stdin } = this.proc.child;
    stdout!.removeAllListeners('data');
    const streams = deflateStreams(stdout!, stdin!);
    this.proc.client = new ImapClient(streams.input, streams.output, SERVER_TITLES[this.server]);
  }

  async run(command: string, onUntagged?: (text: string) => void): Promise<CommandResult> {
    const r = await this.client.command(command, { timeoutMs: this.timeoutMs, onUntagged: onUntagged ? (resp) => onUntagged(resp.text) : undefined });
    if (r.status !== 'OK') throw new Error(`${command.slice(0, 60)}: ${r.status} ${r.text.slice(0, 200)}`);
    return r;
  }

  memoryMiB(): number | undefined {
    const m = memoryOf(this.proc.pid);
    return m ? m.hwmKiB / 1024 : undefined;
  }

  async close(): Promise<void> {
    if (!this.client.isClosed) {
      await this.client.command('LOGOUT', { timeoutMs: 10_000 }).catch(() => undefined);
    }
    await stopProcess(this.proc.child, 5000);
  }
}



/** Waits until our index has read all `n` messages, sending a NOOP every 100 ms meanwhile (how
 * long another session's command waits while the index is filled). */
async function waitForIndex(s: Session, maildir: string, n: number, timeoutMs: number): Promise<{ slowestNoopMs: number }> {
  const until = Date.now() + timeoutMs;
  let slowestNoopMs = 0;
  while (indexedCount(maildir) < n) {
    if (Date.now() > until) throw new TimeoutError(`the full-text index has ${indexedCount(maildir)} of ${n} messages`, timeoutMs);
    slowestNoopMs = Math.max(slowestNoopMs, (await s.run('NOOP')).ms);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { slowestNoopMs };
}

/**
 * Writes `count` messages into new/ as a delivery agent does (tmp/ then a rename), owned by
 * whoever owns the folder (the Dovecot script runs its server as another user).
 */
function deliver(maildir: string, count: number): void {
  const owner = fs.statSync(maildir);
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const name = `${now}.M${i}P${process.pid}Q${i}.bench.example.com`;
    const tmp = path.join(maildir, 'tmp', name);
    fs.writeFileSync(tmp, appendMessage(10_000 + i).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    fs.chownSync(tmp, owner.uid, owner.gid);
    fs.renameSync(tmp, path.join(maildir, 'new', name));
  }
}

/** Runs every operation on one server and one fresh Maildir copy. */
async function runOnce(server: ServerName, corpus: Corpus, runIndex: number, timeoutMs: number): Promise<RunResult> {
  const result: RunResult = {};
  const n = corpus.manifest.messages;
  const workDir = path.join(BENCH_ROOT, 'work');
  const maildir = path.join(workDir, `${server}-n${n}`);
  const logFile = path.join(BENCH_ROOT, 'logs', `${server}-n${n}-run${runIndex + 1}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, '');
  log(`${server} n=${n} run ${runIndex + 1}: copying the corpus`);
  freshCopy(corpus, maildir);
  const setError = (from: string, message: string): void => {
    let on = false;
    for (const m of METRICS) {
      if (m.key === from) on = true;
      if (on && !m.key.startsWith('memory') && !result[m.key]) result[m.key] = { error: message };
    }
  };
  const timed = async (key: string, body: () => Promise<number>, pid?: number): Promise<boolean> => {
    try {
      // The server's CPU time too (its process tree): on a busy machine it moves far less than the latency.
      const cpu0 = pid === undefined ? 0 : cpuMsOfPids(processTree([pid]));
      const value = await body();
      result[key] = { value };
      if (pid !== undefined) result[`${key}.cpu`] = { value: cpuMsOfPids(processTree([pid])) - cpu0 };
      log(`${server} n=${n} run ${runIndex + 1}: ${key} = ${value.toFixed(3)}`);
      return true;
    } catch (err) {
      const message = err instanceof TimeoutError ? `timeout (${(timeoutMs / 1000).toFixed(0)} s)` : `failed: ${(err as Error).message.slice(0, 160)}`;
      log(`${server} n=${n} run ${runIndex + 1}: ${key} ${message}`);
      setError(key, message);
      return false;
    }
  };
  const uids: number[] = [];
  const checkFetchCount = (what: string, got: number, expected = n): void => {
    if (got !== expected) notes.add(`${SERVER_TITLES[server]}: ${what} returned ${got} FETCH responses for ${expected} messages`);
  };
  /** The envelope listing, counting its responses (and keeping the UIDs when asked). */
  const listing = async (s: Session, what: string, expected: number, keepUids: boolean): Promise<number> => {
    let count = 0;
    const r = await s.run('FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)', (t) => {
      if (!t.includes(' FETCH ')) return;
      count++;
      if (keepUids) {
        const m = /^\* \d+ FETCH \(.*?\bUID (\d+)/.exec(t);
        if (m) uids.push(Number(m[1]));
      }
    });
    checkFetchCount(what, count, expected);
    return r.ms / 1000;
  };
  /** Runs steps in order until one fails; the session's peak RSS goes to `memoryKey`. */
  const session = async (first: string, memoryKey: string, steps: [string, (s: Session) => Promise<number>][]): Promise<boolean> => {
    let s: Session;
    try {
      s = await Session.open(server, maildir, logFile, timeoutMs);
    } catch (err) {
      setError(first, `failed to start: ${(err as Error).message.slice(0, 160)}`);
      return false;
    }
    let ok = true;
    let peak = 0;
    for (const [key, body] of steps) {
      ok = await timed(key, () => body(s), s.proc.pid);
      peak = Math.max(peak, s.memoryMiB() ?? 0);
      if (!ok) break;
    }
    peak = Math.max(peak, s.memoryMiB() ?? 0);
    if (peak > 0) result[memoryKey] = { value: peak };
    await s.close();
    return ok;
  };

  /** UID FETCH of BODY_FETCHES bodies spread over the folder: MB/s of message data. */
  const fetchBodies = async (on: Session): Promise<number> => {
    const chosen = spread(uids, BODY_FETCHES);
    let bytes = 0;
    let count = 0;
    const r = await on.client.command(`UID FETCH ${uidSet(chosen)} (BODY.PEEK[])`, {
      timeoutMs,
      onUntagged: (resp) => {
        bytes += resp.literalBytes;
        count++;
      },
    });
    if (r.status !== 'OK') throw new Error(`UID FETCH BODY.PEEK[]: ${r.status} ${r.text.slice(0, 200)}`);
    if (count !== chosen.length) notes.add(`${SERVER_TITLES[server]}: UID FETCH of ${chosen.length} bodies returned ${count} responses`);
    return bytes / 1e6 / (r.ms / 1000);
  };

  try {
    // --- session 1: everything a client does on its first visit, and again ---
    let firstSelectAt = Date.now();
    const ok = await session('select1', 'memory1', [
      ['select1', async (s) => {
        firstSelectAt = Date.now();
        return (await s.run('SELECT INBOX')).ms / 1000;
      }],
      ['fetchEnv1', (s) => listing(s, 'FETCH envelope (first)', n, true)],
      ['fetchEnvAgain', (s) => listing(s, 'FETCH envelope (again)', n, false)],
      ['bodystructure', async (s) => {
        let count = 0;
        const r = await s.run('FETCH 1:* BODYSTRUCTURE', (t) => {
          if (t.includes(' FETCH ')) count++;
        });
        checkFetchCount('FETCH BODYSTRUCTURE', count);
        return r.ms / 1000;
      }],
      ['searchText', async (s) => {
        let hits = 0;
        const r = await s.run(`UID SEARCH TEXT ${quote(SEARCH_WORD)}`, (t) => {
          hits += searchCount(t);
        });
        const expected = corpus.manifest.markerHits[SEARCH_WORD];
        if (hits !== expected) notes.add(`${SERVER_TITLES[server]}: UID SEARCH TEXT "${SEARCH_WORD}" found ${hits}, the corpus has ${expected} (n=${n})`);
        return r.ms / 1000;
      }],
      ...(server === 'ours' ? ([
        ['ftsBuild', async (s) => {
          const waited = await waitForIndex(s, maildir, n, timeoutMs);
          result.ftsNoop = { value: waited.slowestNoopMs / 1000 };
          result.ftsSize = { value: indexBytes(maildir) / 1048576 };
          log(`ours n=${n}: full-text index ${(indexBytes(maildir) / 1048576).toFixed(1)} MiB = ${((100 * indexBytes(maildir)) / corpus.manifest.totalBytes).toFixed(1)} % of the mail; slowest NOOP meanwhile ${waited.slowestNoopMs.toFixed(1)} ms`);
          return (Date.now() - firstSelectAt) / 1000;
        }],
      ] as [string, (s: Session) => Promise<number>][]) : []),
      ['searchRare', async (s) => {
        let hits = 0;
        const r = await s.run(`UID SEARCH TEXT ${quote(RARE_WORD)}`, (t) => {
          hits += searchCount(t);
        });
        const expected = corpus.manifest.markerHits[RARE_WORD];
        if (hits !== expected) notes.add(`${SERVER_TITLES[server]}: UID SEARCH TEXT "${RARE_WORD}" found ${hits}, the corpus has ${expected} (n=${n})`);
        return r.ms / 1000;
      }],
      ['searchFrom', async (s) => {
        let hits = 0;
        const r = await s.run(`UID SEARCH FROM ${quote(TARGET_SENDER.name)}`, (t) => {
          hits += searchCount(t);
        });
        const expected = corpus.manifest.senderHits[TARGET_SENDER.name];
        if (hits !== expected) notes.add(`${SERVER_TITLES[server]}: UID SEARCH FROM "${TARGET_SENDER.name}" found ${hits}, the corpus has ${expected} (n=${n})`);
        return r.ms / 1000;
      }],
      ['bodies', (s) => fetchBodies(s)],
      ['store', async (s) => (await s.run(`UID STORE ${STORE_RANGE} +FLAGS (\\Seen)`)).ms / 1000],
      ['append', async (s) => {
        let total = 0;
        for (let i = 0; i < APPENDS; i++) {
          const r = await s.client.append('INBOX', '\\Seen', appendMessage(i), timeoutMs);
          if (r.status !== 'OK') throw new Error(`APPEND: ${r.status} ${r.text.slice(0, 200)}`);
          total += r.ms;
        }
        return APPENDS / (total / 1000);
      }],
    ]);
    if (!ok) {
      setError('select2', 'skipped after an earlier failure');
      return result;
    }
    // --- mail arrives while no session is open; session 2 is a new process ---
    deliver(maildir, DELIVERIES);
    await session('select2', 'memory2', [
      ['select2', async (s) => (await s.run('SELECT INBOX')).ms / 1000],
      ['fetchEnv2', (s) => listing(s, 'FETCH envelope (session 2)', n + APPENDS + DELIVERIES, false)],
    ]);
    // --- the bodies again in a new session after COMPRESS DEFLATE (RFC 4978): MB/s of message
    // data (inflated). Dovecot offers COMPRESS with its imap_zlib plugin; Courier has none. ---
    await timed('bodiesCompressed', async () => {
      const z = await Session.open(server, maildir, logFile, timeoutMs, { ...process.env, DOVECOT_IMAP_PLUGINS: 'zlib imap_zlib' });
      try {
        await z.compress();
        await z.run('SELECT INBOX');
        return await fetchBodies(z);
      } finally {
        await z.close();
      }
    });
  } finally {
    fs.rmSync(maildir, { recursive: true, force: true });
  }
  return result;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.servers.includes('ours') && !fs.existsSync(path.join(DIST, 'server/bin/imapd.js'))) {
    log(`${path.join(DIST, 'server/bin/imapd.js')} is missing (run npm run build); "ours" will show as failed`);
  }
  const started = new Date();
  const sections: string[] = [];
  for (const size of opts.sizes) {
    const corpus = ensureCorpus(size, log);
    const results = new Map<ServerName, RunResult[]>();
    const loads: number[] = [os.loadavg()[0]!];
    for (let run = 0; run < opts.runs; run++) {
      // alternate the order run by run so that no server always goes first (page cache, CPU heat)
      const order = opts.servers.map((_, i) => opts.servers[(i + run) % opts.servers.length]!);
      for (const server of order) {
        const r = await runOnce(server, corpus, run, opts.timeoutMs);
        if (!results.has(server)) results.set(server, []);
        results.get(server)!.push(r);
        loads.push(os.loadavg()[0]!);
      }
    }
    const m = corpus.manifest;
    const section = [
      `### ${size.toLocaleString('en-US')} messages (${(m.totalBytes / 1048576).toFixed(0)} MiB; ${m.markerHits[SEARCH_WORD]} contain "${SEARCH_WORD}", ${m.senderHits[TARGET_SENDER.name]} from ${TARGET_SENDER.name}); median of ${opts.runs} run(s); 1-minute load average ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)} (median ${median(loads).toFixed(2)})`,
      '',
      table(opts.servers, results, METRICS),
      '',
      `Server CPU time per step (user + system of its processes, median; clock ticks of 10 ms): less moved by the machine's load than the times above.`,
      '',
      cpuTable(opts.servers, results, METRICS),
    ].join('\n');
    sections.push(section);
    process.stdout.write('\n' + section + '\n');
  }
  const header = [
    `## IMAP benchmark, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. ` +
      `PREAUTH over stdin/stdout, a fresh copy of the Maildir per server and run, servers alternated run by run. ` +
      `Session 1 runs every step on the cold copy (the envelope listing twice: Dovecot caches a field for old messages only once they are fetched again); ` +
      `then ${DELIVERIES} messages are delivered into new/ and session 2, a new process, selects and lists. ` +
      `Times are from writing the command to reading its tagged reply. Ratios > 1 mean ours is faster (or smaller, for memory).`,
    `Command: \`npm run bench -- --sizes ${opts.sizes.join(',')} --runs ${opts.runs} --servers ${opts.servers.join(',')}\``,
  ].join('\n');
  const noteText = notes.size
    ? '\n\nWrong answers seen:\n' + [...notes].map((n) => `- ${n}`).join('\n')
    : '\n\nEvery server returned the expected number of FETCH responses and SEARCH hits (checked against the corpus manifest).';
  const report = `${header}\n\n${sections.join('\n\n')}${noteText}\n`;
  if (noteText) process.stdout.write(noteText + '\n');
  const out = opts.out ?? path.join(HERE, 'results', `${started.toISOString().slice(0, 10)}-imap.md`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // several people run the benchmarks on the same day: add to the day's file, never replace it
  if (fs.existsSync(out)) fs.appendFileSync(out, `\n---\n\n${report}`);
  else fs.writeFileSync(out, report);
  log(`written to ${path.relative(process.cwd(), out)}`);
}

await main();

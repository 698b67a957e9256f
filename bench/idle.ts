// IDLE benchmark (issue 5): how long a change takes to reach each IDLE client, how many
// notifications never arrive, and what an idle connection costs the server in memory.
//
//   npm run bench:idle -- [--servers ours,courier,dovecot] [--clients 1,100,1000] [--folders 1000]
//                         [--rounds 3] [--ours auto|tcp|preauth] [--delivery-rate N]
//   npm run bench:idle -- --procs 50,100 [--servers ours,dovecot] [--messages 1000] [--deliveries 10]
//                         (one PREAUTH process per client: see bench/idle-procs.ts)
//
// Scenarios: N clients IDLE on one folder (for each N of --clients), and --folders clients IDLE on
// as many different folders. Changes: "in-process" = another IMAP client of the same server runs
// STORE +FLAGS (\Flagged); "outside" = a message written into tmp/ and renamed into new/, as a
// delivery agent does. Latency = from just before the change to the untagged response at a client.
// A client that has not seen its notification within the deadline (10 s for ours, 30 s for the
// peers) counts as missed. Everything listens on 127.0.0.1; every wait is bounded.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_ROOT, ensureCorpus } from './corpus.js';
import { courierTarget, DIST, dovecotTarget, IDLE_ROOT, oursPreauthTarget, oursTcpTarget, TITLES, type Connection, type ServerName, type Target } from './idle-servers.js';
import { fmtKiB, fmtMs, log, percentile, saveReport, sleep, sysctl } from './idle-shared.js';
import type { CommandResult, ImapResponse } from './imap-client.js';

const INBOX_MESSAGES = 200;
const FOLDER_MESSAGES = 5;
const CONNECT_CONCURRENCY = 20;

interface Options {
  servers: ServerName[];
  clients: number[];
  folders: number;
  rounds: number;
  ours: 'auto' | 'tcp' | 'preauth';
  /** deliveries per second in the many-folder scenario; 0 = all at once */
  deliveryRate: number;
  out: string | undefined;
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench:idle -- [--servers ours,courier,dovecot] [--clients 1,100,1000] [--folders 1000] [--rounds 3] [--ours auto|tcp|preauth] [--delivery-rate N] [--out FILE]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { servers: ['ours', 'courier', 'dovecot'], clients: [1, 100, 1000], folders: 1000, rounds: 3, ours: 'auto', deliveryRate: 0, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--servers') o.servers = v().split(',').map((s) => s.trim() as ServerName);
    else if (a === '--clients') o.clients = v().split(',').filter(Boolean).map(Number);
    else if (a === '--folders') o.folders = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--ours') o.ours = v() as Options['ours'];
    else if (a === '--delivery-rate') o.deliveryRate = Number(v());
    else if (a === '--out') o.out = v();
    else usage(`unknown option ${a}`);
  }
  if (o.servers.some((s) => !(s in TITLES))) usage('--servers: ours, courier, dovecot');
  if (o.clients.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) usage('--clients: 1..5000');
  if (!Number.isInteger(o.folders) || o.folders < 0 || o.folders > 5000) usage('--folders: 0..5000');
  if (!Number.isInteger(o.rounds) || o.rounds < 1 || o.rounds > FOLDER_MESSAGES) usage(`--rounds: 1..${FOLDER_MESSAGES}`);
  if (!['auto', 'tcp', 'preauth'].includes(o.ours)) usage('--ours: auto, tcp or preauth');
  if (!(o.deliveryRate >= 0)) usage('--delivery-rate: deliveries per second, 0 for all at once');
  return o;
}

// ---------- the Maildir ----------

/** A fresh Maildir: INBOX with 200 messages flagged \Seen only, and `folders` folders of 5 messages. */
function buildMaildir(dest: string, folders: number): void {
  const corpus = ensureCorpus(1000, log);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dest, sub), { mode: 0o755 });
  // the smallest corpus messages, with their flags reset to \Seen so that +FLAGS (\Flagged) is always a change
  const names = fs.readdirSync(path.join(corpus.dir, 'cur')).sort();
  const pick = names.slice(0, INBOX_MESSAGES);
  for (const name of pick) fs.copyFileSync(path.join(corpus.dir, 'cur', name), path.join(dest, 'cur', name.replace(/:2,.*$/, ':2,S')));
  for (let f = 1; f <= folders; f++) {
    const dir = path.join(dest, folderDir(f));
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'maildirfolder'), '');
    for (let m = 0; m < FOLDER_MESSAGES; m++) {
      const name = pick[(f * FOLDER_MESSAGES + m) % pick.length]!;
      fs.copyFileSync(path.join(corpus.dir, 'cur', name), path.join(dir, 'cur', name.replace(/:2,.*$/, ':2,S')));
    }
  }
}

const folderName = (f: number): string => `INBOX.f${String(f).padStart(4, '0')}`;
const folderDir = (f: number): string => `.f${String(f).padStart(4, '0')}`;

let deliveries = 0;
/** Delivers one message the Maildir way (write into tmp/, rename into new/); returns the time just before the rename. */
function deliver(folderPath: string): number {
  const n = ++deliveries;
  const body = `From: Delivery Agent <mda@example.org>\nTo: alice@example.com\nSubject: delivery ${n}\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\nMessage-ID: <deliver.${n}.${process.pid}@example.org>\n\nNew mail number ${n}.\n`;
  const name = `${Math.floor(Date.now() / 1000)}.M${n}P${process.pid}.bench-mda,S=${Buffer.byteLength(body)}`;
  const tmp = path.join(folderPath, 'tmp', name);
  fs.writeFileSync(tmp, body);
  // a Maildir handed to Dovecot belongs to the mail user: keep the new file readable and movable by it
  const st = fs.statSync(folderPath);
  fs.chownSync(tmp, st.uid, st.gid);
  const t0 = performance.now();
  fs.renameSync(tmp, path.join(folderPath, 'new', name));
  return t0;
}

// ---------- clients ----------

interface Expectation {
  match: (r: ImapResponse) => boolean;
  t0?: number;
  arrivedAt?: number;
}

interface IdleClient {
  conn: Connection;
  folder: string;
  folderPath: string;
  exists: number;
  expectation?: Expectation;
  idle?: Promise<CommandResult>;
}

const EXISTS = /^\* (\d+) EXISTS/i;
const FETCH_FLAGS = /^\* (\d+) FETCH \(.*FLAGS \(([^)]*)\)/i;

async function startIdle(target: Target, folder: string, folderPath: string): Promise<IdleClient> {
  const conn = await target.connect();
  const c: IdleClient = { conn, folder, folderPath, exists: 0 };
  try {
    const sel = await conn.client.command(`SELECT ${folder}`, {
      timeoutMs: 60_000,
      onUntagged: (r) => {
        const m = EXISTS.exec(r.text);
        if (m) c.exists = Number(m[1]);
      },
    });
    if (sel.status !== 'OK') throw new Error(`SELECT ${folder}: ${sel.text.slice(0, 80)}`);
    const onUntagged = (r: ImapResponse): void => {
      const m = EXISTS.exec(r.text);
      if (m) c.exists = Math.max(c.exists, Number(m[1]));
      const e = c.expectation;
      if (e && e.arrivedAt === undefined && e.match(r)) e.arrivedAt = r.at;
    };
    conn.client.onUnsolicited = onUntagged;
    const go = conn.client.waitFor((r) => r.text.startsWith('+'), 30_000, 'IDLE continuation');
    c.idle = conn.client.command('IDLE', { timeoutMs: 3 * 3600_000, onUntagged });
    c.idle.catch(() => undefined);
    await Promise.race([go, c.idle.then((r) => Promise.reject(new Error(`IDLE: ${r.status} ${r.text.slice(0, 80)}`)))]);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  return c;
}

async function stopIdle(c: IdleClient): Promise<void> {
  if (!c.conn.client.isClosed && c.idle) {
    c.conn.client.write('DONE\r\n');
    await Promise.race([c.idle.catch(() => undefined), sleep(5000)]);
  }
  await c.conn.close().catch(() => undefined);
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  });
  await Promise.all(runners);
}

// ---------- measuring ----------

interface ChangeResult {
  latenciesMs: number[];
  missed: number;
  expected: number;
}

interface ScenarioResult {
  label: string;
  wanted: number;
  taken: number;
  refused?: string;
  perConnRssKiB?: number;
  perConnPssKiB?: number;
  inProcess?: ChangeResult;
  outside?: ChangeResult;
  error?: string;
}

/** Waits until every expectation has arrived or passed its deadline. */
async function settle(clients: IdleClient[], deadlineMs: number): Promise<ChangeResult> {
  for (;;) {
    const now = performance.now();
    const waiting = clients.some((c) => {
      const e = c.expectation;
      return e && e.arrivedAt === undefined && !c.conn.client.isClosed && (e.t0 === undefined || now - e.t0 < deadlineMs);
    });
    if (!waiting) break;
    await sleep(10);
  }
  const result: ChangeResult = { latenciesMs: [], missed: 0, expected: 0 };
  for (const c of clients) {
    const e = c.expectation;
    if (!e) continue;
    result.expected++;
    if (e.arrivedAt !== undefined && e.t0 !== undefined && e.arrivedAt - e.t0 <= deadlineMs) result.latenciesMs.push(e.arrivedAt - e.t0);
    else result.missed++;
    c.expectation = undefined;
  }
  return result;
}

function merge(into: ChangeResult | undefined, r: ChangeResult): ChangeResult {
  if (!into) return r;
  return { latenciesMs: into.latenciesMs.concat(r.latenciesMs), missed: into.missed + r.missed, expected: into.expected + r.expected };
}

async function runScenario(target: Target, clientsWanted: number, manyFolders: boolean, rounds: number, deliveryRate: number): Promise<ScenarioResult> {
  const label = manyFolders ? `${clientsWanted} clients on ${clientsWanted} folders` : `${clientsWanted} client${clientsWanted > 1 ? 's' : ''} on one folder`;
  const result: ScenarioResult = { label, wanted: clientsWanted, taken: 0 };
  const maildir = path.join(IDLE_ROOT, `${target.name}-maildir`);
  log(`${TITLES[target.name]}: ${label}: preparing the Maildir`);
  buildMaildir(maildir, manyFolders ? clientsWanted : 0);
  const clients: IdleClient[] = [];
  let changer: Connection | undefined;
  try {
    await target.start(maildir);
    await sleep(500);
    const before = target.memory();
    let failures = 0;
    let firstError = '';
    const slots = Array.from({ length: clientsWanted }, (_, i) => i);
    const t = performance.now();
    await pool(slots, CONNECT_CONCURRENCY, async (i) => {
      if (result.refused || failures > 100) return;
      const why = target.refuse?.();
      if (why) {
        result.refused = why;
        return;
      }
      const folder = manyFolders ? folderName(i + 1) : 'INBOX';
      const folderPath = manyFolders ? path.join(maildir, folderDir(i + 1)) : maildir;
      try {
        clients.push(await startIdle(target, folder, folderPath));
      } catch (err) {
        failures++;
        if (!firstError) firstError = (err as Error).message.slice(0, 120);
      }
    });
    result.taken = clients.length;
    log(`${TITLES[target.name]}: ${label}: ${clients.length} IDLE clients in ${((performance.now() - t) / 1000).toFixed(1)} s${failures ? `, ${failures} failed (${firstError})` : ''}`);
    if (failures && !result.refused) result.refused = `${failures} connections failed: ${firstError}`;
    if (clients.length === 0) throw new Error(firstError || 'no client could IDLE');
    await sleep(3000); // let the servers settle their watchers
    const after = target.memory();
    if (target.name === 'ours' && target.mode.startsWith('one PREAUTH')) {
      result.perConnRssKiB = after.rssKiB / clients.length;
      result.perConnPssKiB = after.pssKiB / clients.length;
    } else {
      result.perConnRssKiB = (after.rssKiB - before.rssKiB) / clients.length;
      result.perConnPssKiB = (after.pssKiB - before.pssKiB) / clients.length;
    }
    log(`${TITLES[target.name]}: ${label}: memory ${(before.rssKiB / 1024).toFixed(0)} -> ${(after.rssKiB / 1024).toFixed(0)} MiB RSS in ${after.processes} processes`);

    // --- in-process changes: another session of the same server stores a flag ---
    changer = await target.connect();
    const ch = changer.client;
    const must = async (command: string): Promise<void> => {
      const r = await ch.command(command, { timeoutMs: 60_000 });
      if (r.status !== 'OK') throw new Error(`${command}: ${r.text.slice(0, 80)}`);
    };
    if (!manyFolders) await must('SELECT INBOX');
    for (let round = 0; round < rounds; round++) {
      const seq = round + 1;
      const match = (r: ImapResponse): boolean => {
        const m = FETCH_FLAGS.exec(r.text);
        return !!m && Number(m[1]) === seq && /\\Flagged/i.test(m[2]!);
      };
      for (const c of clients) c.expectation = { match };
      if (manyFolders) {
        for (const c of clients) {
          await must(`SELECT ${c.folder}`);
          c.expectation!.t0 = performance.now();
          await must(`STORE ${seq} +FLAGS (\\Flagged)`);
        }
      } else {
        const t0 = performance.now();
        for (const c of clients) c.expectation!.t0 = t0;
        await must(`STORE ${seq} +FLAGS (\\Flagged)`);
      }
      const r = await settle(clients, target.deadlineMs);
      result.inProcess = merge(result.inProcess, r);
      log(`${TITLES[target.name]}: ${label}: in-process round ${round + 1}: ${r.latenciesMs.length} arrived, ${r.missed} missed, p50 ${fmtMs(percentile(r.latenciesMs, 50))}`);
      await sleep(500);
    }
    if (!manyFolders) await must('CLOSE').catch(() => undefined);

    // --- outside changes: a delivery into new/ ---
    for (let round = 0; round < rounds; round++) {
      // one delivery per folder; every client of that folder expects the new EXISTS
      const byFolder = new Map<string, IdleClient[]>();
      for (const c of clients) {
        const list = byFolder.get(c.folderPath) ?? [];
        list.push(c);
        byFolder.set(c.folderPath, list);
      }
      for (const [, list] of byFolder) {
        for (const c of list) {
          const want = c.exists + 1;
          c.expectation = { match: (r) => Number(EXISTS.exec(r.text)?.[1] ?? 0) >= want };
        }
      }
      const burstStart = performance.now();
      let k = 0;
      for (const [folderPath, list] of byFolder) {
        if (deliveryRate > 0) {
          const due = burstStart + (k * 1000) / deliveryRate;
          if (due > performance.now()) await sleep(due - performance.now());
        }
        k++;
        const t0 = deliver(folderPath);
        for (const c of list) c.expectation!.t0 = t0;
        // let the event loop read (and time-stamp) notifications between deliveries
        if (byFolder.size > 1) await new Promise<void>((r) => setImmediate(r));
      }
      const burstMs = performance.now() - burstStart;
      const r = await settle(clients, target.deadlineMs);
      result.outside = merge(result.outside, r);
      log(`${TITLES[target.name]}: ${label}: outside round ${round + 1}: ${byFolder.size} deliveries in ${fmtMs(burstMs)}, ${r.latenciesMs.length} arrived, ${r.missed} missed, p50 ${fmtMs(percentile(r.latenciesMs, 50))}`);
      await sleep(500);
    }
  } catch (err) {
    result.error = (err as Error).message.replace(/\s+/g, ' ').slice(0, 200);
    log(`${TITLES[target.name]}: ${label}: ${result.error}`);
  } finally {
    await pool(clients, 100, (c) => stopIdle(c));
    await changer?.close().catch(() => undefined);
    await target.stop();
    fs.rmSync(maildir, { recursive: true, force: true });
  }
  return result;
}

// ---------- report ----------

function ratio(ours: number | undefined, other: number | undefined): string {
  if (ours === undefined || other === undefined || ours <= 0 || other <= 0) return '-';
  const r = other / ours;
  return r >= 10 ? `${r.toFixed(0)}x` : r >= 0.1 ? `${r.toFixed(2)}x` : `${r.toPrecision(2)}x`;
}

function reportTable(servers: ServerName[], scenarios: string[], results: Map<ServerName, Map<string, ScenarioResult>>): string {
  const lines = ['| scenario | figure | ours | Courier | Dovecot | ours vs Dovecot | ours vs Courier |', '|---|---|---|---|---|---|---|'];
  const cols: ServerName[] = ['ours', 'courier', 'dovecot'];
  for (const scenario of scenarios) {
    const get = (s: ServerName): ScenarioResult | undefined => (servers.includes(s) ? results.get(s)?.get(scenario) : undefined);
    type Row = [string, (r: ScenarioResult) => string, ((r: ScenarioResult) => number | undefined)?];
    const rows: Row[] = [
      ['IDLE clients taken', (r) => `${r.taken} of ${r.wanted}${r.refused ? ` (${r.refused})` : ''}${r.error ? ` - error: ${r.error}` : ''}`],
      ['memory per idle connection, RSS (PSS)', (r) => (r.perConnRssKiB === undefined ? '-' : `${fmtKiB(r.perConnRssKiB)} (${fmtKiB(r.perConnPssKiB)})`), (r) => r.perConnRssKiB],
    ];
    for (const kind of ['inProcess', 'outside'] as const) {
      const name = kind === 'inProcess' ? 'in-process STORE' : 'outside delivery';
      const ch = (r: ScenarioResult) => r[kind];
      rows.push(
        [`${name}: p50`, (r) => fmtMs(percentile(ch(r)?.latenciesMs ?? [], 50)), (r) => percentile(ch(r)?.latenciesMs ?? [], 50)],
        [`${name}: p99`, (r) => fmtMs(percentile(ch(r)?.latenciesMs ?? [], 99)), (r) => percentile(ch(r)?.latenciesMs ?? [], 99)],
        [`${name}: max`, (r) => fmtMs(percentile(ch(r)?.latenciesMs ?? [], 100)), (r) => percentile(ch(r)?.latenciesMs ?? [], 100)],
        [`${name}: missed`, (r) => (ch(r) ? `${ch(r)!.missed} of ${ch(r)!.expected}` : '-')],
      );
    }
    for (const [figure, text, value] of rows) {
      const cells = cols.map((s) => {
        const r = get(s);
        return r ? text(r) : 'not run';
      });
      const v = (s: ServerName): number | undefined => {
        const r = get(s);
        return r && value ? value(r) : undefined;
      };
      lines.push(`| ${scenario} | ${figure} | ${cells.join(' | ')} | ${ratio(v('ours'), v('dovecot'))} | ${ratio(v('ours'), v('courier'))} |`);
    }
  }
  return lines.join('\n');
}

function openFilesLimit(): number {
  const limits = fs.readFileSync('/proc/self/limits', 'latin1');
  const m = /Max open files\s+(\d+|unlimited)/.exec(limits);
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

async function main(): Promise<void> {
  // one server process per client (issue 11): bench/idle-procs.ts
  if (process.argv.includes('--procs')) {
    const { parseProcsArgs, runProcs } = await import('./idle-procs.js');
    await runProcs(parseProcsArgs(process.argv.slice(2)));
    return;
  }
  const opts = parseArgs(process.argv.slice(2));
  const biggest = Math.max(...opts.clients, opts.folders);
  const nofile = openFilesLimit();
  if (nofile < biggest * 3 + 200) {
    log(`warning: ulimit -n is ${nofile}; ${biggest} clients want about ${biggest * 3 + 200}. Run: bash -c 'ulimit -n 65536 && npm run bench:idle'`);
  }
  fs.mkdirSync(IDLE_ROOT, { recursive: true, mode: 0o755 });
  fs.chmodSync(BENCH_ROOT, 0o755);
  const haveTcp = fs.existsSync(path.join(DIST, 'server/bin/imapd-server.js'));
  const targets: Target[] = opts.servers.map((s) => {
    if (s === 'courier') return courierTarget();
    if (s === 'dovecot') return dovecotTarget();
    if (opts.ours === 'tcp' || (opts.ours === 'auto' && haveTcp)) return oursTcpTarget();
    return oursPreauthTarget();
  });
  let current: Target | undefined;
  const interrupted = async (): Promise<void> => {
    log('interrupted: stopping the server under test');
    await current?.stop().catch(() => undefined);
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());

  const scenarios: { clients: number; many: boolean; label: string }[] = [
    ...opts.clients.map((n) => ({ clients: n, many: false, label: `${n} on one folder` })),
    ...(opts.folders > 0 ? [{ clients: opts.folders, many: true, label: `${opts.folders} on ${opts.folders} folders` }] : []),
  ];
  const results = new Map<ServerName, Map<string, ScenarioResult>>();
  const started = new Date();
  for (const sc of scenarios) {
    for (const target of targets) {
      current = target;
      const r = await runScenario(target, sc.clients, sc.many, opts.rounds, opts.deliveryRate);
      if (!results.has(target.name)) results.set(target.name, new Map());
      results.get(target.name)!.set(sc.label, r);
    }
  }
  current = undefined;
  const table = reportTable(opts.servers, scenarios.map((s) => s.label), results);
  const report = [
    `## IDLE benchmark, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, inotify max_user_instances ${sysctl('fs/inotify/max_user_instances')}. ` +
      `${opts.rounds} change(s) of each kind per scenario; latency from just before the change to the untagged response; ` +
      `missed = not seen within ${targets.map((t) => `${TITLES[t.name]} ${t.deadlineMs / 1000} s`).join(', ')}. ` +
      `Memory per connection = growth of the server's processes (RSS, and PSS which shares common pages) divided by the clients. Ratios > 1: ours is faster or smaller.`,
    ...targets.map((t) => `- ${TITLES[t.name]}: ${t.mode}`),
    `Command: \`npm run bench:idle -- --servers ${opts.servers.join(',')} --clients ${opts.clients.join(',')} --folders ${opts.folders} --rounds ${opts.rounds}${opts.deliveryRate ? ` --delivery-rate ${opts.deliveryRate}` : ''}\``,
    opts.folders > 0 ? `In the many-folder scenario the outside deliveries (one per folder) are made ${opts.deliveryRate ? `at ${opts.deliveryRate} per second` : 'all at once, as fast as the script can write them (a burst)'}; the in-process changes one after another by a single session (SELECT, STORE).` : '',
    '',
    table,
    '',
  ].join('\n');
  process.stdout.write('\n' + report);
  const out = saveReport(report, started, opts.out);
  log(`written to ${path.relative(process.cwd(), out)}`);
}

await main();

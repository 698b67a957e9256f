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

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BENCH_ROOT, ensureCorpus } from './corpus.js';
import { fmtKiB, fmtMs, log, percentile, saveReport, sleep, sysctl } from './idle-shared.js';
import { connectTcp, spawnPreauth, stopProcess, type CommandResult, type ImapClient, type ImapResponse, type ServerProcess } from './imap-client.js';
import { memAvailableKiB, memoryOfPids, pidsOfExe, processTree, type MemoryFigures } from './procs.js';

/**
 * Runs a peer script with its output in a log file. Not through pipes: the daemons it starts
 * inherit them and would keep them open, so waiting for the pipes to close would wait forever.
 */
async function run(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout: number }): Promise<void> {
  const logFile = path.join(IDLE_ROOT, 'scripts.log');
  fs.mkdirSync(IDLE_ROOT, { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n$ ${file} ${args.join(' ')}\n`);
  const child = spawn(file, args, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env });
  fs.closeSync(fd);
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(args[0] ?? file)} did not finish in ${opts.timeout / 1000} s (see ${logFile})`));
    }, opts.timeout);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  if (code !== 0) throw new Error(`${path.basename(args[0] ?? file)} exited with ${code} (see ${logFile})`);
}
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const PEERS = process.env.IMAPD_PEERS ?? path.join(REPO, 'test', 'peers');
const DIST = process.env.IMAPD_BENCH_DIST ?? path.join(REPO, 'dist');
const IDLE_ROOT = path.join(BENCH_ROOT, 'idle');
/** IMAPD_BENCH_NODE_ARGS: extra node options for our server (e.g. --cpu-prof, not allowed in NODE_OPTIONS). */
const NODE_ARGS = (process.env.IMAPD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Ports of our own, away from the peers' defaults that tests on this machine may be using. */
const PORTS = { ours: 14643, courier: 11643, dovecot: 12643 } as const;
const INBOX_MESSAGES = 200;
const FOLDER_MESSAGES = 5;
const CONNECT_CONCURRENCY = 20;

type ServerName = 'ours' | 'courier' | 'dovecot';
const TITLES: Record<ServerName, string> = { ours: 'ours', courier: 'Courier', dovecot: 'Dovecot' };

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

// ---------- servers ----------

interface Connection {
  client: ImapClient;
  close(): Promise<void>;
}

interface Target {
  name: ServerName;
  /** how the server was run, for the report */
  mode: string;
  deadlineMs: number;
  start(maildir: string): Promise<void>;
  /** an authenticated session */
  connect(): Promise<Connection>;
  /** the server side: every process that serves connections */
  memory(): MemoryFigures;
  stop(): Promise<void>;
  /** why no more clients can be taken, if so (checked before each connection) */
  refuse?(): string | undefined;
}

async function tcpLogin(port: number, label: string): Promise<Connection> {
  const { socket, client } = await connectTcp(port, label, 30_000);
  try {
    const greeting = await client.greeting(30_000);
    if (!/^\* OK\b/i.test(greeting.text)) throw new Error(`greeting: ${greeting.text.slice(0, 80)}`);
    // Courier's imaplogin drops anything pipelined after LOGIN: wait for the tagged reply
    const r = await client.command('LOGIN alice secret', { timeoutMs: 30_000 });
    if (r.status !== 'OK') throw new Error(`LOGIN: ${r.text.slice(0, 80)}`);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  return {
    client,
    async close() {
      if (!client.isClosed) await client.command('LOGOUT', { timeoutMs: 5000 }).catch(() => undefined);
      socket.destroy();
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs / 1000} s`);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function courierTarget(): Target {
  const state = '/tmp/peers/courier';
  const env = { ...process.env, IMAP_ENHANCEDIDLE: '1', MAXPERIP: '2000', MAXDAEMONS: '2000', COURIER_PORT: String(PORTS.courier) };
  return {
    name: 'courier',
    mode: 'couriertcpd + imaplogin + imapd, IMAP_ENHANCEDIDLE=1 (gamin), MAXDAEMONS=MAXPERIP=2000',
    deadlineMs: 30_000,
    async start(maildir) {
      await run('/bin/bash', [path.join(PEERS, 'courier-start.sh'), maildir], { env, timeout: 180_000 });
    },
    connect: () => tcpLogin(PORTS.courier, 'Courier'),
    memory() {
      const tcpd = readPid(path.join(state, 'couriertcpd.pid'));
      // gam_server serves every imapd's change notifications; it is re-parented to init
      return memoryOfPids([...(tcpd ? processTree([tcpd]) : []), ...pidsOfExe('/usr/libexec/gam_server')]);
    },
    async stop() {
      await run('/bin/bash', [path.join(PEERS, 'courier-stop.sh')], { timeout: 60_000 }).catch(() => undefined);
    },
  };
}

function dovecotTarget(): Target {
  const peersState = path.join(BENCH_ROOT, 'peers');
  const state = path.join(peersState, 'dovecot');
  const env = { ...process.env, PEERS_STATE: peersState, DOVECOT_PORT: String(PORTS.dovecot) };
  return {
    name: 'dovecot',
    mode: 'dovecot master + imap-login + imap, limits raised to 2000 processes / connections',
    deadlineMs: 30_000,
    async start(maildir) {
      await run('/bin/bash', [path.join(PEERS, 'dovecot-start.sh'), maildir], { env, timeout: 180_000 });
      // the defaults (100 processes per service, 10 connections per user and IP) cannot take 1,000 clients
      fs.appendFileSync(path.join(state, 'dovecot.conf'), [
        '', '# raised by bench/idle.ts',
        'default_process_limit = 2100', 'default_client_limit = 6000', 'default_vsz_limit = 0',
        'protocol imap {', '  mail_max_userip_connections = 2000', '}',
        'service imap {', '  process_limit = 2000', '}', 'service imap-login {', '  process_limit = 2000', '}', '',
      ].join('\n'));
      await run('/usr/sbin/dovecot', ['-c', path.join(state, 'dovecot.conf'), 'reload'], { timeout: 30_000 });
      await sleep(1500);
      await waitForPort(PORTS.dovecot, 20_000);
    },
    connect: () => tcpLogin(PORTS.dovecot, 'Dovecot'),
    memory() {
      const master = readPid(path.join(state, 'dovecot.pid'));
      return memoryOfPids(master ? processTree([master]) : []);
    },
    async stop() {
      await run('/bin/bash', [path.join(PEERS, 'dovecot-stop.sh')], { env, timeout: 60_000 }).catch(() => undefined);
    },
  };
}

/** Our TCP server with LOGIN: one process for every connection. */
function oursTcpTarget(): Target {
  const base = path.join(IDLE_ROOT, 'ours-server');
  let proc: ServerProcess | undefined;
  return {
    name: 'ours',
    mode: 'imapd-server (TCP, LOGIN), one process',
    deadlineMs: 10_000,
    async start(maildir) {
      fs.rmSync(base, { recursive: true, force: true });
      for (const d of ['config', 'data']) fs.mkdirSync(path.join(base, d), { recursive: true });
      // the same limits the peers get; no TLS listener (IMAPDSTARTTLS=NO lets LOGIN through in clear on loopback)
      fs.writeFileSync(path.join(base, 'config', 'imapd'), 'MAXDAEMONS=2000\nMAXPERIP=2000\nIMAP_ENHANCEDIDLE=1\n');
      fs.writeFileSync(path.join(base, 'config', 'imapd-ssl'), 'IMAPDSSLSTART=NO\nIMAPDSTARTTLS=NO\nIMAP_TLS_REQUIRED=0\n');
      const add = execFile(process.execPath, [path.join(DIST, 'server/bin/imapd-accounts.js'), '--data', path.join(base, 'data'), 'add', 'alice', '--maildir', maildir, '--password-stdin'], { timeout: 60_000 });
      add.stdin!.end('secret\n');
      await new Promise<void>((resolve, reject) => add.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`imapd-accounts add exited ${code}`)))));
      const logFile = path.join(base, 'server.log');
      proc = spawnPreauth([process.execPath, ...NODE_ARGS, path.join(DIST, 'server/bin/imapd-server.js'), '--config', path.join(base, 'config'), '--data', path.join(base, 'data'), '--address', '127.0.0.1', '--port', String(PORTS.ours)], 'ours-server', logFile);
      await waitForPort(PORTS.ours, 30_000);
    },
    connect: () => tcpLogin(PORTS.ours, 'ours'),
    memory: () => memoryOfPids(proc ? processTree([proc.pid]) : []),
    async stop() {
      if (proc) {
        proc.child.stdin?.end();
        try {
          process.kill(proc.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
        await stopProcess(proc.child, 5000);
      }
      proc = undefined;
    },
  };
}

/** Fallback while the TCP server is missing: one PREAUTH process of ours per client. */
function oursPreauthTarget(): Target {
  let maildir = '';
  const procs: ServerProcess[] = [];
  const logFile = path.join(IDLE_ROOT, 'ours-preauth.log');
  return {
    name: 'ours',
    mode: 'one PREAUTH imapd process per client (TCP server not available): cross-process watcher path',
    deadlineMs: 10_000,
    async start(dir) {
      maildir = dir;
      fs.writeFileSync(logFile, '');
    },
    async connect() {
      const p = spawnPreauth([process.execPath, ...NODE_ARGS, path.join(DIST, 'server/bin/imapd.js'), maildir], 'ours', logFile);
      procs.push(p);
      try {
        const g = await p.client.greeting(60_000);
        if (!/^\* PREAUTH\b/i.test(g.text)) throw new Error(`greeting: ${g.text.slice(0, 80)}`);
      } catch (err) {
        await stopProcess(p.child, 0);
        throw err;
      }
      return {
        client: p.client,
        async close() {
          if (!p.client.isClosed) await p.client.command('LOGOUT', { timeoutMs: 5000 }).catch(() => undefined);
          await stopProcess(p.child, 3000);
        },
      };
    },
    memory: () => memoryOfPids(procs.filter((p) => p.child.exitCode === null).map((p) => p.pid)),
    async stop() {
      await Promise.all(procs.splice(0).map((p) => stopProcess(p.child, 2000)));
    },
    refuse() {
      // each process is a whole Node runtime: stop before the machine runs out of memory
      return memAvailableKiB() < 3 * 1024 * 1024 ? 'less than 3 GiB of memory left' : undefined;
    },
  };
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

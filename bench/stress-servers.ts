// The three servers bench/stress.ts compares, each started on a Maildir of its own with LOGIN
// alice / secret on a port the kernel picked, with connection limits raised for N clients, and
// stopped by the pids it started (never by name).
//   ours:    dist/server/bin/imapd-server.js, a scrypt account made by imapd-accounts
//   Dovecot: test/peers/dovecot-start.sh (master + imap-login + one imap per connection)
//   Courier: test/peers/courier-start.sh (couriertcpd + imaplogin + one imapd per connection)

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess, waitForPort } from './imap-client.js';
import { cpuMsOfPids, memoryOfPids, processTree, readPid, type MemoryFigures } from './procs.js';

export type ServerName = 'ours' | 'dovecot' | 'courier';
export const SERVER_NAMES: readonly ServerName[] = ['ours', 'dovecot', 'courier'];
export const TITLES: Record<ServerName, string> = { ours: 'ours', dovecot: 'Dovecot', courier: 'Courier' };

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEERS = process.env.IMAPD_PEERS ?? path.join(REPO, 'test', 'peers');
export const DIST = process.env.IMAPD_BENCH_DIST ?? path.join(REPO, 'dist');
/** IMAPD_BENCH_NODE_ARGS: node options for our server (e.g. --cpu-prof --cpu-prof-dir=DIR). */
const NODE_ARGS = (process.env.IMAPD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** IMAPD_BENCH_OURS_CONFIG: extra lines for our config/imapd, e.g. "LOGIN_CACHE_TTL=0". */
const OURS_CONFIG = (process.env.IMAPD_BENCH_OURS_CONFIG ?? '').split(/[;\n]/).filter(Boolean);

export interface Target {
  name: ServerName;
  port: number;
  /** Every port clients may use, client i the (i mod n)th (several servers on one Maildir, bench/cluster.ts); default [port]. */
  ports?: readonly number[];
  /** What runs, for the report. */
  mode: string;
  start(maildir: string, clients: number): Promise<void>;
  /** Every process that serves connections. */
  memory(): MemoryFigures;
  /** CPU ms of those processes so far, with the children they reaped (procs.ts). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** A port the kernel hands out now (free when we return; the server binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a script with its output in a log file (daemons it starts would hold pipes open). */
async function run(file: string, args: string[], logFile: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n$ ${file} ${args.join(' ')}\n`);
  const child = spawn(file, args, { stdio: ['ignore', fd, fd], env });
  fs.closeSync(fd);
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(args[0] ?? file)} did not finish in ${timeoutMs / 1000} s (see ${logFile})`));
    }, timeoutMs);
    child.once('exit', (c) => (clearTimeout(timer), resolve(c)));
    child.once('error', (e) => (clearTimeout(timer), reject(e)));
  });
  if (code !== 0) throw new Error(`${path.basename(args[0] ?? file)} exited with ${code} (see ${logFile})`);
}

export async function makeTarget(name: ServerName, base: string): Promise<Target> {
  const port = await freePort();
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  const logFile = path.join(base, 'scripts.log');
  if (name === 'ours') return oursTarget(base, port);
  const peersState = path.join(base, 'peers');
  if (name === 'dovecot') {
    const state = path.join(peersState, 'dovecot');
    const env = { ...process.env, PEERS_STATE: peersState, DOVECOT_PORT: String(port) };
    return {
      name, port,
      mode: 'dovecot master + imap-login + one imap process per connection',
      async start(maildir, clients) {
        await run('/bin/bash', [path.join(PEERS, 'dovecot-start.sh'), maildir], logFile, env, 120_000);
        // defaults: 10 connections per user and address, 100 processes per service
        const limit = clients + 20;
        fs.appendFileSync(path.join(state, 'dovecot.conf'), [
          '', '# raised by bench/stress.ts',
          `default_process_limit = ${limit}`, `default_client_limit = ${limit * 3}`, 'default_vsz_limit = 0',
          'protocol imap {', `  mail_max_userip_connections = ${limit}`, '}', '',
        ].join('\n'));
        await run('/usr/sbin/dovecot', ['-c', path.join(state, 'dovecot.conf'), 'reload'], logFile, env, 30_000);
        await new Promise((r) => setTimeout(r, 1500));
        await waitForPort(port, 20_000);
      },
      memory() {
        const master = readPid(path.join(state, 'dovecot.pid'));
        return memoryOfPids(master ? processTree([master]) : []);
      },
      cpuMs() {
        const master = readPid(path.join(state, 'dovecot.pid'));
        return cpuMsOfPids(master ? processTree([master]) : []);
      },
      async stop() {
        await run('/bin/bash', [path.join(PEERS, 'dovecot-stop.sh')], logFile, env, 60_000).catch(() => undefined);
      },
    };
  }
  const state = path.join(peersState, 'courier');
  const courierPids = () => [readPid(path.join(state, 'couriertcpd.pid')), readPid(path.join(state, 'authdaemond.pid'))].filter((p): p is number => p !== undefined);
  return {
    name, port,
    mode: 'couriertcpd + imaplogin (authdaemond, userdb) + one imapd process per connection',
    async start(maildir, clients) {
      const limit = String(clients + 20);
      const env = { ...process.env, PEERS_STATE: peersState, COURIER_PORT: String(port), MAXDAEMONS: limit, MAXPERIP: limit };
      await run('/bin/bash', [path.join(PEERS, 'courier-start.sh'), maildir], logFile, env, 120_000);
    },
    memory() {
      return memoryOfPids(processTree(courierPids()));
    },
    cpuMs() {
      return cpuMsOfPids(processTree(courierPids()));
    },
    async stop() {
      await run('/bin/bash', [path.join(PEERS, 'courier-stop.sh')], logFile, { ...process.env, PEERS_STATE: peersState }, 60_000).catch(() => undefined);
    },
  };
}

function oursTarget(base: string, port: number): Target {
  let child: ChildProcess | undefined;
  return {
    name: 'ours',
    port,
    mode: `imapd-server, one process, scrypt account${NODE_ARGS.length ? ` (node ${NODE_ARGS.join(' ')})` : ''}${OURS_CONFIG.length ? ` [${OURS_CONFIG.join(', ')}]` : ''}`,
    async start(maildir, clients) {
      for (const d of ['config', 'data']) fs.mkdirSync(path.join(base, d), { recursive: true });
      // the limits the peers get; no TLS listener, LOGIN in clear on loopback as with the peers
      fs.writeFileSync(path.join(base, 'config', 'imapd'), [`MAXDAEMONS=${clients + 20}`, `MAXPERIP=${clients + 20}`, ...OURS_CONFIG, ''].join('\n'));
      fs.writeFileSync(path.join(base, 'config', 'imapd-ssl'), 'IMAPDSSLSTART=NO\nIMAPDSTARTTLS=NO\nIMAP_TLS_REQUIRED=0\n');
      await new Promise<void>((resolve, reject) => {
        const add = execFile(process.execPath, [path.join(DIST, 'server/bin/imapd-accounts.js'), '--data', path.join(base, 'data'), 'add', 'alice', '--maildir', maildir, '--password-stdin'], { timeout: 60_000 }, (err) => (err ? reject(err) : resolve()));
        add.stdin!.end('secret\n');
      });
      // bob, who opens what alice shares with him (#shared.alice.Archive, bench/stress-sessions.ts)
      const bobDir = path.join(base, 'bob-Maildir');
      for (const d of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(bobDir, d), { recursive: true });
      await new Promise<void>((resolve, reject) => {
        const add = execFile(process.execPath, [path.join(DIST, 'server/bin/imapd-accounts.js'), '--data', path.join(base, 'data'), 'add', 'bob', '--maildir', bobDir, '--password-stdin'], { timeout: 60_000 }, (err) => (err ? reject(err) : resolve()));
        add.stdin!.end('secret\n');
      });
      const log = fs.openSync(path.join(base, 'server.log'), 'a');
      child = spawn(process.execPath, [...NODE_ARGS, path.join(DIST, 'server/bin/imapd-server.js'), '--config', path.join(base, 'config'), '--data', path.join(base, 'data'), '--address', '127.0.0.1', '--port', String(port)], {
        stdio: ['ignore', log, log], detached: true, cwd: base,
      });
      fs.closeSync(log);
      await waitForPort(port, 30_000);
    },
    memory: () => memoryOfPids(child?.pid ? processTree([child.pid]) : []),
    cpuMs: () => cpuMsOfPids(child?.pid ? processTree([child.pid]) : []),
    async stop() {
      if (!child) return;
      try {
        child.kill('SIGTERM'); // a clean stop, so that --cpu-prof writes its profile
      } catch {
        /* gone */
      }
      await stopProcess(child, 15_000);
      child = undefined;
    },
  };
}

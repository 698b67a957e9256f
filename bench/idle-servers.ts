// The servers the IDLE benchmark (bench/idle.ts) measures: ours over TCP with LOGIN or one
// PREAUTH process per connection, Courier's and Dovecot's through the peer scripts of
// test/peers/; each started on a Maildir, connected to, measured in memory and stopped.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_ROOT } from './corpus.js';
import { log, sleep } from './idle-shared.js';
import { connectTcp, spawnPreauth, stopProcess, waitForPort, type ImapClient, type ServerProcess } from './imap-client.js';
import { memAvailableKiB, memoryOfPids, pidsOfExe, processTree, readPid, type MemoryFigures } from './procs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const PEERS = process.env.IMAPD_PEERS ?? path.join(REPO, 'test', 'peers');
export const DIST = process.env.IMAPD_BENCH_DIST ?? path.join(REPO, 'dist');
export const IDLE_ROOT = path.join(BENCH_ROOT, 'idle');
/** IMAPD_BENCH_NODE_ARGS: extra node options for our server (e.g. --cpu-prof, not allowed in NODE_OPTIONS). */
const NODE_ARGS = (process.env.IMAPD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Ports of our own, away from the peers' defaults that tests on this machine may be using. */
const PORTS = { ours: 14643, courier: 11643, dovecot: 12643 } as const;

export type ServerName = 'ours' | 'courier' | 'dovecot';
export const TITLES: Record<ServerName, string> = { ours: 'ours', courier: 'Courier', dovecot: 'Dovecot' };

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

export interface Connection {
  client: ImapClient;
  close(): Promise<void>;
}

export interface Target {
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

export function courierTarget(): Target {
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

export function dovecotTarget(): Target {
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
export function oursTcpTarget(): Target {
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
export function oursPreauthTarget(): Target {
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

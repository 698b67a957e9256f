// The servers bench/cluster.ts runs: two `imapd-server` processes on one Maildir store with the
// accounts in PostgreSQL and the file watcher off (IMAP_FILE_WATCH=0, as on NFS, where inotify
// sees nothing another host does), so that what one server's clients change reaches the other's
// only through the database's LISTEN/NOTIFY; and one server with the accounts in SQLite, for
// the LOGIN comparison. Each on a port the kernel picked, stopped by the pids it started.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stopProcess, waitForPort } from './imap-client.js';
import { cpuMsOfPids, memoryOfPids, processTree } from './procs.js';
import { DIST, freePort, type Target } from './stress-servers.js';

/** IMAP_IDLE_TIMEOUT of the cluster: polling this slow cannot pass for the database's channel. */
export const POLL_SECONDS = 600;
export const CLUSTER_MODE = `two imapd-server processes on one Maildir, ACCOUNTS=postgres://..., IMAP_FILE_WATCH=0, IMAP_IDLE_TIMEOUT=${POLL_SECONDS}`;

/** Adds an account with password "secret" through imapd-accounts (`accounts`: a URL, or undefined for the data directory's SQLite). */
export function addAccount(data: string, accounts: string | undefined, user: string, maildir: string): Promise<void> {
  for (const d of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildir, d), { recursive: true });
  return new Promise((resolve, reject) => {
    const args = [path.join(DIST, 'server/bin/imapd-accounts.js'), '--data', data, ...(accounts ? ['--accounts', accounts] : []), 'add', user, '--maildir', maildir, '--password-stdin'];
    const add = execFile(process.execPath, args, { timeout: 60_000 }, (err, _out, stderr) => (err ? reject(new Error(`imapd-accounts add ${user}: ${stderr || err.message}`)) : resolve()));
    add.stdin!.end('secret\n');
  });
}

/** One imapd-server with its own config and data directories under `dir`; resolves once it listens. */
async function startServer(dir: string, lines: string[], port: number): Promise<ChildProcess> {
  for (const d of ['config', 'data']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(path.join(dir, 'config', 'imapd'), [...lines, ''].join('\n'));
  // no TLS listener, LOGIN in clear on loopback (as bench/stress.ts)
  fs.writeFileSync(path.join(dir, 'config', 'imapd-ssl'), 'IMAPDSSLSTART=NO\nIMAPDSTARTTLS=NO\nIMAP_TLS_REQUIRED=0\n');
  const log = fs.openSync(path.join(dir, 'server.log'), 'a');
  const child = spawn(process.execPath, [path.join(DIST, 'server/bin/imapd-server.js'), '--config', path.join(dir, 'config'), '--data', path.join(dir, 'data'), '--address', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', log, log], detached: true, cwd: dir,
  });
  fs.closeSync(log);
  await waitForPort(port, 30_000);
  return child;
}

export interface Cluster extends Target {
  ports: readonly number[];
  /** The data directory of server `i` (its log is server.log beside it). */
  dirs: readonly string[];
}

/**
 * Two servers on one Maildir store, accounts (alice on the Maildir, bob on one of his own) in a
 * fresh PostgreSQL database from `database()`: the bench:stress Target shape, clients on both ports.
 */
export async function clusterTarget(base: string, database: () => Promise<string>, extra: string[] = []): Promise<Cluster> {
  const ports = [await freePort(), await freePort()];
  const dirs = ports.map((_, i) => path.join(base, `server-${'ab'[i]}`));
  let children: ChildProcess[] = [];
  const pids = () => processTree(children.map((c) => c.pid!).filter(Boolean));
  return {
    name: 'ours',
    port: ports[0]!,
    ports,
    dirs,
    mode: `${CLUSTER_MODE}${extra.length ? ` [${extra.join(', ')}]` : ''}`,
    async start(maildir, clients) {
      const url = await database();
      await addAccount(dirs[0]!, url, 'alice', maildir);
      await addAccount(dirs[0]!, url, 'bob', path.join(base, 'bob-Maildir'));
      const lines = [`ACCOUNTS="${url}"`, 'IMAP_FILE_WATCH=0', `IMAP_IDLE_TIMEOUT=${POLL_SECONDS}`, `MAXDAEMONS=${clients + 50}`, `MAXPERIP=${clients + 50}`, ...extra];
      children = await Promise.all(dirs.map((d, i) => startServer(d, lines, ports[i]!)));
    },
    memory: () => memoryOfPids(pids()),
    cpuMs: () => cpuMsOfPids(pids()),
    async stop() {
      await Promise.all(children.map(async (child) => {
        try {
          child.kill('SIGTERM');
        } catch {
          /* gone */
        }
        await stopProcess(child, 15_000);
      }));
      children = [];
    },
  };
}

/** One server with the accounts in its data directory's SQLite file (alice on `maildir`). */
export async function sqliteServer(dir: string, maildir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  await addAccount(path.join(dir, 'data'), undefined, 'alice', maildir);
  const child = await startServer(dir, ['MAXDAEMONS=200', 'MAXPERIP=200'], port);
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await stopProcess(child, 15_000);
    },
  };
}

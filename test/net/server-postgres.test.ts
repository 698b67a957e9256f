// imapd-server with ACCOUNTS=postgres://... (a real PostgreSQL, private instance): two server
// processes with data directories of their own share one account store, as two hosts would;
// an account added through one's imapd-accounts logs in on both, and a password changed
// through the other is in force on both at once (the login cache reads the row every time).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';
import { postgresSkip, startPostgres, type PostgresPeer } from '../helpers/account-peers.js';
import { LineClient, eventually } from './client.js';

const repo = ROOT;
const server = join(repo, 'dist/server/bin/imapd-server.js');
const accountsCli = join(repo, 'dist/server/bin/imapd-accounts.js');
let peer: PostgresPeer;
let root: string;
const children: ChildProcess[] = [];

function start(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | string | null> } {
  const child = spawn(process.execPath, [server, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return { child, stdout: () => out, stderr: () => err, exited: new Promise((r) => child.on('close', (code, signal) => r(code ?? signal))) };
}

function cli(args: string[], stdin: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [accountsCli, ...args], { cwd: repo });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stderr }));
    child.stdin.end(stdin);
  });
}

async function login(port: number, user: string, password: string): Promise<string> {
  const client = await LineClient.plain(port);
  try {
    await client.line();
    client.socket.write(`a LOGIN ${user} ${password}\r\n`);
    // A refused login is answered after the failure delay (Courier's 5 s).
    for (;;) {
      const line = await client.line(15_000);
      if (line.startsWith('a ')) return line;
    }
  } finally {
    client.socket.destroy();
  }
}

describe('imapd-server on a PostgreSQL account store', { skip: postgresSkip }, () => {
  before(async () => {
    peer = await startPostgres();
    root = await fs.mkdtemp(join(tmpdir(), 'imapd-server-pg-'));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await peer?.stop();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  test('two servers, one store: an account and its password change are seen by both', async () => {
    const url = await peer.database();
    const config = join(root, 'config');
    await fs.mkdir(config, { recursive: true });
    await fs.writeFile(join(config, 'imapd'), `ACCOUNTS="${url}"\nIMAPDSSLSTART=NO\nLOGIN_CACHE_TTL=300\n`);
    const mail = join(root, 'shared-mail', 'alice');
    const added = await cli(['--data', join(root, 'a'), '--accounts', url, 'add', 'alice', '--maildir', mail, '--password-stdin'], 'first-pw\n');
    assert.equal(added.code, 0, added.stderr);
    const servers = ['a', 'b'].map((name) => start(['--config', config, '--data', join(root, name), '--address', '127.0.0.1', '--port', '0']));
    const ports: number[] = [];
    for (const s of servers) {
      await eventually(() => /IMAP with STARTTLS/.test(s.stdout()), 20_000, 'listening line');
      ports.push(Number(/listening on 127\.0\.0\.1:(\d+)/.exec(s.stdout())![1]));
    }
    for (const port of ports) assert.match(await login(port, 'alice', 'first-pw'), /^a OK/);
    const changed = await cli(['--data', join(root, 'b'), '--accounts', url, 'passwd', 'alice', '--password-stdin'], 'second-pw\n');
    assert.equal(changed.code, 0, changed.stderr);
    for (const port of ports) {
      assert.match(await login(port, 'alice', 'first-pw'), /^a NO/, 'the cached old password is refused');
      assert.match(await login(port, 'alice', 'second-pw'), /^a OK/);
    }
    for (const s of servers) {
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 0, s.stderr());
    }
  });

  test('a store that cannot be reached: the server says so and exits', async () => {
    const config = join(root, 'config-down');
    await fs.mkdir(config, { recursive: true });
    await fs.writeFile(join(config, 'imapd'), 'ACCOUNTS="postgres://imapd:secret@127.0.0.1:1/none"\n');
    const s = start(['--config', config, '--data', join(root, 'c'), '--port', '0', '--sslport', '0']);
    assert.equal(await s.exited, 1);
    assert.match(s.stderr(), /account store: cannot use the PostgreSQL account store postgres:\/\/imapd:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    assert.doesNotMatch(s.stderr(), /secret/);
  });
});

// PIDFILE / SSLPIDFILE (imapd-server: one process serves both ports, so both files hold its
// pid; removed on a clean stop) and IMAP_UMASK (applied to the process, as Courier's start
// script does, so every file the server or the stdio imapd creates follows it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnImapd } from '../helpers/imap-client.js';
import { eventually } from '../net/client.js';

const repo = resolve(import.meta.dirname, '../..');
const bin = join(repo, 'dist/server/bin/imapd-server.js');
let root: string;
const children: ChildProcess[] = [];

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'imapd-ops-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fs.rm(root, { recursive: true, force: true });
});

test('imapd-server writes its pid to PIDFILE and SSLPIDFILE under IMAP_UMASK, and removes them on SIGTERM', async () => {
  const config = join(root, 'config');
  await fs.mkdir(config, { recursive: true });
  const pid = join(root, 'run/imapd.pid');
  const sslPid = join(root, 'run/imapd-ssl.pid');
  await fs.writeFile(join(config, 'imapd'), `ADDRESS=127.0.0.1\nPORT=0\nPIDFILE=${pid}\nIMAP_UMASK=077\n`);
  await fs.writeFile(join(config, 'imapd-ssl'), `SSLPORT=0\nSSLPIDFILE=${sslPid}\n`);
  const child = spawn(process.execPath, [bin, '--config', config, '--data', join(root, 'data')], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await eventually(() => existsSync(pid) && existsSync(sslPid), 15_000, 'pid files');
  assert.equal((await fs.readFile(pid, 'utf8')).trim(), String(child.pid));
  assert.equal((await fs.readFile(sslPid, 'utf8')).trim(), String(child.pid));
  assert.equal((await fs.stat(pid)).mode & 0o777, 0o600, 'IMAP_UMASK=077 applies to the pid file');
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(existsSync(pid), false);
  assert.equal(existsSync(sslPid), false);
});

test('the stdio imapd applies IMAP_UMASK to the messages it writes', async () => {
  const maildir = join(root, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(maildir, sub), { recursive: true });
  const imapd = spawnImapd(maildir, { IMAP_UMASK: '027' });
  await imapd.client.greeting;
  const msg = 'Subject: umask\r\n\r\nbody\r\n';
  const reply = await imapd.client.command(`APPEND INBOX {${msg.length}+}\r\n${msg}`);
  assert.match(reply.tagged, /^OK/);
  await imapd.close();
  // Every file the engine made (message, UID database, caches) follows the umask.
  const made = (await fs.readdir(maildir, { recursive: true })).map((f) => join(maildir, f));
  assert.ok(made.some((f) => f.endsWith('courierimapuiddb')));
  for (const f of made) {
    const st = await fs.stat(f);
    if (!st.isFile()) continue; // cur/ new/ tmp/ were made by this test
    const mode = st.mode & 0o777;
    assert.equal(mode & 0o027, 0, `${f}: mode ${mode.toString(8)}`);
  }
});

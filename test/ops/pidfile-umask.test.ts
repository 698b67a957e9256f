// PIDFILE / SSLPIDFILE (imapd-server: one process serves both ports, so both files hold its
// pid; removed on a clean stop) and IMAP_UMASK (applied to the process, as Courier's start
// script does, so every file the server or the stdio imapd creates follows it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';
import { IMAPD, ImapTestClient, spawnImapd } from '../helpers/imap-client.js';
import { courierSkip, peerScript } from '../helpers/peers.js';
import { eventually } from '../net/client.js';

const repo = ROOT;
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

test('under the same umask, our UID database and folders get the modes Courier\'s imapd gives its own, messages no wider', { skip: courierSkip }, async () => {
  // Courier's start script runs "umask $IMAP_UMASK" before imapd; ours applies the setting itself.
  const modes: Record<string, string>[] = [];
  for (const side of ['ours', 'courier'] as const) {
    const maildir = join(root, `umask-${side}`);
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(maildir, sub), { recursive: true });
    const child = side === 'ours'
      ? spawn(process.execPath, [IMAPD, maildir], { env: { PATH: process.env.PATH ?? '', IMAP_UMASK: '027' } })
      : spawn('/bin/sh', ['-c', 'umask 027; exec "$0" "$1"', peerScript('courier-preauth.sh'), maildir], { env: { PATH: process.env.PATH ?? '' } });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const client = new ImapTestClient(child.stdout!, child.stdin!);
    await client.greeting;
    assert.match((await client.append('INBOX', Buffer.from('Subject: umask\r\n\r\nbody\r\n'))).tagged, /^OK/);
    assert.match((await client.command('CREATE INBOX.Folder')).tagged, /^OK/);
    await client.command('LOGOUT');
    await exited;
    const [message] = await fs.readdir(join(maildir, 'cur'));
    const mode = async (f: string) => ((await fs.stat(join(maildir, f))).mode & 0o777).toString(8);
    modes.push({
      message: await mode(join('cur', message)), uiddb: await mode('courierimapuiddb'),
      folder: await mode('.Folder'), folderCur: await mode('.Folder/cur'), maildirfolder: await mode('.Folder/maildirfolder'),
    });
  }
  const [ours, courier] = modes;
  assert.deepEqual([ours.uiddb, ours.folder, ours.folderCur], [courier.uiddb, courier.folder, courier.folderCur], 'UID database and folder directories');
  // Never wider than Courier's: messages are always 0600 here (Courier: 0666 less the umask, 640),
  // and the empty maildirfolder marker 640 (Courier: 600), within the umask either way.
  for (const key of ['message', 'maildirfolder'] as const) {
    assert.equal(parseInt(ours[key], 8) & 0o027, 0, `${key}: ours ${ours[key]}`);
  }
  assert.equal(ours.message, '600');
  assert.equal(parseInt(ours.message, 8) & ~parseInt(courier.message, 8), 0, `message: ours ${ours.message}, Courier ${courier.message}`);
});

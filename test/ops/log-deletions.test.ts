// IMAP_LOG_DELETIONS: one "INFO: EXPUNGED, user=..., ip=[...], old_name=..." line per expunged
// message on standard error, as Courier's imapd writes it (compared with Courier when installed;
// the user differs because Courier's PREAUTH mode has no AUTHENTICATED, so it is masked).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sideBySide } from '../helpers/side-by-side.js';

let root: string;
const NAMES = ['1700000000.M1P1.host,S=40:2,S', '1700000001.M2P1.host,S=40:2,'];

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'imapd-logdel-'));
  const base = join(root, 'base');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(base, sub), { recursive: true });
  await fs.mkdir(join(base, '.Sent', 'cur'), { recursive: true });
  for (const sub of ['new', 'tmp']) await fs.mkdir(join(base, '.Sent', sub), { recursive: true });
  await fs.writeFile(join(base, '.Sent', 'maildirfolder'), '');
  for (const n of NAMES) await fs.writeFile(join(base, 'cur', n), 'Subject: delete me\r\n\r\nsome body text\r\n');
  await fs.writeFile(join(base, '.Sent', 'cur', NAMES[0]), 'Subject: sent\r\n\r\nsome body text ok\r\n');
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const expunged = (stderr: string) =>
  stderr.split('\n').filter((l) => l.startsWith('INFO: EXPUNGED')).map((l) => l.replace(/user=[^,]*,/, 'user=*,'));

test('each expunged message is logged with its old file name, as Courier does', async () => {
  const env = { IMAP_LOG_DELETIONS: '1', TCPREMOTEIP: '127.0.0.1', TCPREMOTEPORT: '0' };
  await fs.mkdir(join(root, 'run'));
  const s = await sideBySide(join(root, 'base'), join(root, 'run'), env);
  for (const cmd of ['SELECT INBOX', 'STORE 1:2 +FLAGS (\\Deleted)', 'EXPUNGE', 'SELECT INBOX.Sent', 'STORE 1 +FLAGS (\\Deleted)', 'CLOSE']) {
    await s.both(cmd);
  }
  await s.close();
  const ours = expunged(s.ours.stderr());
  assert.deepEqual(ours.sort(), [
    `INFO: EXPUNGED, user=*, ip=[127.0.0.1], port=[0], old_name=./.Sent/cur/1700000000.M1P1.host,S=40:2,ST`,
    `INFO: EXPUNGED, user=*, ip=[127.0.0.1], port=[0], old_name=./cur/1700000000.M1P1.host,S=40:2,ST`,
    `INFO: EXPUNGED, user=*, ip=[127.0.0.1], port=[0], old_name=./cur/1700000001.M2P1.host,S=40:2,T`,
  ]);
  if (s.courier) assert.deepEqual(ours, expunged(s.courier.stderr()).sort());
});

test('without IMAP_LOG_DELETIONS nothing is logged', async () => {
  await fs.mkdir(join(root, 'run-off'));
  const s = await sideBySide(join(root, 'base'), join(root, 'run-off'), { TCPREMOTEIP: '127.0.0.1' });
  for (const cmd of ['SELECT INBOX', 'STORE 1 +FLAGS (\\Deleted)', 'EXPUNGE']) await s.both(cmd);
  await s.close();
  assert.deepEqual(expunged(s.ours.stderr()), []);
});

// imapd-import --maildir: Maildirs made by Courier and by Dovecot (folders, flags, keywords in
// courierimapkeywords/ and dovecot-keywords, dates), imported and then read back over IMAP beside
// the peer that made them; resumed after a stop, after a crash between the append and its
// record, and after a kill -9 in the middle, never storing a message twice.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { importMaildir } from '../../server/delivery/maildir-import.js';
import { ROOT, spawnCourier, spawnDovecot, spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';
import { courierSkip, dovecotSkip } from '../helpers/peers.js';
import { describeFolders } from '../helpers/describe-folders.js';

const IMPORT = path.join(ROOT, 'dist/server/bin/imapd-import.js');

let dir: string;
before(() => {
  dir = tempDir('maildir-import');
});
after(() => removeTree(dir));

/** A data directory with alice. */
async function dataDir(name: string): Promise<string> {
  const data = path.join(dir, name);
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'alice-password' });
  accounts.close();
  return data;
}

const aliceMaildir = (data: string) => path.join(data, 'mail', 'alice', 'Maildir');

function runImport(data: string, ...args: string[]) {
  return spawnSync(process.execPath, [IMPORT, '--data', data, '--user', 'alice', ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** Fill a Maildir through a peer's IMAP: folders, messages with flags, keywords and dates. */
async function fillThroughPeer(peer: SpawnedImapd): Promise<void> {
  const c = peer.client;
  await c.greeting;
  for (const name of ['INBOX.Lists', 'INBOX.Lists.node', 'INBOX.Archive']) assert.match((await c.command(`CREATE ${name}`)).tagged, /^OK/);
  const put = async (box: string, n: number, flags: string, date: string) =>
    assert.match((await c.append(box, simpleMessage(`${box}-${n}`, `body ${n}\r\n`), `(${flags}) "${date}"`)).tagged, /^OK/);
  await put('INBOX', 1, '\\Seen $Label1', '05-Dec-2026 10:00:00 +0000');
  await put('INBOX', 2, '\\Answered \\Flagged Work', '06-Dec-2026 11:30:00 +0100');
  await put('INBOX', 3, '', '01-Jan-2020 00:00:01 +0000');
  await put('INBOX.Lists.node', 1, '\\Seen Work $Label1 Project-X', '02-Feb-2024 02:02:02 +0000');
  await put('INBOX.Lists.node', 2, '\\Draft', '03-Mar-2024 03:03:03 +0000');
  await put('INBOX.Archive', 1, '\\Seen \\Deleted', '04-Apr-2023 04:04:04 +0000');
  // A flag change after the append: Courier writes a keyword update file, Dovecot renames.
  assert.match((await c.command('SELECT INBOX')).tagged, /^OK/);
  assert.match((await c.command('STORE 3 +FLAGS (Later \\Seen)')).tagged, /^OK/);
  await peer.close();
}

/** The folders as a PREAUTH server on the Maildir says. */
async function describeWith(peer: SpawnedImapd, folders: string[]): Promise<Record<string, string[]>> {
  await peer.client.greeting;
  try {
    return await describeFolders(peer.client, folders);
  } finally {
    await peer.close();
  }
}

const FOLDERS = ['INBOX', 'INBOX.Lists', 'INBOX.Lists.node', 'INBOX.Archive'];

for (const [peerName, spawnPeer, skip] of [['Courier', spawnCourier, courierSkip], ['Dovecot', spawnDovecot, dovecotSkip]] as const) {
  describe(`a Maildir made by ${peerName}`, { skip }, () => {
    it('comes over with its folders, flags, keywords and dates, once, also after a stop', async () => {
      const source = emptyMaildir(path.join(dir, `${peerName}-source`));
      fs.chmodSync(source, 0o755);
      await fillThroughPeer(spawnPeer(source));
      if (peerName === 'Dovecot') assert.ok(fs.existsSync(path.join(source, 'dovecot-keywords')));
      else assert.ok(fs.existsSync(path.join(source, 'courierimapkeywords')));
      const want = await describeWith(spawnPeer(source), FOLDERS);
      assert.equal(want['INBOX']!.length, 3);
      assert.match(want['INBOX.Lists.node']![0]!, /^INBOX\.Lists\.node-1 \[\$label1 \\seen project-x work\] 02-Feb-2024 02:02:02 \+0000$/);
      assert.match(want['INBOX']![2]!, /\[\\seen later\]/);

      const data = await dataDir(`${peerName}-data`);
      let r = runImport(data, '--maildir', source, '--limit', '2');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /INBOX and 3 folder\(s\) below it of alice: 2 imported, 0 already there/);
      r = runImport(data, '--maildir', source);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /: 4 imported, 2 already there/);
      r = runImport(data, '--maildir', source, '--quiet');
      assert.match(r.stdout, /: 0 imported, 6 already there/);
      r = runImport(data, '--maildir', `${source}-gone`);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /there is no Maildir at .*-gone/);

      const got = await describeWith(spawnImapd(aliceMaildir(data)), FOLDERS);
      assert.deepEqual(got, want);
    });
  });
}

describe('imapd-import --maildir, interrupted', () => {
  it('a crash between the append and its record neither loses nor doubles a message', async () => {
    const source = emptyMaildir(path.join(dir, 'crash-source'));
    for (let i = 0; i < 150; i++) deliver(source, simpleMessage(`crash-${i}`));
    const data = await dataDir('crash-data');
    const accounts = SqliteAccountStore.open(data);
    const opener = new AccountAuthenticator({
      accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
      watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash',
    });
    const store = await opener.openMailbox((await accounts.get('alice'))!);
    try {
      let appends = 0;
      await assert.rejects(importMaildir({
        dataDir: data, store, account: 'alice', maildir: source, folder: 'INBOX.Old',
        faults: { afterAppend: () => { if (++appends === 2) throw new Error('crash'); } },
      }), /crash/);
      const result = await importMaildir({ dataDir: data, store, account: 'alice', maildir: source, folder: 'INBOX.Old' });
      // The batch appended before the "crash" was found in the folder, not appended again.
      assert.equal(result.imported + result.skipped, 150);
      assert.ok(result.skipped >= 128, `skipped ${result.skipped}`);
    } finally {
      await store.close();
      await opener.idle();
      accounts.close();
    }
    assertOnce(path.join(aliceMaildir(data), '.Old'), 150);
  });

  it('a kill -9 in the middle: the next run completes it, every message once', async () => {
    const source = emptyMaildir(path.join(dir, 'kill-source'));
    for (let i = 0; i < 1500; i++) deliver(source, simpleMessage(`kill-${i}`, 'x'.repeat(2000) + '\r\n'));
    const data = await dataDir('kill-data');
    const target = path.join(aliceMaildir(data), '.Killed', 'cur');
    const child = spawn(process.execPath, [IMPORT, '--data', data, '--user', 'alice', '--maildir', source, '--folder', 'Killed', '--quiet'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let tries = 0; tries < 600; tries++) {
      if (fs.existsSync(target) && fs.readdirSync(target).length >= 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const before = fs.readdirSync(target).length;
    assert.ok(before > 0 && before < 1500, `killed after ${before}`);
    const r = runImport(data, '--maildir', source, '--folder', 'Killed');
    assert.equal(r.status, 0, r.stderr);
    assertOnce(path.join(aliceMaildir(data), '.Killed'), 1500);
  });
});

/** The folder holds `count` messages, no two with the same bytes. */
function assertOnce(folderDir: string, count: number): void {
  const hashes = new Set<string>();
  let n = 0;
  for (const sub of ['cur', 'new']) {
    for (const name of fs.readdirSync(path.join(folderDir, sub))) {
      n++;
      hashes.add(createHash('sha256').update(fs.readFileSync(path.join(folderDir, sub, name))).digest('hex'));
    }
  }
  assert.equal(n, count);
  assert.equal(hashes.size, count);
}

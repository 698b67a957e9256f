// imapd-import --maildir keeps UIDs and UIDVALIDITY where the source's server left them
// (Courier's courierimapuiddb, Dovecot's dovecot-uidlist) and the target folder is empty or new:
// a client that synced against Courier or Dovecot finds, on our imapd, the same UIDVALIDITY,
// the same UID for each message and the same UIDNEXT. Into a folder that has mail already the
// UIDs cannot be kept: new ones are given, and the import says so. A stopped import goes on
// keeping them, and never stores a message twice.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { ROOT, spawnCourier, spawnDovecot, spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';
import { courierSkip, dovecotSkip } from '../helpers/peers.js';

const IMPORT = path.join(ROOT, 'dist/server/bin/imapd-import.js');

let dir: string;
before(() => {
  dir = tempDir('maildir-import-uids');
});
after(() => removeTree(dir));

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

interface Served {
  uidValidity: string;
  uidNext: string;
  /** "uid subject [flags]" in UID order. */
  messages: string[];
}

/** What a server says of folders: UIDVALIDITY and UIDNEXT from EXAMINE, then each message's UID, subject and flags. */
async function served(peer: SpawnedImapd, folders: readonly string[]): Promise<Record<string, Served>> {
  const c = peer.client;
  await c.greeting;
  try {
    const result: Record<string, Served> = {};
    for (const folder of folders) {
      // Courier's SELECT has no UIDNEXT: STATUS asks for it.
      const status = await c.command(`STATUS ${folder} (UIDNEXT UIDVALIDITY)`);
      assert.match(status.tagged, /^OK/, folder);
      const uidNext = /UIDNEXT (\d+)/.exec(status.lines.join('\n'))![1]!;
      const examine = await c.command(`EXAMINE ${folder}`);
      assert.match(examine.tagged, /^OK/, folder);
      const uidValidity = /\[UIDVALIDITY (\d+)\]/.exec(examine.lines.join('\n'))![1]!;
      assert.match(status.lines.join('\n'), new RegExp(`UIDVALIDITY ${uidValidity}\\b`));
      const fetch = await c.command('UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.match(fetch.tagged, /^OK/);
      const messages = fetch.lines.filter((l) => / FETCH /.test(l)).map((l) => {
        const flags = /FLAGS \(([^)]*)\)/.exec(l)![1]!.split(' ').filter((f) => f && f !== '\\Recent').map((f) => f.toLowerCase()).sort();
        return `${/UID (\d+)/.exec(l)![1]} ${/Subject: (\S+)/.exec(l)![1]} [${flags.join(' ')}]`;
      });
      result[folder] = { uidValidity, uidNext, messages };
    }
    return result;
  } finally {
    await peer.close();
  }
}

/**
 * A Maildir as the peer leaves it: messages appended, some expunged (gaps in the UIDs, and a
 * UIDNEXT above the last one), in INBOX and a subfolder. The peer writes its UID file itself.
 */
async function fillThroughPeer(peer: SpawnedImapd): Promise<void> {
  const c = peer.client;
  await c.greeting;
  assert.match((await c.command('CREATE INBOX.Archive')).tagged, /^OK/);
  for (const [box, count] of [['INBOX', 9], ['INBOX.Archive', 4]] as const) {
    for (let n = 1; n <= count; n++) {
      assert.match((await c.append(box, simpleMessage(`${box}-${n}`, `body ${n}\r\n`), n % 3 === 0 ? '(\\Seen)' : '()')).tagged, /^OK/);
    }
    assert.match((await c.command(`SELECT ${box}`)).tagged, /^OK/);
    // The first, one in the middle and the last go: gaps, and a UIDNEXT no message has.
    assert.match((await c.command(`UID STORE 1,4,${count} +FLAGS.SILENT (\\Deleted)`)).tagged, /^OK/);
    assert.match((await c.command('EXPUNGE')).tagged, /^OK/);
  }
  await peer.close();
}

const FOLDERS = ['INBOX', 'INBOX.Archive'];

for (const [peerName, spawnPeer, skip, uidFile] of [
  ['Courier', spawnCourier, courierSkip, 'courierimapuiddb'],
  ['Dovecot', spawnDovecot, dovecotSkip, 'dovecot-uidlist'],
] as const) {
  describe(`UIDs of a Maildir made by ${peerName}`, { skip }, () => {
    let source: string;
    let want: Record<string, Served>;
    before(async () => {
      source = emptyMaildir(path.join(dir, `${peerName}-source`));
      fs.chmodSync(source, 0o755);
      await fillThroughPeer(spawnPeer(source));
      assert.ok(fs.existsSync(path.join(source, uidFile)), `${peerName} wrote its ${uidFile}`);
      assert.ok(fs.existsSync(path.join(source, '.Archive', uidFile)));
      want = await served(spawnPeer(source), FOLDERS);
      assert.equal(want['INBOX']!.messages.length, 6);
      assert.match(want['INBOX']!.messages[0]!, /^2 INBOX-2 \[\]$/);
      assert.equal(want['INBOX']!.uidNext, '10');
    });

    it('come over with UIDVALIDITY, UIDs and UIDNEXT into a new account, also when the import stops halfway', async () => {
      const data = await dataDir(`${peerName}-keep`);
      let r = runImport(data, '--maildir', source, '--limit', '4');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /: 4 imported, 0 already there; 4 kept their UIDs/);
      r = runImport(data, '--maildir', source);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /: 4 imported, 4 already there; 4 kept their UIDs/);
      assert.doesNotMatch(r.stdout + r.stderr, /new UIDs/);
      const got = await served(spawnImapd(aliceMaildir(data)), FOLDERS);
      assert.deepEqual(got, want);
      // Our own database, in Courier's format, says so too (Courier would serve the same).
      const head = fs.readFileSync(path.join(aliceMaildir(data), 'courierimapuiddb'), 'utf8').split('\n')[0];
      assert.equal(head, `1 ${want['INBOX']!.uidValidity} 10`);

      // New mail after the import gets UIDs above the source's UIDNEXT.
      const ours = spawnImapd(aliceMaildir(data));
      await ours.client.greeting;
      const appended = await ours.client.append('INBOX', simpleMessage('after-import'), '()');
      assert.match(appended.tagged, new RegExp(`^OK \\[APPENDUID ${want['INBOX']!.uidValidity} 10\\]`));
      await ours.close();
    });

    it('into a folder that has mail already get new UIDs, and the import says so', async () => {
      const data = await dataDir(`${peerName}-merge`);
      const mine = spawnImapd(emptyMaildir(aliceMaildir(data)));
      await mine.client.greeting;
      assert.match((await mine.client.append('INBOX', simpleMessage('already-here'), '()')).tagged, /^OK/);
      await mine.close();
      const before = await served(spawnImapd(aliceMaildir(data)), ['INBOX']);
      const r = runImport(data, '--maildir', source);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /: 8 imported, 0 already there/);
      assert.match(r.stdout, /INBOX had messages already: its 6 imported ones got new UIDs/);
      assert.match(r.stdout, /2 kept their UIDs/); // INBOX.Archive is new
      const got = await served(spawnImapd(aliceMaildir(data)), FOLDERS);
      assert.equal(got['INBOX']!.uidValidity, before['INBOX']!.uidValidity);
      assert.deepEqual(got['INBOX']!.messages, ['1 already-here []', ...want['INBOX']!.messages.map((m, i) => m.replace(/^\d+/, String(i + 2)))]);
      assert.deepEqual(got['INBOX.Archive'], want['INBOX.Archive']);
    });
  });
}

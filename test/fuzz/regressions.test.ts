// Findings of fuzz campaigns (npm run fuzz) against the newer extensions, each minimized to
// the commands that showed it and kept here: the server must answer every complete line with
// a tagged OK/NO/BAD (or "+", or an untagged BAD where no tag can be read), within a deadline.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

describe('fuzz findings on the stdio imapd', () => {
  let dir: string;
  let md: string;
  let imapd: SpawnedImapd;
  const tmpFiles = () => fs.readdirSync(path.join(md, 'tmp'));

  before(async () => {
    dir = tempDir('fuzz-regress');
    md = emptyMaildir(path.join(dir, 'Maildir'));
    for (let i = 1; i <= 3; i++) deliver(md, `From: a@example.org\r\nSubject: m${i}\r\n\r\nbody ${i}\r\n`);
    imapd = spawnImapd(md);
    await imapd.client.greeting;
    assert.match((await imapd.client.command('SELECT INBOX')).tagged, /^OK/);
  });
  after(async () => {
    await imapd.close();
    removeTree(dir);
  });

  it('refuses a too big literal after a line with no tag with an untagged BAD, not NO (the client waits for "+")', async () => {
    // Seed 1, case "mutated commands": "f1~{45966755}" got "* NO [LIMIT] ...", which ends no
    // command for the client; it waited for "+" while the server waited for the next line.
    imapd.client.send('f1~{45966755}\r\n');
    const line = (await imapd.client.readResponseLine(2000)).toString('latin1');
    assert.match(line, /^\* BAD /);
    assert.equal((await imapd.client.command('NOOP', 2000)).tagged.slice(0, 2), 'OK');
  });

  it('leaves no CATENATE message in tmp/ when a later message of the MULTIAPPEND is refused', async () => {
    // Seed 101, case "mutated commands": the first message, put together in tmp/, stayed there
    // for good when the second one's URL named no message (NO [BADURL]).
    const r = await imapd.client.command('APPEND INBOX CATENATE (TEXT {7+}\r\nSubj: a) CATENATE (URL "/INBOX/;UID=99")', 2000);
    assert.match(r.tagged, /^NO \[BADURL/);
    const empty = await imapd.client.command('APPEND INBOX CATENATE (TEXT {7+}\r\nSubj: a) {0+}\r\n', 2000);
    assert.match(empty.tagged, /^NO /);
    assert.deepEqual(tmpFiles(), []);
  });

  it('refuses a SETACL whose list would be too long to read back, and keeps the entries it has', async () => {
    // Seed 303, case "many acl entries": past 64 KiB the ACL file is not read (as not ours), so
    // every SETACL said OK while the folder's entries were lost, the owner's own ones too.
    const id = (i: number) => `u${i}${'x'.repeat(200)}`;
    let sent = '';
    for (let i = 0; i < 400; i++) sent += `s${i} SETACL INBOX ${id(i)} lrswi\r\n`;
    imapd.client.send(sent);
    const statuses: string[] = [];
    for (let i = 0; i < 400; i++) statuses.push((await imapd.client.readUntilTagged(`s${i}`, 10_000)).tagged);
    assert.ok(statuses.some((t) => t.startsWith('NO [LIMIT]')), statuses.find((t) => !t.startsWith('OK')) ?? 'every SETACL said OK');
    const acl = (await imapd.client.command('GETACL INBOX', 5000)).lines.join(' ');
    assert.ok(acl.includes(id(0)), 'the first entry is still there');
    assert.match((await imapd.client.command('DELETEACL INBOX ' + id(0), 5000)).tagged, /^OK/);
  });

  it('answers a SEARCH of 2,224 identical literal keys, and refuses one of thousands of distinct strings with NO [LIMIT]', async () => {
    // Seed 20261206, case "many literals" (net cases 105 and 474): identical keys are one key.
    imapd.client.send(`m1 SEARCH ${'TEXT {1+}\r\nx '.repeat(2224)}ALL\r\n`);
    const many = await imapd.client.readUntilTagged('m1', 10_000);
    assert.match(many.tagged, /^OK/);
    assert.deepEqual(many.lines, ['* SEARCH 1 2 3']);
    // 3,000 distinct strings in a tree of OR fit in 64 KiB and cost a pass over every message each.
    const tree = (keys: string[]): string => (keys.length === 1 ? keys[0] : `OR (${tree(keys.slice(0, keys.length >> 1))}) (${tree(keys.slice(keys.length >> 1))})`);
    const distinct = await imapd.client.command(`SEARCH ${tree(Array.from({ length: 3000 }, (_, i) => `BODY zq${i}`))}`, 10_000);
    assert.match(distinct.tagged, /^NO \[LIMIT\] /);
  });

  it('leaves no empty CATENATE message in tmp/', async () => {
    const r = await imapd.client.command('APPEND INBOX CATENATE (TEXT {0+}\r\n)', 2000);
    assert.match(r.tagged, /^NO /);
    assert.deepEqual(tmpFiles(), []);
  });
});

describe('fuzz findings: what a session leaves behind', () => {
  it('imapd does not exit holding tmp/courier.lock while it takes in a delivery to the selected folder', async () => {
    // Seed 101: tmp/courier.lock (and a scratch file) stayed after a session ended while the
    // folder's watcher-prompted look was moving new messages to cur/ under the lock.
    const dir = tempDir('fuzz-lock');
    try {
      const md = emptyMaildir(path.join(dir, 'Maildir'));
      deliver(md, 'Subject: a\r\n\r\nb\r\n');
      const imapd = spawnImapd(md);
      await imapd.client.greeting;
      assert.match((await imapd.client.command('SELECT INBOX')).tagged, /^OK/);
      // Another program delivers a burst: links are quick to make, 4000 take a while to move.
      const one = path.join(dir, 'one');
      fs.writeFileSync(one, 'Subject: burst\r\n\r\nbody\r\n');
      for (let i = 0; i < 4000; i++) fs.linkSync(one, path.join(md, 'new', `${1_800_000_000 + i}.M${i}P9.burst,S=24`));
      await new Promise((resolve) => setTimeout(resolve, 150));
      imapd.child.stdin.end();
      assert.equal(await imapd.exited, 0);
      assert.deepEqual(fs.readdirSync(path.join(md, 'tmp')), []);
    } finally {
      removeTree(dir);
    }
  });
});

// Commands whose cost a client could make grow faster than the data they touch (issue 9):
// each is sent to a real imapd on stdio and must be answered, correctly, within a second.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

describe('hostile LIST and LSUB patterns', () => {
  let dir: string;
  let imapd: SpawnedImapd;
  const long = 'a'.repeat(40);

  before(async () => {
    dir = tempDir('hostile');
    imapd = spawnImapd(emptyMaildir(path.join(dir, 'Maildir')));
    await imapd.client.greeting;
    assert.match((await imapd.client.command(`CREATE INBOX.${long}.x`)).tagged, /^OK/);
    assert.match((await imapd.client.command(`SUBSCRIBE INBOX.${long}.x`)).tagged, /^OK/);
  });
  after(async () => {
    await imapd.close();
    removeTree(dir);
  });

  it('answers LIST with 25 % over a 40-character name within a second', async () => {
    const started = Date.now();
    const r = await imapd.client.command(`LIST "INBOX." ${'%'.repeat(25)}`, 1000);
    assert.equal(r.tagged, 'OK LIST completed');
    assert.deepEqual(r.lines, [`* LIST (\\Noselect \\HasChildren) "." "INBOX.${long}"`]);
    assert.ok(Date.now() - started < 1000);
  });

  it('answers LSUB with alternating % and * within a second', async () => {
    const r = await imapd.client.command(`LSUB "" "INBOX.${'%*'.repeat(30)}y"`, 1000);
    assert.equal(r.tagged, 'OK LSUB completed');
    assert.deepEqual(r.lines, []);
    const hit = await imapd.client.command(`LSUB "" "INBOX.${'%a'.repeat(20)}%.x"`, 1000);
    assert.deepEqual(hit.lines, [`* LSUB () "." "INBOX.${long}.x"`]);
  });
});

describe('hostile SEARCH strings', () => {
  let dir: string;
  let imapd: SpawnedImapd;
  const word = 'Zorb'.repeat(500); // 2,000 characters

  before(async () => {
    dir = tempDir('hostile');
    const md = emptyMaildir(path.join(dir, 'Maildir'));
    deliver(md, `From: a@example.org\r\nSubject: x ${word} y\r\n\r\nbody ${word}\r\n`);
    deliver(md, 'From: b@example.org\r\nSubject: other\r\n\r\nnothing\r\n');
    imapd = spawnImapd(md);
    await imapd.client.greeting;
    assert.match((await imapd.client.command('SELECT INBOX')).tagged, /^OK/);
  });
  after(async () => {
    await imapd.close();
    removeTree(dir);
  });

  const search = async (key: string, needle: string): Promise<string[]> => {
    const tag = imapd.client.nextTag();
    imapd.client.send(`${tag} SEARCH ${key} {${needle.length}+}\r\n${needle}\r\n`);
    const r = await imapd.client.readUntilTagged(tag, 2000);
    assert.equal(r.tagged, 'OK SEARCH completed', key);
    return r.lines;
  };

  it('answers strings too long for a regular expression, and finds long ones in any case', async () => {
    // 50,000 characters: building a case-insensitive expression of it threw (NO [SERVERBUG]).
    const huge = 'a'.repeat(50_000);
    for (const key of ['SUBJECT', 'FROM', 'BODY', 'TEXT', 'HEADER X-Any']) assert.deepEqual(await search(key, huge), ['* SEARCH'], key);
    for (const key of ['SUBJECT', 'BODY', 'TEXT', 'HEADER Subject']) assert.deepEqual(await search(key, word.toLowerCase()), ['* SEARCH 1'], key);
  });
});

// Corner cases of SEARCHRES (RFC 5182), CONTEXT=SEARCH and the capability words of issue 13
// over a real imapd process: "$" in MOVE and UID EXPUNGE, "$" after SELECT, a tag reused by a
// SEARCH with UPDATE, NOUPDATE past the limit, and each word switched off in IMAP_CAPABILITY.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';

let root: string;
let counter = 0;
before(() => {
  root = tempDir('searchres');
});
after(() => removeTree(root));

/** imapd on a new Maildir of `count` messages, INBOX selected. */
async function server(count: number, env: Record<string, string> = {}): Promise<SpawnedImapd> {
  const maildir = emptyMaildir(path.join(root, `m${++counter}`));
  for (let i = 1; i <= count; i++) deliver(maildir, simpleMessage(`message ${i}`));
  const imapd = spawnImapd(maildir, env);
  await imapd.client.greeting;
  assert.match((await imapd.client.command('SELECT INBOX')).tagged, /^OK/);
  return imapd;
}

async function lines(imapd: SpawnedImapd, command: string, status = 'OK'): Promise<string[]> {
  const reply = await imapd.client.command(command);
  assert.equal(reply.tagged.split(' ')[0], status, `${command}: ${reply.tagged}`);
  return reply.lines;
}

test('"$" in MOVE and UID EXPUNGE; expunged messages leave it; SELECT empties it', async () => {
  const imapd = await server(6);
  try {
    await lines(imapd, 'CREATE INBOX.Other');
    await lines(imapd, 'UID SEARCH RETURN (SAVE) 2:3');
    const moved = await lines(imapd, 'MOVE $ INBOX.Other');
    assert.deepEqual(moved.filter((l) => /EXPUNGE/.test(l)), ['* 2 EXPUNGE', '* 2 EXPUNGE']);
    // The moved messages are gone from "$".
    assert.deepEqual(await lines(imapd, 'UID SEARCH $'), ['* SEARCH']);
    await lines(imapd, 'SEARCH RETURN (SAVE) 1:2');
    await lines(imapd, 'STORE $ +FLAGS.SILENT (\\Deleted)');
    await lines(imapd, 'STORE 3 +FLAGS.SILENT (\\Deleted)');
    const expunged = await lines(imapd, 'UID EXPUNGE $');
    assert.deepEqual(expunged.filter((l) => /EXPUNGE/.test(l)), ['* 1 EXPUNGE', '* 1 EXPUNGE']);
    assert.deepEqual(await lines(imapd, 'UID SEARCH DELETED'), ['* SEARCH 5']);
    await lines(imapd, 'SEARCH RETURN (SAVE) ALL');
    assert.deepEqual(await lines(imapd, 'SEARCH $'), ['* SEARCH 1 2']);
    await lines(imapd, 'SELECT INBOX');
    assert.deepEqual(await lines(imapd, 'SEARCH $'), ['* SEARCH']);
    assert.deepEqual(await lines(imapd, 'FETCH $ (UID)'), []);
  } finally {
    await imapd.close();
  }
});

test('a SEARCH with UPDATE under a tag in use is BAD; past ten kept searches, NOUPDATE', async () => {
  const imapd = await server(2);
  try {
    const { client } = imapd;
    client.send('same UID SEARCH RETURN (UPDATE) ALL\r\n');
    assert.match((await client.readUntilTagged('same')).tagged, /^OK/);
    client.send('same UID SEARCH RETURN (UPDATE) ALL\r\n');
    assert.match((await client.readUntilTagged('same')).tagged, /^BAD .*already names a search with UPDATE/);
    // The same tag without UPDATE is fine.
    client.send('same UID SEARCH RETURN (COUNT) ALL\r\n');
    assert.deepEqual((await client.readUntilTagged('same')).lines, ['* ESEARCH (TAG "same") UID COUNT 2']);
    for (let i = 2; i <= 10; i++) assert.deepEqual(await lines(imapd, 'SEARCH RETURN (UPDATE) SEEN'), [`* ESEARCH (TAG "t${i}")`]);
    const refused = await lines(imapd, 'SEARCH RETURN (UPDATE COUNT) SEEN');
    assert.deepEqual(refused, ['* ESEARCH (TAG "t11") COUNT 0', '* NO [NOUPDATE "t11"] Too many searches with UPDATE; CANCELUPDATE one']);
    // The ten kept ones all report; the refused one does not.
    const stored = await lines(imapd, 'STORE 1 +FLAGS.SILENT (\\Seen)');
    assert.equal(stored.filter((l) => /^\* ESEARCH .*ADDTO \(0 1\)$/.test(l)).length, 9);
    assert.equal(stored.filter((l) => /^\* ESEARCH \(TAG "same"\) UID$/.test(l)).length, 0);
    await lines(imapd, 'CANCELUPDATE "t3" "t4"');
    assert.equal((await lines(imapd, 'STORE 1 -FLAGS.SILENT (\\Seen)')).length, 7);
  } finally {
    await imapd.close();
  }
});

test('each word switched off in IMAP_CAPABILITY takes its syntax with it', async () => {
  const imapd = await server(2, { IMAP_CAPABILITY: 'IMAP4rev1 SORT' });
  try {
    const capability = (await lines(imapd, 'CAPABILITY'))[0];
    for (const word of ['ESEARCH', 'ESORT', 'SEARCHRES', 'WITHIN', 'CONTEXT=SEARCH', 'CONTEXT=SORT']) assert.ok(!capability.split(' ').includes(word), capability);
    await lines(imapd, 'SEARCH RETURN (ALL) ALL', 'BAD');
    await lines(imapd, 'SORT RETURN (ALL) (ARRIVAL) UTF-8 ALL', 'BAD');
    await lines(imapd, 'SEARCH $', 'BAD');
    await lines(imapd, 'FETCH $ (UID)', 'BAD');
    await lines(imapd, 'SEARCH OLDER 10', 'BAD');
    await lines(imapd, 'CANCELUPDATE "x"', 'BAD');
    assert.deepEqual(await lines(imapd, 'SEARCH ALL'), ['* SEARCH 1 2']);
  } finally {
    await imapd.close();
  }
  // ESEARCH without SEARCHRES and CONTEXT=SEARCH: RETURN works, SAVE / UPDATE / PARTIAL do not.
  const partial = await server(2, { IMAP_CAPABILITY: 'IMAP4rev1 ESEARCH' });
  try {
    assert.deepEqual(await lines(partial, 'SEARCH RETURN (MIN) ALL'), ['* ESEARCH (TAG "t2") MIN 1']);
    await lines(partial, 'SEARCH RETURN (SAVE) ALL', 'BAD');
    await lines(partial, 'SEARCH RETURN (UPDATE) ALL', 'BAD');
    await lines(partial, 'SEARCH RETURN (PARTIAL 1:2) ALL', 'BAD');
  } finally {
    await partial.close();
  }
});

// SORT=DISPLAY (RFC 5957), THREAD=REFS (as Dovecot) and I18NLEVEL=1 (RFC 5255) on the wire,
// through the stdio imapd: the grammar of the answers, the words in CAPABILITY, and each one
// refused once IMAP_CAPABILITY leaves it out. The orders themselves are compared with Dovecot
// in test/imap/search/peers.test.ts (SORT, THREAD) and peers-search.test.ts (SEARCH).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';

let dir: string;
let maildir: string;

const message = (from: string, to: string, subject: string, date: string, extra = ''): string =>
  `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: ${date}\r\n${extra}\r\nBody.\r\n`;

before(() => {
  dir = tempDir('morg');
  maildir = emptyMaildir(path.join(dir, 'md'));
  // 1 and 3 are one thread (3 replies to 1); 2 is alone and newer than 1 but older than 3.
  deliver(maildir, message('"Zoe Zed" <a@example.org>', 'Bob <b@example.org>', 'first', 'Mon, 1 Jul 2024 10:00:00 +0000', 'Message-ID: <one@x>\r\n'));
  deliver(maildir, message('carol@example.org', '"Adam" <z@example.org>', 'second', 'Tue, 2 Jul 2024 10:00:00 +0000', 'Message-ID: <two@x>\r\n'));
  deliver(maildir, message('=?UTF-8?Q?=C3=85sa?= <c@example.org>', 'ann@example.org', 'Re: first', 'Wed, 3 Jul 2024 10:00:00 +0000', 'Message-ID: <three@x>\r\nIn-Reply-To: <one@x>\r\n'));
});

after(() => removeTree(dir));

async function withServer(env: Record<string, string>, body: (s: SpawnedImapd) => Promise<void>): Promise<void> {
  const server = spawnImapd(maildir, env);
  try {
    await server.client.greeting;
    assert.match((await server.client.command('SELECT INBOX')).tagged, /^OK/);
    await body(server);
  } finally {
    await server.close();
  }
}

describe('SORT=DISPLAY, THREAD=REFS, I18NLEVEL=1', () => {
  it('are announced and answer in the RFC grammar', async () => {
    await withServer({}, async ({ client }) => {
      const caps = (await client.command('CAPABILITY')).lines[0];
      for (const word of ['SORT=DISPLAY', 'THREAD=REFS', 'I18NLEVEL=1']) assert.ok(caps.split(' ').includes(word), word);
      // DISPLAYFROM: "Zoe Zed", "carol@example.org" (no name: the addr-spec), "Åsa" (decoded;
      // i;unicode-casemap decomposes Å to A and a ring, before C).
      assert.deepEqual((await client.command('SORT (DISPLAYFROM) UTF-8 ALL')).lines, ['* SORT 3 2 1']);
      assert.deepEqual((await client.command('SORT (REVERSE DISPLAYTO) UTF-8 ALL')).lines, ['* SORT 1 3 2']);
      assert.deepEqual((await client.command('UID SORT (DISPLAYTO SUBJECT) UTF-8 ALL')).lines, ['* SORT 2 3 1']);
      // REFS: the thread of 1 and 3 is the newest (3 is 3 July), so it comes after 2.
      assert.deepEqual((await client.command('THREAD REFS UTF-8 ALL')).lines, ['* THREAD (2)(1 3)']);
      assert.deepEqual((await client.command('THREAD REFERENCES UTF-8 ALL')).lines, ['* THREAD (1 3)(2)']);
      assert.deepEqual((await client.command('UID THREAD REFS UTF-8 SUBJECT first')).lines, ['* THREAD (1 3)']);
      assert.match((await client.command('THREAD REFSX UTF-8 ALL')).tagged, /^BAD/);
    });
  });

  it('are refused when IMAP_CAPABILITY leaves them out', async () => {
    await withServer({ IMAP_CAPABILITY: 'IMAP4rev1 SORT THREAD=REFERENCES' }, async ({ client }) => {
      const caps = (await client.command('CAPABILITY')).lines[0].split(' ');
      for (const word of ['SORT=DISPLAY', 'THREAD=REFS', 'I18NLEVEL=1', 'COMPRESS=DEFLATE']) assert.ok(!caps.includes(word), word);
      assert.match((await client.command('SORT (DISPLAYFROM) UTF-8 ALL')).tagged, /^BAD/);
      assert.match((await client.command('THREAD REFS UTF-8 ALL')).tagged, /^BAD/);
      assert.match((await client.command('COMPRESS DEFLATE')).tagged, /^BAD/);
      assert.deepEqual((await client.command('SORT (FROM) UTF-8 ALL')).lines, ['* SORT 1 3 2']);
    });
  });
});

// THREADID (RFC 8474 5.2): the Message ID a message names as the first of its thread (the first of
// its References, else its In-Reply-To, as THREAD=REFERENCES reads them, RFC 5256), or its own,
// hashed: the same for every message of a thread, in every folder and process, and never changing
// (the headers do not), unlike the root of THREAD=REFERENCES in one folder, which moves when an
// earlier message arrives late or is expunged. A message with no Message ID and no references is
// a thread of its own.

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { deliver, emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';
import { spawnImapd } from '../../helpers/imap-client.js';

const message = (headers: string[], body = 'text\n'): string => [...headers, 'Subject: thread test', '', body].join('\n');

let dir: string;
let maildir: string;
before(() => {
  dir = tempDir('threadid');
  maildir = emptyMaildir(path.join(dir, 'Maildir'));
  deliver(maildir, message(['Message-ID: <root@example.org>']));
  deliver(maildir, message(['Message-ID: <r1@example.org>', 'In-Reply-To: <root@example.org>', 'References: <root@example.org>']));
  deliver(maildir, message(['Message-ID: <r2@example.org>', 'References: <root@example.org>\n <r1@example.org>']));
  deliver(maildir, message(['Message-ID: <r3@example.org>', 'In-Reply-To: <root@example.org> (sent earlier)']));
  deliver(maildir, message(['Message-ID: <other@example.org>']));
  deliver(maildir, message(['From: nobody@example.org']));
  deliver(maildir, message(['From: nobody@example.org'], 'another\n'));
});
after(() => removeTree(dir));

it('THREADID is one id per thread, the same after a COPY and in another process', async () => {
  const threadIds = async (command: string, imapd = spawnImapd(maildir)): Promise<string[]> => {
    try {
      await imapd.client.greeting;
      await imapd.client.command('SELECT INBOX');
      const reply = await imapd.client.command(command);
      assert.match(reply.tagged, /^OK/);
      return reply.lines.map((l) => /THREADID \((T[0-9a-f]{24})\)/.exec(l)?.[1] ?? l);
    } finally {
      await imapd.close();
    }
  };
  const ids = await threadIds('FETCH 1:* (THREADID)');
  assert.equal(ids.length, 7);
  assert.ok(ids.every((id) => /^T[0-9a-f]{24}$/.test(id)), ids.join(' '));
  assert.deepEqual(ids.slice(1, 4), [ids[0], ids[0], ids[0]], 'replies by References and by In-Reply-To');
  assert.equal(new Set(ids).size, 4, 'the thread, the other message, and one each for the two without ids');
  const imapd = spawnImapd(maildir);
  try {
    await imapd.client.greeting;
    await imapd.client.command('SELECT INBOX');
    assert.match((await imapd.client.command('CREATE INBOX.Other')).tagged, /^OK/);
    assert.match((await imapd.client.command('COPY 3,6 INBOX.Other')).tagged, /^OK/);
  } finally {
    await imapd.close();
  }
  assert.deepEqual(await threadIds('FETCH 1:* (THREADID)'), ids, 'another process');
  const copied = spawnImapd(maildir);
  await copied.client.greeting;
  await copied.client.command('SELECT INBOX.Other');
  const reply = await copied.client.command('UID FETCH 1:* (UID THREADID EMAILID)');
  await copied.close();
  assert.deepEqual(reply.lines.map((l) => /THREADID \((\w+)\)/.exec(l)![1]), [ids[2], ids[5]]);
});

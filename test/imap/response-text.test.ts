// Found by the fuzzer (npm run fuzz): client bytes echoed in a response's text must not
// carry CR or LF, or one response becomes two and the second is forged by the client
// ("a BAD Invalid mailbox name "IN<CRLF>z OK forged"..." reads as a tagged OK for z).

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { spawnImapd } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

/** Send a command whose last argument is a literal, and read every line up to `tag`'s reply and a NOOP after it. */
async function linesAfter(commandHead: string, literal: string, rest: string, setup?: string): Promise<string[]> {
  const dir = tempDir('response-text');
  const imapd = spawnImapd(emptyMaildir(path.join(dir, 'Maildir')));
  try {
    await imapd.client.greeting;
    if (setup) assert.match((await imapd.client.command(setup)).tagged, /^OK/);
    imapd.client.send(`a ${commandHead} {${Buffer.byteLength(literal)}}\r\n`);
    assert.match((await imapd.client.readResponseLine()).toString('latin1'), /^\+/);
    imapd.client.send(`${literal}${rest}\r\nn NOOP\r\n`);
    const reply = await imapd.client.readUntilTagged('n');
    return reply.raw.toString('latin1').split('\r\n').filter((l) => l !== '');
  } finally {
    await imapd.close();
    removeTree(dir);
  }
}

test('a mailbox name with CR LF is not echoed into the reply (command handler error)', async () => {
  const lines = await linesAfter('CREATE', 'IN\r\nz OK forged', '');
  assert.equal(lines.length, 2, lines.join(' | '));
  assert.match(lines[0], /^a NO \[CANNOT\] Invalid mailbox name/);
  assert.match(lines[1], /^n OK/);
});

test('a header field name with CR LF is not echoed into the reply (SEARCH key error)', async () => {
  const lines = await linesAfter('SEARCH HEADER', 'ab\r\nz OK forged', ' x', 'SELECT INBOX');
  assert.equal(lines.length, 2, lines.join(' | '));
  assert.match(lines[0], /^a BAD Invalid header field name/);
  assert.match(lines[1], /^n OK/);
});

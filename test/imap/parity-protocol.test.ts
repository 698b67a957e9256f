// Protocol corrections found by running Courier's imapd beside ours (issue 12): each answer
// is checked on our server, and compared with Courier's where Courier has the behaviour.
// Where the RFC and Courier disagree the RFC wins, and the test says which section decides.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { sideBySide, status, type SideBySide } from '../helpers/side-by-side.js';
import { fetchAttributes, type Node } from '../helpers/response.js';

const MESSAGES = [
  // 1: recipients spread over repeated fields (RFC 5322 section 4.5.3, obsolete syntax).
  'From: a@example.com\nTo: one@example.com\nTo: two@example.com, three@example.com\n' +
    'Cc: c1@example.com\nCc: c2@example.com\nBcc: x@example.com\nBcc: y@example.com\nSubject: repeated\n\nbody\n',
  // 2: comments around and inside addresses.
  'From: <user-from (comment)@ (comment) domain.org>\nTo: (comment) bob@example.com (Bob Brown)\n' +
    'Cc: a@b.example (Ann) (Other)\nSubject: comments\n\nbody\n',
];

function envelopeOf(line: string): Node[] {
  return fetchAttributes(line).get('ENVELOPE') as Node[];
}

describe('protocol corrections, beside Courier', () => {
  let dir: string;
  let peers: SideBySide;

  before(async () => {
    dir = tempDir('parity-protocol');
    const base = emptyMaildir(path.join(dir, 'base'));
    MESSAGES.forEach((m, i) => fs.writeFileSync(path.join(base, 'cur', `100000000${i}.M${i}P1.test:2,`), m));
    peers = await sideBySide(base, dir);
    const selected = await peers.both('SELECT INBOX');
    assert.equal(status(selected.ours), 'OK');
  });
  after(async () => {
    await peers.close();
    removeTree(dir);
  });

  it('puts every address of repeated To, Cc and Bcc fields in the ENVELOPE', async () => {
    const { ours, courier } = await peers.both('FETCH 1 ENVELOPE');
    const env = envelopeOf(ours.lines[0]);
    const mailboxes = (list: Node) => (list as Node[][]).map((a) => a[2]);
    assert.deepEqual(mailboxes(env[5]), ['one', 'two', 'three']);
    assert.deepEqual(mailboxes(env[6]), ['c1', 'c2']);
    assert.deepEqual(mailboxes(env[7]), ['x', 'y']);
    if (courier) assert.deepEqual(env, envelopeOf(courier.lines[0]));
  });

  it('names an address by its trailing comment', async () => {
    const { ours, courier } = await peers.both('FETCH 2 ENVELOPE');
    const env = envelopeOf(ours.lines[0]);
    assert.deepEqual(env[5], [['Bob Brown', null, 'bob', 'example.com']]);
    assert.deepEqual(env[6], [['Other', null, 'a', 'b.example']]);
    // From differs on purpose: Courier keeps the comments in the local part and domain
    // ("user-from (comment)"); RFC 5322 section 3.2.2 makes comments no part of either.
    assert.deepEqual(env[2], [[null, null, 'user-from', 'domain.org']]);
    if (courier) assert.deepEqual(env.slice(5, 7), envelopeOf(courier.lines[0]).slice(5, 7));
  });

  for (const [command, expected] of [
    ['SEARCH TO two@example.com', '* SEARCH 1'],
    ['SEARCH TO three', '* SEARCH 1'],
    ['SEARCH CC c2@example', '* SEARCH 1'],
    ['SEARCH BCC y@example', '* SEARCH 1'],
    ['SEARCH TO "Bob Brown"', '* SEARCH 2'],
  ] as const) {
    it(`finds the second field's addresses: ${command}`, async () => {
      const { ours, courier } = await peers.both(command);
      assert.deepEqual(ours.lines, [expected]);
      if (courier) assert.deepEqual(courier.lines, ours.lines);
    });
  }

  it('matches SEARCH FROM against the envelope address, comments and all', async () => {
    // RFC 3501 section 6.4.4: FROM looks in "the envelope structure's FROM field", which is
    // user-from@domain.org. Courier searches the header's spelling and finds nothing.
    const { ours, courier } = await peers.both('SEARCH FROM user-from@domain.org');
    assert.deepEqual(ours.lines, ['* SEARCH 2']);
    if (courier) assert.deepEqual(courier.lines, ['* SEARCH'], 'the difference this test records');
    const literal = await peers.both('SEARCH FROM "(comment)"');
    assert.deepEqual(literal.ours.lines, ['* SEARCH 2'], 'the header text still matches too');
  });

  it('takes LIST "" NIL as the pattern "NIL"', async () => {
    const { ours, courier } = await peers.both('LIST "" NIL');
    assert.equal(status(ours), 'OK', ours.tagged);
    // RFC 3501 section 9: list-mailbox is 1*list-char, so NIL is a name; no folder has it.
    // Courier reads it as the empty pattern and sends the delimiter line instead.
    assert.deepEqual(ours.lines, []);
    if (courier) assert.equal(status(courier), 'OK');
  });

  it('stores the keyword NIL with STORE 1 +FLAGS NIL', async () => {
    const { ours, courier } = await peers.both('STORE 1 +FLAGS NIL');
    assert.equal(status(ours), 'OK', ours.tagged);
    if (courier) assert.equal(status(courier), 'OK');
    // RFC 3501 section 9: flag-keyword is an atom, and NIL is an atom. Courier answers OK
    // but stores nothing.
    // (The test's response parser reads NIL as nil, so the flag is looked for in the text.)
    const hasNil = (line: string) => /FLAGS \([^)]*\bNIL\b/.test(line);
    const fetched = await peers.ours.client.command('FETCH 1 FLAGS');
    assert.ok(hasNil(fetched.lines.at(-1)!), fetched.lines.join('\n'));
    assert.match(ours.lines.join('\n'), /PERMANENTFLAGS \([^)]*\bNIL\b/, 'announced as a new keyword');
    const removed = await peers.ours.client.command('STORE 1 -FLAGS (NIL)');
    assert.ok(!hasNil(removed.lines.at(-1)!), removed.lines.join('\n'));
  });

  for (const name of ['INBOX.&Jjo', 'INBOX.&Jjo-&AGE-', 'INBOX.a&b']) {
    it(`answers NO to SELECT of ${name}, which is not modified UTF-7`, async () => {
      const { ours, courier } = await peers.both(`SELECT "${name}"`);
      assert.equal(status(ours), 'NO', ours.tagged);
      if (courier) assert.equal(status(courier), 'NO', courier.tagged);
      // The failed SELECT left no folder selected; select INBOX again for the next tests.
      await peers.both('SELECT INBOX');
    });
  }
});

// LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and STATUS=SIZE (RFC 8438): the grammar and
// its corner cases on our stdio imapd, and the same commands beside Dovecot's answers.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { copyTree, emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';
import { spawnDovecot, spawnImapd, type Reply, type SpawnedImapd } from '../../helpers/imap-client.js';
import { dovecotSkip } from '../../helpers/peers.js';

const MESSAGE = 'From: a@example.com\r\nSubject: x\r\n\r\nhello\r\n';

/** INBOX with one seen message; .A.B (no .A), .Sent, .Fruit, .Fruit.Banana. */
function baseMaildir(dir: string): string {
  const base = emptyMaildir(path.join(dir, 'base'));
  fs.writeFileSync(path.join(base, 'cur', '1000000000.M1P1.test:2,S'), MESSAGE);
  for (const folder of ['.A.B', '.Sent', '.Fruit', '.Fruit.Banana']) {
    emptyMaildir(path.join(base, folder));
    fs.writeFileSync(path.join(base, folder, 'maildirfolder'), '');
  }
  return base;
}

const SUBSCRIBE = ['INBOX.Sent', 'INBOX.Fruit.Banana', 'INBOX.A.B', 'INBOX.Gone'];

/** The answer in a form both servers share: quotes off, attributes sorted, without the ones
 * Dovecot leaves out unasked (children, new-mail marks) or lacks (special use). */
function normalised(reply: Reply): string[] {
  const dropped = new Set(['\\HasChildren', '\\HasNoChildren', '\\Marked', '\\Unmarked', '\\Sent']);
  const lines = reply.lines.map((line) => {
    const list = /^\* LIST \(([^)]*)\) "\." "?([^" ]+)"?(.*)$/.exec(line);
    if (list) {
      const attributes = list[1].split(' ').filter((a) => a !== '' && !dropped.has(a)).sort();
      return `LIST (${attributes.join(' ')}) ${list[2]}${list[3].replace(/"CHILDINFO"/i, 'CHILDINFO')}`;
    }
    // Dovecot gives STATUS items in an order of its own: pairs sorted.
    const status = /^\* STATUS "?([^" ]+)"? \(([^)]*)\)$/.exec(line);
    if (!status) return line;
    const pairs = status[2].split(' ').flatMap((word, i, all) => (i % 2 ? [] : [`${word} ${all[i + 1]}`]));
    return `STATUS ${status[1]} (${pairs.sort().join(' ')})`;
  });
  // Dovecot lists in its own order: each LIST with the STATUS after it, sorted.
  const entries: string[] = [];
  for (const line of lines) {
    if (line.startsWith('STATUS') && entries.length) entries[entries.length - 1] += ` / ${line}`;
    else entries.push(line);
  }
  return [...entries.sort(), reply.tagged.split(' ')[0]];
}

describe('LIST-EXTENDED, LIST-STATUS, STATUS=SIZE', () => {
  let dir: string;
  let ours: SpawnedImapd;
  let dovecot: SpawnedImapd | null = null;

  before(async () => {
    dir = tempDir('list-extended');
    const base = baseMaildir(dir);
    copyTree(base, path.join(dir, 'ours'));
    ours = spawnImapd(path.join(dir, 'ours'));
    await ours.client.greeting;
    if (!dovecotSkip) {
      copyTree(base, path.join(dir, 'dovecot'));
      dovecot = spawnDovecot(path.join(dir, 'dovecot'));
      await dovecot.client.greeting;
    }
    // INBOX.Gone is subscribed and then deleted (Dovecot subscribes only existing names).
    for (const command of ['CREATE INBOX.Gone', ...SUBSCRIBE.map((name) => `SUBSCRIBE ${name}`), 'DELETE INBOX.Gone']) {
      assert.match((await ours.client.command(command)).tagged, /^OK/);
      if (dovecot) assert.match((await dovecot.client.command(command)).tagged, /^OK/);
    }
  });
  after(async () => {
    await Promise.all([ours.close(), dovecot?.close()]);
    removeTree(dir);
  });

  it('announces LIST-EXTENDED, LIST-STATUS and STATUS=SIZE', async () => {
    const reply = await ours.client.command('CAPABILITY');
    for (const word of ['LIST-EXTENDED', 'LIST-STATUS', 'STATUS=SIZE']) assert.ok(reply.lines[0].split(' ').includes(word), word);
  });

  it('answers the selection and return options as the RFC examples say', async () => {
    const c = ours.client;
    assert.deepEqual((await c.command('LIST (SUBSCRIBED) "" "*"')).lines, [
      '* LIST (\\HasNoChildren \\Subscribed) "." "INBOX.A.B"',
      '* LIST (\\HasNoChildren \\Subscribed) "." "INBOX.Fruit.Banana"',
      '* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "." "INBOX.Gone"',
      '* LIST (\\HasNoChildren \\Sent \\Subscribed) "." "INBOX.Sent"',
    ]);
    // "%" stops at INBOX, whose subscribed descendants the pattern does not reach.
    assert.deepEqual((await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')).lines, [
      '* LIST (\\Unmarked \\HasChildren) "." "INBOX" ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    // With "*" every subscribed one is reached itself: no CHILDINFO.
    const star = await c.command('LIST (RECURSIVEMATCH SUBSCRIBED) "" "*"');
    assert.ok(star.lines.every((l) => !l.includes('CHILDINFO')), star.lines.join('\n'));
    assert.equal(star.lines.length, 4);
    // SPECIAL-USE selection (RFC 6154): only the folders with an attribute.
    assert.deepEqual((await c.command('LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE)')).lines, ['* LIST (\\HasNoChildren \\Sent) "." "INBOX.Sent"']);
    // Several patterns: the union, each name once, in order.
    assert.deepEqual((await c.command('LIST "" ("INBOX.S*" "INBOX.F*" "INBOX.Fruit")')).lines, [
      '* LIST (\\HasChildren) "." "INBOX.Fruit"',
      '* LIST (\\HasNoChildren) "." "INBOX.Fruit.Banana"',
      '* LIST (\\HasNoChildren \\Sent) "." "INBOX.Sent"',
    ]);
    // A parent that exists only through its child: \Noselect in RFC 3501's form, \NonExistent in the extended one.
    assert.deepEqual((await c.command('LIST "" INBOX.A')).lines, ['* LIST (\\Noselect \\HasChildren) "." "INBOX.A"']);
    assert.deepEqual((await c.command('LIST (REMOTE) "" INBOX.A')).lines, ['* LIST (\\NonExistent \\HasChildren) "." "INBOX.A"']);
  });

  it('sends STATUS after each selectable mailbox with RETURN (STATUS ...), SIZE included', async () => {
    const reply = await ours.client.command('LIST "" "INBOX*" RETURN (STATUS (MESSAGES UNSEEN SIZE))');
    const size = Buffer.byteLength(MESSAGE);
    assert.deepEqual(reply.lines.slice(0, 3), [
      '* LIST (\\Unmarked \\HasChildren) "." "INBOX"',
      `* STATUS "INBOX" (MESSAGES 1 UNSEEN 0 SIZE ${size})`,
      '* LIST (\\NonExistent \\HasChildren) "." "INBOX.A"', // no STATUS for it
    ]);
    assert.equal(reply.lines.filter((l) => l.startsWith('* STATUS')).length, 5);
    // The selected mailbox answers from the session's view, SIZE too.
    await ours.client.command('SELECT INBOX');
    assert.deepEqual((await ours.client.command('STATUS INBOX (SIZE)')).lines, [`* STATUS "INBOX" (SIZE ${size})`]);
    assert.deepEqual((await ours.client.command('LIST "" INBOX RETURN (STATUS (SIZE MESSAGES))')).lines[1], `* STATUS "INBOX" (SIZE ${size} MESSAGES 1)`);
    await ours.client.command('UNSELECT');
  });

  it('refuses what the grammar does not allow', async () => {
    for (const command of [
      'LIST (RECURSIVEMATCH) "" "*"',
      'LIST (REMOTE RECURSIVEMATCH) "" "*"',
      'LIST (BOGUS) "" "*"',
      'LIST "" "*" RETURN (BOGUS)',
      'LIST "" "*" RETURN (STATUS)',
      'LIST "" "*" RETURN (STATUS ())',
      'LIST "" "*" RETURN (STATUS (BOGUS))',
      'LIST "" "*" RETURNS ()',
      'LIST "" "*" RETURN',
      'LIST "" ()',
      'LIST "" "*" RETURN () extra',
      'STATUS INBOX (SIZE BOGUS)',
    ]) {
      assert.match((await ours.client.command(command)).tagged, /^BAD /, command);
    }
  });

  it('answers as Dovecot does', { skip: dovecotSkip }, async () => {
    for (const command of [
      'LIST (SUBSCRIBED) "" "*"',
      'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"',
      'LIST (SUBSCRIBED RECURSIVEMATCH) "" "INBOX.%"',
      'LIST (SUBSCRIBED RECURSIVEMATCH) "" "INBOX.Fruit"',
      'LIST "" "*" RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES SIZE UNSEEN UIDNEXT))',
      'LIST () "" "*" RETURN ()',
      'LIST (REMOTE) "" INBOX.A',
      'LIST "" ("INBOX.F*" "INBOX.S*" "INBOX.Sent")',
      'LIST "" "" RETURN (CHILDREN)',
      'LIST "" ""',
      'LIST "" "*" RETURN (STATUS (MESSAGES) SUBSCRIBED)',
      'STATUS INBOX (SIZE MESSAGES)',
      'LIST (RECURSIVEMATCH) "" "*"',
      'LIST (BOGUS) "" "*"',
      'LIST "" "*" RETURN (BOGUS)',
    ]) {
      const [a, b] = await Promise.all([ours.client.command(command), dovecot!.client.command(command)]);
      assert.deepEqual(normalised(a), normalised(b), command);
    }
  });
});

// Differential: NOTIFY on our imapd and on Dovecot 2.3 (which announces it), each with two
// processes on its own copy of one Maildir, the same steps: what session B is told, unsolicited,
// after each of session A's steps (B runs NOOP), UIDVALIDITY and HIGHESTMODSEQ masked (each
// server makes its own). Not compared: the text after [BADEVENT] (Dovecot names the unsupported
// events without parentheses; RFC 5465 section 8 wants a list of the supported ones), and FlagChange
// without MessageNew and MessageExpunge, which Dovecot 2.3 takes and RFC 5465 section 5 forbids (BAD here).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnDovecot, spawnImapd, type ImapTestClient, type SpawnedImapd } from '../../helpers/imap-client.js';
import { copyTree, deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';
import { dovecotSkip } from '../../helpers/peers.js';

let dir: string;
const servers: SpawnedImapd[] = [];
let ours: [ImapTestClient, ImapTestClient];
let dovecot: [ImapTestClient, ImapTestClient];

before(async () => {
  if (dovecotSkip) return;
  dir = tempDir('notify-dovecot');
  const base = emptyMaildir(path.join(dir, 'base'));
  emptyMaildir(path.join(base, '.Old'));
  deliver(base, simpleMessage('first'));
  copyTree(base, path.join(dir, 'ours'));
  copyTree(base, path.join(dir, 'dovecot'));
  const spawnedOurs = [spawnImapd(path.join(dir, 'ours')), spawnImapd(path.join(dir, 'ours'))];
  const spawnedDovecot = [spawnDovecot(path.join(dir, 'dovecot')), spawnDovecot(path.join(dir, 'dovecot'))];
  servers.push(...spawnedOurs, ...spawnedDovecot);
  await Promise.all(servers.map((s) => s.client.greeting));
  ours = [spawnedOurs[0].client, spawnedOurs[1].client];
  dovecot = [spawnedDovecot[0].client, spawnedDovecot[1].client];
});

after(async () => {
  if (dovecotSkip) return;
  await Promise.all(servers.map((s) => s.close()));
  removeTree(dir);
});

const mask = (lines: string[]): string[] =>
  lines.map((l) => l.replace(/UIDVALIDITY \d+/, 'UIDVALIDITY v').replace(/HIGHESTMODSEQ \d+/, 'HIGHESTMODSEQ m').replace(/"(INBOX[^"]*)"/g, '$1'));

/** Runs `step` on A of both servers, waits for the watches, then NOOP on B: B's untagged lines on each. */
async function both(step: (a: ImapTestClient) => Promise<unknown>, b: string = 'NOOP'): Promise<[string[], string[]]> {
  await step(ours[0]);
  await step(dovecot[0]);
  // Other processes' changes reach B's process through inotify: give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const [x, y] = await Promise.all([ours[1].command(b), dovecot[1].command(b)]);
  return [mask(x.lines).sort(), mask(y.lines).sort()];
}

/** STATUS lines as mailbox -> item -> value; other lines as they are. */
function split(lines: string[]): { statuses: Map<string, Map<string, string>>; others: string[] } {
  const statuses = new Map<string, Map<string, string>>();
  const others: string[] = [];
  for (const line of lines) {
    const m = /^\* STATUS (\S+) \((.*)\)$/.exec(line);
    if (!m) {
      others.push(line);
      continue;
    }
    const words = m[2].split(' ');
    const items = statuses.get(m[1]) ?? new Map<string, string>();
    for (let i = 0; i + 1 < words.length; i += 2) items.set(words[i], words[i + 1]);
    statuses.set(m[1], items);
  }
  return { statuses, others };
}

/**
 * The same LIST lines, STATUS for the same mailboxes, and each of our STATUS items with Dovecot's
 * value. Dovecot may send more items: it reports UIDVALIDITY again whenever it (re)builds a
 * folder's index (a first SELECT), as its list index cannot tell that the value is the same.
 */
function assertSameNotifications(ours: string[], dovecot: string[], step: string): void {
  const x = split(ours);
  const y = split(dovecot);
  assert.deepEqual(x.others, y.others, step);
  assert.deepEqual([...x.statuses.keys()].sort(), [...y.statuses.keys()].sort(), `${step}: ${ours.join(' | ')} vs ${dovecot.join(' | ')}`);
  for (const [mailbox, items] of x.statuses) {
    for (const [item, value] of items) assert.equal(value, y.statuses.get(mailbox)!.get(item), `${step}: ${mailbox} ${item}: ${ours.join(' | ')} vs ${dovecot.join(' | ')}`);
  }
}

const run = (command: string) => async (a: ImapTestClient): Promise<void> => {
  const reply = await a.command(command);
  assert.match(reply.tagged, /^OK/, `${command}: ${reply.tagged}`);
};

test('the same unsolicited responses as Dovecot for the same steps', { skip: dovecotSkip }, async () => {
  // Dovecot builds its mailbox list index on first use and then reports every mailbox's
  // UIDVALIDITY as changed once: it is built first, on both servers alike.
  for (const c of [...ours, ...dovecot]) {
    for (const command of ['LIST "" *', 'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)', 'STATUS INBOX.Old (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)']) await run(command)(c);
  }
  // Grammar and refusals: the same status word (and code for BADEVENT).
  for (const command of [
    'NOTIFY SET (selected (MessageNew))',
    'NOTIFY SET (bogus (MessageNew MessageExpunge))',
    'NOTIFY SET (selected (MessageNew MessageExpunge)) (selected (MessageNew MessageExpunge))',
    'NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))',
    'NOTIFY NONE',
  ]) {
    const [x, y] = await Promise.all([ours[1].command(command), dovecot[1].command(command)]);
    const word = (t: string): string => /^(OK|NO|BAD)( \[[A-Z]+)?/.exec(t)?.[0] ?? t;
    assert.equal(word(x.tagged), word(y.tagged), command);
  }
  const [statusOurs, statusDovecot] = await both(async () => undefined, 'NOTIFY SET STATUS (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))');
  assert.deepEqual(statusOurs, statusDovecot, 'NOTIFY SET STATUS');
  const steps: [string, (a: ImapTestClient) => Promise<unknown>][] = [
    ['CREATE', run('CREATE INBOX.New')],
    ['SUBSCRIBE', run('SUBSCRIBE INBOX.New')],
    // Examined in the same step: Dovecot makes the folder's index then, and reports its UIDVALIDITY.
    ['APPEND', async (a) => {
      assert.match((await a.append('INBOX.New', simpleMessage('new'))).tagged, /^OK/);
      await run('EXAMINE INBOX.New')(a);
      await run('UNSELECT')(a);
    }],
    ['APPEND to INBOX', async (a) => assert.match((await a.append('INBOX', simpleMessage('inbox'))).tagged, /^OK/)],
    ['STORE \\Seen', async (a) => {
      await run('SELECT INBOX.New')(a);
      await run('STORE 1 +FLAGS (\\Seen)')(a);
    }],
    ['EXPUNGE', async (a) => {
      await run('STORE 1 +FLAGS (\\Deleted)')(a);
      await run('EXPUNGE')(a);
      await run('UNSELECT')(a);
    }],
    ['UNSUBSCRIBE', run('UNSUBSCRIBE INBOX.New')],
    ['DELETE', run('DELETE INBOX.Old')],
  ];
  for (const [name, step] of steps) {
    const [x, y] = await both(step);
    assertSameNotifications(x, y, name);
  }
});

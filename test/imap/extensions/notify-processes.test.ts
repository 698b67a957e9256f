// NOTIFY across processes: two `imapd` processes on one Maildir (as under couriertcpd), and a
// delivery written straight into new/ by another program. B's process hears of A's changes only
// through the file system (account-watch.ts): folders made, renamed and deleted, subscriptions,
// messages in folders B does not have open. Also: NOTIFY taken off IMAP_CAPABILITY is refused.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';
import { collectIdle } from './notify-helpers.js';

let dir: string;
let maildir: string;
const spawned: SpawnedImapd[] = [];

before(() => {
  dir = tempDir('notify-processes');
  maildir = emptyMaildir(path.join(dir, 'Maildir'));
});

after(async () => {
  await Promise.all(spawned.map((s) => s.close()));
  removeTree(dir);
});

async function start(env: Record<string, string> = {}): Promise<SpawnedImapd> {
  const imapd = spawnImapd(maildir, env);
  spawned.push(imapd);
  await imapd.client.greeting;
  return imapd;
}

test('another process: LIST for names and subscriptions, STATUS for messages, pushed during IDLE', async () => {
  const a = (await start()).client;
  const b = (await start()).client;
  assert.match((await b.command('NOTIFY SET (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))')).tagged, /^OK/);
  const until = (want: number) => (lines: string[]) => lines.length >= want;

  let idle = collectIdle(b, until(1));
  assert.match((await a.command('CREATE INBOX.Far')).tagged, /^OK/);
  assert.deepEqual(await idle, ['* LIST () "." "INBOX.Far"']);

  idle = collectIdle(b, until(1));
  assert.match((await a.command('SUBSCRIBE INBOX.Far')).tagged, /^OK/);
  assert.deepEqual(await idle, ['* LIST (\\Subscribed) "." "INBOX.Far"']);

  idle = collectIdle(b, until(1));
  assert.match((await a.append('INBOX.Far', simpleMessage('far'))).tagged, /^OK/);
  // A mailbox made since NOTIFY SET: its first STATUS tells its UIDVALIDITY (as Dovecot).
  assert.deepEqual((await idle).map((l) => l.replace(/UIDVALIDITY \d+/, 'UIDVALIDITY v')), ['* STATUS "INBOX.Far" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY v UNSEEN 1)']);

  // A delivery by another program, straight into new/.
  idle = collectIdle(b, until(1));
  deliver(maildir, simpleMessage('delivered'), '.Far');
  assert.deepEqual(await idle, ['* STATUS "INBOX.Far" (MESSAGES 2 UIDNEXT 3 UNSEEN 2)']);

  // STORE 1:2 renames two files: B's watch may look between them (a loaded machine spaces them
  // out) and tell the state in between, as it was on disk; the last word is the state after both.
  const unseen0 = '* STATUS "INBOX.Far" (UNSEEN 0)';
  idle = collectIdle(b, (lines) => lines.includes(unseen0));
  assert.match((await a.command('SELECT INBOX.Far')).tagged, /^OK/);
  assert.match((await a.command('STORE 1:2 +FLAGS (\\Seen)')).tagged, /^OK/);
  const seen = await idle;
  assert.equal(seen.at(-1), unseen0, seen.join('\n'));
  assert.deepEqual(seen.slice(0, -1).filter((l) => l !== '* STATUS "INBOX.Far" (UNSEEN 1)'), [], seen.join('\n'));

  idle = collectIdle(b, until(1));
  assert.match((await a.command('STORE 1 +FLAGS (\\Deleted)')).tagged, /^OK/);
  assert.match((await a.command('EXPUNGE')).tagged, /^OK/);
  assert.deepEqual(await idle, ['* STATUS "INBOX.Far" (MESSAGES 1 UIDNEXT 3 UNSEEN 0)']);
  assert.match((await a.command('UNSELECT')).tagged, /^OK/);

  // Across processes a rename is seen as a deletion and a creation (the watch cannot pair them).
  // The subscription moves with the folder: seen as an unsubscription of the old name and a
  // subscription of the new one. The watch sees the subscription file and the folders change in
  // whichever order the file system reports them, so those two lines may come in this IDLE or the next.
  const renamed = ['* LIST () "." "INBOX.Near"', '* LIST (\\NonExistent) "." "INBOX.Far"'];
  const subscriptionMoved = ['* LIST () "." "INBOX.Far"', '* LIST (\\Subscribed) "." "INBOX.Near"'];
  idle = collectIdle(b, (lines) => renamed.every((l) => lines.includes(l)));
  assert.match((await a.command('RENAME INBOX.Far INBOX.Near')).tagged, /^OK/);
  const afterRename = await idle;
  assert.deepEqual(afterRename.filter((l) => !subscriptionMoved.includes(l)).sort(), renamed);
  if (!afterRename.includes(subscriptionMoved[1])) {
    idle = collectIdle(b, (lines) => lines.includes(subscriptionMoved[1]));
    assert.ok((await idle).includes(subscriptionMoved[1]));
  }

  const gone = '* LIST (\\NonExistent) "." "INBOX.Near"';
  idle = collectIdle(b, (lines) => lines.includes(gone));
  assert.match((await a.command('DELETE INBOX.Near')).tagged, /^OK/);
  assert.ok((await idle).includes(gone));

  // NOTIFY NONE: nothing more.
  assert.match((await b.command('NOTIFY NONE')).tagged, /^OK/);
  idle = collectIdle(b, until(1), 500);
  assert.match((await a.command('CREATE INBOX.Later')).tagged, /^OK/);
  assert.deepEqual(await idle, []);
});

test('NOTIFY taken off IMAP_CAPABILITY is neither announced nor accepted', async () => {
  const c = (await start({ IMAP_CAPABILITY: 'IMAP4rev1 IDLE' })).client;
  assert.doesNotMatch((await c.command('CAPABILITY')).lines[0], /NOTIFY/);
  assert.match((await c.command('NOTIFY NONE')).tagged, /^BAD /);
});

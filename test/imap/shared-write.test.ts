// Changing another account's folders as Courier allows it, side by side with Courier's imapd
// (both on stdio, with the same IMAP_SHAREDINDEXFILE): CREATE with "c" on the parent, RENAME
// with "x" on the folder and "c" on the new parent and never to another account, DELETE with
// "x"; APPEND and COPY into a folder where the user may not set flags store the message
// without them (RFC 4314 section 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnCourier, spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { courierSkip } from '../helpers/peers.js';
import { copyTree, deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

type Step = { command: string; keep: RegExp | null; append?: { flags: string; body: string } };

const SCRIPT: Step[] = [
  { command: 'CREATE #shared.alice.Projects.Sub', keep: null },
  { command: 'CREATE #shared.alice.New', keep: null },
  { command: 'CREATE #shared.alice.Inbound.Sub', keep: null },
  { command: 'MYRIGHTS #shared.alice.Projects.Sub', keep: /^\* MYRIGHTS/ },
  { command: 'LIST "" "#shared.*"', keep: /^\* LIST/ },
  { command: 'RENAME #shared.alice.Projects.Sub #shared.alice.Projects.Sub2', keep: null },
  { command: 'RENAME #shared.alice.Projects #shared.alice.Projects2', keep: null },
  { command: 'RENAME #shared.alice.Projects.Sub2 INBOX.Stolen', keep: null },
  { command: 'RENAME #shared.alice.Inbound #shared.alice.Projects.Inbound', keep: null },
  { command: 'LIST "" "#shared.*"', keep: /^\* LIST/ },
  { command: 'DELETE #shared.alice.Inbound', keep: null },
  { command: 'DELETE #shared.alice.Projects.Sub2', keep: null },
  { command: 'APPEND', keep: null, append: { flags: '(\\Seen \\Flagged \\Deleted)', body: 'Subject: in\r\n\r\nhello\r\n' } },
  { command: 'SELECT INBOX', keep: null },
  { command: 'STORE 1 +FLAGS.SILENT (\\Seen \\Flagged \\Answered)', keep: null },
  { command: 'COPY 1 #shared.alice.Inbound', keep: null },
  { command: 'COPY 1 #shared.alice.Projects', keep: null },
  { command: 'EXAMINE #shared.alice.Inbound', keep: /EXISTS/ },
  { command: 'FETCH 1:* FLAGS', keep: /^\* \d+ FETCH/ },
  { command: 'EXAMINE #shared.alice.Projects', keep: /EXISTS/ },
  { command: 'FETCH 1:* FLAGS', keep: /^\* \d+ FETCH/ },
];

function maildirs(root: string): void {
  const alice = emptyMaildir(path.join(root, 'alice', 'Maildir'));
  const bob = emptyMaildir(path.join(root, 'bob', 'Maildir'));
  const acl = { '.Projects': 'lrswicx', '.Inbound': 'lri' };
  for (const [folder, rights] of Object.entries(acl)) {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(alice, folder, sub), { recursive: true });
    fs.writeFileSync(path.join(alice, folder, 'maildirfolder'), '');
    fs.writeFileSync(path.join(alice, folder, 'courierimapacl'), `owner aceilrstwx\nadministrators aceilrstwx\nuser=bob ${rights}\n`);
  }
  deliver(alice, simpleMessage('plan'), '.Projects');
  deliver(bob, simpleMessage('mine'));
  fs.writeFileSync(path.join(root, 'index'), `alice\t1000\t1000\t${root}/alice\nbob\t1000\t1000\t${root}/bob\n`);
}

/** Flags in one order, without \Recent (which Courier and we give to different messages after a copy). */
function normalized(line: string): string {
  return line.replace(/FLAGS \(([^)]*)\)/, (_, flags: string) => `FLAGS (${flags.split(' ').filter((f) => f && f !== '\\Recent').sort().join(' ')})`);
}

/** A reply's words that both servers should share: the status, and Courier's text of a refusal (without our response code). */
function outcome(tagged: string): string {
  const status = tagged.split(' ')[0]!;
  const denied = /Access denied for .*/.exec(tagged);
  return denied ? `${status} ${denied[0]}` : status;
}

test('CREATE, RENAME, DELETE, APPEND and COPY in another account\'s folders answer as in Courier', { skip: courierSkip ?? false }, async () => {
  const dir = tempDir('shared-write');
  const base = path.join(dir, 'base');
  maildirs(base);
  const roots = { ours: path.join(dir, 'ours'), courier: path.join(dir, 'courier') };
  copyTree(base, roots.ours);
  copyTree(base, roots.courier);
  for (const root of Object.values(roots)) fs.writeFileSync(path.join(root, 'index'), fs.readFileSync(path.join(root, 'index'), 'utf8').replaceAll(base, root));
  const env = (root: string) => ({ AUTHENTICATED: 'bob', IMAP_ACL: '1', IMAP_SHAREDINDEXFILE: path.join(root, 'index') });
  let ours: SpawnedImapd | null = null;
  let courier: SpawnedImapd | null = null;
  try {
    ours = spawnImapd(path.join(roots.ours, 'bob', 'Maildir'), env(roots.ours));
    courier = spawnCourier(path.join(roots.courier, 'bob', 'Maildir'), env(roots.courier));
    await ours.client.greeting;
    await courier.client.greeting;
    for (const step of SCRIPT) {
      const run = (s: SpawnedImapd) => (step.append ? s.client.append('#shared.alice.Inbound', Buffer.from(step.append.body), step.append.flags) : s.client.command(step.command));
      const o = await run(ours);
      const c = await run(courier);
      assert.equal(outcome(o.tagged), outcome(c.tagged), `${step.command}: ours ${o.tagged} / Courier ${c.tagged}`);
      if (!step.keep) continue;
      const kept = (lines: string[]) => lines.filter((l) => step.keep!.test(l)).map(normalized).sort();
      assert.deepEqual(kept(o.lines), kept(c.lines), step.command);
    }
    // On disk too: the same folders in alice's Maildir.
    const folders = (root: string) => fs.readdirSync(path.join(root, 'alice', 'Maildir')).filter((n) => n.startsWith('.')).sort();
    assert.deepEqual(folders(roots.ours), folders(roots.courier));
  } finally {
    await ours?.close();
    await courier?.close();
    removeTree(dir);
  }
});

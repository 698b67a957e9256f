// ACL (RFC 4314) side by side with Courier's imapd (IMAP_ACL=1, Debian's default), on copies
// of one Maildir, and the Maildir's ACL files read across: Courier's by ours and ours by Courier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sideBySide, status } from '../helpers/side-by-side.js';
import { spawnCourier, spawnImapd } from '../helpers/imap-client.js';
import { courierSkip } from '../helpers/peers.js';
import { standardMaildir, tempDir } from '../helpers/maildir.js';

const SAME = [
  'GETACL INBOX', 'MYRIGHTS INBOX', 'LISTRIGHTS INBOX anyone', 'SETACL INBOX.Sent bob lrs', 'GETACL INBOX.Sent',
  'SETACL INBOX.Sent -anyone w', 'SETACL INBOX.Sent owner lr', 'SETACL INBOX.Sent user=joe lr', 'DELETEACL INBOX.Sent bob',
  'GETACL INBOX.Sent', 'SETACL INBOX.Sent anyone +lrd', 'GETACL INBOX.Sent', 'SETACL INBOX.Sent -owner r', 'SELECT INBOX.Sent',
  'SETACL INBOX.Sent owner -i', 'STATUS INBOX.Sent (MESSAGES)', 'MYRIGHTS INBOX.Sent',
];

test('ACL commands answer as Courier does', async () => {
  const dir = tempDir('acl');
  const base = path.join(dir, 'base');
  standardMaildir(base, 2);
  const s = await sideBySide(base, dir);
  try {
    for (const command of SAME) {
      const r = await s.both(command);
      assert.notEqual(status(r.ours), 'BAD', `${command}: ${r.ours.tagged}`);
      if (!r.courier) continue;
      assert.equal(status(r.ours), status(r.courier), `${command}: ours ${r.ours.tagged} / Courier ${r.courier.tagged}`);
      const acl = (lines: string[]) => lines.filter((l) => /^\* (ACL|MYRIGHTS|LISTRIGHTS) |MYRIGHTS/.test(l));
      assert.deepEqual(acl(r.ours.lines), acl(r.courier.lines), command);
    }
    // Without "r" nothing is selected; the owner keeps "a" to give it back.
    await s.both('SETACL INBOX.Sent -owner r');
    const sel = await s.ours.client.command('SELECT INBOX.Sent');
    assert.match(sel.tagged, /^NO .*ACL "r" required/);
    const append = await s.ours.client.command('APPEND INBOX.Sent {3+}\r\nabc');
    assert.match(append.tagged, /^NO .*ACL "i" required/);
    const create = await s.ours.client.command('SETACL INBOX -owner c');
    assert.match(create.tagged, /^OK/);
    assert.match((await s.ours.client.command('CREATE INBOX.New')).tagged, /^NO .*ACL "c" required/);
  } finally {
    await s.close();
  }
});

test('a Maildir keeps its ACLs moving from Courier to us and back', { skip: courierSkip ?? false }, async () => {
  const dir = tempDir('acl-move');
  const md = path.join(dir, 'md');
  standardMaildir(md, 1);
  const courier = spawnCourier(md);
  await courier.client.greeting;
  assert.match((await courier.client.command('SETACL INBOX.Sent alice lrsw')).tagged, /^OK/);
  await courier.close();
  const ours = spawnImapd(md);
  await ours.client.greeting;
  assert.deepEqual((await ours.client.command("GETACL INBOX.Sent")).lines,
    ['* ACL "INBOX.Sent" "owner" "acdilrsw" "administrators" "acdilrsw" "alice" "lrsw"']);
  assert.match((await ours.client.command('SETACL INBOX.Archive carol lr')).tagged, /^OK/);
  await ours.close();
  assert.equal(fs.readFileSync(path.join(md, '.Archive', 'courierimapacl'), 'utf8'), 'owner aceilrstwx\nadministrators aceilrstwx\nuser=carol lr\n');
  const back = spawnCourier(md);
  await back.client.greeting;
  assert.deepEqual((await back.client.command('GETACL INBOX.Archive')).lines,
    ['* ACL "INBOX.Archive" "owner" "acdilrsw" "administrators" "acdilrsw" "carol" "lr"']);
  await back.close();
});

test('CLOSE expunges nothing without the "e" right (RFC 4314 4), as Courier', async () => {
  const dir = tempDir('acl-close');
  const base = path.join(dir, 'base');
  standardMaildir(base, 2);
  const s = await sideBySide(base, dir);
  try {
    for (const command of ['SETACL INBOX.Sent owner -e', 'SELECT INBOX.Sent', 'STORE 1 +FLAGS.SILENT (\\Deleted)', 'CLOSE']) {
      const r = await s.both(command);
      assert.match(r.ours.tagged, /^OK/, `${command}: ${r.ours.tagged}`);
      if (r.courier) assert.match(r.courier.tagged, /^OK/, `Courier ${command}: ${r.courier.tagged}`);
    }
    const after = await s.both('STATUS INBOX.Sent (MESSAGES)');
    assert.ok(after.ours.lines.some((l) => /MESSAGES 3\)/.test(l)), after.ours.lines.join('\n'));
    if (after.courier) assert.deepEqual(after.ours.lines, after.courier.lines);
  } finally {
    await s.close();
  }
});

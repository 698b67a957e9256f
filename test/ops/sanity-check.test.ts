// IMAP_MAILBOX_SANITY_CHECK (Courier's default 1): a Maildir not owned by the uid the server
// runs as is refused with Courier's ALERT (write_error_exit in Courier's imapd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCourier, spawnImapd } from '../helpers/imap-client.js';
import { courierSkip } from '../helpers/peers.js';

const root = process.geteuid?.() === 0;

test('the stdio imapd refuses a Maildir owned by another uid', { skip: root ? false : 'needs root to chown' }, async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'imapd-sanity-'));
  try {
    const maildir = join(dir, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(maildir, sub), { recursive: true });
    await fs.chown(maildir, 54321, 54321);
    const refused = spawnImapd(maildir, {});
    const greeting = await refused.client.greeting.catch((e: Error) => e.message);
    assert.match(String(greeting), /^\* BYE \[ALERT\] Fatal error: Account's mailbox directory is not owned by the correct uid or gid:/);
    await new Promise((r) => setTimeout(r, 300)); // it exits at once; let stderr arrive
    assert.match(refused.stderr(), /ERR: .*: Account's mailbox directory is not owned by the correct uid or gid/);
    const allowed = spawnImapd(maildir, { IMAP_MAILBOX_SANITY_CHECK: '0' });
    assert.match(await allowed.client.greeting, /PREAUTH/);
    await allowed.close();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('Courier\'s imapd refuses the same Maildir with the same words, and serves it with IMAP_MAILBOX_SANITY_CHECK=0', { skip: !root ? 'needs root to chown' : courierSkip }, async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'imapd-sanity-courier-'));
  try {
    const maildir = join(dir, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(maildir, sub), { recursive: true });
    await fs.chown(maildir, 54321, 54321);
    const greetings: string[] = [];
    for (const spawnOne of [spawnImapd, spawnCourier]) {
      const refused = spawnOne(maildir, {});
      greetings.push(String(await refused.client.greeting.catch((e: Error) => e.message)));
      await refused.exited;
    }
    // Courier ends its line after the colon (an empty strerror); ours names the reason there.
    const words = (g: string) => /^\* BYE \[ALERT\] Fatal error: Account's mailbox directory is not owned by the correct uid or gid:/.exec(g)?.[0];
    assert.ok(words(greetings[1]), `Courier: ${greetings[1]}`);
    assert.equal(words(greetings[0]), words(greetings[1]), `ours: ${greetings[0]}`);
    for (const spawnOne of [spawnImapd, spawnCourier]) {
      const allowed = spawnOne(maildir, { IMAP_MAILBOX_SANITY_CHECK: '0' });
      assert.match(await allowed.client.greeting, /^\* PREAUTH/);
      await allowed.close();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

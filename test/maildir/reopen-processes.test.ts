// Sessions as separate imapd processes (dist/, PREAUTH over stdio) after deliveries into new/:
// the second process opens the folder from the listing the first left and claims new/ without a
// scan; what it answers must equal what a full look finds, also when Courier's imapd claimed and
// changed flags in between (then the listing is not trusted).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { spawnImapd } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { courierSkip, peerScript } from '../helpers/peers.js';
import { LISTING_FILE } from '../../server/maildir/listing.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) removeTree(dir);
});

function maildir(): string {
  const dir = tempDir('reopen');
  dirs.push(dir);
  return emptyMaildir(dir);
}

const body = (n: number): string => `From: a@example.org\r\nSubject: message ${n}\r\n\r\nBody ${n}.\r\n`;

interface Selected {
  exists: number;
  recent: number;
  uidNext: number;
  /** UID -> flags without \Recent, sorted. */
  flags: Map<number, string>;
}

/** One imapd process: SELECT (or EXAMINE), FETCH 1:* (UID FLAGS), then `more`, LOGOUT. */
async function session(root: string, verb = 'SELECT', more: string[] = []): Promise<Selected> {
  const imapd = spawnImapd(root, { IMAP_FTS_INDEX: '0' });
  try {
    assert.match(await imapd.client.greeting, /^\* PREAUTH/);
    const selected = await imapd.client.command(`${verb} INBOX`, 30_000);
    assert.match(selected.tagged, /^OK/);
    const text = selected.lines.join('\n');
    const number = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    const fetched = await imapd.client.command('FETCH 1:* (UID FLAGS)', 30_000);
    const flags = new Map<number, string>();
    for (const line of fetched.lines) {
      const m = /^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)/.exec(line);
      if (m) flags.set(Number(m[1]), m[2].split(' ').filter((f) => f && f !== '\\Recent').sort().join(' '));
    }
    for (const command of more) assert.match((await imapd.client.command(command, 30_000)).tagged, /^OK/);
    return { exists: number(/^\* (\d+) EXISTS/m), recent: number(/^\* (\d+) RECENT/m), uidNext: number(/UIDNEXT (\d+)/), flags };
  } finally {
    await imapd.close();
  }
}

/** What a process that has to look at everything sees (the listing removed; EXAMINE takes nothing). */
async function fullLook(root: string): Promise<Selected> {
  if (existsSync(path.join(root, LISTING_FILE))) unlinkSync(path.join(root, LISTING_FILE));
  return session(root, 'EXAMINE');
}

test('a new imapd process after deliveries answers as a full look does; each delivery is recent once', async () => {
  const root = maildir();
  for (let i = 0; i < 5; i++) deliver(root, body(i));
  const appended = 'From: b@example.org\r\nSubject: app\r\n\r\nHi.';
  await session(root, 'SELECT', ['STORE 2 +FLAGS (\\Flagged)', `APPEND INBOX (\\Seen) {${appended.length}+}\r\n${appended}`]);
  assert.ok(existsSync(path.join(root, LISTING_FILE)), 'the first process left a listing of its own changes');
  for (let i = 5; i < 8; i++) deliver(root, body(i));
  const second = await session(root);
  assert.equal(second.exists, 9);
  assert.equal(second.recent, 3);
  assert.equal(second.uidNext, 10);
  assert.deepEqual([...second.flags.keys()], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(second.flags.get(2), '\\Flagged');
  assert.equal(second.flags.get(6), '\\Seen');
  const full = await fullLook(root);
  assert.deepEqual(full.flags, second.flags);
  assert.equal(full.recent, 0, 'nothing recent twice');
});

test("Courier's imapd between our processes (claims new/, renames flags, rewrites courierimapuiddb): the next process sees all of it", { skip: courierSkip }, async () => {
  const root = maildir();
  for (let i = 0; i < 4; i++) deliver(root, body(i));
  await session(root, 'SELECT', ['STORE 1 +FLAGS (\\Answered)']);
  assert.ok(existsSync(path.join(root, LISTING_FILE)));
  deliver(root, body(4));
  deliver(root, body(5));
  const input = ['a SELECT INBOX', 'b STORE 3 +FLAGS (\\Deleted)', 'c STORE 1 -FLAGS (\\Answered)', 'z LOGOUT'].map((l) => `${l}\r\n`).join('');
  await new Promise<void>((resolve, reject) => {
    const proc = execFile('bash', [peerScript('courier-preauth.sh'), root], { timeout: 20_000, env: { ...process.env, IMAP_USELOCKS: '1' } }, (error) => (error ? reject(error) : resolve()));
    proc.stdin!.end(input);
  });
  deliver(root, body(6));
  const ours = await session(root);
  assert.equal(ours.exists, 7);
  assert.equal(ours.uidNext, 8);
  assert.equal(ours.flags.get(1), '');
  assert.equal(ours.flags.get(3), '\\Deleted');
  const full = await fullLook(root);
  assert.deepEqual(full.flags, ours.flags);
});

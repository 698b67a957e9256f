// Many imapd processes on one folder (issue 11): the process that claims a delivery extends
// courierimapuiddb in place and the others read only the lines it added; a look prompted by a
// watcher does not queue on a lock another process holds; and with 8 processes in IDLE and 20
// deliveries every process sees every message once, with the same UIDs, and each message is
// \Recent in exactly one of them.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { FolderHandle } from '../../server/maildir/index.js';
import { explainedEvents, type KnownState } from '../../server/maildir/follow.js';
import { COURIER_LOCK, folderMutex, tryCourierLock } from '../../server/maildir/lock.js';
import { scanFolder, type ScanMemory } from '../../server/maildir/scan.js';
import { readUidDbSync, readUidDbTailSync, UIDDB_FILE } from '../../server/maildir/uiddb.js';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { sibling } from '../helpers/root.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { flagsOf, recorder, select, store, until } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) removeTree(dir);
});

function maildir(): string {
  const dir = tempDir('procs');
  dirs.push(dir);
  return emptyMaildir(dir);
}

const body = (n: number): string => `From: a@example.org\r\nSubject: message ${n}\r\n\r\nBody ${n}.\r\n`;

test('a claim extends courierimapuiddb in place; another reader takes only the added lines', async () => {
  const root = maildir();
  for (let i = 0; i < 5; i++) deliver(root, body(i));
  const claimer: ScanMemory = {};
  const follower: ScanMemory = {};
  await scanFolder(root, { claimNew: true }, claimer);
  const before = fs.statSync(path.join(root, UIDDB_FILE));
  const seen = await scanFolder(root, { claimNew: true, readOnly: true }, follower);
  assert.equal(seen?.messages.length, 5);

  deliver(root, body(5));
  deliver(root, body(6));
  await scanFolder(root, { claimNew: true }, claimer);
  const afterClaim = fs.statSync(path.join(root, UIDDB_FILE));
  assert.equal(afterClaim.ino, before.ino, 'extended in place, not replaced');
  assert.ok(afterClaim.size > before.size);

  // the follower's remembered copy grows by the two lines, and matches a whole read
  const db = follower.db!;
  const stamp = readUidDbTailSync(root, db, follower.stamp!);
  assert.ok(stamp, 'the added part was read');
  assert.equal(stamp.size, afterClaim.size);
  const whole = readUidDbSync(root).db!;
  assert.deepEqual([...db.uids], [...whole.uids]);
  assert.equal(db.uidNext, whole.uidNext);
  assert.equal(db.uidNext, 8);
});

test('the added part is refused when the file was changed otherwise', async () => {
  const root = maildir();
  for (let i = 0; i < 3; i++) deliver(root, body(i));
  const memory: ScanMemory = {};
  await scanFolder(root, { claimNew: true }, memory);
  const { db, stamp } = readUidDbSync(root);
  const file = path.join(root, UIDDB_FILE);
  const text = fs.readFileSync(file, 'utf8');
  // a line below the UIDs already given, appended in place: not an extension
  fs.appendFileSync(file, `1 somethingelse\n`);
  assert.equal(readUidDbTailSync(root, db!, stamp!), null);
  assert.equal(db!.uids.has('somethingelse'), false, 'nothing was taken');
  // a line without its end (still being written)
  fs.writeFileSync(file, text);
  const again = readUidDbSync(root);
  fs.appendFileSync(file, `9 half`);
  assert.equal(readUidDbTailSync(root, again.db!, again.stamp!), null);
  // replaced by a rename: another inode
  const other = path.join(root, 'tmp', 'x');
  fs.writeFileSync(other, text + `4 newer\n`);
  fs.renameSync(other, file);
  assert.equal(readUidDbTailSync(root, again.db!, again.stamp!), null);
});

test('tryCourierLock does not wait: null while another holds the lock', async () => {
  const root = maildir();
  const release = tryCourierLock(root);
  assert.ok(release);
  assert.equal(tryCourierLock(root), null);
  await release();
  assert.equal(fs.existsSync(path.join(root, 'tmp', COURIER_LOCK)), false);
  const again = tryCourierLock(root);
  assert.ok(again);
  await again();
});

test('watcher events explained by the state need no look; others do', () => {
  const root = maildir();
  const claimed = 'base1,S=10:2,';
  fs.writeFileSync(path.join(root, 'cur', claimed), 'x');
  fs.writeFileSync(path.join(root, 'new', 'base2,S=10'), 'x');
  const known: KnownState = { nameOf: (base) => (base === 'base1,S=10' ? claimed : undefined), uidDbKnown: () => true };
  // the claim of base1: gone from new/, in cur/ under the name the state has
  assert.equal(explainedEvents(root, [{ where: 'new', file: 'base1,S=10' }, { where: 'cur', file: claimed }, { where: 'folder', file: UIDDB_FILE }], known), true);
  // a delivery not claimed yet, a name the state does not have, a name gone from cur/
  assert.equal(explainedEvents(root, [{ where: 'new', file: 'base2,S=10' }], known), false);
  assert.equal(explainedEvents(root, [{ where: 'cur', file: 'base1,S=10:2,S' }], known), false);
  fs.renameSync(path.join(root, 'cur', claimed), path.join(root, 'cur', 'base1,S=10:2,S'));
  assert.equal(explainedEvents(root, [{ where: 'cur', file: claimed }], known), false);
  // a database this process did not read, an event without a name, the keywords
  assert.equal(explainedEvents(root, [{ where: 'folder', file: UIDDB_FILE }], { ...known, uidDbKnown: () => false }), false);
  assert.equal(explainedEvents(root, [{ where: 'cur', file: null }], known), false);
  assert.equal(explainedEvents(root, [{ where: 'keywords', file: 'x' }], known), false);
});

/** Reads untagged lines until `done` says so (bounded). */
async function readUntil(p: SpawnedImapd, lines: string[], done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timeout; last lines: ${lines.slice(-5).join(' | ')}`);
    lines.push((await p.client.readResponseLine(left)).toString('latin1'));
  }
}

test('8 imapd processes in IDLE, 20 deliveries: each sees every message once, same UIDs, \\Recent in exactly one', { timeout: 120_000 }, async () => {
  const root = maildir();
  for (let i = 0; i < 10; i++) deliver(root, body(i));
  const procs: SpawnedImapd[] = [];
  try {
    for (let i = 0; i < 8; i++) procs.push(spawnImapd(root));
    const seen = procs.map(() => ({ lines: [] as string[], exists: 0 }));
    await Promise.all(procs.map(async (p, i) => {
      assert.match(await p.client.greeting, /^\* PREAUTH/);
      const sel = await p.client.command('SELECT INBOX', 30_000);
      assert.match(sel.tagged, /^OK/);
      for (const line of sel.lines) {
        const m = /^\* (\d+) EXISTS/.exec(line);
        if (m) seen[i]!.exists = Number(m[1]);
      }
      p.client.send('i1 IDLE\r\n');
      assert.match((await p.client.readResponseLine(30_000)).toString('latin1'), /^\+/);
    }));
    assert.ok(seen.every((s) => s.exists === 10), 'all start with the first 10');

    // deliveries in small bursts, as a delivery agent makes them
    const readers = procs.map((p, i) => {
      const s = seen[i]!;
      return readUntil(p, s.lines, () => {
        const last = s.lines[s.lines.length - 1];
        const m = last === undefined ? null : /^\* (\d+) EXISTS/.exec(last);
        if (m) {
          assert.ok(Number(m[1]) > s.exists, `EXISTS only grows: ${s.exists} then ${m[1]}`);
          s.exists = Number(m[1]);
        }
        return s.exists >= 30;
      }, 60_000);
    });
    for (let i = 10; i < 30; i++) {
      deliver(root, body(i));
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, 40));
    }
    await Promise.all(readers);

    const uidLists: string[] = [];
    let recentTotal = 0;
    const recentByUid = new Map<string, number>();
    for (let i = 0; i < procs.length; i++) {
      const p = procs[i]!;
      p.client.send('DONE\r\n');
      const done = await p.client.readUntilTagged('i1', 30_000);
      assert.match(done.tagged, /^OK/);
      assert.ok(![...seen[i]!.lines, ...done.lines].some((l) => /EXPUNGE/.test(l)), 'nothing expunged');
      const fetch = await p.client.command('FETCH 1:* (UID FLAGS)', 30_000);
      assert.match(fetch.tagged, /^OK/);
      const uids: string[] = [];
      for (const line of fetch.lines) {
        const m = /^\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)/.exec(line) ?? /^\* (\d+) FETCH \(FLAGS \(([^)]*)\) UID (\d+)\)/.exec(line);
        if (!m) continue;
        const [uid, flags] = line.includes('(UID') ? [m[2]!, m[3]!] : [m[3]!, m[2]!];
        assert.equal(Number(m[1]), uids.length + 1, 'sequence numbers in order');
        uids.push(uid);
        if (/\\Recent/.test(flags)) {
          recentTotal++;
          recentByUid.set(uid, (recentByUid.get(uid) ?? 0) + 1);
        }
      }
      assert.equal(uids.length, 30, `process ${i} has every message`);
      uidLists.push(uids.join(','));
    }
    assert.equal(new Set(uidLists).size, 1, 'every process has the same UIDs');
    const uids = uidLists[0]!.split(',').map(Number);
    assert.equal(new Set(uids).size, 30, 'no UID given twice');
    assert.deepEqual(uids, [...uids].sort((a, b) => a - b), 'UIDs ascend');
    // the 20 delivered while they idled are recent each for one session only (the first 10 for the first SELECT)
    assert.ok([...recentByUid.values()].every((n) => n === 1), 'no message recent in two sessions');
    assert.equal(recentTotal, 30, 'every message recent in one session');

    const db = readUidDbSync(root).db!;
    assert.equal(db.uids.size, 30);
    assert.deepEqual([...db.uids.values()].sort((a, b) => a - b), uids);
    assert.deepEqual(fs.readdirSync(path.join(root, 'new')), []);
    assert.equal(fs.readdirSync(path.join(root, 'cur')).length, 30);
  } finally {
    await Promise.all(procs.map((p) => p.close()));
  }
});

const sleep = (ms: number): Promise<'timeout'> => new Promise((resolve) => setTimeout(() => resolve('timeout'), ms));

test("the watcher's events of a claim it has followed leave the state current; an outside change after it still waits for the queue", async () => {
  const root = maildir();
  const names = [0, 1, 2].map((i) => deliver(root, body(i)));
  const mail = await store(root);
  try {
    const folder = (await select(mail, 'INBOX')) as FolderHandle;
    const r = recorder();
    folder.subscribe(r.listener);
    await until(() => folder.watching, 2000, 'the watches');
    await sleep(50);
    await folder.refresh();

    // Another process claims a delivery; its events (new/, cur/, courierimapuiddb) reach this
    // one only after the refresh below has followed the claim (spawnSync: no event is read meanwhile).
    deliver(root, body(3));
    const child = sibling(import.meta.url, './child');
    const claim = spawnSync(process.execPath, [...child.nodeArgs, child.file, root, JSON.stringify({ op: 'claim', folder: 'INBOX' })], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(claim.status, 0, claim.stderr);
    assert.ok((JSON.parse(claim.stdout) as { uids: number[] }).uids.includes(4), 'the other process claimed it');
    await folder.refresh();
    assert.equal(folder.snapshot().messages.length, 4);
    await sleep(200); // the claim's events are read and judged

    // Current: a refresh (NOOP) is answered while the folder's queue is held.
    let release!: () => void;
    const held = folderMutex.run(fs.realpathSync(root), () => new Promise<void>((resolve) => (release = resolve)));
    try {
      assert.equal(await Promise.race([folder.refresh().then(() => 'answered' as const), sleep(1000)]), 'answered', 'explained events left the state current');
      // Another process sets a flag: the next refresh must look, so it waits for the queue.
      const cur = path.join(root, 'cur');
      const first = fs.readdirSync(cur).find((name) => name.startsWith(path.basename(names[0]!)))!;
      fs.renameSync(path.join(cur, first), path.join(cur, `${first.split(':')[0]}:2,S`));
      const after = folder.refresh();
      assert.equal(await Promise.race([after.then(() => 'answered' as const), sleep(300)]), 'timeout', 'an outside change is looked at');
      release();
      await held;
      await after;
    } finally {
      release();
    }
    assert.deepEqual(flagsOf(folder.snapshot().messages[0]!.flags), ['\\Seen']);
    assert.ok(r.changes.some((c) => c.kind === 'flags' && c.uid === 1));
    folder.release();
  } finally {
    await mail.close();
  }
});

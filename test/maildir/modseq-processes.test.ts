// Mod-sequences with another process on the folder (issue 17: two servers on one Maildir, the
// watcher off). A process that records its own change after catching up another's expunge record,
// before it has looked at the removal, tells its clients a MODSEQ above that expunge; a QRESYNC
// client that then reconnects must still get the UID in VANISHED (EARLIER). Found by
// bench:cluster's stress run (2 servers x 25 clients, 10 minutes: two such state errors).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { sibling } from '../helpers/root.js';
import { deliver, message, recorder, select, store, tempMaildir } from './helpers.js';

const run = promisify(execFile);
const child = sibling(import.meta.url, './child');

test("a MODSEQ told above another process's expunge not yet seen: the expunge stays in VANISHED (EARLIER) since it", async () => {
  const md = tempMaildir([]);
  try {
    for (let i = 0; i < 3; i++) deliver(md.root, '', message(`m${i}`), { dir: 'cur' });
    const first = await store(md.root, { watch: false });
    const folder = await select(first, 'INBOX');
    const r = recorder();
    folder.subscribe(r.listener);
    await run(process.execPath, [...child.nodeArgs, child.file, md.root, JSON.stringify({ op: 'expunge', folder: 'INBOX', uids: [2] })], { timeout: 30_000 });
    // No look at the disk between: this process still shows UID 2.
    await folder.storeFlags([3], 'add', ['\\Flagged']);
    const told = r.changes.find((c) => c.kind === 'flags') as { modseq: number } | undefined;
    assert.ok(told, 'the flag change was told with its modseq');
    assert.ok(folder.snapshot().messages.some((m) => m.uid === 2), 'UID 2 not yet seen gone here');
    folder.release();
    await first.close();
    // A later session (a new folder core, as after the last session closed): it resynchronizes
    // from the modseq told above, knowing UID 2.
    const second = await store(md.root, { watch: false });
    const again = await select(second, 'INBOX');
    assert.deepEqual(again.snapshot().messages.map((m) => m.uid), [1, 3]);
    assert.deepEqual(again.expungedSince(told.modseq, () => true), [2]);
    again.release();
    await second.close();
  } finally {
    md.cleanup();
  }
});

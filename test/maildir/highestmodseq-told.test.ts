// HIGHESTMODSEQ as SELECT reports it (the folder snapshot's toldModseq) never runs ahead of
// what the folder has told its sessions: a change's modseq is counted only once its event has
// been delivered. bench:stress (--procs, qresync profile) saw a SELECT report
// HIGHESTMODSEQ n while the flag change stamped n reached the session only after the SELECT,
// so a client resynchronizing from n later would never learn of it (RFC 7162 3.2.5.2).

import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { FolderChange, MailStore } from '../../server/backend/mailstore.js';
import { deliver, message, select, store, tempMaildir, type TempMaildir } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

test('the snapshot never reports a modseq whose change its subscribers have not been told', async () => {
  md = tempMaildir([]);
  for (let i = 0; i < 5; i++) deliver(md.root, '', message(`m${i}`), { dir: 'cur' });
  mail = await store(md.root);
  const folder = await select(mail, 'INBOX');
  await folder.refresh();
  const reportedNow = () => folder.snapshot().toldModseq ?? folder.snapshot().highestModseq;
  let told = reportedNow();
  folder.subscribe((change: FolderChange) => {
    if (change.kind === 'flags') told = Math.max(told, change.modseq);
  });
  const uids = folder.snapshot().messages.map((m) => m.uid);
  const ahead: string[] = [];
  for (const [i, uid] of uids.entries()) {
    let done = false;
    const storing = folder.storeFlags([uid], 'add', [i % 2 ? '\\Seen' : '\\Flagged']).finally(() => (done = true));
    // Look between the STORE's steps, microtask by microtask, as another session's command may.
    while (!done) {
      for (let k = 0; k < 50 && !done; k++) {
        const reported = reportedNow();
        if (reported > told) ahead.push(`HIGHESTMODSEQ ${reported}, told up to ${told}`);
        await null;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await storing;
  }
  assert.deepEqual(ahead.slice(0, 3), []);
  assert.equal(reportedNow(), told);
  assert.equal(folder.snapshot().highestModseq, told);
});

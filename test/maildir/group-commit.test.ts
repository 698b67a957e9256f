// Deliveries into one folder that wait for its queue together go in with one pass under its
// locks (append-many.ts, "group commit", as LMTP deliveries on several connections do): each
// caller still gets its own UIDs, consecutive and in its order, none given twice, every
// message with its bytes and flags, an open folder told of all of them in ascending UIDs; and a
// caller whose file cannot be moved into cur/ fails alone, leaving nothing behind.

import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { StagedMessage } from '../../server/backend/mailstore.js';
import { openMaildirStore } from '../../server/maildir/index.js';
import { emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

const dir = tempDir('group-commit');
after(() => removeTree(dir));

test('appendMany calls at once: own consecutive UIDs each, in order, all told; one that fails fails alone', async () => {
  const root = emptyMaildir(path.join(dir, 'Maildir'));
  const store = await openMaildirStore({ root, watch: false });
  try {
    const folder = await store.openFolder('INBOX');
    const seen: number[] = [];
    const unsubscribe = folder.subscribe((change) => {
      if (change.kind === 'added') seen.push(...change.messages.map((m) => m.uid));
    });

    // A message staged by the store whose file then goes from tmp/ (as a tmp/ cleaner would).
    const stager = await store.stageMessage(undefined);
    await stager.write(simpleMessage('lost'));
    const lost: StagedMessage = await stager.finish();
    const before = new Set(readdirSync(path.join(root, 'tmp')));
    const staged = [...before].filter((n) => n.includes('.append.'));
    assert.equal(staged.length, 1);
    rmSync(path.join(root, 'tmp', staged[0]!));

    const callers = Array.from({ length: 12 }, (_, c) => Array.from({ length: 1 + (c % 3) }, (_, i) => `c${c}-m${i}`));
    const results = await Promise.allSettled([
      ...callers.map((subjects, c) =>
        store.appendMany('INBOX', subjects.map((s) => ({ message: simpleMessage(s), options: { flags: c % 2 ? ['\\Seen'] : [] } })))),
      store.appendMany('INBOX', [{ message: simpleMessage('kept-1') }, { message: lost }]),
    ]);
    const failed = results.at(-1)!;
    assert.equal(failed.status, 'rejected', 'the caller whose file was gone fails');
    const uids: number[] = [];
    results.slice(0, -1).forEach((r, c) => {
      assert.equal(r.status, 'fulfilled', `caller ${c}: ${(r as PromiseRejectedResult).reason}`);
      const got = (r as PromiseFulfilledResult<{ uids: number[] }>).value.uids;
      assert.equal(got.length, callers[c]!.length);
      got.forEach((uid, i) => i > 0 && assert.equal(uid, got[i - 1]! + 1, `caller ${c}'s UIDs are consecutive`));
      uids.push(...got);
    });
    const total = callers.flat().length;
    assert.deepEqual([...uids].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1), 'no UID twice, none skipped');

    await folder.refresh();
    const snapshot = folder.snapshot().messages;
    assert.equal(snapshot.length, total, 'nothing of the failed caller in the folder');
    for (const [c, subjects] of callers.entries()) {
      const got = (results[c] as PromiseFulfilledResult<{ uids: number[] }>).value.uids;
      for (const [i, uid] of got.entries()) {
        assert.match((await folder.readMessage(uid)).toString(), new RegExp(`Subject: ${subjects[i]}\\r\\n`));
        const m = snapshot.find((s) => s.uid === uid)!;
        assert.equal(m.flags.has('\\Seen'), c % 2 === 1);
      }
    }
    assert.deepEqual(readdirSync(path.join(root, 'tmp')).filter((n) => !before.has(n) && !n.startsWith('courier')), [], 'tmp/ left clean');
    assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i + 1), 'told of every message once, in ascending UIDs');
    unsubscribe();
    folder.release();
  } finally {
    await store.close();
  }
});

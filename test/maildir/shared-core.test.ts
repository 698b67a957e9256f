// Every LOGIN opens a store of its own on the account's Maildir. The folder's core (its state,
// caches and watcher) must survive from one store to the next when their settings are the same:
// bench:stress found 63 cores made in 10 s for one INBOX, each new one read from disk while
// the SELECTs queued behind it (SELECT p50 15 ms -> 50 ms). A store with other settings still
// gets a core of its own once the old one is idle.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { openMaildirStore } from '../../server/maildir/index.js';
import { existingCore } from '../../server/maildir/folder-registry.js';
import { removeTree, standardMaildir, tempDir } from '../helpers/maildir.js';

const dir = tempDir('shared-core');
after(() => removeTree(dir));

test('a store opened like the last one keeps the idle core; other settings replace it', async () => {
  const root = standardMaildir(path.join(dir, 'Maildir'), 5);
  const first = await openMaildirStore({ root, watch: false });
  const folder = await first.openFolder('INBOX');
  await folder.refresh();
  folder.release(); // the core is idle now, as between two sessions
  const core = existingCore(root);
  assert.ok(core);
  const second = await openMaildirStore({ root, watch: false });
  const again = await second.openFolder('INBOX');
  assert.equal(existingCore(root), core, 'the next login made a new core for the same settings');
  again.release();
  const other = await openMaildirStore({ root, watch: false, keywords: false });
  const third = await other.openFolder('INBOX');
  assert.notEqual(existingCore(root), core, 'a store with other settings must not use the old core');
  third.release();
  for (const store of [first, second, other]) await store.close();
});

// Scratch files of ours that a killed process left in tmp/ (issue 9.7) are removed when the
// folder is next opened; files of live processes and anything not named by us are kept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { scratchName } from '../../server/maildir/fsutil.js';
import { select, store, tempMaildir } from './helpers.js';

test('a listing scratch file of a killed process is removed at the next open, others stay', async () => {
  const md = tempMaildir(['Sub']);
  // A real process that has exited: its number names no process now.
  const dead = spawnSync(process.execPath, ['-e', 'process.kill(process.pid, "SIGKILL")']).pid!;
  const stamp = Math.floor(Date.now() / 1000);
  const ofDead = `${stamp}.imapdts.P${dead}Q7R0a1b2c3d`;
  const keywordsOfDead = `${stamp}.keywords.P${dead}Q8Rdeadbeef`;
  const ours = scratchName('imapdts'); // this process: a write in progress
  const delivery = `${stamp}.M1P${dead}.host`; // an MDA's file: only the 36-hour rule applies
  for (const dir of [md.root, path.join(md.root, '.Sub')]) {
    for (const name of [ofDead, keywordsOfDead, ours, delivery]) writeFileSync(path.join(dir, 'tmp', name), 'x');
  }
  const mail = await store(md.root);
  try {
    await select(mail, 'INBOX');
    await select(mail, 'INBOX.Sub');
    for (const dir of [md.root, path.join(md.root, '.Sub')]) {
      assert.deepEqual(readdirSync(path.join(dir, 'tmp')).sort(), [delivery, ours].sort(), dir);
    }
  } finally {
    await mail.close();
    md.cleanup();
  }
});

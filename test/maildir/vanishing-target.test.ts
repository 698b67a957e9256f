// A folder deleted or renamed by someone else while a message is on its way into it (APPEND,
// streamed APPEND, COPY, MOVE): the answer is TRYCREATE (RFC 3501 6.3.11), the folder's
// directory does not come back, and no file is left in any tmp/. The folder is removed right
// after the store has checked it: between the call and the call's first wait.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { MailStoreError, type MailStore } from '../../server/backend/mailstore.js';
import { deliver, message, select, store, tempMaildir, type TempMaildir } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

beforeEach(async () => {
  md = tempMaildir(['Race']);
  mail = await store(md.root, { watch: false });
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

const trycreate = (error: unknown) => error instanceof MailStoreError && error.code === 'TRYCREATE';
const raceDir = () => path.join(md.root, '.Race');

/** Every file under `dir`, relative; [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.lock'))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** Removed (DELETE by another process), or renamed to .Elsewhere (RENAME). */
const vanish = {
  deleted: () => rmSync(raceDir(), { recursive: true }),
  renamed: () => renameSync(raceDir(), path.join(md.root, '.Elsewhere')),
};

function assertClean(how: keyof typeof vanish): void {
  assert.equal(existsSync(raceDir()), false, 'the folder directory is not made again');
  assert.deepEqual(filesUnder(path.join(md.root, 'tmp')), [], 'nothing left in tmp/');
  if (how === 'renamed') {
    assert.deepEqual(filesUnder(path.join(md.root, '.Elsewhere')), ['maildirfolder'], 'nothing arrived in the renamed folder');
  }
}

for (const how of ['deleted', 'renamed'] as const) {
  test(`APPEND into a folder ${how} before the file is written: TRYCREATE`, async () => {
    const pending = mail.append('INBOX.Race', message('late'), { flags: ['Label'] });
    vanish[how]();
    await assert.rejects(pending, trycreate);
    assertClean(how);
  });

  test(`APPEND into a folder ${how} after the file is written, before delivery (INTERNALDATE, keywords): TRYCREATE`, async () => {
    const content = message('streamed');
    const sink = await mail.beginAppend('INBOX.Race', content.length, { internalDate: Date.UTC(2020, 0, 1), flags: ['Label'] });
    await sink.write(content);
    vanish[how]();
    await assert.rejects(sink.commit(), trycreate);
    assertClean(how);
  });

  test(`APPEND without INTERNALDATE into a folder ${how} after the file is written: TRYCREATE`, async () => {
    const content = message('streamed');
    const sink = await mail.beginAppend('INBOX.Race', content.length);
    await sink.write(content);
    vanish[how]();
    await assert.rejects(sink.commit(), trycreate);
    assertClean(how);
  });

  for (const move of [false, true]) {
    test(`${move ? 'MOVE' : 'COPY'} into a folder ${how} meanwhile: TRYCREATE, the messages stay`, async () => {
      deliver(md.root, '', message('one'), { dir: 'cur', flags: 'S' });
      deliver(md.root, '', message('two'), { dir: 'cur' });
      const inbox = await select(mail, 'INBOX');
      const uids = inbox.snapshot().messages.map((m) => m.uid);
      await inbox.storeFlags(uids, 'add', ['Label']); // keywords go first in a copy
      const pending = move ? inbox.moveTo(uids, 'INBOX.Race') : inbox.copyTo(uids, 'INBOX.Race');
      vanish[how]();
      await assert.rejects(pending, trycreate);
      assertClean(how);
      assert.equal(readdirSync(path.join(md.root, 'cur')).length, 2, 'both messages are still in INBOX');
      await inbox.refresh();
      assert.deepEqual(inbox.snapshot().messages.map((m) => m.uid), uids);
      inbox.release();
    });
  }
}

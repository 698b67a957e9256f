// SELECT of a folder opened from its listing (imapd-ts.listing) answers as a full look does,
// and changes made after it are reported against what SELECT said (sequence numbers intact).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnImapd } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

/** Directory mtimes 10 s back: the folder looks untouched for a while (settled). */
function age(root: string): void {
  const past = Date.now() / 1000 - 10;
  for (const sub of ['cur', 'new', 'courierimapkeywords']) {
    if (fs.existsSync(path.join(root, sub))) fs.utimesSync(path.join(root, sub), past, past);
  }
}

async function session<T>(root: string, body: (command: (c: string) => Promise<{ lines: string[]; tagged: string }>) => Promise<T>): Promise<T> {
  const imapd = spawnImapd(root);
  try {
    await imapd.client.greeting;
    return await body((c) => imapd.client.command(c));
  } finally {
    await imapd.close();
  }
}

describe('SELECT from the listing', () => {
  it('answers as a full look, and reports later changes against what it said', async () => {
    const dir = tempDir('listing');
    const root = emptyMaildir(path.join(dir, 'Maildir'));
    try {
      for (let i = 1; i <= 4; i++) deliver(root, simpleMessage(`message ${i}`));
      await session(root, async (command) => {
        await command('SELECT INBOX');
        await command('STORE 1,3 +FLAGS (\\Seen)');
        await command('STORE 4 +FLAGS (Label)');
      });
      // The first look after the STOREs merges the keyword update (which changes the
      // keyword directory again): a listing comes from a look at a folder that stays settled.
      // The listing the STOREs' session left of its own state is put aside first: `full` is
      // what a look at the whole folder answers.
      let full: string[] = [];
      for (let i = 0; i < 3 && (i === 0 || !fs.existsSync(path.join(root, 'imapd-ts.listing'))); i++) {
        fs.rmSync(path.join(root, 'imapd-ts.listing'), { force: true });
        age(root);
        full = await session(root, async (command) => (await command('SELECT INBOX')).lines);
      }
      assert.ok(fs.existsSync(path.join(root, 'imapd-ts.listing')), 'a settled look left a listing');

      await session(root, async (command) => {
        const fromListing = await command('SELECT INBOX');
        assert.deepEqual(fromListing.lines, full);
        assert.ok(fromListing.lines.includes('* OK [UNSEEN 2] First unseen'));
        assert.ok(fromListing.lines.some((l) => l.startsWith('* FLAGS (') && l.includes('Label')));
        assert.ok(fromListing.lines.includes('* 4 EXISTS'));

        // Another program removes the first message and delivers one, before this session
        // asked for anything: the expunge is reported with the sequence number SELECT gave it.
        const first = fs.readdirSync(path.join(root, 'cur')).sort()[0];
        fs.unlinkSync(path.join(root, 'cur', first));
        deliver(root, simpleMessage('message 5'));
        let lines: string[] = [];
        for (let i = 0; i < 100 && !lines.some((l) => /EXISTS/.test(l)); i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          lines = [...lines, ...(await command('NOOP')).lines];
        }
        assert.deepEqual(lines.filter((l) => /EXPUNGE|EXISTS/.test(l)), ['* 1 EXPUNGE', '* 4 EXISTS']);
        const fetched = await command('FETCH 1:* (UID FLAGS)');
        assert.deepEqual(fetched.lines, [
          '* 1 FETCH (UID 2 FLAGS ())',
          '* 2 FETCH (UID 3 FLAGS (\\Seen))',
          '* 3 FETCH (UID 4 FLAGS (Label))',
          '* 4 FETCH (UID 5 FLAGS (\\Recent))',
        ]);
      });
    } finally {
      removeTree(dir);
    }
  });
});

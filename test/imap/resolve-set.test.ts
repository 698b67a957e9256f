// Sequence sets against a selected mailbox (server/imap/resolve-set.ts): what they name, and
// that their cost is bounded by the mailbox plus the set's length, never by their product
// or by the numbers (issue 9).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { MailStore } from '../../server/backend/mailstore.js';
import type { SequenceSet } from '../../server/imap/protocol/types.js';
import { parseSequenceSet } from '../../server/imap/protocol/sequence.js';
import { SelectedMailbox } from '../../server/imap/selected.js';
import { seqsInSet, seqsOfUidSet, SequenceError } from '../../server/imap/resolve-set.js';
import { message, select, store, tempMaildir, type TempMaildir } from '../maildir/helpers.js';

const COUNT = 2000;

describe('sequence sets over a mailbox of 2,000 messages', () => {
  let md: TempMaildir;
  let mail: MailStore;
  let view: SelectedMailbox;

  before(async () => {
    md = tempMaildir();
    const raw = message('x');
    for (let i = 1; i <= COUNT; i++) fs.writeFileSync(path.join(md.root, 'cur', `${1700000000 + i}.M${i}P1.test,S=${raw.length}:2,`), raw);
    mail = await store(md.root);
    view = new SelectedMailbox(await select(mail, 'INBOX'), true, () => undefined);
  });
  after(async () => {
    await mail.close();
    md.cleanup();
  });

  it('name the right messages', () => {
    const uids = view.all().map((m) => m.uid);
    assert.deepEqual(seqsInSet(view, parseSequenceSet('3,1:2,5:4,*,1999:*')), [1, 2, 3, 4, 5, 1999, 2000]);
    assert.deepEqual(seqsOfUidSet(view, parseSequenceSet(`${uids[9]}:${uids[7]},${uids[0]},*,4294967295`)), [1, 8, 9, 10, 2000]);
    assert.deepEqual(seqsOfUidSet(view, parseSequenceSet('4294967295:4294967294')), []);
    assert.throws(() => seqsInSet(view, parseSequenceSet('1:2001')), SequenceError);
  });

  it('cost the mailbox plus the set, not their product: a million whole-mailbox ranges', () => {
    const whole: SequenceSet = Array.from({ length: 1_000_000 }, () => ({ from: 1, to: Infinity }));
    const ranges: SequenceSet = Array.from({ length: 1_000_000 }, (_, i) => ({ from: 1 + (i % 7), to: 4294967295 }));
    const started = performance.now();
    assert.equal(seqsInSet(view, whole).length, COUNT);
    assert.equal(seqsOfUidSet(view, whole).length, COUNT);
    assert.equal(seqsOfUidSet(view, ranges).length, COUNT);
    // Marking each range's messages one by one took about 2 x 2 x 10^9 steps.
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
  });
});

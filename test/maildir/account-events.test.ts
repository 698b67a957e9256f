// The account's events (watchMailboxes, for NOTIFY): a change this process makes is told once,
// by the store, however its own watch's reads of the directory and of the subscription file
// fall around it. A slow read that began before our own write must not be taken for another
// process's change (CI saw "\Subscribed" told after UNSUBSCRIBE, then the UNSUBSCRIBE again).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MailboxEvent, MailStore } from '../../server/backend/mailstore.js';
import { store, storeFixture, tempMaildir } from './helpers.js';

const fx = storeFixture();

/** One round of own changes, and the events the store tells of them. */
async function round(m: MailStore, i: number): Promise<MailboxEvent[]> {
  await m.createFolder(`INBOX.F${i}`);
  await m.subscribe(`INBOX.F${i}`);
  await m.renameFolder(`INBOX.F${i}`, `INBOX.G${i}`);
  await m.unsubscribe(`INBOX.G${i}`);
  await m.subscribe(`INBOX.G${i}`);
  await m.deleteFolder(`INBOX.G${i}`);
  await m.unsubscribe(`INBOX.G${i}`);
  return [
    { kind: 'created', name: `INBOX.F${i}` },
    { kind: 'subscription', name: `INBOX.F${i}`, subscribed: true },
    { kind: 'renamed', name: `INBOX.G${i}`, from: `INBOX.F${i}` },
    { kind: 'subscription', name: `INBOX.G${i}`, subscribed: false },
    { kind: 'subscription', name: `INBOX.G${i}`, subscribed: true },
    { kind: 'deleted', name: `INBOX.G${i}` },
    { kind: 'subscription', name: `INBOX.G${i}`, subscribed: false },
  ];
}

for (const [mode, options] of [
  // The watch reads the directory and the subscription file on every inotify event ...
  ['inotify', { watch: true }],
  // ... or every millisecond: its reads are then nearly always under way when ours happen.
  ['polling every 1 ms', { watch: false, pollIntervalMs: 1 }],
] as const) {
  test(`own changes are told exactly once (${mode})`, async () => {
    fx.md = tempMaildir([]);
    fx.mail = await store(fx.md.root, options);
    const events: MailboxEvent[] = [];
    const stop = fx.mail.watchMailboxes!((event) => events.push(event), { messages: false });
    const expected: MailboxEvent[] = [];
    for (let i = 0; i < 40; i++) {
      expected.push(...(await round(fx.mail, i)));
      // Let the watch's reads of this round land between the next round's writes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The watch's last look at the directory and the file (a 20 ms debounce) is over well before this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop();
    assert.deepEqual(events, expected);
  });
}

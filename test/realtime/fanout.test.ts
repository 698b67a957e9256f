// In-process fan-out: what one session changes reaches the sessions in IDLE on the same
// folder; the lines of one report go out in one write.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { startSession, type SessionHandle } from '../../server/imap/session.js';
import { sessionSettingsFrom, settingsFromEnvironment } from '../../server/config/index.js';
import { openMaildirStore } from '../../server/maildir/index.js';
import type { MailStore } from '../../server/backend/mailstore.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

interface Peer {
  input: PassThrough;
  writes: string[];
  handle: SessionHandle;
  /** Resolves once the output so far contains `text`. */
  waitFor(text: string | RegExp): Promise<void>;
}

function peer(store: MailStore): Peer {
  const input = new PassThrough();
  const writes: string[] = [];
  let wake: (() => void) | null = null;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString('latin1'));
      wake?.();
      callback();
    },
  });
  const handle = startSession({
    transport: { input, output, remoteAddress: 'test', secure: true, close: () => output.end() },
    settings: sessionSettingsFrom(settingsFromEnvironment({}).settings),
    logger: { log: () => undefined },
    preauth: { user: 'test', store },
  });
  const seen = (text: string | RegExp): boolean => {
    const all = writes.join('');
    return typeof text === 'string' ? all.includes(text) : text.test(all);
  };
  return {
    input,
    writes,
    handle,
    async waitFor(text) {
      const deadline = Date.now() + 10_000;
      while (!seen(text)) {
        if (Date.now() > deadline) throw new Error(`not seen: ${String(text)}\n${writes.join('')}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

describe('fan-out to sessions in IDLE', () => {
  it('reports a STORE of many messages to each idle session, and a new message as EXISTS and RECENT in one write', async () => {
    const dir = tempDir('fanout');
    const root = emptyMaildir(path.join(dir, 'Maildir'));
    for (let i = 1; i <= 20; i++) deliver(root, simpleMessage(`message ${i}`));
    const store = await openMaildirStore({ root, watch: false });
    const idlers = [peer(store), peer(store), peer(store)];
    const changer = peer(store);
    try {
      for (const p of [...idlers, changer]) {
        p.input.write('s SELECT INBOX\r\n');
        await p.waitFor('s OK');
      }
      for (const p of idlers) {
        p.input.write('i IDLE\r\n');
        await p.waitFor('+ ');
      }
      const before = idlers.map((p) => p.writes.length);
      changer.input.write('c STORE 1:20 +FLAGS (\\Flagged)\r\n');
      await changer.waitFor('c OK');
      for (const [k, p] of idlers.entries()) {
        await p.waitFor('* 20 FETCH');
        const after = p.writes.slice(before[k]).join('');
        assert.equal(after.match(/^\* \d+ FETCH \(FLAGS \([^)]*\\Flagged[^)]*\)\)\r\n/gm)?.length, 20);
      }
      // A message appended by the other session: EXISTS and RECENT in one write.
      const mark = idlers.map((p) => p.writes.length);
      const message = simpleMessage('appended');
      changer.input.write(`a APPEND INBOX {${message.length}+}\r\n`);
      changer.input.write(Buffer.concat([message, Buffer.from('\r\n')]));
      await changer.waitFor('a OK');
      for (const [k, p] of idlers.entries()) {
        await p.waitFor('* 21 EXISTS');
        const after = p.writes.slice(mark[k]).join('');
        assert.match(p.writes[mark[k]], /^\* 21 EXISTS\r\n\* \d+ RECENT\r\n$/, after);
      }
      for (const p of idlers) {
        p.input.write('DONE\r\n');
        await p.waitFor('i OK');
      }
    } finally {
      for (const p of [...idlers, changer]) {
        p.handle.disconnect(null);
        await p.handle.closed;
      }
      await store.close();
      removeTree(dir);
    }
  });
});

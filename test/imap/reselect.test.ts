// A SELECT of the folder already selected (a QRESYNC client resynchronising, a client going back
// to its INBOX) opens it again before letting the old view go: the folder never has no session,
// so it keeps its watches and its state, instead of setting up new watches whose first look
// reads the whole directory (two seconds for 100,000 messages on our test machines, during which
// the SELECT waited: bench/condstore.ts).

import assert from 'node:assert/strict';
import { it } from 'node:test';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { startSession } from '../../server/imap/session.js';
import { sessionSettingsFrom, settingsFromEnvironment } from '../../server/config/index.js';
import { openMaildirStore } from '../../server/maildir/index.js';
import type { Folder, MailStore } from '../../server/backend/mailstore.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

/** The store, with every openFolder and release written down in order. */
function recording(store: MailStore, events: string[]): MailStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'openFolder') return Reflect.get(target, key, receiver) as unknown;
      return async (name: string, options?: { readOnly?: boolean }): Promise<Folder> => {
        const folder = await target.openFolder(name, options);
        events.push(`open ${name}`);
        const release = folder.release.bind(folder);
        folder.release = () => {
          events.push(`release ${name}`);
          release();
        };
        return folder;
      };
    },
  });
}

it('a SELECT of the selected folder opens it again before releasing it; a failed SELECT still closes the old one', async () => {
  const dir = tempDir('reselect');
  const root = emptyMaildir(path.join(dir, 'Maildir'));
  for (let i = 1; i <= 3; i++) deliver(root, simpleMessage(`message ${i}`));
  const store = await openMaildirStore({ root, watch: false });
  const events: string[] = [];
  const input = new PassThrough();
  let written = '';
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written += chunk.toString('latin1');
      callback();
    },
  });
  const handle = startSession({
    transport: { input, output, remoteAddress: 'test', secure: true, close: () => output.end() },
    settings: sessionSettingsFrom(settingsFromEnvironment({}).settings),
    logger: { log: () => undefined },
    preauth: { user: 'test', store: recording(store, events) },
  });
  const command = async (tag: string, line: string): Promise<string> => {
    input.write(`${tag} ${line}\r\n`);
    const deadline = Date.now() + 10_000;
    while (!new RegExp(`^${tag} `, 'm').test(written)) {
      if (Date.now() > deadline) throw new Error(`no answer to ${line}: ${written}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return written.slice(written.search(new RegExp(`^${tag} `, 'm')));
  };
  try {
    assert.match(await command('a', 'SELECT INBOX'), /^a OK/);
    assert.match(await command('b', 'SELECT INBOX'), /^b OK/);
    assert.deepEqual(events, ['open INBOX', 'open INBOX', 'release INBOX']);
    assert.match(await command('c', 'SELECT INBOX.Nothing'), /^c NO/);
    assert.deepEqual(events.slice(3), ['release INBOX'], 'the failed SELECT closed the mailbox');
    assert.match(await command('d', 'FETCH 1 UID'), /^d BAD/, 'no mailbox selected');
  } finally {
    input.end();
    handle.disconnect('test over');
    await handle.closed;
    await store.close();
    removeTree(dir);
  }
});

// imapflow with CONDSTORE and QRESYNC (`qresync: true`, `changedSince`) against the network
// server: what a phone or desktop client does to resynchronise a folder quickly.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import type { ImapServer } from '../../server/net/index.js';
import { removeTree, standardMaildir, tempDir } from '../helpers/maildir.js';
import { startNetworkServer } from '../helpers/network-server.js';

let dir: string;
let accounts: SqliteAccountStore;
let server: ImapServer;
let port: number;

before(async () => {
  dir = tempDir('imapflow-condstore');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const maildir = standardMaildir(path.join(dir, 'alice'), 6);
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'secret', maildir });
  ({ server, port } = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 200 }));
});

after(async () => {
  await server.stop();
  accounts.close();
  removeTree(dir);
});

// IMAPFLOW_DEBUG=1 prints the protocol exchange.
const print = (entry: { cid?: string; msg?: string; src?: string }): void => {
  if (entry.src === 's' || entry.src === 'c') process.stderr.write(`${entry.cid?.slice(0, 4)} ${entry.src === 'c' ? 'C:' : 'S:'} ${entry.msg}\n`);
};

function client(): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: true,
    auth: { user: 'alice', pass: 'secret' },
    tls: { rejectUnauthorized: false },
    logger: process.env.IMAPFLOW_DEBUG ? { trace: print, debug: print, info: print, warn: print, error: print } : false,
    disableAutoIdle: true,
    qresync: true,
  });
}

describe('imapflow with CONDSTORE and QRESYNC', () => {
  it('enables QRESYNC, gets HIGHESTMODSEQ, fetches only what changed since, and hears of expunges as vanished', async () => {
    const a = client();
    const b = client();
    await a.connect();
    await b.connect();
    try {
      assert.ok(a.capabilities.has('CONDSTORE') && a.capabilities.has('QRESYNC'));
      assert.ok(a.enabled.has('QRESYNC'), 'imapflow enabled QRESYNC');
      const box = await a.mailboxOpen('INBOX');
      const highest = box.highestModseq;
      assert.equal(typeof highest, 'bigint');
      // Nothing changed: nothing comes back.
      const none = await a.fetchAll('1:*', { flags: true }, { changedSince: highest! });
      assert.equal(none.length, 0);
      // Another session changes a message; this one asks what changed since.
      await b.mailboxOpen('INBOX');
      await b.messageFlagsAdd({ uid: '5' }, ['\\Flagged'], { uid: true });
      const changed = await a.fetchAll('1:*', { flags: true, uid: true }, { changedSince: highest!, uid: true });
      assert.deepEqual(changed.map((m) => m.uid), [5]);
      assert.ok(changed[0].flags!.has('\\Flagged'));
      assert.ok(changed[0].modseq! > highest!);
      // An expunge by the other session reaches this one (VANISHED after QRESYNC).
      const gone = new Promise<{ uid?: number; vanished?: boolean }>((resolve) => a.once('expunge', resolve));
      await b.messageDelete({ uid: '2' }, { uid: true });
      await a.noop();
      const event = await gone;
      assert.equal(event.uid, 2);
      assert.equal(event.vanished, true);
    } finally {
      await a.logout();
      await b.logout();
    }
  });
});

// The change bus over PostgreSQL's LISTEN/NOTIFY (server/accounts/postgres-bus.ts), against a
// real PostgreSQL: another server's announcement reaches the folder's listeners and ours do not
// come back to us; a lost LISTEN connection is opened again, and every folder then looks again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresAccountStore } from '../../server/accounts/index.js';
import { postgresSkip, startPostgres, type PostgresPeer } from '../helpers/account-peers.js';

let peer: PostgresPeer;

function counter(): { calls: number; fn: () => void; wait: (n: number, ms?: number) => Promise<void> } {
  const c = {
    calls: 0,
    fn: () => void c.calls++,
    async wait(n: number, ms = 5000) {
      const deadline = Date.now() + ms;
      while (c.calls < n) {
        if (Date.now() > deadline) throw new Error(`${c.calls} calls, waited for ${n}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  return c;
}

describe('change bus over LISTEN/NOTIFY', { skip: postgresSkip }, () => {
  before(async () => {
    peer = await startPostgres();
  });
  after(async () => {
    await peer?.stop();
  });

  test('another server\'s announcement reaches the folder\'s listeners only; our own does not come back', async () => {
    const url = await peer.database();
    const [a, b] = [await PostgresAccountStore.open(url, '/tmp'), await PostgresAccountStore.open(url, '/tmp')];
    try {
      const onA = counter();
      const otherFolder = counter();
      const onB = counter();
      a.changeBus.subscribe('/srv/mail/alice/Maildir', onA.fn);
      a.changeBus.subscribe('/srv/mail/alice/Maildir/.Sent', otherFolder.fn);
      b.changeBus.subscribe('/srv/mail/alice/Maildir', onB.fn);
      await Promise.all([a.changeBus.ready(), b.changeBus.ready()]);
      b.changeBus.publish('/srv/mail/alice/Maildir');
      await onA.wait(1);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([onA.calls, otherFolder.calls, onB.calls], [1, 0, 0]);
      // A path longer than NOTIFY carries is not announced (polling finds the change).
      b.changeBus.publish('/x'.repeat(5000));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('a lost LISTEN connection is opened again, and the folders look again then', async () => {
    const url = await peer.database();
    const [a, b] = [await PostgresAccountStore.open(url, '/tmp'), await PostgresAccountStore.open(url, '/tmp')];
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const onA = counter();
      a.changeBus.subscribe('/srv/Maildir', onA.fn);
      await a.changeBus.ready();
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database()`);
      await onA.wait(1, 10_000); // the look after reconnecting
      assert.equal(a.changeBus.listening, true);
      b.changeBus.publish('/srv/Maildir');
      await onA.wait(2);
    } finally {
      await admin.end();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

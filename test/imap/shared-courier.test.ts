// Virtual shared folders side by side with Courier's imapd: the same two Maildirs (alice's
// INBOX.Projects shared with bob by a courierimapacl file written as Courier writes it), bob
// logged in to ours over the network (the index made from the account store) and to Courier
// with IMAP_SHAREDINDEXFILE in the format courierSharedIndexText writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteAccountStore, courierSharedIndexText } from '../../server/accounts/index.js';
import { startNetworkServer } from '../helpers/network-server.js';
import { networkSession } from '../helpers/checked-client.js';
import { spawnCourier } from '../helpers/imap-client.js';
import { courierSkip } from '../helpers/peers.js';
import { copyTree, deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

/** Each command, and what to compare of its answer besides the status. */
const SCRIPT: [string, RegExp | null][] = [
  ['NAMESPACE', /^\* NAMESPACE/],
  ['LIST "" "#shared.*"', /^\* LIST/],
  ['LIST "" "*"', /#shared/],
  ['STATUS #shared.alice.Projects (MESSAGES UNSEEN)', /^\* STATUS/],
  ['MYRIGHTS #shared.alice.Projects', /^\* MYRIGHTS/],
  ['GETACL #shared.alice.Projects', /^\* ACL/],
  ['SELECT #shared.alice', null],
  ['SELECT #shared.alice.Private', null],
  ['SELECT #shared.alice.Projects', /EXISTS|MYRIGHTS|READ-/],
  // (Courier sends the message's stored CRLF as CR CR LF, and the new \Seen in a FETCH of its own.)
  ['FETCH 1 BODY[]', null],
  ['FETCH 1 FLAGS', /^\* 1 FETCH/],
  ['EXPUNGE', null],
  ['APPEND #shared.alice.Projects {5+}\r\nhello', null],
  ['COPY 1 INBOX', null],
  ['STATUS INBOX (MESSAGES)', /^\* STATUS/],
];

function aliceAndBob(root: string): { alice: string; bob: string } {
  const alice = emptyMaildir(path.join(root, 'alice', 'Maildir'));
  const bob = emptyMaildir(path.join(root, 'bob', 'Maildir'));
  for (const folder of ['.Projects', '.Private']) {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(alice, folder, sub), { recursive: true });
    fs.writeFileSync(path.join(alice, folder, 'maildirfolder'), '');
  }
  fs.writeFileSync(path.join(alice, '.Projects', 'courierimapacl'), 'owner aceilrstwx\nadministrators aceilrstwx\nuser=bob lrs\n');
  deliver(alice, simpleMessage('plan'), '.Projects');
  return { alice, bob };
}

test('virtual shared folders answer as in Courier', { skip: courierSkip ?? false }, async () => {
  const dir = tempDir('shared-courier');
  const base = path.join(dir, 'base');
  aliceAndBob(base);
  const oursRoot = path.join(dir, 'ours');
  const courierRoot = path.join(dir, 'courier');
  copyTree(base, oursRoot);
  copyTree(base, courierRoot);

  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const accounts = SqliteAccountStore.open(data);
  for (const name of ['alice', 'bob']) {
    await accounts.add({ username: name, password: 'secret', home: path.join(oursRoot, name), maildir: path.join(oursRoot, name, 'Maildir') });
  }
  // Courier announces "shared." (its sharable Maildirs) always; ours to an account given a
  // sharable list only (server/accounts/sharable-access.ts): bob gets one, empty here.
  await accounts.setSharable('bob', '');
  const { server, port } = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100, sharedFolders: true, maildirShared: path.join(dir, 'maildirshared') });
  // Courier reads the index we write for it, pointed at its own copy of the Maildirs.
  const index = path.join(dir, 'index');
  const courierAccounts = (await accounts.list()).map((a) => ({ ...a, home: path.join(courierRoot, a.username) }));
  fs.writeFileSync(index, courierSharedIndexText(courierAccounts, (a) => path.join(a.home, 'Maildir')));
  const courier = spawnCourier(path.join(courierRoot, 'bob', 'Maildir'), { AUTHENTICATED: 'bob', IMAP_SHAREDINDEXFILE: index });
  await courier.client.greeting;
  const ours = await networkSession('bob', port, 'bob', 'secret');
  try {
    for (const [command, keep] of SCRIPT) {
      const o = await ours.command(command);
      const c = await courier.client.command(command);
      const status = (tagged: string) => tagged.split(' ')[0];
      assert.equal(status(o.tagged), status(c.tagged), `${command}: ours ${o.tagged} / Courier ${c.tagged}`);
      if (!keep) continue;
      // Courier lists folders before their parents; the order is not the point here.
      const kept = (lines: string[]) => lines.filter((l) => keep.test(l)).map((l) => l.replace(/\[UIDVALIDITY \d+\]/, '')).sort();
      assert.deepEqual(kept(o.lines), kept(c.lines), command);
    }
    const inAlice = (root: string) => fs.readdirSync(path.join(root, 'alice', 'Maildir', '.Projects', 'cur')).length;
    assert.equal(inAlice(oursRoot), inAlice(courierRoot));
    const inBob = (root: string) => fs.readdirSync(path.join(root, 'bob', 'Maildir', 'cur')).length;
    assert.equal(inBob(oursRoot), 1);
    assert.equal(inBob(courierRoot), 1);
  } finally {
    await ours.close();
    await courier.close();
    await server.stop();
    accounts.close();
    removeTree(dir);
  }
});

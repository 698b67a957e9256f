// DEFDOMAIN: a login name without "@" gets the default domain before the account is looked
// up, as Courier's authlib does; a name with "@" is looked up as given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../server/imap/contracts.js';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { settingsFromDocuments } from '../../server/config/index.js';

let data: string;
let accounts: SqliteAccountStore;
const logger: Logger = { log: () => {} };
const PASSWORD = 'defdomain-password-5e1a';

function authenticator(defaultDomain: string | null) {
  return new AccountAuthenticator({
    accounts, logger, maildirPath: 'Maildir', useLocks: true, keywords: true, watch: false,
    pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 10, defaultDomain,
  });
}

before(async () => {
  data = await fs.mkdtemp(join(tmpdir(), 'imapd-defdomain-'));
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'bob@example.com', password: PASSWORD });
  await accounts.add({ username: 'carol@other.org', password: PASSWORD });
});
after(async () => {
  accounts.close();
  await fs.rm(data, { recursive: true, force: true });
});

test('DEFDOMAIN is read with its separator, a bare domain gets one', () => {
  const read = (value: string) => settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, data, { DEFDOMAIN: value }).settings.defaultDomain;
  assert.equal(read('@example.com'), '@example.com');
  assert.equal(read('example.com'), '@example.com');
  assert.equal(read(''), null);
});

test('a name without @ gets DEFDOMAIN; a name with @ is taken as given', async () => {
  const auth = authenticator('@example.com');
  const bob = await auth.login('bob', PASSWORD, '127.0.0.1');
  assert.equal(bob?.user, 'bob@example.com');
  await bob?.store.close();
  const carol = await auth.login('carol@other.org', PASSWORD, '127.0.0.1');
  assert.equal(carol?.user, 'carol@other.org');
  await carol?.store.close();
  assert.equal(await auth.login('carol', PASSWORD, '127.0.0.1'), null);
  await auth.idle();
});

test('without DEFDOMAIN the bare name is not found', async () => {
  const auth = authenticator(null);
  assert.equal(await auth.login('bob', PASSWORD, '127.0.0.2'), null);
  await auth.idle();
});

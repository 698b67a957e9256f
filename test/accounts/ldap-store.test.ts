// The LDAP account store against a real OpenLDAP slapd (Debian's package, a private instance on
// a free port), with entries as a directory set up for Courier's authldap has them, passwords
// made by slapd's own slappasswd, and IMAP logins through the authenticator.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountAuthenticator, AccountError, LdapAccountStore, openAccountStore, testAccountStore } from '../../server/accounts/index.js';
import { LoginCache } from '../../server/accounts/login-cache.js';
import { scryptRunCount } from '../../server/accounts/password.js';
import { slapdSkip, startSlapd, type SlapdPeer } from '../helpers/account-peers.js';

let peer: SlapdPeer;
let root: string;
let store: LdapAccountStore;

describe('LDAP account store (read-only, Courier authldap attributes)', { skip: slapdSkip }, () => {
  before(async () => {
    peer = await startSlapd();
    root = await fs.mkdtemp(join(tmpdir(), 'imapd-ldapstore-'));
    await peer.add([
      {
        uid: 'alice',
        attributes: {
          mail: ['alice@example.org', 'a.smith@example.org'],
          homeDirectory: join(root, 'alice'),
          userPassword: await peer.slappasswd('{SSHA}', 'alice-pw'),
          quota: '1000000S,500C',
        },
      },
      { uid: 'bob', attributes: { mail: 'bob@example.org', homeDirectory: join(root, 'bob'), mailbox: 'Mail/Box', userPassword: await peer.slappasswd('{ARGON2}', 'bob-pw') } },
      {
        uid: 'carol',
        attributes: {
          mail: 'carol@example.org', homeDirectory: join(root, 'carol'), mailbox: '/srv/carol/Maildir',
          userPassword: await peer.slappasswd('{CRYPT}', 'carol-pw', '$6$%.16s'),
        },
      },
      { uid: 'dave', attributes: { mail: 'dave@example.org', homeDirectory: join(root, 'dave'), userPassword: await peer.slappasswd('{SSHA}', 'dave-pw'), disableimap: '1' } },
    ]);
    store = await LdapAccountStore.open(peer.accountsUrl, root);
  });
  after(async () => {
    await store?.close();
    await peer?.stop();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  test('accounts as Courier reads them: mail, homeDirectory, mailbox, quota, disableimap', async () => {
    assert.deepEqual((await store.list()).map((a) => [a.username, a.enabled]), [
      ['alice@example.org', true], ['bob@example.org', true], ['carol@example.org', true], ['dave@example.org', false],
    ]);
    const alice = (await store.get('ALICE@example.org'))!;
    assert.deepEqual([alice.home, alice.maildir, alice.quotaBytes, alice.quotaMessages], [join(root, 'alice'), null, 1_000_000, 500]);
    assert.equal((await store.get('alice'))?.username, 'alice@example.org', 'uid logs in too');
    assert.equal((await store.get('bob@example.org'))?.maildir, join(root, 'bob', 'Mail/Box'), 'a relative mailbox is below the home');
    assert.equal((await store.get('carol@example.org'))?.maildir, '/srv/carol/Maildir');
    assert.deepEqual(await store.addresses('alice@example.org'), ['a.smith@example.org']);
    assert.equal(await store.get('*'), null);
    assert.equal(await store.get('*)(uid=*'), null, 'filter syntax in a name is a literal');
  });

  test('passwords: {SSHA}, {ARGON2} and {CRYPT} from slappasswd; disableimap; unknown users', async () => {
    assert.equal((await store.check('alice@example.org', 'alice-pw')).result, 'ok');
    assert.equal((await store.check('bob', 'bob-pw')).result, 'ok');
    assert.equal((await store.check('carol@example.org', 'carol-pw')).result, 'ok');
    assert.equal((await store.check('carol@example.org', 'alice-pw')).result, 'bad-password');
    assert.equal((await store.check('dave@example.org', 'dave-pw')).result, 'disabled');
    assert.equal((await store.check('nobody@example.org', 'x')).result, 'no-such-user');
    assert.equal((await store.check('*', 'alice-pw')).result, 'no-such-user');
    // The login cache: the second check of the same password does not verify again.
    const cache = new LoginCache();
    assert.equal((await store.check('alice@example.org', 'alice-pw', cache)).result, 'ok');
    assert.equal(cache.size, 1);
  });

  test('delivery lookup: addresses, +detail, uid as local part', async () => {
    const found = async (address: string) => {
      const m = await store.findRecipient(address);
      return m ? `${m.account.username} ${m.via}` : null;
    };
    assert.equal(await found('alice@example.org'), 'alice@example.org username');
    assert.equal(await found('A.Smith+news@example.org'), 'alice@example.org address');
    assert.equal(await found('bob@mx.home'), 'bob@example.org local-part');
    assert.equal(await found('eve@example.org'), null);
  });

  test('read-only: every change is refused with the reason', async () => {
    for (const attempt of [
      store.add({ username: 'x', password: 'y' }), store.setPassword('alice', 'z'), store.remove('alice'), store.disable('alice'),
      store.addAddress('alice', 'x@example.org'), store.setQuota('alice', { bytes: 1 }),
    ]) {
      await assert.rejects(attempt, (err: unknown) => err instanceof AccountError && err.code === 'read-only' && /change them there/.test(err.message));
    }
    assert.equal(store.writable, false);
  });

  test('last login and quota use outlive the process: kept in ldap-state.sqlite in the data directory', async () => {
    const data = await fs.mkdtemp(join(tmpdir(), 'imapd-ldapstate-'));
    try {
      const first = await LdapAccountStore.open(peer.accountsUrl, data);
      await first.recordLogin('alice@example.org', '192.0.2.7', 1_700_000_000_000);
      await first.recordUsage('bob@example.org', { bytes: 12345, messages: 6 }, 1_700_000_001_000);
      await first.close();
      const again = await LdapAccountStore.open(peer.accountsUrl, data);
      try {
        const alice = (await again.get('alice@example.org'))!;
        assert.equal(alice.lastLoginAt, 1_700_000_000_000);
        assert.equal(alice.lastLoginAddress, '192.0.2.7');
        assert.deepEqual((await again.get('bob@example.org'))!.usage, { bytes: 12345, messages: 6, updatedAt: 1_700_000_001_000 });
        assert.equal((await again.get('carol@example.org'))!.lastLoginAt, null);
        // by login name, whichever of the entry's names was used
        await again.recordLogin('ALICE@example.org', '192.0.2.8', 1_700_000_002_000);
        assert.equal((await again.get('alice@example.org'))!.lastLoginAddress, '192.0.2.8');
      } finally {
        await again.close();
      }
      assert.equal((await fs.stat(join(data, 'ldap-state.sqlite'))).mode & 0o777, 0o600);
      // "Test connection" writes nothing: a store only read from makes no file
      const empty = await fs.mkdtemp(join(tmpdir(), 'imapd-ldapstate-'));
      const probe = await testAccountStore(peer.accountsUrl, empty);
      assert.equal(probe.ok, true);
      assert.deepEqual(await fs.readdir(empty), []);
      await fs.rm(empty, { recursive: true, force: true });
    } finally {
      await fs.rm(data, { recursive: true, force: true });
    }
  });

  test('an IMAP login through the authenticator opens the account\'s Maildir', async () => {
    const accounts = await openAccountStore(peer.accountsUrl, root);
    const auth = new AccountAuthenticator({
      accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: false, keywords: true,
      watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 5,
    });
    try {
      const login = await auth.login('alice', 'alice-pw', '192.0.2.9');
      assert.equal(login?.user, 'alice@example.org');
      assert.equal(login?.sender, 'alice@example.org');
      await login?.store.close();
      assert.ok((await fs.stat(join(root, 'alice', 'Maildir', 'cur'))).isDirectory());
      const runs = scryptRunCount();
      const again = await auth.login('alice', 'alice-pw', '192.0.2.9');
      assert.equal(again?.user, 'alice@example.org');
      await again?.store.close();
      assert.equal(scryptRunCount(), runs);
      assert.equal(await auth.login('dave@example.org', 'dave-pw', '192.0.2.9'), null);
      assert.equal((await accounts.get('alice'))?.lastLoginAddress, '192.0.2.9', 'kept in memory for the GUI');
      await auth.idle();
    } finally {
      await accounts.close();
    }
  });

  test('"test connection": a count, or the directory\'s refusal', async () => {
    const ok = await testAccountStore(peer.accountsUrl, root);
    assert.deepEqual([ok.ok, ok.accounts], [true, 4], ok.message);
    assert.match(ok.message, /: 4 accounts \(read-only\)\.$/);
    const wrong = await testAccountStore(peer.accountsUrl.replace(':secret@', ':wrong@'), root);
    assert.equal(wrong.ok, false);
    assert.match(wrong.message, /: invalid credentials \(LDAP result 49\)$/);
  });
});

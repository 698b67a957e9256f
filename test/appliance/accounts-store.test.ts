// The appliance with ACCOUNTS naming a PostgreSQL or an LDAP store (real peers, private
// instances): its Accounts screen shows that store's accounts and an IMAP login checks them;
// LDAP's are read-only, said in plain words; a store that cannot be reached leaves the GUI up
// with the reason and the server stopped.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError, ApplianceHost } from '../../server/appliance/index.js';
import { postgresSkip, slapdSkip, startPostgres, startSlapd, type PostgresPeer, type SlapdPeer } from '../helpers/account-peers.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';
import { LineClient } from '../net/client.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function host(accounts: string): Promise<{ host: ApplianceHost; data: string }> {
  const data = tempDir('accounts-store');
  dirs.push(data);
  writeConfig(data, `PORT=0\nACCOUNTS="${accounts}"\n`, 'SSLPORT=0\nIMAPDSSLSTART=NO\n');
  const h = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
  hosts.push(h);
  return { host: h, data };
}

async function login(port: number, user: string, password: string): Promise<string> {
  const c = await LineClient.plain(port);
  try {
    await c.line();
    return (await c.command('a', `LOGIN ${user} ${password}`)).at(-1)!;
  } finally {
    c.socket.destroy();
  }
}

describe('appliance on PostgreSQL', { skip: postgresSkip }, () => {
  let peer: PostgresPeer;
  before(async () => (peer = await startPostgres()));
  after(async () => peer?.stop());

  it('adds accounts to PostgreSQL from the GUI; they log in', async () => {
    const url = await peer.database();
    const { host: h, data } = await host(url);
    const status = await h.start();
    assert.equal(status.state, 'running', status.problem ?? '');
    await h.addAccount({ username: 'alice', password: 'alice-password' });
    assert.deepEqual((await h.listAccounts()).map((a) => a.username), ['alice']);
    assert.ok(!fs.readdirSync(data).includes('accounts.sqlite'), 'no SQLite file is made');
    const port = status.listeners.find((l) => l.kind === 'imap')!.port;
    assert.match(await login(port, 'alice', 'alice-password'), /^a OK/);
  });

  it('a store that cannot be reached: the GUI comes up with the reason, the server stays stopped', async () => {
    const { host: h } = await host('postgres://imapd:hidden@127.0.0.1:1/none');
    const status = await h.start();
    assert.notEqual(status.state, 'running');
    assert.match(status.problem ?? '', /account store postgres:\/\/imapd:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    assert.doesNotMatch(status.problem ?? '', /hidden/);
  });
});

describe('appliance on LDAP', { skip: slapdSkip }, () => {
  let peer: SlapdPeer;
  before(async () => (peer = await startSlapd()));
  after(async () => peer?.stop());

  it('lists the directory\'s accounts; adding one is refused with the reason', async () => {
    const home = tempDir('ldap-home');
    dirs.push(home);
    await peer.add([{ uid: 'bob', attributes: { mail: 'bob@example.org', homeDirectory: path.join(home, 'bob'), userPassword: await peer.slappasswd('{SSHA}', 'bob-password') } }]);
    const { host: h } = await host(peer.accountsUrl);
    const status = await h.start();
    assert.equal(status.state, 'running', status.problem ?? '');
    assert.deepEqual((await h.listAccounts()).map((a) => a.username), ['bob@example.org']);
    await assert.rejects(h.addAccount({ username: 'carol', password: 'carol-password' }), (err: unknown) => err instanceof ApiError && /change them there/.test(err.message));
    await assert.rejects(h.removeAccount('bob@example.org', true), (err: unknown) => err instanceof ApiError && /remove bob@example\.org there/.test(err.message));
    const port = status.listeners.find((l) => l.kind === 'imap')!.port;
    assert.match(await login(port, 'bob', 'bob-password'), /^a OK/);
  });
});

describe('ACCOUNTS in Settings', () => {
  it('applies at the next start, and its password never reaches the log', async () => {
    const { host: h, data } = await host('sqlite');
    const result = await h.applySettings({ ACCOUNTS: 'postgres://imapd:topsecret@127.0.0.1:1/mail' });
    assert.ok(result.applied, JSON.stringify(result));
    assert.ok(result.effects.some((e) => /ACCOUNTS: in force when the appliance starts again/.test(e)), result.effects.join('\n'));
    const log = (await h.getLog()).map((l) => l.message).join('\n');
    assert.match(log, /ACCOUNTS "sqlite" -> "postgres:\/\/imapd:\*\*\*@127\.0\.0\.1:1\/mail"/);
    assert.doesNotMatch(log, /topsecret/);
    assert.match(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), /^ACCOUNTS=/m);
    const view = (await h.getSettings()).settings.find((s) => s.name === 'ACCOUNTS')!;
    assert.equal(view.applies, 'start');
  });
});

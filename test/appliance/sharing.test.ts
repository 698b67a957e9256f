// Sharing a folder with another account through the appliance's API (sharing-service.ts):
// the ACL file it writes is the one SETACL writes, the other account then finds the folder
// under "#shared.OWNER." over IMAP, the listing says who has which access, and removing a
// share takes it away. Real host, real Maildirs, real IMAP sessions.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiError, ApplianceHost, invokeApi, type ApiMethod, type SharesView } from '../../server/appliance/index.js';
import { ImapTestClient } from '../helpers/imap-client.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
const sockets: net.Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function started(): Promise<{ host: ApplianceHost; port: number }> {
  const data = tempDir('sharing');
  dirs.push(data);
  writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000, watchConfig: false });
  hosts.push(host);
  const status = await host.start();
  assert.equal(status.state, 'running', status.problem ?? '');
  return { host, port: status.listeners.find((l) => l.kind === 'imap')!.port };
}

async function login(port: number, user: string, password: string): Promise<ImapTestClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  sockets.push(socket);
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  assert.match((await client.command(`LOGIN ${user} "${password}"`)).tagged, /^OK/);
  return client;
}

async function ok(client: ImapTestClient, command: string): Promise<string[]> {
  const reply = await client.command(command);
  assert.match(reply.tagged, /^OK/, `${command}: ${reply.tagged}`);
  return reply.lines;
}

async function rejects(promise: Promise<unknown>, code: string, field?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.field, field, err.message);
    return true;
  });
}

const sharesOf = (view: SharesView, folder: string) => view.shares.filter((s) => s.owner === 'alice' && s.folder === folder);

describe('sharing folders from the appliance', () => {
  it('shares a folder as SETACL would, bob then sees it under #shared, and removing the share takes it away', async () => {
    const { host, port } = await started();
    for (const name of ['alice', 'bob', 'carol']) await host.addAccount({ username: name, password: `pw-${name}-long` });
    const alice = await login(port, 'alice', 'pw-alice-long');
    await ok(alice, 'CREATE INBOX.Projects');
    await ok(alice, 'CREATE INBOX.Other');
    const aliceDir = (await host.listAccounts()).find((a) => a.username === 'alice')!.maildir;

    let view = await host.listShares();
    assert.deepEqual(view.shares, []);
    assert.deepEqual(view.accounts.find((a) => a.username === 'alice')?.folders, ['INBOX', 'INBOX.Other', 'INBOX.Projects']);

    const shared = await invokeApi(host, 'shareFolder', [{ owner: 'alice', folder: 'INBOX.Projects', account: 'bob', access: 'read-mark' }]);
    assert.ok(shared.ok, JSON.stringify(shared));
    // The file is byte for byte what SETACL writes for the same rights.
    await ok(alice, 'SETACL INBOX.Other bob lrsw');
    const file = (folder: string) => fs.readFileSync(path.join(aliceDir, folder, 'courierimapacl'), 'utf8');
    assert.equal(file('.Projects'), file('.Other'));
    assert.match(file('.Projects'), /^user=bob lrsw$/m);

    const bob = await login(port, 'bob', 'pw-bob-long');
    const listed = await ok(bob, 'LIST "" "#shared.*"');
    assert.ok(listed.includes('* LIST (\\HasNoChildren) "." "#shared.alice.Projects"'), listed.join('\n'));
    assert.deepEqual(await ok(bob, 'MYRIGHTS #shared.alice.Projects'), ['* MYRIGHTS "#shared.alice.Projects" "lrsw"']);

    // Another access replaces the rights (it does not add to them).
    await host.shareFolder({ owner: 'alice', folder: 'INBOX.Projects', account: 'bob', access: 'read' });
    assert.deepEqual(await ok(bob, 'MYRIGHTS #shared.alice.Projects'), ['* MYRIGHTS "#shared.alice.Projects" "lr"']);
    view = await host.shareFolder({ owner: 'alice', folder: 'INBOX.Projects', account: 'bob', access: 'full' });
    assert.deepEqual(sharesOf(view, 'INBOX.Projects'), [
      { owner: 'alice', folder: 'INBOX.Projects', identifier: 'user=bob', account: 'bob', access: 'full', rights: 'ceilrstwx', sharedName: '#shared.alice.Projects', inheritedBy: [] },
    ]);
    // Shares made over IMAP are listed too, in plain words where they match one, else as custom.
    await ok(alice, 'SETACL INBOX.Other anyone lr');
    await ok(alice, 'SETACL INBOX.Other carol lw');
    view = await host.listShares();
    assert.deepEqual(sharesOf(view, 'INBOX.Other').map((s) => [s.account, s.access, s.rights]), [['bob', 'read-mark', 'lrsw'], [null, 'read', 'lr'], ['carol', 'custom', 'lw']]);
    // A subfolder without a list of its own takes its parent's: said with the parent's share.
    await ok(alice, 'CREATE INBOX.Projects.2026');
    view = await host.listShares();
    assert.deepEqual(sharesOf(view, 'INBOX.Projects')[0]!.inheritedBy, ['INBOX.Projects.2026']);
    assert.deepEqual(sharesOf(view, 'INBOX.Projects.2026'), []);
    assert.ok((await host.getLog({ account: 'alice' })).some((l) => /INBOX\.Projects shared with bob: full/.test(l.message)));

    view = await host.unshareFolder('alice', 'INBOX.Projects', 'user=bob');
    assert.deepEqual(sharesOf(view, 'INBOX.Projects'), []);
    assert.doesNotMatch(file('.Projects'), /user=bob/);
    assert.ok((await ok(bob, 'LIST "" "#shared.*"')).every((l) => !l.includes('Projects')));
    assert.match((await bob.command('SELECT #shared.alice.Projects')).tagged, /^NO/);
    await rejects(host.unshareFolder('alice', 'INBOX.Projects', 'user=bob'), 'not-found', 'identifier');
    // The owner's own entries are not shares and cannot be removed here.
    await rejects(host.unshareFolder('alice', 'INBOX.Projects', 'owner'), 'invalid-argument', 'identifier');
  });

  it('refuses what cannot be shared, with the field at fault', async () => {
    const { host } = await started();
    for (const name of ['alice', 'bob']) await host.addAccount({ username: name, password: `pw-${name}-long` });
    await rejects(host.shareFolder({ owner: 'alice', folder: 'INBOX', account: 'alice', access: 'read' }), 'invalid-argument', 'account');
    await rejects(host.shareFolder({ owner: 'alice', folder: 'INBOX', account: 'nobody', access: 'read' }), 'not-found', 'account');
    await rejects(host.shareFolder({ owner: 'nobody', folder: 'INBOX', account: 'bob', access: 'read' }), 'not-found', 'owner');
    await rejects(host.shareFolder({ owner: 'alice', folder: 'INBOX.Missing', account: 'bob', access: 'read' }), 'not-found', 'folder');
    await rejects(host.shareFolder({ owner: 'alice', folder: 'INBOX/../../bob', account: 'bob', access: 'read' }), 'not-found', 'folder');
    const refused = async (method: ApiMethod, args: unknown[], field: string) => {
      const envelope = await invokeApi(host, method, args);
      assert.ok(!envelope.ok, `${method} ${JSON.stringify(args)} was accepted`);
      assert.equal(envelope.error.code, 'invalid-argument', envelope.error.message);
      assert.equal(envelope.error.field, field, envelope.error.message);
    };
    await refused('shareFolder', [{ owner: 'alice', folder: 'INBOX', account: 'bob', access: 'everything' }], 'access');
    await refused('shareFolder', [{ owner: 'alice', folder: 'INBOX', account: 'bob', access: 'read', rights: 'a' }], 'input');
    await refused('shareFolder', [{ owner: 'alice', folder: 'INBOX\nx', account: 'bob', access: 'read' }], 'folder');
    await refused('shareFolder', [{ owner: 'alice', folder: 'x'.repeat(2000), account: 'bob', access: 'read' }], 'folder');
    await refused('unshareFolder', ['alice', 'INBOX', 5], 'identifier');
    await refused('listShares', ['alice'], 'arguments');
    // Nothing was written.
    const aliceDir = (await host.listAccounts()).find((a) => a.username === 'alice')!.maildir;
    assert.equal(fs.existsSync(path.join(aliceDir, 'courierimapacl')), false);
  });
});

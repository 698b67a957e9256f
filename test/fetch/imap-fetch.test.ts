// Fetching from an IMAP provider: a real Dovecot (test/helpers/provider.ts) with TLS, into
// alice's Maildir through the Deliverer. Messages arrive byte for byte and once: across a
// restart, after a crash between delivering and recording, and after the provider renumbered
// its folder (new UIDVALIDITY); kept at the provider or removed after fetching; new mail in
// the provider's INBOX arrives through IDLE; a wrong password is said in plain words and
// retried later and later.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FETCH_FILE } from '../../server/fetch/source-store.js';
import { KEY_FILE } from '../../server/fetch/secrets.js';
import { removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';
import { providerSkip, startProvider, type Provider } from '../helpers/provider.js';
import { imapSettings, localSide, providerCount, type Local } from './fixture.js';

describe('fetching from an IMAP provider (Dovecot)', { skip: providerSkip }, () => {
  let dir: string;
  let provider: Provider;
  let local: Local;
  const sent: Buffer[] = [];

  before(async () => {
    dir = tempDir('fetch-imap');
    provider = await startProvider(dir, { tls: true });
    local = await localSide(dir);
  });
  after(async () => {
    await local?.close();
    provider?.stop();
    removeTree(dir);
  });

  it('fetches INBOX and a mapped folder over TLS, byte for byte, keeping them at the provider; the password is stored sealed', async () => {
    for (let i = 1; i <= 3; i++) sent.push(fs.readFileSync(provider.deliver(simpleMessage(`inbox ${i}`, `Body ${i}.\r\n.line with a dot\r\n`))));
    provider.deliver(simpleMessage('a list message'), '.Lists');
    const service = await local.service();
    const source = service.add('alice', imapSettings(provider.imapsPort!, {
      tls: 'implicit', allowInvalidCertificate: true,
      folders: [{ remote: 'INBOX', local: 'INBOX' }, { remote: 'INBOX.Lists', local: 'INBOX.Provider lists' }],
    }), 'secret');
    const after1 = (await service.fetchNow(source.id))!;
    assert.equal(after1.status.lastError, null);
    assert.equal(after1.status.fetchedTotal, 4);
    assert.deepEqual(local.folder(), sent);
    assert.equal(local.folder('.Provider lists').length, 1);
    assert.equal(providerCount(provider.maildir), 3);
    await service.close();
    // The password is nowhere in the database; the key file is the owner's only.
    assert.equal(fs.readFileSync(path.join(local.data, FETCH_FILE)).includes('secret'), false);
    assert.equal(fs.statSync(path.join(local.data, KEY_FILE)).mode & 0o777, 0o600);
  });

  it('after a restart fetches only what is new', async () => {
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('after restart'))));
    const service = await local.service();
    const [source] = service.list('alice');
    const result = (await service.fetchNow(source!.id))!;
    assert.equal(result.status.lastError, null);
    assert.equal(result.status.fetchedTotal, 5);
    assert.deepEqual(local.folder(), sent);
    await service.close();
  });

  it('a crash between delivering and recording neither loses nor duplicates the message', async () => {
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('crash 1'))));
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('crash 2'))));
    let crashes = 0;
    const crashing = await local.service({ faults: { afterDeliver: () => { crashes++; throw new Error('simulated crash'); } } });
    const [source] = crashing.list('alice');
    const r = (await crashing.fetchNow(source!.id))!;
    assert.equal(crashes, 1);
    assert.match(r.status.lastError ?? '', /simulated crash/i);
    await crashing.close();
    assert.equal(local.folder().length, sent.length, 'both were delivered (one batch) before the crash, and recorded pending');
    const service = await local.service();
    const r2 = (await service.fetchNow(source!.id))!;
    assert.equal(r2.status.lastError, null);
    assert.deepEqual(local.folder(), sent);
    assert.equal(r2.status.fetchedTotal, 7);
    await service.close();
  });

  it('a new UIDVALIDITY at the provider does not fetch the old messages again', async () => {
    const service = await local.service();
    const [source] = service.list('alice');
    const validity = service.store.validity(source!.id, 'INBOX');
    // Dovecot renumbers a folder whose UID list and index are gone, with the clock's seconds as
    // the new UIDVALIDITY: wait for a second past the old one, or it comes out the same.
    while (Math.floor(Date.now() / 1000) <= Number(validity)) await new Promise((r) => setTimeout(r, 100));
    for (const f of fs.readdirSync(provider.maildir)) if (f.startsWith('dovecot')) fs.rmSync(path.join(provider.maildir, f), { recursive: true, force: true });
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('after renumbering'))));
    const r = (await service.fetchNow(source!.id))!;
    assert.equal(r.status.lastError, null);
    assert.notEqual(service.store.validity(source!.id, 'INBOX'), validity);
    assert.deepEqual(local.folder(), sent);
    await service.close();
  });

  it('new mail in the provider INBOX arrives through IDLE, without waiting for the schedule', async () => {
    const service = await local.service();
    service.start();
    const [source] = service.list('alice');
    await until(() => service.get(source!.id)!.status.state === 'idle', 10_000);
    const before = local.folder().length;
    await new Promise((r) => setTimeout(r, 1500)); // imapflow enters IDLE after a second without commands
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('pushed'))));
    const started = Date.now();
    await until(() => local.folder().length === before + 1, 15_000);
    assert.deepEqual(local.folder(), sent);
    assert.ok(Date.now() - started < 15_000);
    await service.close();
  });

  it('removes fetched messages at the provider when asked (STARTTLS)', async () => {
    const service = await local.service();
    const [source] = service.list('alice');
    await service.update(source!.id, { ...source!, tls: 'starttls', port: provider.imapPort, leaveOnServerDays: 0 }, null);
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('to be removed'))));
    const r = (await service.fetchNow(source!.id))!;
    assert.equal(r.status.lastError, null);
    assert.deepEqual(local.folder(), sent);
    await until(() => providerCount(provider.maildir) === 0, 5000);
    await service.close();
  });

  it('a wrong password: an error in plain words, retried later each time', async () => {
    const service = await local.service({ backoff: { baseMs: 60_000, maxMs: 600_000 } });
    service.start();
    const t0 = Date.now();
    const bad = service.add('alice', imapSettings(provider.imapPort, { tls: 'starttls', allowInvalidCertificate: true }), 'wrong');
    await until(() => service.get(bad.id)!.status.failures === 1, 10_000);
    const r1 = service.get(bad.id)!;
    assert.equal(r1.status.state, 'error');
    assert.match(r1.status.lastError ?? '', /refused the user name or password/);
    assert.equal(r1.status.failures, 1);
    assert.ok(r1.status.nextAttemptAt! - t0 >= 60_000);
    const r2 = (await service.fetchNow(bad.id))!;
    assert.equal(r2.status.failures, 2);
    assert.ok(r2.status.nextAttemptAt! - t0 >= 120_000);
    assert.deepEqual(await service.test(imapSettings(provider.imapPort, { tls: 'starttls', allowInvalidCertificate: true }), 'secret'), { ok: true, message: 'Connected: INBOX: 0 message(s).' });
    const refused = await service.test(imapSettings(provider.imapPort, { tls: 'starttls' }), 'secret');
    assert.equal(refused.ok, false);
    assert.match(refused.message, /certificate/);
    await service.remove(bad.id);
    await service.close();
    assert.equal(local.folder().length, sent.length, 'the other source (started too) fetched nothing new');
  });
});


async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

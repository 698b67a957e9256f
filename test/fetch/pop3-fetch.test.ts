// Fetching from a POP3 provider: Dovecot's pop3 (dovecot-pop3d, unpacked by npm run peers)
// over STLS and implicit TLS, with our own POP3 client. Lines starting with "." come back
// unstuffed, a 3 MB message goes through the spool in pieces, UIDL keeps a restart and a
// crash between delivering and recording from storing anything twice, and "remove after
// fetching" empties the provider's mailbox only after the messages are in the account.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Pop3Client } from '../../server/fetch/pop3-client.js';
import { removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';
import { pop3Skip, startProvider, type Provider } from '../helpers/provider.js';
import { imapSettings, localSide, providerCount, type Local } from './fixture.js';

function bigMessage(octets: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < octets; i++) {
    // Every seventh line starts with a dot (and some with two), which POP3 stuffs.
    const line = `${i % 7 === 0 ? (i % 2 ? '..' : '.') : ''}line ${i} ${'x'.repeat(60 + (i % 13))}\r\n`;
    lines.push(line);
    size += line.length;
  }
  return simpleMessage('big', lines.join('') + '.\r\n..\r\n');
}

describe('fetching from a POP3 provider (Dovecot pop3)', { skip: pop3Skip }, () => {
  let dir: string;
  let provider: Provider;
  let local: Local;
  const sent: Buffer[] = [];

  before(async () => {
    dir = tempDir('fetch-pop3');
    provider = await startProvider(dir, { pop3: true, tls: true });
    local = await localSide(dir);
  });
  after(async () => {
    await local?.close();
    provider?.stop();
    removeTree(dir);
  });

  const pop3 = (patch = {}) => imapSettings(provider.pop3Port!, { kind: 'pop3', tls: 'starttls', allowInvalidCertificate: true, ...patch });

  it('fetches over STLS, dot-unstuffed and byte for byte, a 3 MB message included, and keeps them at the provider', async () => {
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('first', '.starts with a dot\r\n..two dots\r\n.\r\nend\r\n'))));
    sent.push(fs.readFileSync(provider.deliver(bigMessage(3 << 20))));
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('third'))));
    const service = await local.service();
    const s = service.add('alice', pop3(), 'secret');
    assert.deepEqual(await service.test(pop3(), 'secret'), { ok: true, message: `Connected: 3 messages (${sent.reduce((n, m) => n + m.length, 0)} octets) waiting.` });
    const r = (await service.fetchNow(s.id))!;
    assert.equal(r.status.lastError, null);
    assert.equal(r.status.fetchedTotal, 3);
    assert.deepEqual(local.folder(), sent);
    assert.equal(providerCount(provider.maildir), 3);
    await service.close();
  });

  it('after a restart, and after a crash between delivering and recording, fetches each message once', async () => {
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('fourth'))));
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('fifth'))));
    const crashing = await local.service({ faults: { afterDeliver: () => { throw new Error('simulated crash'); } } });
    const [s] = crashing.list('alice');
    const r = (await crashing.fetchNow(s!.id))!;
    assert.match(r.status.lastError ?? '', /simulated crash/i);
    await crashing.close();
    assert.equal(local.folder().length, 4);
    const service = await local.service();
    const r2 = (await service.fetchNow(s!.id))!;
    assert.equal(r2.status.lastError, null);
    assert.deepEqual(local.folder(), sent);
    assert.equal(r2.status.fetchedTotal, 5);
    await service.close();
  });

  it('over implicit TLS, removes the messages at the provider once fetched', async () => {
    sent.push(fs.readFileSync(provider.deliver(simpleMessage('sixth'))));
    const service = await local.service();
    const [s] = service.list('alice');
    await service.update(s!.id, { ...s!, port: provider.pop3sPort!, tls: 'implicit', leaveOnServerDays: 0 }, null);
    const r = (await service.fetchNow(s!.id))!;
    assert.equal(r.status.lastError, null);
    assert.deepEqual(local.folder(), sent);
    assert.equal(providerCount(provider.maildir), 0);
    // The ledger forgets UIDLs the provider no longer has.
    const again = (await service.fetchNow(s!.id))!;
    assert.equal(again.status.lastError, null);
    assert.equal(service.store.uidls(s!.id).size, 0);
    await service.close();
  });

  it('a wrong password is refused in plain words; the client never hangs on a closed connection', async () => {
    const service = await local.service();
    const result = await service.test(pop3(), 'wrong');
    assert.equal(result.ok, false);
    assert.match(result.message, /refused the user name or password/);
    await service.close();
    const client = await Pop3Client.connect({ host: '127.0.0.1', port: provider.pop3Port!, tls: 'none', rejectUnauthorized: false });
    client.destroy();
    await assert.rejects(client.stat(), /closed the connection|destroyed|EPIPE/);
  });
});

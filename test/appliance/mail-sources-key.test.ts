// The key file that seals mail sources' passwords, when it cannot be used (others may read it,
// it is damaged, it is not a file): the appliance opens and serves IMAP all the same, the
// problem is told (mailSourcesProblem, the log), adding a source or giving one a new password
// is refused with that reason, and a source stored before fails its fetch with it, without
// reaching its provider. In process (ApplianceHost), real files and sockets.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiError, ApplianceHost, type MailSourceInput } from '../../server/appliance/index.js';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { KEY_FILE } from '../../server/fetch/secrets.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Port 1 on loopback: nothing listens there, and the test must not get that far anyway. */
const input: MailSourceInput = {
  kind: 'imap', host: '127.0.0.1', port: 1, tls: 'none', username: 'alice', password: 'secret',
  folders: [{ remote: 'INBOX', local: 'INBOX' }], leaveOnServerDays: null, pollSeconds: 600, enabled: false, allowInvalidCertificate: false,
};

async function dataDir(): Promise<string> {
  const data = tempDir('sources-key');
  dirs.push(data);
  writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'alice-password' });
  accounts.close();
  return data;
}

async function opened(data: string): Promise<ApplianceHost> {
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
  hosts.push(host);
  const status = await host.start();
  assert.equal(status.state, 'running', status.problem ?? '');
  return host;
}

async function refusedWith(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 'unavailable', err.message);
    assert.match(err.message, reason);
    return true;
  });
}

/** The ways a key file can be unusable, and what the appliance says about each. */
const BROKEN: { name: string; breakIt: (file: string) => void; reason: RegExp }[] = [
  { name: 'readable by other users', breakIt: (f) => fs.chmodSync(f, 0o644), reason: /fetch\.key may be read by other users \(mode 644\); run chmod 600 on it/ },
  { name: 'damaged (cut short)', breakIt: (f) => fs.writeFileSync(f, 'short', { mode: 0o600 }), reason: /fetch\.key is not a key of 32 octets/ },
  { name: 'a directory in its place', breakIt: (f) => (fs.rmSync(f), fs.mkdirSync(f, { mode: 0o700 })), reason: /fetch\.key cannot be read \(EISDIR\)/ },
];

describe('mail sources with an unusable key file', () => {
  for (const { name, breakIt, reason } of BROKEN) {
    it(`${name}: the appliance opens, says why, refuses new passwords, and a stored source fails with the reason`, async () => {
      const data = await dataDir();
      // A source stored while the key was good.
      let host = await opened(data);
      assert.equal(await host.mailSourcesProblem(), null);
      const stored = await host.addMailSource('alice', input);
      await host.stop();
      breakIt(path.join(data, KEY_FILE));

      host = await opened(data);
      const problem = await host.mailSourcesProblem();
      assert.ok(problem, 'mailSourcesProblem says there is one');
      assert.match(problem, /^The passwords of mail sources cannot be read or stored: /);
      assert.match(problem, reason);
      assert.ok((await host.getLog({ level: 'error' })).some((e) => e.message.includes(problem)), 'and the log says it');
      // The rest of the appliance works.
      assert.deepEqual((await host.listAccounts()).map((a) => a.username), ['alice']);
      assert.deepEqual((await host.listMailSources()).map((s) => s.id), [stored.id]);
      // Nothing is sealed under a key that cannot be had.
      await refusedWith(host.addMailSource('alice', { ...input, username: 'other' }), reason);
      assert.equal((await host.listMailSources()).length, 1, 'no source was added');
      await refusedWith(host.updateMailSource(stored.id, { ...input, password: 'new-secret' }), reason);
      // Without a new password the settings may still change.
      assert.equal((await host.updateMailSource(stored.id, { ...input, password: '', pollSeconds: 900 })).pollSeconds, 900);
      // The stored source fails with the reason, before any connection.
      const fetched = await host.fetchMailSource(stored.id);
      assert.match(fetched.status.lastError ?? '', reason);
      assert.equal(fetched.status.state, 'disabled');
    });
  }
});

// What the GUI may send for a mail source (validate.ts, applied by both transports), the
// backoff after failures, and the key file's refusal of a key others may read.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../server/appliance/api.js';
import { checkArgs } from '../../server/appliance/validate.js';
import { backoffDelay } from '../../server/fetch/runner.js';
import { KEY_FILE, KeyFileSecretBox, SecretError } from '../../server/fetch/secrets.js';
import { removeTree, tempDir } from '../helpers/maildir.js';

const good = {
  kind: 'imap', host: 'imap.example.com', port: 993, tls: 'implicit', username: 'me@example.com', password: 'app-password',
  folders: [{ remote: 'INBOX', local: 'inbox' }, { remote: 'News', local: 'inbox.News' }], leaveOnServerDays: null, pollSeconds: 300,
  enabled: true, allowInvalidCertificate: false,
};

function refused(patch: Record<string, unknown>, field: string): void {
  assert.throws(() => checkArgs('addMailSource', ['alice', { ...good, ...patch }]), (err: unknown) => err instanceof ApiError && err.code === 'invalid-argument' && err.field === field);
}

describe('mail source input', () => {
  it('accepts a good source, with local folder names made canonical', () => {
    const [, input] = checkArgs('addMailSource', ['alice', good]) as [string, { folders: unknown }];
    assert.deepEqual(input.folders, [{ remote: 'INBOX', local: 'INBOX' }, { remote: 'News', local: 'INBOX.News' }]);
  });

  it('refuses bad values at their field', () => {
    refused({ port: 0 }, 'port');
    refused({ port: 1.5 }, 'port');
    refused({ kind: 'smtp' }, 'kind');
    refused({ tls: 'maybe' }, 'tls');
    refused({ host: 'imap.example.com\r\nX' }, 'host');
    refused({ host: 'a b' }, 'host');
    refused({ username: '' }, 'username');
    refused({ folders: [] }, 'folders');
    refused({ folders: [{ remote: 'INBOX', local: 'Elsewhere' }] }, 'folders');
    refused({ kind: 'pop3', folders: [{ remote: 'Sent', local: 'INBOX' }] }, 'folders');
    refused({ pollSeconds: 5 }, 'pollSeconds');
    refused({ leaveOnServerDays: -1 }, 'leaveOnServerDays');
    refused({ enabled: 'yes' }, 'enabled');
    refused({ extra: 1 }, 'input');
  });

  it('waits 30 s after a failure, doubling to at most 30 minutes', () => {
    const b = { baseMs: 30_000, maxMs: 1_800_000 };
    assert.deepEqual([1, 2, 3, 4, 7, 50].map((n) => backoffDelay(n, b)), [30_000, 60_000, 120_000, 240_000, 1_800_000, 1_800_000]);
  });

  it('refuses a key file that others may read, and a password sealed under another key', async () => {
    const dir = tempDir('fetch-key');
    try {
      const box = await KeyFileSecretBox.open(dir);
      const sealed = box.seal('app-password');
      assert.notEqual(sealed.includes('app-password'), true);
      assert.equal(box.open(sealed), 'app-password');
      fs.chmodSync(path.join(dir, KEY_FILE), 0o644);
      await assert.rejects(KeyFileSecretBox.open(dir), /chmod 600/);
      fs.rmSync(path.join(dir, KEY_FILE));
      const other = await KeyFileSecretBox.open(dir);
      assert.throws(() => other.open(sealed), SecretError);
    } finally {
      removeTree(dir);
    }
  });
});

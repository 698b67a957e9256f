// The Import screen's arguments as the API checks them (startImport, cancelJob): what a
// renderer or a script may send, refused with the field at fault; the folder said as it is
// stored (below INBOX, "INBOX." taken off).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../server/appliance/api.js';
import { checkArgs } from '../../server/appliance/validate.js';

const refused = (args: unknown[], field: string, method: 'startImport' | 'cancelJob' = 'startImport') =>
  assert.throws(() => checkArgs(method, args), (err: unknown) => err instanceof ApiError && err.code === 'invalid-argument' && err.field === field);

describe('startImport and cancelJob arguments', () => {
  const mbox = { account: 'alice', kind: 'mbox', path: '/srv/old.mbox', folder: 'Archive' };
  const imap = { account: 'alice', kind: 'imap', host: 'imap.example.org', port: 993, tls: 'implicit', username: 'a@example.org', password: 'pw', folder: '' };

  it('takes an mbox file, a Maildir and an IMAP account', () => {
    assert.deepEqual(checkArgs('startImport', [{ ...mbox, folder: 'INBOX.Archive', format: 'mboxo' }]), [{ ...mbox, format: 'mboxo' }]);
    assert.deepEqual(checkArgs('startImport', [{ ...mbox, kind: 'maildir', path: '/home/a/Maildir', folder: '' }]), [{ account: 'alice', kind: 'maildir', path: '/home/a/Maildir', folder: '' }]);
    assert.deepEqual(checkArgs('startImport', [imap]), [{ ...imap, allowInvalidCertificate: false }]);
    assert.deepEqual(checkArgs('cancelJob', [3]), [3]);
  });

  it('refuses what is not an import, with the field at fault', () => {
    refused([{ ...mbox, kind: 'pst' }], 'kind');
    refused([{ ...mbox, path: '' }], 'path');
    refused([{ ...mbox, format: 'mboxcl2' }], 'format');
    refused([{ ...mbox, folder: 'A..B' }], 'folder');
    refused([{ ...mbox, folder: 'A/B' }], 'folder');
    refused([{ ...mbox, extra: 1 }], 'input');
    refused([{ ...imap, password: '' }], 'password');
    refused([{ ...imap, host: 'imap.example.org/x' }], 'host');
    refused([{ ...imap, port: 0 }], 'port');
    refused([{ ...imap, tls: 'ssl' }], 'tls');
    refused([0], 'id', 'cancelJob');
    refused(['1'], 'id', 'cancelJob');
  });
});

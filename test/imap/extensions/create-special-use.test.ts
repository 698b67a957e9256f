// CREATE-SPECIAL-USE (RFC 6154 section 3): CREATE name (USE (\Sent)) keeps the attribute in the
// folder's directory (imapd-ts.specialuse), LIST reports it, RENAME takes it along; what cannot
// be honoured is refused with NO [USEATTR] and nothing is created.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';
import { spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';

describe('CREATE-SPECIAL-USE', () => {
  let dir: string;
  let maildir: string;
  let imapd: SpawnedImapd;

  before(async () => {
    dir = tempDir('create-special-use');
    maildir = emptyMaildir(path.join(dir, 'Maildir'));
    imapd = spawnImapd(maildir);
    await imapd.client.greeting;
  });
  after(async () => {
    await imapd.close();
    removeTree(dir);
  });

  it('is announced, and the attribute is kept, listed and renamed with the folder', async () => {
    const c = imapd.client;
    assert.ok((await c.command('CAPABILITY')).lines[0].split(' ').includes('CREATE-SPECIAL-USE'));
    assert.match((await c.command('CREATE INBOX.Outbox (USE (\\sent))')).tagged, /^OK/);
    assert.equal(fs.readFileSync(path.join(maildir, '.Outbox', 'imapd-ts.specialuse'), 'latin1'), '\\Sent\n');
    assert.deepEqual((await c.command('LIST (SPECIAL-USE) "" "*"')).lines, ['* LIST (\\HasNoChildren \\Sent) "." "INBOX.Outbox"']);
    // An empty USE list is a plain CREATE; a name's own attribute stays.
    assert.match((await c.command('CREATE INBOX.Trash (USE ())')).tagged, /^OK/);
    assert.ok(!fs.existsSync(path.join(maildir, '.Trash', 'imapd-ts.specialuse')));
    assert.match((await c.command('CREATE INBOX.Bin (USE (\\Trash \\Trash))')).tagged, /^OK/);
    assert.match((await c.command('RENAME INBOX.Outbox INBOX.Gesendet')).tagged, /^OK/);
    assert.deepEqual((await c.command('LIST (SPECIAL-USE) "" "*"')).lines, [
      '* LIST (\\HasNoChildren \\Trash) "." "INBOX.Bin"',
      '* LIST (\\HasNoChildren \\Sent) "." "INBOX.Gesendet"',
      '* LIST (\\HasNoChildren \\Trash) "." "INBOX.Trash"',
    ]);
    // The attribute overrides the name's: a folder named Drafts made as the archive is the archive.
    assert.match((await c.command('CREATE INBOX.Drafts (USE (\\Archive))')).tagged, /^OK/);
    assert.deepEqual((await c.command('LIST "" INBOX.Drafts')).lines, ['* LIST (\\HasNoChildren \\Archive) "." "INBOX.Drafts"']);
  });

  it('refuses an attribute it cannot keep with NO [USEATTR], creating nothing', async () => {
    const c = imapd.client;
    for (const command of ['CREATE INBOX.V1 (USE (\\All))', 'CREATE INBOX.V2 (USE (\\Flagged))', 'CREATE INBOX.V3 (USE (\\Bogus))', 'CREATE INBOX.V4 (USE (\\Sent \\Drafts))']) {
      assert.match((await c.command(command)).tagged, /^NO \[USEATTR\]/, command);
    }
    for (const name of ['.V1', '.V2', '.V3', '.V4']) assert.ok(!fs.existsSync(path.join(maildir, name)), name);
  });

  it('answers BAD to what the grammar does not allow', async () => {
    const c = imapd.client;
    for (const command of ['CREATE INBOX.X (FOO (\\Sent))', 'CREATE INBOX.X (USE)', 'CREATE INBOX.X (USE \\Sent)', 'CREATE INBOX.X (USE (Sent))', 'CREATE INBOX.X (USE (\\Sent)) extra', 'CREATE INBOX.X USE']) {
      assert.match((await c.command(command)).tagged, /^BAD /, command);
    }
    assert.ok(!fs.existsSync(path.join(maildir, '.X')));
  });
});

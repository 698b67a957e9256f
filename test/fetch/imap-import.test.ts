// imapd-import --imap: a whole account at a real Dovecot (test/helpers/provider.ts) into
// alice's folder tree, every folder with flags, keywords and INTERNALDATE as the server says
// them (compared over IMAP with the provider), the password from the environment; resumed after
// a stop and after a crash between the append and its record; what is new at the server comes
// in the next run, and nothing twice.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { importImap, localFolder, parseImapUrl } from '../../server/fetch/imap-import.js';
import { describeFolders } from '../helpers/describe-folders.js';
import { ImapTestClient, ROOT, spawnImapd } from '../helpers/imap-client.js';
import { removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';
import { providerSkip, startProvider, type Provider } from '../helpers/provider.js';

const IMPORT = path.join(ROOT, 'dist/server/bin/imapd-import.js');
const FOLDERS = ['INBOX', 'INBOX.Lists', 'INBOX.Lists.node', 'INBOX.Sent'];

describe('the URL and folder names of an IMAP import', () => {
  it('reads imaps://, imap:// and ;tls=none, and refuses a password in the URL', () => {
    assert.deepEqual(parseImapUrl('imaps://bob%40example.org@mail.example.org/'), { host: 'mail.example.org', port: 993, tls: 'implicit', username: 'bob@example.org', allowInvalidCertificate: false });
    assert.equal(parseImapUrl('imap://bob@h:1143/').tls, 'starttls');
    assert.equal(parseImapUrl('imap://bob@h:1143/;tls=none').tls, 'none');
    assert.throws(() => parseImapUrl('imaps://bob:pw@h/'), /password does not go into the URL/);
    assert.throws(() => parseImapUrl('http://bob@h/'), /expected imaps:/);
    assert.equal(localFolder('INBOX', { path: 'INBOX.Lists.node', delimiter: '.' }, 'INBOX.'), 'INBOX.Lists.node');
    assert.equal(localFolder('INBOX.Old', { path: '[Gmail]/Sent Mail', delimiter: '/' }), 'INBOX.Old.[Gmail].Sent Mail');
    assert.equal(localFolder('INBOX', { path: 'v1.2/x', delimiter: '/' }), 'INBOX.v1_2.x');
  });
});

describe('imapd-import --imap from Dovecot', { skip: providerSkip }, () => {
  let dir: string;
  let provider: Provider;
  let data: string;
  let url: string;

  before(async () => {
    dir = tempDir('imap-import');
    provider = await startProvider(dir);
    url = `imap://alice@127.0.0.1:${provider.imapPort}/;tls=none`;
    data = path.join(dir, 'data');
    const accounts = SqliteAccountStore.open(data);
    await accounts.add({ username: 'alice', password: 'alice-password' });
    accounts.close();
    const client = new ImapFlow({ host: '127.0.0.1', port: provider.imapPort, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
    await client.connect();
    for (const box of ['INBOX.Lists', 'INBOX.Lists.node', 'INBOX.Sent']) await client.mailboxCreate(box);
    const put = (box: string, n: number, flags: string[], date: string) => client.append(box, simpleMessage(`${box}-${n}`), flags, new Date(date));
    await put('INBOX', 1, ['\\Seen', '$Label1'], '2026-12-05T10:00:00Z');
    await put('INBOX', 2, ['\\Answered', '\\Flagged', 'Work'], '2026-12-06T11:30:00Z');
    await put('INBOX', 3, [], '2020-01-01T00:00:01Z');
    await put('INBOX.Lists.node', 1, ['\\Seen', 'Project-X'], '2024-02-02T02:02:02Z');
    await put('INBOX.Lists.node', 2, ['\\Draft'], '2024-03-03T03:03:03Z');
    await put('INBOX.Sent', 1, ['\\Seen'], '2023-04-04T04:04:04Z');
    await client.logout();
  });
  after(() => {
    provider?.stop();
    removeTree(dir);
  });

  const run = (...args: string[]) => spawnSync(process.execPath, [IMPORT, '--data', data, '--user', 'alice', ...args], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, IMAPD_IMPORT_PASSWORD: 'secret' },
  });

  async function providerSays(): Promise<Record<string, string[]>> {
    const socket = net.connect(provider.imapPort, '127.0.0.1');
    const c = new ImapTestClient(socket, socket);
    await c.greeting;
    assert.match((await c.command('LOGIN alice secret')).tagged, /^OK/);
    const said = await describeFolders(c, FOLDERS);
    socket.destroy();
    return said;
  }

  it('imports every folder with flags, keywords and dates, resumes after a stop, and takes only what is new', async () => {
    let r = run('--imap', url, '--limit', '4');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /INBOX and 3 folder\(s\) below it of alice: 4 imported, 0 already there/);
    r = run('--imap', url);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: 2 imported, 4 already there/);
    const ours = spawnImapd(path.join(data, 'mail', 'alice', 'Maildir'));
    await ours.client.greeting;
    assert.deepEqual(await describeFolders(ours.client, FOLDERS), await providerSays());
    await ours.close();

    provider.deliver(simpleMessage('INBOX-4'));
    r = run('--imap', url, '--quiet');
    assert.match(r.stdout, /: 1 imported, 6 already there/);
    assert.equal(r.stderr, '');

    // Without the variable the password comes from standard input (not a terminal), never from the arguments.
    const env = { ...process.env };
    delete env.IMAPD_IMPORT_PASSWORD;
    const piped = spawnSync(process.execPath, [IMPORT, '--data', data, '--user', 'alice', '--imap', url, '--quiet'], { encoding: 'utf8', timeout: 60_000, env, input: 'secret\n' });
    assert.equal(piped.status, 0, piped.stderr);
    assert.match(piped.stdout, /: 0 imported, 7 already there/);
    const wrong = spawnSync(process.execPath, [IMPORT, '--data', data, '--user', 'alice', '--imap', url, '--quiet'], { encoding: 'utf8', timeout: 60_000, env, input: 'nope\n' });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /the server refused the login of alice/);
    r = run('--imap', url.replace('alice@', 'alice:secret@'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /password does not go into the URL/);
  });

  it('a crash between the append and its record neither loses nor doubles a message', async () => {
    const accounts = SqliteAccountStore.open(data);
    const opener = new AccountAuthenticator({
      accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
      watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash',
    });
    const store = await opener.openMailbox((await accounts.get('alice'))!);
    const server = parseImapUrl(url);
    try {
      await assert.rejects(importImap({
        dataDir: data, store, account: 'alice', server, password: 'secret', folder: 'INBOX.Again',
        faults: { afterAppend: (folder) => { if (folder === 'INBOX.Again.Lists.node') throw new Error('crash'); } },
      }), /crash/);
      const result = await importImap({ dataDir: data, store, account: 'alice', server, password: 'secret', folder: 'INBOX.Again' });
      assert.equal(result.imported, 1); // INBOX.Sent's message; Lists.node's two were found in place
      assert.equal(result.skipped, 6);
      for (const [folder, count] of [['INBOX.Again', 4], ['INBOX.Again.Lists.node', 2], ['INBOX.Again.Sent', 1]] as const) {
        assert.equal((await store.folderStatus(folder)).messages, count, folder);
      }
      await assert.rejects(importImap({ dataDir: data, store, account: 'alice', server, password: 'wrong', folder: 'INBOX' }), /refused the login of alice/);
    } finally {
      await store.close();
      await opener.idle();
      accounts.close();
    }
  });

  it('a folder renumbered at the server (new UIDVALIDITY): only the new message comes in', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: provider.imapPort, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
    await client.connect();
    const status = await client.status('INBOX', { uidValidity: true });
    const validity = status ? status.uidValidity! : 0n;
    await client.logout();
    // Dovecot renumbers a folder whose UID list and index are gone, with the clock's seconds as
    // the new UIDVALIDITY: wait for a second past the old one, or it comes out the same.
    while (BigInt(Math.floor(Date.now() / 1000)) <= validity) await new Promise((r) => setTimeout(r, 100));
    for (const f of fs.readdirSync(provider.maildir)) if (f.startsWith('dovecot')) fs.rmSync(path.join(provider.maildir, f), { recursive: true, force: true });
    provider.deliver(simpleMessage('INBOX-5'));
    const again = new ImapFlow({ host: '127.0.0.1', port: provider.imapPort, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
    await again.connect();
    const renumbered = await again.status('INBOX', { uidValidity: true });
    await again.logout();
    assert.ok(renumbered && renumbered.uidValidity !== validity, 'Dovecot gave INBOX a new UIDVALIDITY');
    const r = run('--imap', url, '--quiet');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: 1 imported, 7 already there/);
    const ours = spawnImapd(path.join(data, 'mail', 'alice', 'Maildir'));
    await ours.client.greeting;
    const said = await describeFolders(ours.client, ['INBOX']);
    await ours.close();
    assert.deepEqual(said['INBOX']!.map((l) => l.split(' ')[0]), ['INBOX-1', 'INBOX-2', 'INBOX-3', 'INBOX-4', 'INBOX-5']);
  });
});

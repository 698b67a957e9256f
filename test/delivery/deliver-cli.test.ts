// imapd-deliver as an MTA or a script runs it: a message on standard input, the account by
// name or address, and the sysexits code as the answer.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { ROOT } from '../helpers/imap-client.js';
import { messagesInUidOrder, removeTree, tempDir } from '../helpers/maildir.js';

const DELIVER = path.join(ROOT, 'dist/server/bin/imapd-deliver.js');

let dir: string;
let data: string;
let config: string;

function deliver(args: string[], input: Buffer, configDir = config): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DELIVER, '--data', data, '--config', configDir, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.on('error', () => undefined); // a refusal before all input was read
    child.stdin.end(input);
  });
}

function inbox(user: string): Buffer[] {
  return messagesInUidOrder(path.join(data, 'mail', user, 'Maildir'));
}

const lfMessage = (subject: string, size = 100) =>
  Buffer.from(`From: someone@example.org\nSubject: ${subject}\n\n${'x'.repeat(70).concat('\n').repeat(Math.ceil(size / 71))}`);

describe('imapd-deliver', () => {
  before(async () => {
    dir = tempDir('deliver');
    data = path.join(dir, 'data');
    config = path.join(dir, 'config');
    fs.mkdirSync(config);
    fs.writeFileSync(path.join(config, 'imapd'), 'LMTP_MAXMSGSIZE=3000000\n');
    const accounts = SqliteAccountStore.open(data);
    await accounts.add({ username: 'alice', password: 'alice-password' });
    await accounts.add({ username: 'bob', password: 'bob-password', quotaBytes: 3000 });
    await accounts.add({ username: 'nomail', password: 'nomail-password', createMaildir: false });
    await accounts.addAddress('alice', 'alice@example.org');
    accounts.close();
  });
  after(() => removeTree(dir));

  it('delivers to the INBOX: the bytes and line ends kept, Return-Path and Delivered-To in the same line ends', async () => {
    const m = lfMessage('plain');
    const r = await deliver(['--user', 'alice', '-f', 'sender@example.org', '-a', 'alice@example.org'], m);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(inbox('alice').at(-1), Buffer.concat([Buffer.from('Return-Path: <sender@example.org>\nDelivered-To: alice@example.org\n'), m]));
    // By address, and -d as dovecot-lda spells it; without -f or -a nothing is added.
    const r2 = await deliver(['-d', 'ALICE@example.org'], m);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(inbox('alice').at(-1), m);
  });

  it('drops a leading mbox "From " line and takes the sender from it', async () => {
    const m = lfMessage('from line');
    const r = await deliver(['--user', 'alice'], Buffer.concat([Buffer.from('From bounce@example.net Sat Dec  5 10:00:00 2026\n'), m]));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(inbox('alice').at(-1), Buffer.concat([Buffer.from('Return-Path: <bounce@example.net>\n'), m]));
  });

  it('a message larger than the memory limit is streamed through the spool, byte for byte', async () => {
    const m = lfMessage('big', 2_000_000);
    const r = await deliver(['--user', 'alice'], m);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(inbox('alice').at(-1)!.equals(m));
    assert.deepEqual(fs.readdirSync(path.join(data, 'spool')), []);
  });

  it('exit codes: 67 no such user, 64 usage, 65 empty or too large, 73 no Maildir', async () => {
    const count = inbox('alice').length;
    const unknown = await deliver(['--user', 'nobody@example.org'], lfMessage('x'));
    assert.equal(unknown.code, 67);
    assert.match(unknown.stderr, /No such user here: nobody@example\.org/);
    assert.equal((await deliver([], lfMessage('x'))).code, 64);
    assert.equal((await deliver(['--user', 'alice', '--bogus'], lfMessage('x'))).code, 64);
    assert.equal((await deliver(['--user', 'alice'], Buffer.alloc(0))).code, 65);
    const big = await deliver(['--user', 'alice'], lfMessage('too big', 3_100_000));
    assert.equal(big.code, 65);
    assert.match(big.stderr, /too large/);
    const nomail = await deliver(['--user', 'nomail'], lfMessage('x'));
    assert.equal(nomail.code, 73, nomail.stderr);
    assert.equal(inbox('alice').length, count);
    assert.deepEqual(fs.readdirSync(path.join(data, 'spool')), []);
  });

  it('quota: 75 when the mailbox is full, 77 with QUOTA_FULL_TEMPFAIL=0 or for a message larger than the quota', async () => {
    assert.equal((await deliver(['--user', 'bob'], lfMessage('first', 2000))).code, 0);
    const full = await deliver(['--user', 'bob'], lfMessage('second', 2000));
    assert.equal(full.code, 75);
    assert.match(full.stderr, /Mailbox is full/);
    const bounce = path.join(dir, 'config-bounce');
    fs.mkdirSync(bounce);
    fs.writeFileSync(path.join(bounce, 'imapd'), 'QUOTA_FULL_TEMPFAIL=0\n');
    assert.equal((await deliver(['--user', 'bob'], lfMessage('second', 2000), bounce)).code, 77);
    const huge = await deliver(['--user', 'bob'], lfMessage('huge', 5000));
    assert.equal(huge.code, 77);
    assert.match(huge.stderr, /larger than the mailbox's whole quota/);
    assert.equal(inbox('bob').length, 1);
  });
});

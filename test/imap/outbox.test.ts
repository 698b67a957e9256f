// OUTBOX, SENDMAIL, HEADERFROM and OUTBOX_MULTIPLE_SEND (issue 12, item 6): a message put into
// the Outbox folder is also handed to "$SENDMAIL -oi -t -f $SENDER". Each behaviour is run on
// our stdio imapd and on Courier's imapd beside it, each with its own fake sendmail
// (test/helpers/fake-sendmail.ts), and the calls are compared byte for byte.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emptyMaildir, messagesInUidOrder, removeTree, tempDir } from '../helpers/maildir.js';
import { fakeSendmail, type FakeSendmail } from '../helpers/fake-sendmail.js';
import { sideBySide, status, type SideBySide } from '../helpers/side-by-side.js';
import { spawnImapd, type Reply } from '../helpers/imap-client.js';

const MESSAGE = 'From: Bob <bob@example.com>\r\nTo: carol@example.org\r\nBcc: dave@example.org\r\nSubject: sent from the Outbox\r\n\r\nHello Carol.\r\n';
/** What sendmail reads: the message with Unix line ends (Courier stores and sends it so). */
const lf = (text: string) => text.replaceAll('\r\n', '\n');

function baseMaildir(dir: string): string {
  const base = emptyMaildir(path.join(dir, 'base'));
  // Stored with Unix line ends, as delivery agents and Courier store mail.
  fs.writeFileSync(path.join(base, 'cur', '1000000000.M1P1.test:2,S'), lf(MESSAGE.replace('Carol.', 'Carol, first.')));
  fs.writeFileSync(path.join(base, 'cur', '1000000001.M2P1.test:2,S'), lf(MESSAGE.replace('Carol.', 'Carol, second.')));
  for (const folder of ['.Outbox', '.Drafts']) {
    emptyMaildir(path.join(base, folder));
    fs.writeFileSync(path.join(base, folder, 'maildirfolder'), '');
  }
  return base;
}

interface Peers extends SideBySide {
  sendmail: { ours: FakeSendmail; courier: FakeSendmail };
  dir: string;
}

/** Both servers on copies of one Maildir, each with its own fake sendmail, started with `env`. */
async function withPeers(name: string, env: Record<string, string>, body: (peers: Peers) => Promise<void>): Promise<void> {
  const dir = tempDir(name);
  const sendmail = { ours: fakeSendmail(path.join(dir, 'sendmail-ours')), courier: fakeSendmail(path.join(dir, 'sendmail-courier')) };
  const settings = { OUTBOX: '.Outbox', HEADERFROM: 'X-IMAP-Sender', ...env };
  const peers = await sideBySide(baseMaildir(dir), dir, { ...settings, SENDMAIL: sendmail.ours.program }, { ...settings, SENDMAIL: sendmail.courier.program });
  try {
    await body({ ...peers, sendmail, dir });
  } finally {
    await peers.close();
    removeTree(dir);
  }
}

/** The same APPEND on both. */
async function appendBoth(peers: Peers, folder: string, message: string | Buffer): Promise<{ ours: Reply; courier: Reply | null }> {
  const data = Buffer.from(message);
  const [ours, courier] = await Promise.all([peers.ours.client.append(folder, data), peers.courier?.client.append(folder, data) ?? null]);
  return { ours, courier };
}

const SENDER = { AUTHADDR: 'bob@example.com', AUTHENTICATED: 'bob' };

/** Each side's answer, Courier's only where it runs. */
function each<T>(pair: { ours: T; courier: T | null }): T[] {
  return pair.courier === null ? [pair.ours] : [pair.ours, pair.courier];
}

describe('OUTBOX, beside Courier', () => {
  it('an APPEND to the Outbox runs $SENDMAIL -oi -t -f $SENDER; X-IMAP-Sender is on the sent copy, not the stored one', () =>
    withPeers('outbox-append', SENDER, async (peers) => {
      const caps = await peers.both('CAPABILITY');
      for (const reply of each(caps)) assert.ok(reply.lines[0].split(' ').includes('XCOURIEROUTBOX=INBOX.Outbox'), reply.lines[0]);
      // Another folder sends nothing.
      for (const reply of each(await appendBoth(peers, 'INBOX.Drafts', MESSAGE))) assert.equal(status(reply), 'OK', reply.tagged);
      assert.equal(peers.sendmail.ours.calls().length, 0);
      for (const reply of each(await appendBoth(peers, 'INBOX.Outbox', MESSAGE))) assert.match(reply.tagged, /^OK \[APPENDUID \d+ 1\]/);
      const [call] = peers.sendmail.ours.calls();
      assert.deepEqual(call.argv, ['-oi', '-t', '-f', 'bob@example.com']);
      assert.equal(call.stdin.toString(), `X-IMAP-Sender: bob@example.com\n${lf(MESSAGE)}`);
      if (peers.courier) assert.deepEqual(peers.sendmail.courier.calls(), peers.sendmail.ours.calls());
      // Stored as sent by the client: no X-IMAP-Sender, Bcc kept (sendmail -t drops it from the mail).
      const stored = messagesInUidOrder(path.join(peers.dir, 'ours', '.Outbox'));
      assert.equal(stored.length, 1);
      assert.equal(lf(stored[0].toString()), lf(MESSAGE));
      if (peers.courier) assert.equal(lf(messagesInUidOrder(path.join(peers.dir, 'courier', '.Outbox'))[0].toString()), lf(MESSAGE));
    }));

  it('a failing sendmail: APPEND and COPY answer NO [ALERT] and store nothing', () =>
    withPeers('outbox-fail', SENDER, async (peers) => {
      peers.sendmail.ours.failWith('sendmail: fatal: no recipients');
      peers.sendmail.courier.failWith('sendmail: fatal: no recipients');
      const appended = await appendBoth(peers, 'INBOX.Outbox', MESSAGE);
      for (const reply of each(appended)) assert.match(reply.tagged, /^NO \[ALERT\] /);
      // Courier says only "Unable to send E-mail message."; we add sendmail's words.
      assert.equal(appended.ours.tagged, 'NO [ALERT] Unable to send E-mail message: sendmail: fatal: no recipients');
      await peers.ours.client.command('NOOP');
      await peers.courier?.client.command('NOOP'); // Courier answers the literal's CRLF with "* NO Error in IMAP command"
      await peers.both('SELECT INBOX');
      const copied = await peers.both('COPY 1 INBOX.Outbox');
      for (const reply of each(copied)) assert.match(reply.tagged, /^NO \[ALERT\] /);
      assert.equal(copied.ours.tagged, 'NO [ALERT] Unable to send E-mail message: sendmail: fatal: no recipients');
      const after = await peers.both('STATUS INBOX.Outbox (MESSAGES)');
      for (const reply of each(after)) assert.match(reply.lines.join('\n'), /\(MESSAGES 0\)/);
      assert.equal(peers.sendmail.ours.calls().length, 2);
      for (const side of ['ours', 'courier'] as const) assert.deepEqual(fs.readdirSync(path.join(peers.dir, side, '.Outbox', 'cur')), []);
    }));

  it('a COPY of more than one message is refused, unless OUTBOX_MULTIPLE_SEND=1', async () => {
    await withPeers('outbox-one', SENDER, async (peers) => {
      await peers.both('SELECT INBOX');
      const many = await peers.both('COPY 1:2 INBOX.Outbox');
      for (const reply of each(many)) assert.equal(reply.tagged, 'NO [ALERT] Only one message may be sent at a time.');
      assert.equal(peers.sendmail.ours.calls().length, 0);
      const one = await peers.both('UID COPY 2 INBOX.Outbox');
      for (const reply of each(one)) assert.match(reply.tagged, /^OK \[COPYUID \d+ 2 1\]/);
      const calls = peers.sendmail.ours.calls();
      assert.equal(calls.length, 1);
      assert.match(calls[0].stdin.toString(), /^X-IMAP-Sender: bob@example\.com\nFrom: Bob[^]*Hello Carol, second\.\n$/);
      if (peers.courier) assert.deepEqual(peers.sendmail.courier.calls(), calls);
      // Ours only (Courier has no MOVE): a MOVE is a COPY and an expunge, and sends the same way.
      const moved = await peers.ours.client.command('MOVE 1:2 INBOX.Outbox');
      assert.equal(moved.tagged, 'NO [ALERT] Only one message may be sent at a time.');
      const move = await peers.ours.client.command('MOVE 1 INBOX.Outbox');
      assert.match(move.tagged, /^OK/);
      assert.match(move.lines.join('\n'), /^\* 1 EXPUNGE$/m);
      assert.equal(peers.sendmail.ours.calls().length, 2);
    });
    await withPeers('outbox-many', { ...SENDER, OUTBOX_MULTIPLE_SEND: '1' }, async (peers) => {
      await peers.both('SELECT INBOX');
      for (const reply of each(await peers.both('COPY 1:2 INBOX.Outbox'))) assert.match(reply.tagged, /^OK \[COPYUID \d+ 1:2 1:2\]/);
      const calls = peers.sendmail.ours.calls();
      assert.deepEqual(calls.map((c) => /Carol, (\w+)/.exec(c.stdin.toString())![1]), ['first', 'second']);
      if (peers.courier) assert.deepEqual(peers.sendmail.courier.calls(), calls);
    });
  });

  it('without AUTHADDR or AUTHENTICATED the sender is the user the server runs as (Courier\'s PREAUTH); HEADERFROM= adds no header', async () => {
    await withPeers('outbox-nosender', {}, async (peers) => {
      for (const reply of each(await appendBoth(peers, 'INBOX.Outbox', MESSAGE))) assert.equal(status(reply), 'OK', reply.tagged);
      const calls = peers.sendmail.ours.calls();
      const me = os.userInfo().username;
      assert.deepEqual(calls.map((c) => c.argv), [['-oi', '-t', '-f', me]]);
      assert.equal(calls[0].stdin.toString(), `X-IMAP-Sender: ${me}\n${lf(MESSAGE)}`);
      if (peers.courier) assert.deepEqual(peers.sendmail.courier.calls(), calls);
    });
    await withPeers('outbox-noheader', { ...SENDER, HEADERFROM: '' }, async (peers) => {
      for (const reply of each(await appendBoth(peers, 'INBOX.Outbox', MESSAGE))) assert.equal(status(reply), 'OK', reply.tagged);
      const calls = peers.sendmail.ours.calls();
      assert.deepEqual(calls.map((c) => c.argv), [['-oi', '-t', '-f', 'bob@example.com']]);
      assert.equal(calls[0].stdin.toString(), lf(MESSAGE));
      if (peers.courier) assert.deepEqual(peers.sendmail.courier.calls(), calls);
    });
  });

  it('a COPY the quota refuses sends nothing', () =>
    withPeers('outbox-quota', SENDER, async (peers) => {
      // Maildir++ quota of 100 octets, 0 used: one message of the INBOX does not fit.
      for (const side of ['ours', 'courier']) fs.writeFileSync(path.join(peers.dir, side, 'maildirsize'), '100S\n0 0\n');
      await peers.both('SELECT INBOX');
      const copied = await peers.both('COPY 1 INBOX.Outbox');
      for (const reply of each(copied)) assert.match(reply.tagged, /^NO /);
      assert.match(copied.ours.tagged, /OVERQUOTA/);
      assert.equal(peers.sendmail.ours.calls().length, 0);
      assert.equal(peers.sendmail.courier.calls().length, 0);
    }));

  it('with IMAP_NAMESPACE_PREFIX empty (ours only) the Outbox is "Outbox" on the wire, and announced so', async () => {
    const dir = tempDir('outbox-prefix');
    const sendmail = fakeSendmail(path.join(dir, 'sendmail'));
    const ours = spawnImapd(baseMaildir(dir), { OUTBOX: '.Outbox', SENDMAIL: sendmail.program, IMAP_NAMESPACE_PREFIX: '', ...SENDER });
    try {
      await ours.client.greeting;
      assert.ok((await ours.client.command('CAPABILITY')).lines[0].split(' ').includes('XCOURIEROUTBOX=Outbox'));
      assert.match((await ours.client.append('Outbox', Buffer.from(MESSAGE))).tagged, /^OK/);
      assert.equal(sendmail.calls().length, 1);
    } finally {
      await ours.close();
      removeTree(dir);
    }
  });

  it('a large APPEND (streamed to the store as it arrives) is sent whole, before it is stored', () =>
    withPeers('outbox-large', SENDER, async (peers) => {
      const line = 'All work and no play makes Jack a dull boy. '.repeat(2) + '\r\n';
      const big = MESSAGE.replace('Hello Carol.\r\n', line.repeat(Math.ceil(400_000 / line.length)));
      for (const reply of each(await appendBoth(peers, 'INBOX.Outbox', big))) assert.equal(status(reply), 'OK', reply.tagged);
      const [call] = peers.sendmail.ours.calls();
      assert.equal(call.stdin.toString(), `X-IMAP-Sender: bob@example.com\n${lf(big)}`);
      if (peers.courier) assert.deepEqual(peers.sendmail.courier.calls(), peers.sendmail.ours.calls());
      // And refused whole: nothing stored, nothing left in tmp/.
      peers.sendmail.ours.failWith('queue file write error');
      const refused = await peers.ours.client.append('INBOX.Outbox', Buffer.from(big));
      assert.equal(refused.tagged, 'NO [ALERT] Unable to send E-mail message: queue file write error');
      assert.equal(messagesInUidOrder(path.join(peers.dir, 'ours', '.Outbox')).length, 1);
      assert.deepEqual(fs.readdirSync(path.join(peers.dir, 'ours', 'tmp')), []);
    }));
});

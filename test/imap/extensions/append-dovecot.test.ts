// Differential: the APPEND family on our imapd and on Dovecot (which announces MULTIAPPEND,
// CATENATE and URL-PARTIAL, but neither REPLACE nor APPENDLIMIT in 2.3), each on its own copy
// of one Maildir, the same commands: the same status and response code (UIDVALIDITY aside),
// and the stored messages byte for byte as FETCH BODY[] shows them.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnDovecot, spawnImapd, type ImapTestClient, type Reply, type SpawnedImapd } from '../../helpers/imap-client.js';
import { copyTree, deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';
import { dovecotSkip } from '../../helpers/peers.js';

let dir: string;
let ours: SpawnedImapd;
let dovecot: SpawnedImapd;

const MULTIPART = Buffer.from(
  'From: a@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
    'preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nfirst part text\r\n--b\r\nContent-Type: text/plain; name="x.txt"\r\n\r\nsecond part, a little longer\r\n--b--\r\n',
);

before(async () => {
  if (dovecotSkip) return;
  dir = tempDir('append-dovecot');
  const base = emptyMaildir(path.join(dir, 'base'));
  emptyMaildir(path.join(base, '.Drafts'));
  deliver(base, simpleMessage('first', 'Line one.\r\nLine two.\r\n'));
  deliver(base, MULTIPART);
  copyTree(base, path.join(dir, 'ours'));
  copyTree(base, path.join(dir, 'dovecot'));
  ours = spawnImapd(path.join(dir, 'ours'));
  dovecot = spawnDovecot(path.join(dir, 'dovecot'));
  await Promise.all([ours.client.greeting, dovecot.client.greeting]);
});

after(async () => {
  if (dovecotSkip) return;
  await Promise.all([ours?.close(), dovecot?.close()]);
  removeTree(dir);
});

const lit = (data: string | Buffer): Buffer => Buffer.concat([Buffer.from(`{${Buffer.byteLength(data)}+}\r\n`), Buffer.from(data)]);

async function raw(c: ImapTestClient, parts: (string | Buffer)[]): Promise<Reply> {
  const tag = c.nextTag();
  c.send(Buffer.concat([Buffer.from(`${tag} `), ...parts.map((p) => Buffer.from(p)), Buffer.from('\r\n')]));
  return c.readUntilTagged(tag);
}

/** Status word and response code, UIDVALIDITY masked (each server makes its own). */
function outcome(reply: Reply): string {
  const m = /^(OK|NO|BAD)(?: \[([^\]]*)\])?/.exec(reply.tagged);
  if (!m) return reply.tagged;
  const code = (m[2] ?? '').replace(/^APPENDUID \d+/, 'APPENDUID v').replace(/^(BADURL|TOOBIG).*/, '$1');
  return code ? `${m[1]} [${code}]` : m[1];
}

async function both(parts: (string | Buffer)[]): Promise<[Reply, Reply]> {
  return Promise.all([raw(ours.client, parts), raw(dovecot.client, parts)]);
}

async function bodies(c: ImapTestClient, folder: string): Promise<string[]> {
  await c.command(`EXAMINE ${folder}`);
  const reply = await c.command('FETCH 1:* (FLAGS BODY.PEEK[])');
  return reply.lines.filter((l) => l.includes('FETCH')).map((l) => l.replace(/\\Recent ?/, '').replace(/ \)/, ')'));
}

const ATTEMPTS: [string, (string | Buffer)[]][] = [
  ['MULTIAPPEND of three', ['APPEND INBOX.Drafts (\\Seen) ', lit(simpleMessage('m1')), ' ', lit(simpleMessage('m2')), ' (\\Flagged) ', lit(simpleMessage('m3'))]],
  ['CATENATE header URL + text', ['APPEND INBOX.Drafts CATENATE (URL "/INBOX/;UID=1/;SECTION=HEADER" TEXT ', lit('New body.\r\n'), ')']],
  ['CATENATE parts and PARTIAL', ['APPEND INBOX.Drafts CATENATE (TEXT ', lit('Subject: built\r\n\r\n'), ' URL "/INBOX/;UID=2/;SECTION=1" URL "/INBOX/;UID=2/;SECTION=2/;PARTIAL=7.12" URL "/INBOX/;UID=2/;SECTION=2.MIME")']],
  ['CATENATE of a whole message with PARTIAL past its end', ['APPEND INBOX.Drafts CATENATE (URL "/INBOX/;UID=1" URL "/INBOX/;UID=1/;PARTIAL=99999")']],
  ['CATENATE and a literal in one MULTIAPPEND', ['APPEND INBOX.Drafts CATENATE (URL "/INBOX/;UID=1/;SECTION=TEXT") ', lit(simpleMessage('m4'))]],
  ['BADURL: no such message', ['APPEND INBOX.Drafts CATENATE (URL "/INBOX/;UID=77")']],
  ['BADURL: no such mailbox', ['APPEND INBOX.Drafts CATENATE (URL "/INBOX.Nowhere/;UID=1")']],
  ['BADURL in the second message stores neither', ['APPEND INBOX.Drafts ', lit(simpleMessage('lost')), ' CATENATE (URL "/INBOX/;UID=77")']],
  ['bad flag in the second message', ['APPEND INBOX.Drafts ', lit(simpleMessage('lost')), ' (\\Bogus) ', lit(simpleMessage('lost2'))]],
  ['no such folder', ['APPEND INBOX.Nowhere ', lit(simpleMessage('x')), ' ', lit(simpleMessage('y'))]],
  ['CATENATE with no parts', ['APPEND INBOX.Drafts CATENATE ()']],
];

test('the same APPEND, MULTIAPPEND and CATENATE commands give the same answers and the same messages as Dovecot', { skip: dovecotSkip }, async () => {
  // Dovecot resolves URLs without syncing the mailbox: INBOX's new mail gets its UIDs first.
  for (const c of [ours.client, dovecot.client]) for (const cmd of ['SELECT INBOX', 'UNSELECT']) await c.command(cmd);
  for (const [what, parts] of ATTEMPTS) {
    const [a, b] = await both(parts);
    assert.equal(outcome(a), outcome(b), `${what}: ours ${a.tagged} / Dovecot ${b.tagged}`);
  }
  // A relative URL needs the selected mailbox on both.
  await Promise.all([ours.client.command('SELECT INBOX'), dovecot.client.command('SELECT INBOX')]);
  const [a, b] = await both(['APPEND INBOX.Drafts CATENATE (URL ";UID=2/;SECTION=1/;PARTIAL=0.5" TEXT ', lit('!\r\n'), ')']);
  assert.equal(outcome(a), outcome(b), `relative URL: ours ${a.tagged} / Dovecot ${b.tagged}`);
  assert.deepEqual(await bodies(ours.client, 'INBOX.Drafts'), await bodies(dovecot.client, 'INBOX.Drafts'));
});

// The APPEND family of issue 13 on `imapd` (PREAUTH over stdio, real Maildirs): MULTIAPPEND
// (RFC 3502) all or nothing, large literals included; CATENATE (RFC 4469) with URL-PARTIAL
// (RFC 5550) and [BADURL] / [TOOBIG]; REPLACE (RFC 8508); APPENDLIMIT (RFC 7889) in CAPABILITY,
// STATUS and LIST-STATUS; LITERAL- (RFC 7888) where LITERAL+ is taken off IMAP_CAPABILITY.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnImapd, type ImapTestClient, type Reply, type SpawnedImapd } from '../../helpers/imap-client.js';
import { deliver, emptyMaildir, messagesInUidOrder, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';

const LIMIT = 1024 * 1024;
const dirs: string[] = [];
const servers: SpawnedImapd[] = [];

after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) removeTree(d);
});

async function start(env: Record<string, string> = {}, setup?: (maildir: string) => void): Promise<{ c: ImapTestClient; maildir: string }> {
  const dir = tempDir('append-family');
  dirs.push(dir);
  const maildir = emptyMaildir(path.join(dir, 'Maildir'));
  emptyMaildir(path.join(maildir, '.Drafts'));
  setup?.(maildir);
  const server = spawnImapd(maildir, { IMAP_MAXMSGSIZE: String(LIMIT), ...env });
  servers.push(server);
  await server.client.greeting;
  return { c: server.client, maildir };
}

/** A non-synchronizing literal and its data. */
const lit = (data: string | Buffer): Buffer => Buffer.concat([Buffer.from(`{${Buffer.byteLength(data)}+}\r\n`), Buffer.from(data)]);

/** Sends a command made of text and literals (LITERAL+ style), reads to its tagged reply. */
async function raw(c: ImapTestClient, ...parts: (string | Buffer)[]): Promise<Reply> {
  const tag = c.nextTag();
  c.send(Buffer.concat([Buffer.from(`${tag} `), ...parts.map((p) => Buffer.from(p)), Buffer.from('\r\n')]));
  return c.readUntilTagged(tag);
}

function scratch(maildir: string): string[] {
  return fs.readdirSync(path.join(maildir, 'tmp'));
}

function count(maildir: string, folder = ''): number {
  const dir = path.join(maildir, folder);
  return fs.readdirSync(path.join(dir, 'cur')).length + fs.readdirSync(path.join(dir, 'new')).length;
}

const big = (n: number, fill = 'x'): Buffer => Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(n, fill)]);

test('MULTIAPPEND stores every message in order with one APPENDUID set, flags and dates each their own', async () => {
  const { c, maildir } = await start();
  const reply = await raw(c, 'APPEND INBOX (\\Seen) ', lit(simpleMessage('one')), ' (\\Flagged) "01-Feb-2020 10:00:00 +0000" ', lit(simpleMessage('two')), ' ', lit(big(400_000)));
  assert.match(reply.tagged, /^OK \[APPENDUID \d+ 1:3\] APPEND completed/);
  const fetch = await c.command('EXAMINE INBOX');
  assert.ok(fetch.lines.includes('* 3 EXISTS'), fetch.lines.join('\n'));
  const flags = await c.command('FETCH 1:3 (FLAGS INTERNALDATE RFC822.SIZE)');
  assert.match(flags.lines[0], /FLAGS \(\\Seen \\Recent\)/);
  assert.match(flags.lines[1], /FLAGS \(\\Flagged \\Recent\) INTERNALDATE "01-Feb-2020 10:00:00 \+0000"/);
  assert.match(flags.lines[2], /RFC822.SIZE 400016/);
  const files = messagesInUidOrder(maildir);
  assert.deepEqual(files.slice(0, 2).map((b) => b.toString()), [simpleMessage('one').toString(), simpleMessage('two').toString()]);
  assert.ok(files[2].equals(big(400_000)));
  assert.deepEqual(scratch(maildir), []);
});

test('a failing later message leaves nothing: bad flag, empty message, no such folder, a literal over the limit, large literals included', async () => {
  const { c, maildir } = await start();
  assert.match((await raw(c, 'APPEND INBOX ', lit(big(300_000)), ' (\\Bogus) ', lit('x'))).tagged, /^BAD /);
  assert.match((await raw(c, 'APPEND INBOX ', lit(big(300_000)), ' ', lit(''))).tagged, /^NO .*empty/);
  assert.match((await raw(c, 'APPEND INBOX.Nowhere ', lit('Subject: a\r\n\r\nx'), ' ', lit('Subject: b\r\n\r\ny'))).tagged, /^NO \[TRYCREATE\]/);
  // The second message's announcement takes the command over IMAP_MAXMSGSIZE: [TOOBIG] before
  // its data is sent, and the first (staged in tmp/) goes too.
  const tag = c.nextTag();
  c.send(Buffer.concat([Buffer.from(`${tag} APPEND INBOX `), lit(big(600_000)), Buffer.from(` {600016}\r\n`)]));
  const refused = await c.readUntilTagged(tag);
  assert.match(refused.tagged, /^NO \[TOOBIG\]/);
  assert.match((await c.command('NOOP')).tagged, /^OK/);
  assert.equal(count(maildir), 0);
  assert.deepEqual(scratch(maildir), []);
  // A large synchronizing literal to a folder that is not there is refused instead of "+", also
  // as the second message of a MULTIAPPEND, in a CATENATE, or in a REPLACE.
  for (const head of ['APPEND INBOX.Nowhere ', `APPEND INBOX.Nowhere ${lit('Subject: a\r\n\r\nx')} `, 'APPEND INBOX.Nowhere CATENATE (TEXT ']) {
    const t = c.nextTag();
    c.send(`${t} ${head}{300000}\r\n`);
    assert.match((await c.readUntilTagged(t)).tagged, /^NO \[TRYCREATE\]/, head);
  }
  // Then a good one works.
  assert.match((await raw(c, 'APPEND INBOX ', lit('Subject: a\r\n\r\nx'), ' ', lit('Subject: b\r\n\r\ny'))).tagged, /^OK \[APPENDUID \d+ 1:2\]/);
});

test('APPENDLIMIT: announced from IMAP_MAXMSGSIZE, in STATUS and LIST-STATUS, [TOOBIG] before the data', async () => {
  const { c } = await start();
  const caps = (await c.command('CAPABILITY')).lines[0];
  assert.match(caps, / MULTIAPPEND CATENATE URL-PARTIAL REPLACE APPENDLIMIT=1048576 /);
  assert.ok(!caps.includes('LITERAL-'), 'never both LITERAL+ and LITERAL-');
  assert.deepEqual((await c.command('STATUS INBOX (MESSAGES APPENDLIMIT)')).lines, ['* STATUS "INBOX" (MESSAGES 0 APPENDLIMIT 1048576)']);
  const list = await c.command('LIST "" "INBOX*" RETURN (STATUS (APPENDLIMIT))');
  assert.ok(list.lines.includes('* STATUS "INBOX.Drafts" (APPENDLIMIT 1048576)'), list.lines.join('\n'));
  // A synchronizing literal over the limit: refused instead of "+".
  const tag = c.nextTag();
  c.send(`${tag} APPEND INBOX {${LIMIT + 1}}\r\n`);
  assert.match((await c.readUntilTagged(tag)).tagged, /^NO \[TOOBIG\]/);
  assert.match((await c.command('NOOP')).tagged, /^OK/);
});

test('APPENDLIMIT, MULTIAPPEND, CATENATE and REPLACE can be switched off in IMAP_CAPABILITY', async () => {
  const { c } = await start({ IMAP_CAPABILITY: 'IMAP4rev1 UIDPLUS LITERAL+' });
  const caps = (await c.command('CAPABILITY')).lines[0];
  assert.ok(!/MULTIAPPEND|CATENATE|REPLACE|APPENDLIMIT/.test(caps), caps);
  assert.match((await c.command('STATUS INBOX (APPENDLIMIT)')).tagged, /^BAD /);
  assert.match((await raw(c, 'APPEND INBOX ', lit('Subject: a\r\n\r\nx'), ' ', lit('Subject: b\r\n\r\ny'))).tagged, /^BAD .*MULTIAPPEND/);
  assert.match((await raw(c, 'APPEND INBOX CATENATE (TEXT ', lit('Subject: a\r\n\r\nx'), ')')).tagged, /^BAD /);
  assert.match((await c.command('SELECT INBOX')).tagged, /^OK/);
  assert.match((await raw(c, 'REPLACE 1 INBOX ', lit('Subject: a\r\n\r\nx'))).tagged, /^NO /);
});

test('CATENATE: TEXT parts and URLs (relative, absolute-path, absolute; SECTION, PARTIAL), large parts in order', async () => {
  const original = simpleMessage('source', 'Body line one.\r\nBody line two.\r\n');
  const { c, maildir } = await start({}, (m) => deliver(m, original));
  const select = await c.command('SELECT INBOX');
  const uidValidity = /UIDVALIDITY (\d+)/.exec(select.lines.join('\n'))![1];
  const header = original.subarray(0, original.indexOf('\r\n\r\n') + 4);
  const body = original.subarray(original.indexOf('\r\n\r\n') + 4);

  // Header by absolute-path URL, new text, then the old body by relative URL with PARTIAL.
  let reply = await raw(c, `APPEND INBOX.Drafts CATENATE (URL "/INBOX;UIDVALIDITY=${uidValidity}/;UID=1/;SECTION=HEADER" TEXT `, lit('New text.\r\n'), ' URL ";UID=1/;SECTION=TEXT/;PARTIAL=0.16")');
  assert.match(reply.tagged, /^OK \[APPENDUID \d+ 1\]/);
  assert.equal(messagesInUidOrder(path.join(maildir, '.Drafts'))[0].toString(), `${header}New text.\r\n${body.subarray(0, 16)}`);

  // The whole message by absolute URL, MULTIAPPEND with a CATENATE and a plain literal, and a
  // staged (large) TEXT part between two URLs.
  const large = Buffer.alloc(300_000, 'y');
  reply = await raw(c, 'APPEND INBOX.Drafts CATENATE (URL "imap://localhost:143/INBOX/;UID=1" TEXT ', lit(large), ' URL "/INBOX/;UID=1/;SECTION=1/;PARTIAL=5") ', lit('Subject: plain\r\n\r\nz'));
  assert.match(reply.tagged, /^OK \[APPENDUID \d+ 2:3\]/);
  const [, second, third] = messagesInUidOrder(path.join(maildir, '.Drafts'));
  assert.ok(second.equals(Buffer.concat([original, large, body.subarray(5)])));
  assert.equal(third.toString(), 'Subject: plain\r\n\r\nz');
  assert.deepEqual(scratch(maildir), []);
});

test('CATENATE refuses bad URLs with [BADURL url] and too big results with [TOOBIG], storing nothing', async () => {
  const { c, maildir } = await start({}, (m) => deliver(m, big(600_000)));
  const cases = [
    '/INBOX/;UID=9', // no such message
    '/INBOX;UIDVALIDITY=1/;UID=1', // wrong UIDVALIDITY
    ';UID=1', // relative, nothing selected
    '/Nowhere/;UID=1', // no such mailbox
    '/INBOX/;UID=1/;SECTION=7', // no such section
    '/INBOX/;UID=1/;SECTION=1.X', // not a section
    '/INBOX/;UID=1/;URLAUTH=anonymous:internal:abc', // URLAUTH
    'http://example.org/', // not IMAP
    'imap://someone-else@localhost/INBOX/;UID=1', // another user's
    '/INBOX/;UID=1/;PARTIAL=x', // bad PARTIAL
  ];
  for (const url of cases) {
    const reply = await raw(c, `APPEND INBOX (\\Seen) CATENATE (TEXT `, lit('Subject: x\r\n\r\n'), ` URL "${url}")`);
    assert.equal(reply.tagged.split(' Bad URL')[0], `NO [BADURL ${url}]`, url);
  }
  // A MULTIAPPEND whose second message has the bad URL stores neither.
  const reply = await raw(c, 'APPEND INBOX ', lit('Subject: fine\r\n\r\n'), ' CATENATE (URL "/INBOX/;UID=2")');
  assert.match(reply.tagged, /^NO \[BADURL \/INBOX\/;UID=2\]/);
  // Twice a 600 KB message is over the 1 MiB limit.
  const tooBig = await raw(c, 'APPEND INBOX CATENATE (URL "/INBOX/;UID=1" URL "/INBOX/;UID=1")');
  assert.match(tooBig.tagged, /^NO \[TOOBIG\]/);
  assert.equal(count(maildir), 1);
  assert.deepEqual(scratch(maildir), []);
  assert.match((await raw(c, 'APPEND INBOX CATENATE (TEXT ', lit('Subject: x\r\n'), ' TEXT ', lit('\r\nbody'), ')')).tagged, /^OK/);
  assert.match((await raw(c, 'APPEND INBOX CATENATE ()')).tagged, /^BAD /);
  assert.match((await raw(c, 'APPEND INBOX CATENATE (TEXT "quoted")')).tagged, /^BAD /);
});

test('REPLACE and UID REPLACE: APPENDUID first, then the EXPUNGE (VANISHED under QRESYNC); nothing expunged on failure', async () => {
  const { c, maildir } = await start({}, (m) => {
    for (const s of ['a', 'b', 'c']) deliver(m, simpleMessage(s));
  });
  assert.match((await c.command('SELECT INBOX')).tagged, /^OK/);
  let reply = await raw(c, 'REPLACE 2 INBOX (\\Seen) ', lit(simpleMessage('b2')));
  assert.match(reply.tagged, /^OK REPLACE completed/);
  assert.match(reply.lines[0], /^\* OK \[APPENDUID \d+ 4\] /);
  // The session reports the expunge first, then the new message (sequence numbers consistent either way).
  assert.deepEqual(reply.lines.slice(1), ['* 2 EXPUNGE', '* 3 EXISTS', '* 3 RECENT']);

  // To another folder, by UID; a failing append expunges nothing.
  reply = await raw(c, 'UID REPLACE 4 INBOX.Drafts ', lit(simpleMessage('b3')));
  assert.match(reply.lines[0], /^\* OK \[APPENDUID \d+ 1\] /);
  assert.deepEqual(reply.lines.slice(1), ['* 3 EXPUNGE']);
  assert.match((await raw(c, 'UID REPLACE 1 INBOX.Nowhere ', lit(simpleMessage('x')))).tagged, /^NO \[TRYCREATE\]/);
  assert.match((await raw(c, 'UID REPLACE 99 INBOX ', lit(simpleMessage('x')))).tagged, /^NO /);
  assert.match((await raw(c, 'REPLACE 1 INBOX CATENATE (URL "/INBOX/;UID=9")')).tagged, /^NO \[BADURL/);
  assert.equal(count(maildir), 2);
  assert.equal(count(maildir, '.Drafts'), 1);

  assert.match((await c.command('ENABLE QRESYNC')).tagged, /^OK/);
  reply = await raw(c, 'UID REPLACE 1 INBOX CATENATE (URL ";UID=1/;SECTION=HEADER" TEXT ', lit('new body\r\n'), ')');
  assert.match(reply.lines[0], /^\* OK \[APPENDUID \d+ 5\] /);
  assert.deepEqual(reply.lines.slice(1).filter((l) => !l.includes('FETCH')), ['* VANISHED 1', '* 2 EXISTS', '* 2 RECENT']);
  assert.match((await c.command('EXAMINE INBOX')).tagged, /^OK/);
  assert.match((await raw(c, 'REPLACE 1 INBOX ', lit('x'))).tagged, /^NO \[READ-ONLY\]/);
  assert.match((await c.command('UNSELECT')).tagged, /^OK/);
  assert.match((await raw(c, 'REPLACE 1 INBOX ', lit('x'))).tagged, /^BAD /);
});

test('LITERAL-: announced when LITERAL+ is taken off; non-synchronizing literals over 4096 octets are BAD [TOOBIG], their data swallowed', async () => {
  const { c, maildir } = await start({ IMAP_CAPABILITY: 'IMAP4rev1 UIDPLUS LITERAL- MULTIAPPEND' });
  const caps = (await c.command('CAPABILITY')).lines[0];
  assert.match(caps, / LITERAL- /);
  assert.ok(!caps.includes('LITERAL+'));
  assert.match((await raw(c, 'APPEND INBOX ', lit(`Subject: s\r\n\r\n${'a'.repeat(4000)}`))).tagged, /^OK/);
  const reply = await raw(c, 'APPEND INBOX ', lit(`Subject: s\r\n\r\n${'a\r\n'.repeat(2000)}`));
  assert.match(reply.tagged, /^BAD \[TOOBIG\]/);
  // The data did not run as commands.
  assert.match((await c.command('NOOP')).tagged, /^OK/);
  assert.equal(count(maildir), 1);
});

test('a MULTIAPPEND cut off halfway through its second large message leaves nothing in tmp/, cur/ or new/', async () => {
  const dir = tempDir('append-family-cut');
  dirs.push(dir);
  const maildir = emptyMaildir(path.join(dir, 'Maildir'));
  const server = spawnImapd(maildir, { IMAP_MAXMSGSIZE: String(LIMIT) });
  await server.client.greeting;
  const second = lit(big(400_000));
  server.client.send(Buffer.concat([Buffer.from('t1 APPEND INBOX '), lit(big(300_000)), Buffer.from(' '), second.subarray(0, 200_000)]));
  // Both literals have reached the scratch space before the client goes.
  for (let i = 0; i < 100 && scratch(maildir).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(scratch(maildir).length, 2);
  server.child.stdin.end();
  await server.exited;
  assert.deepEqual(scratch(maildir), []);
  assert.equal(count(maildir), 0);
});

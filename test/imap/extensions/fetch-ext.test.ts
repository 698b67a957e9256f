// BINARY (RFC 3516), OBJECTID (RFC 8474), SAVEDATE (RFC 8514) and PREVIEW (RFC 8970) against
// imapd processes on real Maildirs: grammar of the answers, corner cases, ids across restarts,
// RENAME, COPY and MOVE, and the words turned off with IMAP_CAPABILITY.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { deliver, emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';
import { spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';

const BASE64_NUL = Buffer.from('abc\0def\r\nxyz').toString('base64');
const MULTIPART = [
  'From: a@example.org',
  'Subject: parts',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary=XX',
  '',
  '--XX',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 soft=',
  'break  ',
  'second',
  '--XX',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  BASE64_NUL,
  '--XX',
  'Content-Type: text/plain',
  '',
  'plain seven',
  'bit',
  '--XX--',
  '',
].join('\n');
const UNKNOWN_CTE = 'Subject: uu\nMIME-Version: 1.0\nContent-Type: application/x-thing\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 foo\n';
const HTML = 'Subject: html\nContent-Type: text/html; charset=utf-8\n\n<html><head><style>x{}</style></head><body><p>Hello&nbsp;<b>there</b></p>\n\n<p>friend</p></body></html>\n';

const latin1 = (text: string): string => Buffer.from(text).toString('latin1');

function fetchLine(lines: string[], seq: number): string {
  const line = lines.find((l) => l.startsWith(`* ${seq} FETCH `));
  assert.ok(line, `no FETCH for ${seq} in ${JSON.stringify(lines)}`);
  return line;
}

describe('FETCH extensions', () => {
  let dir: string;
  let maildir: string;
  let imapd: SpawnedImapd;

  before(async () => {
    dir = tempDir('fetch-ext');
    maildir = emptyMaildir(path.join(dir, 'Maildir'));
    deliver(maildir, MULTIPART);
    deliver(maildir, UNKNOWN_CTE);
    deliver(maildir, HTML);
    imapd = spawnImapd(maildir);
    await imapd.client.greeting;
  });
  after(async () => {
    await imapd.close();
    removeTree(dir);
  });

  it('announces BINARY, OBJECTID, SAVEDATE and PREVIEW', async () => {
    const words = (await imapd.client.command('CAPABILITY')).lines[0].split(' ');
    for (const w of ['BINARY', 'OBJECTID', 'SAVEDATE', 'PREVIEW']) assert.ok(words.includes(w), w);
  });

  it('BINARY decodes quoted-printable and base64, sends NUL as literal8, and counts with BINARY.SIZE', async () => {
    const c = imapd.client;
    const select = await c.command('SELECT INBOX');
    assert.match(select.tagged, /^OK/);
    assert.ok(select.lines.some((l) => /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] /.test(l)), select.lines.join('\n'));
    const r = await c.command('FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1] BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[3] BINARY.SIZE[3])');
    assert.match(r.tagged, /^OK/);
    const raw = r.raw.toString('latin1');
    assert.ok(raw.includes(`BINARY.SIZE[1] 23 BINARY[1] {23}\r\n${latin1('Café')} softbreak\r\nsecond`), raw);
    assert.ok(raw.includes(`BINARY.SIZE[2] 12 BINARY[2] ~{12}\r\nabc\0def\r\nxyz`), raw);
    assert.ok(raw.includes('BINARY[3] {16}\r\nplain seven\r\nbit BINARY.SIZE[3] 16'), raw);
    // .PEEK left \Seen alone; BINARY without it sets it, as BODY does.
    assert.ok(!fetchLine((await c.command('FETCH 1 FLAGS')).lines, 1).includes('\\Seen'));
    const seen = await c.command('FETCH 1 BINARY[2]<4.3>');
    assert.ok(seen.raw.toString('latin1').includes('BINARY[2]<4> ~{3}\r\ndef'), seen.raw.toString('latin1'));
    assert.ok(seen.lines[0].includes('FLAGS (\\Seen'), seen.lines[0]);
  });

  it('partial ranges past the end, missing parts, the whole message, nested and top-level part numbers', async () => {
    const c = imapd.client;
    const r = await c.command('FETCH 1 (BINARY.PEEK[1]<100.5> BINARY.PEEK[9] BINARY.SIZE[9] BINARY.PEEK[2.1])');
    assert.match(r.tagged, /^OK/);
    const raw = r.raw.toString('latin1');
    // A leaf's part 1 is the leaf itself (RFC 3501 6.4.5), as in BODY[2.1].
    assert.ok(raw.includes('BINARY[1]<100> {0}\r\n BINARY[9] {0}\r\n BINARY.SIZE[9] 0 BINARY[2.1] ~{12}\r\nabc\0def\r\nxyz)'), raw);
    const whole = await c.command('FETCH 3 (BINARY.PEEK[] BINARY.SIZE[] BINARY.PEEK[1] RFC822.SIZE)');
    const text = whole.raw.toString('latin1');
    const size = /RFC822\.SIZE (\d+)/.exec(text)![1];
    assert.ok(text.includes(`BINARY[] {${size}}\r\nSubject: html\r\n`), text);
    assert.ok(text.includes(`BINARY.SIZE[] ${size} BINARY[1] {`), text);
  });

  it('an encoding it cannot undo fails with NO [UNKNOWN-CTE]; the other messages are answered', async () => {
    const c = imapd.client;
    const r = await c.command('FETCH 1:3 (UID BINARY.SIZE[1])');
    assert.match(r.tagged, /^NO \[UNKNOWN-CTE\] /);
    assert.deepEqual(r.lines.map((l) => l.split(' ')[1]), ['1', '3']);
    assert.match((await c.command('FETCH 2 BINARY.PEEK[]')).tagged, /^OK/); // the whole message needs no decoding
    assert.match((await c.command('FETCH 2 BODY.PEEK[1]')).tagged, /^OK/);
  });

  it('syntax errors are BAD', async () => {
    const c = imapd.client;
    for (const bad of ['BINARY[HEADER]', 'BINARY.SIZE[1]<0.1>', 'BINARY[1.MIME]', '(PREVIEW (FUZZY))', 'BINARY']) {
      assert.match((await c.command(`FETCH 1 ${bad}`)).tagged, /^BAD /, bad);
    }
  });

  it('PREVIEW: first text part decoded, HTML reduced to text; PREVIEW (LAZY) answers from what it has', async () => {
    const c = imapd.client;
    const lazyFirst = await c.command('FETCH 3 (PREVIEW (LAZY))');
    assert.equal(fetchLine(lazyFirst.lines, 3), '* 3 FETCH (PREVIEW NIL)');
    const r = await c.command('FETCH 1:3 PREVIEW');
    // Not ASCII: a literal for a client without UTF8=ACCEPT (22 octets, 21 characters).
    assert.equal(fetchLine(r.lines, 1), `* 1 FETCH (PREVIEW {22}\r\n${latin1('Café')} softbreak second)`);
    assert.equal(fetchLine(r.lines, 2), '* 2 FETCH (PREVIEW "")');
    assert.equal(fetchLine(r.lines, 3), '* 3 FETCH (PREVIEW "Hello there friend")');
    const lazy = await c.command('FETCH 3 PREVIEW (LAZY)');
    assert.equal(fetchLine(lazy.lines, 3), '* 3 FETCH (PREVIEW "Hello there friend")');
  });

  it('EMAILID is stable across processes and kept by COPY and MOVE; THREADID is given; MAILBOXID in STATUS, CREATE, kept by RENAME', async () => {
    const c = imapd.client;
    const ids = (await c.command('FETCH 1:3 (EMAILID THREADID)')).lines.map((l) => /EMAILID \((M[0-9a-f]{24})\) THREADID \(T[0-9a-f]{24}\)/.exec(l)![1]);
    assert.equal(new Set(ids).size, 3);
    const created = await c.command('CREATE INBOX.Copies');
    const mailboxId = /^OK \[MAILBOXID \((F[0-9a-f]{24})\)\]/.exec(created.tagged)![1];
    assert.equal((await c.command('STATUS INBOX.Copies (MAILBOXID MESSAGES)')).lines[0], `* STATUS "INBOX.Copies" (MAILBOXID (${mailboxId}) MESSAGES 0)`);
    assert.match((await c.command('COPY 1 INBOX.Copies')).tagged, /^OK/);
    assert.match((await c.command('MOVE 3 INBOX.Copies')).tagged, /^OK/);
    assert.match((await c.command('RENAME INBOX.Copies INBOX.Renamed')).tagged, /^OK/);
    assert.equal((await c.command('STATUS INBOX.Renamed (MAILBOXID)')).lines[0], `* STATUS "INBOX.Renamed" (MAILBOXID (${mailboxId}))`);
    const inboxId = (await c.command('STATUS INBOX (MAILBOXID)')).lines[0];
    assert.notEqual(inboxId, `* STATUS INBOX (MAILBOXID (${mailboxId}))`);
    // A new process reads the same ids from disk.
    const other = spawnImapd(maildir);
    try {
      await other.client.greeting;
      assert.equal((await other.client.command('STATUS INBOX (MAILBOXID)')).lines[0], inboxId);
      assert.match((await other.client.command('SELECT INBOX.Renamed')).lines.join('\n'), new RegExp(`MAILBOXID \\(${mailboxId}\\)`));
      const copied = (await other.client.command('FETCH 1:2 EMAILID')).lines.map((l) => /EMAILID \((\w+)\)/.exec(l)![1]);
      assert.deepEqual(copied, [ids[0], ids[2]]);
      // A folder deleted and made again under the same name is another folder.
      assert.match((await other.client.command('CREATE INBOX.Again')).tagged, /^OK/);
      const first = (await other.client.command('STATUS INBOX.Again (MAILBOXID)')).lines[0];
      assert.match((await other.client.command('DELETE INBOX.Again')).tagged, /^OK/);
      assert.match((await other.client.command('CREATE INBOX.Again')).tagged, /^OK/);
      assert.notEqual((await other.client.command('STATUS INBOX.Again (MAILBOXID)')).lines[0], first);
    } finally {
      await other.close();
    }
    assert.ok(fs.existsSync(path.join(maildir, '.Renamed', 'imapd-ts.mailboxid')));
  });
});

describe('SAVEDATE, literal8 APPEND and the words turned off', () => {
  let dir: string;
  let maildir: string;

  before(() => {
    dir = tempDir('fetch-ext-save');
    maildir = emptyMaildir(path.join(dir, 'Maildir'));
  });
  after(() => removeTree(dir));

  it('SAVEDATE is when the message was saved here, not its INTERNALDATE; SAVED* search by it', async () => {
    const imapd = spawnImapd(maildir, { TZ: 'UTC' });
    try {
      const c = imapd.client;
      await c.greeting;
      assert.match((await c.append('INBOX', Buffer.from('Subject: old\r\n\r\nold\r\n'), '"01-Jan-2001 10:00:00 +0000"')).tagged, /^OK/);
      assert.match((await c.command('SELECT INBOX')).tagged, /^OK/);
      const r = await c.command('FETCH 1 (INTERNALDATE SAVEDATE)');
      const m = /INTERNALDATE "01-Jan-2001 10:00:00 \+0000" SAVEDATE "(\d\d-\w{3}-\d{4}) [\d:]{8} \+0000"/.exec(r.lines[0]);
      assert.ok(m, r.lines[0]);
      const today = m[1];
      assert.equal(today.slice(7), String(new Date().getUTCFullYear()));
      assert.equal((await c.command(`SEARCH SAVEDON ${today}`)).lines[0], '* SEARCH 1');
      assert.equal((await c.command(`SEARCH SAVEDSINCE ${today}`)).lines[0], '* SEARCH 1');
      assert.equal((await c.command(`SEARCH SAVEDBEFORE ${today}`)).lines[0], '* SEARCH');
      assert.equal((await c.command('SEARCH SAVEDBEFORE 1-Jan-2002')).lines[0], '* SEARCH');
      assert.equal((await c.command('SEARCH BEFORE 1-Jan-2002')).lines[0], '* SEARCH 1');
      assert.equal((await c.command('SEARCH SAVEDATESUPPORTED')).lines[0], '* SEARCH 1');
    } finally {
      await imapd.close();
    }
  });

  it('APPEND takes NUL in a literal8 and refuses it in a literal, small or streamed', async () => {
    const imapd = spawnImapd(maildir);
    try {
      const c = imapd.client;
      await c.greeting;
      const message = Buffer.from('Subject: bin\r\n\r\nab\0cd\r\n', 'latin1');
      assert.match((await c.append('INBOX', message)).tagged, /^NO /);
      c.send(`b1 APPEND INBOX ~{${message.length}}\r\n`);
      assert.match((await c.readResponseLine()).toString(), /^\+/);
      c.send(Buffer.concat([message, Buffer.from('\r\n')]));
      assert.match((await c.readUntilTagged('b1')).tagged, /^OK \[APPENDUID /);
      const big = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(300 * 1024, 'a'), Buffer.from('\0\r\n')]);
      assert.match((await c.append('INBOX', big)).tagged, /^NO /);
      assert.match((await c.command('SELECT INBOX')).tagged, /^OK/);
      const r = await c.command('FETCH 2 (BINARY.PEEK[TEXT])');
      assert.match(r.tagged, /^BAD/);
      const ok = await c.command('FETCH * (BINARY.PEEK[1] BODY.PEEK[1])');
      assert.ok(ok.raw.toString('latin1').includes('BINARY[1] ~{7}\r\nab\0cd\r\n BODY[1] {7}\r\nab\x80cd\r\n)'), ok.raw.toString('latin1'));
      const exists = (await c.command('STATUS INBOX (MESSAGES)')).lines[0];
      assert.equal(exists, '* STATUS "INBOX" (MESSAGES 2)');
    } finally {
      await imapd.close();
    }
  });

  it('IMAP_CAPABILITY without the words: not announced, no MAILBOXID in SELECT, STATUS MAILBOXID is BAD', async () => {
    const imapd = spawnImapd(maildir, { IMAP_CAPABILITY: 'IMAP4rev1 UIDPLUS IDLE' });
    try {
      const c = imapd.client;
      const greeting = await c.greeting;
      for (const w of ['BINARY', 'OBJECTID', 'SAVEDATE', 'PREVIEW']) assert.ok(!greeting.split(/[ \]]/).includes(w), greeting);
      const select = await c.command('SELECT INBOX');
      assert.ok(!select.lines.some((l) => l.includes('MAILBOXID')));
      assert.match((await c.command('STATUS INBOX (MAILBOXID)')).tagged, /^BAD/);
      assert.match((await c.command('CREATE INBOX.Plain')).tagged, /^OK CREATE completed/);
    } finally {
      await imapd.close();
    }
  });
});

// SEARCH TEXT / BODY end to end in a mailbox of 2,500 messages (several slices and many batches
// of the evaluator): the built imapd, answers checked against how the messages were made.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';

import { spawnImapd } from '../../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';

const COUNT = 2500;

function message(i: number): { raw: Buffer; body: boolean; subject: boolean } {
  const body = i % 7 === 0;
  const subject = i % 11 === 0;
  const word = (on: boolean, text: string) => (on ? text : 'nothing');
  const head = `From: sender${i}@example.org\r\nTo: rcpt@example.com\r\nSubject: ${word(subject, 'a Zorbulate subject')} ${i}\r\nMessage-ID: <m${i}@example.org>\r\n`;
  switch (i % 4) {
    case 0:
      return { raw: Buffer.from(`${head}\r\nplain ${word(body, 'zorbulate')} text ${i}\r\n`), body, subject };
    case 1: // quoted-printable UTF-8 with the word cut by a soft line break
      return { raw: Buffer.from(`${head}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 ${body ? 'zorbu=\r\nlate' : 'nothing'} =E2=80=99\r\n`), body, subject };
    case 2: // base64 latin-1
      return { raw: Buffer.from(`${head}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n${iconv.encode(`Grüße ${word(body, 'ZORBULATE')}`, 'iso-8859-1').toString('base64')}\r\n`), body, subject };
    default: // the word in an attachment only, which is not text
      return { raw: Buffer.from(`${head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${word(body, 'ｚｏｒｂｕｌａｔｅ')} here\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\nzorbulate\r\n--b--\r\n`), body, subject };
  }
}

test('SEARCH TEXT and BODY over 2,500 messages find what is there', async () => {
  const dir = tempDir('search-large');
  const maildir = emptyMaildir(path.join(dir, 'Maildir'));
  const made: ReturnType<typeof message>[] = [];
  for (let i = 1; i <= COUNT; i++) {
    const m = message(i);
    made.push(m);
    fs.writeFileSync(path.join(maildir, 'cur', `${1700000000 + i}.M${i}P1.test,S=${m.raw.length}:2,S`), m.raw);
  }
  const imapd = spawnImapd(maildir);
  try {
    await imapd.client.greeting;
    assert.match((await imapd.client.command('SELECT INBOX')).tagged, /^OK/);
    const seqs = async (command: string): Promise<number[]> => {
      const r = await imapd.client.command(command, 60_000);
      assert.match(r.tagged, /^OK/, command);
      const line = r.lines.find((u) => u.startsWith('* SEARCH'));
      return line ? line.slice(8).trim().split(' ').filter(Boolean).map(Number) : [];
    };
    // Files are listed in name order, so message i is sequence number i.
    const where = (test: (m: { body: boolean; subject: boolean }, i: number) => boolean) => made.flatMap((m, i) => (test(m, i + 1) ? [i + 1] : []));
    assert.deepEqual(await seqs('SEARCH BODY zorbulate'), where((m) => m.body));
    assert.deepEqual(await seqs('SEARCH TEXT zorbulate'), where((m) => m.body || m.subject));
    assert.deepEqual(await seqs('SEARCH NOT TEXT zorbulate'), where((m) => !m.body && !m.subject));
    assert.deepEqual(await seqs('SEARCH OR BODY zorbulate SUBJECT "2499"'), where((m, i) => m.body || i === 2499));
    assert.deepEqual(await seqs('SEARCH CHARSET UTF-8 TEXT zorbulate BODY "café"'), where((m, i) => (m.body || m.subject) && i % 4 === 1));
    assert.doesNotMatch(imapd.stderr(), /Warning|Error/);
  } finally {
    await imapd.close();
    removeTree(dir);
  }
});

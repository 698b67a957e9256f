// BINARY (RFC 3516) against Dovecot on the same Maildir: the decoded octets of every part and
// BINARY.SIZE, where the RFC makes them deterministic. Only the literal's form may differ:
// Dovecot sends every decoded part as literal8 (~{n}), we only those with a NUL (RFC 3516 4.3).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';
import { spawnDovecot, spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';
import { dovecotSkip } from '../../helpers/peers.js';
import fs from 'node:fs';

const b64 = (data: Buffer | string, width = 76): string => Buffer.from(data).toString('base64').replace(new RegExp(`(.{${width}})`, 'g'), '$1\n');
const binaryData = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 37) & 0xff));

function multipart(subject: string, boundary: string, parts: string[], type = 'mixed'): string {
  return [`Subject: ${subject}`, 'MIME-Version: 1.0', `Content-Type: multipart/${type}; boundary=${boundary}`, '', 'preamble', ...parts.flatMap((p) => [`--${boundary}`, p]), `--${boundary}--`, ''].join('\n');
}

/** Each message with the part paths asked for. */
const CORPUS: [string, string[]][] = [
  ['Subject: plain\n\nhello\nworld\n', ['', '1']],
  // Not BINARY[] of an encoded single-part message: Dovecot decodes its body and rewrites the
  // header to "binary", we send the message as it is (the whole message has no encoding of its own).
  ['Subject: crlf\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nsoft=\r\nbreak =3D end  \r\nnext\r\n', ['1']],
  [`Subject: top64\nMIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${b64(binaryData)}\n`, ['1']],
  [
    multipart('mixed', 'XX', [
      'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 soft=\nbreak\ntrailing spaces   \n=41=42=43 tab\there\t\nlast line no newline',
      'Content-Type: text/plain\n\nplain seven\nbit',
      `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64('Grüße\r\naus Berlin\r\n', 8)}`,
      `Content-Type: application/octet-stream\nContent-Transfer-Encoding: BASE64\n\n${b64(binaryData, 60)}`,
      'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncafé\n8bit',
      'Content-Type: text/plain\nContent-Transfer-Encoding: binary\n\nbinary text',
    ]),
    ['1', '2', '3', '4', '5', '6', '7'],
  ],
  [
    multipart('nested', 'OUT', [
      multipart('alt', 'IN', [
        'Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nalt =E2=82=AC plain',
        `Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n${b64('<p>alt html</p>')}`,
      ], 'alternative').replace(/^Subject: alt\nMIME-Version: 1.0\n/, ''),
      `Content-Type: message/rfc822\n\n${multipart('inner', 'INNER', [`Content-Type: application/x-data\nContent-Transfer-Encoding: base64\n\n${b64(Buffer.from([0, 0, 1, 2, 0]))}`, 'Content-Type: text/plain\n\ninner text'])}`,
    ]),
    // Leaves only: of a multipart or message/rfc822 section Dovecot decodes the parts inside
    // and rewrites their headers, we send it as stored (its own encoding is 7bit).
    ['1.1', '1.2', '2.1', '2.2', '2.1.1'],
  ],
];

/** label -> decoded octets (latin1) and label -> BINARY.SIZE, from a FETCH response. */
function parse(raw: Buffer): Map<string, string> {
  const text = raw.toString('latin1');
  const found = new Map<string, string>();
  const literal = /BINARY\[([\d.]*)\] ~?\{(\d+)\}\r\n/g;
  for (let m = literal.exec(text); m; m = literal.exec(text)) {
    const start = m.index + m[0].length;
    found.set(`BINARY[${m[1]}]`, text.slice(start, start + Number(m[2])));
    literal.lastIndex = start + Number(m[2]);
  }
  const size = /BINARY\.SIZE\[([\d.]*)\] (\d+)/g;
  for (let m = size.exec(text); m; m = size.exec(text)) found.set(`BINARY.SIZE[${m[1]}]`, m[2]);
  return found;
}

describe('BINARY against Dovecot', { skip: dovecotSkip }, () => {
  let dir: string;
  let maildir: string;

  before(() => {
    dir = tempDir('binary-dovecot');
    maildir = emptyMaildir(path.join(dir, 'Maildir'));
    // Named in cur/ so that both servers give UIDs in this order.
    CORPUS.forEach(([message], i) => fs.writeFileSync(path.join(maildir, 'cur', `${1700000000 + i}.M${i}P1.test:2,S`), message));
  });
  after(() => removeTree(dir));

  async function answers(server: SpawnedImapd): Promise<Map<string, string>[]> {
    const c = server.client;
    try {
      await c.greeting;
      assert.match((await c.command('SELECT INBOX')).tagged, /^OK/);
      const all: Map<string, string>[] = [];
      for (let i = 0; i < CORPUS.length; i++) {
        const items = CORPUS[i][1].map((p) => `BINARY.PEEK[${p}] BINARY.SIZE[${p}]`).join(' ');
        const reply = await c.command(`UID FETCH ${i + 1} (${items})`);
        assert.match(reply.tagged, /^OK/, `message ${i + 1}: ${reply.tagged}`);
        all.push(parse(reply.raw));
      }
      return all;
    } finally {
      await server.close();
    }
  }

  it('gives the same decoded octets and sizes for every part', async () => {
    const ours = await answers(spawnImapd(maildir));
    const theirs = await answers(spawnDovecot(maildir));
    for (let i = 0; i < CORPUS.length; i++) {
      assert.equal(ours[i].size, CORPUS[i][1].length * 2, `message ${i + 1}: every item answered`);
      assert.deepEqual(ours[i], theirs[i], `message ${i + 1}`);
    }
    // The data does reach the NUL-carrying parts (not an empty comparison).
    assert.equal(ours[3].get('BINARY[4]'), binaryData.toString('latin1'));
    assert.equal(ours[4].get('BINARY.SIZE[2.1]'), '5');
    assert.equal(ours[4].get('BINARY[2.1]'), '\0\0\x01\x02\0');
  });
});

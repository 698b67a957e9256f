import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseMessage } from '../../server/mime/parse.js';
import { sectionBytes, toCrlf, type SectionRequest } from '../../server/mime/section.js';
import { corpus, crlf, lf } from './corpus.js';

const byName = new Map(corpus().map((e) => [e.name, e.raw]));
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

function section(raw: Buffer, spec: string): string | null {
  const m = /^((?:\d+\.)*\d+)?\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?(?: \((.*)\))?$/.exec(spec)!;
  const req: SectionRequest = {
    part: m[1] === undefined ? [] : m[1].split('.').map(Number),
    kind: (m[2] ?? '') as SectionRequest['kind'],
    fields: m[3]?.split(' '),
  };
  const out = sectionBytes(raw, parseMessage(raw), req);
  return out === null ? null : out.toString('latin1');
}

describe('BODY[section]', () => {
  const single = bin(lf('From: a@example.org\nSubject: one\n\nline 1\nline 2\n'));

  test('a non-multipart message: part 1 is its body, MIME of 1 is the header, no 1.1 or 2', () => {
    assert.equal(section(single, ''), 'From: a@example.org\r\nSubject: one\r\n\r\nline 1\r\nline 2\r\n');
    assert.equal(section(single, 'HEADER'), 'From: a@example.org\r\nSubject: one\r\n\r\n');
    assert.equal(section(single, 'TEXT'), 'line 1\r\nline 2\r\n');
    assert.equal(section(single, '1'), 'line 1\r\nline 2\r\n');
    assert.equal(section(single, '1.MIME'), 'From: a@example.org\r\nSubject: one\r\n\r\n');
    assert.equal(section(single, '1.1'), null);
    assert.equal(section(single, '2'), null);
    assert.equal(section(single, '1.HEADER'), null);
    assert.equal(section(single, 'MIME'), null);
  });

  test('multipart parts, nested parts and an attached message', () => {
    const raw = byName.get('nested-multipart')!;
    assert.equal(section(raw, '1.1'), 'Caf=C3=A9 au lait.');
    assert.equal(section(raw, '1.2'), '<p>Caf\u00e9</p>');
    assert.equal(section(raw, '1.2.MIME'), 'Content-Type: text/html; charset=utf-8\r\n\r\n');
    assert.equal(section(raw, '2'), 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==');
    assert.equal(section(raw, '2.1'), section(raw, '2')); // a leaf's part 1 is itself (as Dovecot)
    assert.equal(section(raw, '2.1.1'), null);
    assert.equal(section(raw, '2.HEADER'), null); // not a message/rfc822
    assert.match(section(raw, '3.HEADER')!, /^From: Inner Sender <inner@example.net>\r\n.*boundary="deep"\r\n\r\n$/s);
    assert.match(section(raw, '3.TEXT')!, /^--deep\r\n.*--deep--$/s);
    assert.equal(section(raw, '3.1'), 'Inner text.');
    assert.equal(section(raw, '3.2'), 'AAECAwQFBgcICQ==');
    assert.equal(section(raw, '3.2.MIME'), 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n');
    assert.equal(section(raw, '3.MIME'), 'Content-Type: message/rfc822\r\n\r\n');
    assert.equal(section(raw, '3.HEADER.FIELDS (SUBJECT)'), 'Subject: =?utf-8?B?Vm9yd8OkcnRzIOKAkyBpbm5lcg==?=\r\n\r\n');
    assert.equal(section(raw, '4'), null);
    assert.equal(section(raw, '0'), null);
  });

  test('a message whose body is message/rfc822: 1.HEADER and 1.1 reach into it', () => {
    const raw = byName.get('toplevel-rfc822')!;
    assert.equal(section(raw, '1.HEADER'), 'From: inner@example.org\r\nSubject: inner\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n');
    assert.equal(section(raw, '1.1'), 'inner body\r\n');
    assert.equal(section(raw, '1.TEXT'), 'inner body\r\n');
  });

  test('HEADER.FIELDS: matching fields in message order, folded lines kept, then the blank line', () => {
    const raw = byName.get('folded-headers')!;
    assert.equal(section(raw, 'HEADER.FIELDS (SUBJECT FROM)'), 'From: "A very long display name that is folded"\r\n <folded@example.org>\r\nSubject: This subject is\r\n folded over\r\n\tthree lines\r\n\r\n');
    assert.equal(section(raw, 'HEADER.FIELDS (subject)'), 'Subject: This subject is\r\n folded over\r\n\tthree lines\r\n\r\n');
    assert.equal(section(raw, 'HEADER.FIELDS (X-NONE)'), '\r\n');
    assert.equal(section(raw, 'HEADER.FIELDS.NOT (FROM TO SUBJECT DATE)'), 'Message-ID:\r\n <folded@example.org>\r\n\r\n');
    const dup = byName.get('duplicate-headers')!;
    assert.equal(section(dup, 'HEADER.FIELDS (SUBJECT)'), 'Subject: First subject\r\nSubject: Second subject\r\n\r\n');
  });

  test('no blank line when the message has no body and no blank line (RFC 3501 6.4.5)', () => {
    const raw = byName.get('header-only-no-newline')!;
    assert.equal(section(raw, 'HEADER'), 'Subject: header only\r\nFrom: a@example.org');
    assert.equal(section(raw, 'HEADER.FIELDS (FROM)'), 'From: a@example.org\r\n');
    assert.equal(section(raw, 'TEXT'), '');
    assert.equal(section(byName.get('header-and-blank-line')!, 'HEADER.FIELDS (FROM)'), 'From: a@example.org\r\n\r\n');
  });

  test('bare LF and mixed line ends come out as CRLF with the sizes BODYSTRUCTURE announced', () => {
    for (const e of corpus()) {
      const asLf = bin(lf(e.raw.toString('latin1')));
      const meta = parseMessage(asLf);
      const whole = sectionBytes(asLf, meta, { part: [], kind: '' })!;
      assert.equal(whole.length, meta.size, e.name);
      assert.equal(whole.toString('latin1'), crlf(lf(e.raw.toString('latin1'))).replace(/\0/g, '\x80'), e.name);
      const visit = (p: typeof meta.body, path: number[]): void => {
        if (path.length > 0) assert.equal(sectionBytes(asLf, meta, { part: path, kind: '' })!.length, p.size, `${e.name} ${path.join('.')}`);
        p.parts?.forEach((c, i) => visit(c, [...path, i + 1]));
      };
      visit(meta.body, []);
    }
  });

  test('NUL bytes become 0x80 (no NUL in a literal); the length stays', () => {
    const raw = byName.get('lone-cr-and-nul')!;
    const text = section(raw, 'TEXT')!;
    assert.equal(text, 'body with\rlone CR and NUL \x80 byte\r\n');
    assert.equal(raw.includes(0), true); // the stored data is untouched
  });

  test('toCrlf does not copy when there is nothing to convert', () => {
    const raw = bin('a\r\nb\r\n');
    assert.equal(toCrlf(raw, 0, raw.length).buffer, raw.buffer);
    assert.equal(toCrlf(bin('\na\nb'), 0, 4).toString('latin1'), '\r\na\r\nb');
    // an LF right after the range start, preceded by CR outside the range, is not bare
    assert.equal(toCrlf(bin('x\r\ny'), 2, 4).toString('latin1'), '\ny');
  });
});

// Content-Transfer-Encoding undone in pieces (server/mime/binary.ts), for IMAP BINARY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodedSize, decodePieces, PIECE, transferEncoding, type TransferEncoding } from '../../server/mime/binary.js';

function decode(text: string | Buffer, encoding: TransferEncoding): Buffer {
  const raw = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  const pieces: Buffer[] = [];
  decodePieces(raw, 0, raw.length, encoding, (p) => void pieces.push(p));
  const all = Buffer.concat(pieces);
  assert.equal(decodedSize(raw, 0, raw.length, encoding).size, all.length, 'decodedSize counts what decodePieces gives');
  return all;
}

test('encodings known and unknown (case and spaces ignored)', () => {
  assert.equal(transferEncoding('7BIT'), 'identity');
  assert.equal(transferEncoding(' 8bit '), 'identity');
  assert.equal(transferEncoding('Binary'), 'identity');
  assert.equal(transferEncoding('Base64'), 'base64');
  assert.equal(transferEncoding('QUOTED-PRINTABLE'), 'quoted-printable');
  assert.equal(transferEncoding('x-uuencode'), null);
  assert.equal(transferEncoding('base-64'), null);
});

test('identity: bare LF becomes CRLF, CRLF and NUL stay', () => {
  assert.equal(decode('a\nb\r\nc\0\n', 'identity').toString('latin1'), 'a\r\nb\r\nc\0\r\n');
  assert.equal(decodedSize(Buffer.from('a\0b'), 0, 3, 'identity').nul, true);
  assert.equal(decodedSize(Buffer.from('ab'), 0, 2, 'identity').nul, false);
});

test('base64: whitespace and garbage skipped, stops at "="', () => {
  const data = Buffer.from([0, 1, 2, 250, 251, 252, 253, 10, 13]);
  const encoded = data.toString('base64').replace(/(.{4})/g, '$1\n ');
  assert.deepEqual(decode(encoded, 'base64'), data);
  assert.equal(decode('YWJj\n!!ZGVm', 'base64').toString(), 'abcdef');
  assert.equal(decode('YQ==YWJj', 'base64').toString(), 'a');
  assert.equal(decode('', 'base64').length, 0);
});

test('quoted-printable: escapes, soft breaks, hard breaks as CRLF, trailing whitespace dropped, bad escapes kept', () => {
  assert.equal(decode('Caf=C3=A9 soft=\nbreak\nline two  \nend', 'quoted-printable').toString(), 'Café softbreak\r\nline two\r\nend');
  assert.equal(decode('a=3d=3Db\r\nc', 'quoted-printable').toString(), 'a==b\r\nc');
  assert.equal(decode('bad =ZZ escape = \nend=4', 'quoted-printable').toString(), 'bad =ZZ escape end=4');
  assert.equal(decode('x=00y', 'quoted-printable').toString('latin1'), 'x\0y');
  assert.equal(decode('soft at end=', 'quoted-printable').toString(), 'soft at end');
});

test('large data comes in pieces of PIECE octets, and a sink can stop the walk', () => {
  const data = Buffer.alloc(3 * PIECE + 17);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const encoded = Buffer.from(data.toString('base64').replace(/(.{76})/g, '$1\n'), 'latin1');
  const sizes: number[] = [];
  decodePieces(encoded, 0, encoded.length, 'base64', (p) => void sizes.push(p.length));
  assert.deepEqual(sizes, [PIECE, PIECE, PIECE, 17]);
  assert.deepEqual(decode(encoded, 'base64'), data);
  let calls = 0;
  decodePieces(encoded, 0, encoded.length, 'base64', () => ++calls < 2);
  assert.equal(calls, 2);
});

test('only [start, end) is decoded', () => {
  const raw = Buffer.from('headerYWJjtrailer');
  const pieces: Buffer[] = [];
  decodePieces(raw, 6, 10, 'base64', (p) => void pieces.push(p));
  assert.equal(Buffer.concat(pieces).toString(), 'abc');
});

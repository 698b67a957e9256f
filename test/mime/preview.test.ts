// PREVIEW text (RFC 8970) from a message (server/mime/preview.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { htmlText, PREVIEW_LENGTH, previewText } from '../../server/mime/preview.js';
import { parseMessage } from '../../server/mime/parse.js';

function preview(message: string | Buffer): string {
  const raw = Buffer.isBuffer(message) ? message : Buffer.from(message, 'utf8');
  return previewText(raw, parseMessage(raw).body);
}

test('plain text: whitespace runs become one space, trimmed, at most 256 characters', () => {
  assert.equal(preview('Subject: x\n\n  Hello\n\n\tworld  \n'), 'Hello world');
  const long = preview(`Subject: x\n\n${'é'.repeat(300)}\n`);
  assert.equal([...long].length, PREVIEW_LENGTH);
  assert.equal(preview('Subject: x\n\n'), '');
  // Characters outside the BMP count as one and are never cut in half.
  const astral = preview(`Subject: x\n\n${'😀'.repeat(300)}`);
  assert.equal([...astral].length, PREVIEW_LENGTH);
  assert.ok(!/[\ud800-\udbff]$/.test(astral));
});

test('the first text part, decoded (transfer encoding and charset); text/plain preferred in an alternative; attachments skipped', () => {
  const mime = [
    'Content-Type: multipart/mixed; boundary=B',
    '',
    '--B',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Disposition: attachment; filename=a.txt',
    '',
    'attached',
    '--B',
    'Content-Type: multipart/alternative; boundary=C',
    '',
    '--C',
    'Content-Type: text/html',
    '',
    '<p>html</p>',
    '--C',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=E9 cr=E8me',
    '--C--',
    '--B--',
    '',
  ].join('\n');
  assert.equal(preview(mime), 'Café crème');
  const b64 = `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${Buffer.from('Grüße  aus\nBerlin').toString('base64')}\n`;
  assert.equal(preview(b64), 'Grüße aus Berlin');
  assert.equal(preview('Content-Type: image/png\nContent-Transfer-Encoding: base64\n\nAAAA\n'), '');
});

test('HTML: tags, comments, script, style and head left out; entities decoded; blocks separate words', () => {
  const html = '<html><head><title>T</title><style>p{color:red}</style></head><body><!-- c --><p>One&nbsp;&amp;&#32;two</p><div>three&#x21; &bogus; &lt;b&gt;</div><script>alert(1)</script>four</body></html>';
  assert.equal(preview(`Content-Type: text/html\n\n${html}`), 'One & two three! &bogus; <b> four');
  assert.equal(htmlText('a<br>b<br/>c'), 'a b c');
  // Unclosed constructs end the text rather than stall.
  assert.equal(htmlText('x <!-- never closed'), 'x ');
  assert.equal(htmlText('x <b never closed'), 'x ');
  assert.equal(htmlText('<script>never closed'), '');
});

test('hostile HTML costs linear time', () => {
  const hostile = '<'.repeat(200_000) + '&'.repeat(200_000) + '<a '.repeat(50_000);
  const started = Date.now();
  htmlText(hostile);
  htmlText('&'.repeat(200_000));
  htmlText('<a>&'.repeat(100_000));
  htmlText('<script>' + '</scrip'.repeat(50_000));
  htmlText('<!--' + '--'.repeat(100_000));
  preview(`Content-Type: text/html\n\n${hostile}`);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

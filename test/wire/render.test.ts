// ENVELOPE and BODYSTRUCTURE made as strings (server/wire/render.ts) are exactly what the general formatters send.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyStructureWire, envelopeWire } from '../../server/wire/render.js';
import { bodyStructureValue } from '../../server/wire/bodystructure.js';
import { envelopeValue } from '../../server/wire/envelope.js';
import { serialize } from '../../server/wire/writer.js';
import { parseHeaderMeta, parseMessage } from '../../server/mime/parse.js';
import type { Address, BodyPart, Envelope } from '../../server/mime/types.js';
import { corpus as imapCorpus } from '../helpers/corpus.js';
import { corpus as mimeCorpus } from '../mime/corpus.js';

const general = (env: Envelope): string => serialize(envelopeValue(env, false)).toString('latin1');
const fast = (env: Envelope): string => envelopeWire(env).toString('latin1');

test('ENVELOPE wire bytes equal the general formatter on both test corpora', () => {
  const raws = [...mimeCorpus().map((e) => e.raw), ...imapCorpus().map((m) => m.data)];
  assert.ok(raws.length > 50);
  for (const raw of raws) {
    const env = parseHeaderMeta(raw, true)!.envelope;
    assert.equal(fast(env), general(env));
  }
});

test('ENVELOPE wire bytes equal the general formatter for awkward fields', () => {
  const a = (name: string | null, mailbox: string | null, host: string | null): Address => ({ name, adl: null, mailbox, host });
  const fields = [
    null,
    '',
    'plain',
    'with "quotes" and \\backslash\\',
    'raw UTF-8 \xc3\xa9t\xc3\xa9 words',
    'latin1 \xe9t\xe9 not UTF-8',
    'x'.repeat(999),
    'y'.repeat(1000),
    'line\r\nbreak and \0 NUL',
    '=?utf-8?B?w6l0w6k=?=',
    '\x7f\x01 controls',
  ];
  for (const value of fields) {
    const env: Envelope = {
      date: value, subject: value, from: [a(value, 'm', 'h')], sender: null, replyTo: null,
      to: value === null ? null : [a(null, 'group', null), a(value, value, value), a(null, null, null)],
      cc: [], bcc: null, inReplyTo: value, messageId: value,
    };
    assert.equal(fast(env), general(env), JSON.stringify(value));
  }
});

test('BODY and BODYSTRUCTURE strings equal the general formatter on both test corpora and awkward parts', () => {
  const raws = [...mimeCorpus().map((e) => e.raw), ...imapCorpus().map((m) => m.data)];
  const check = (body: BodyPart): void => {
    for (const extended of [false, true]) {
      assert.equal(bodyStructureWire(body, extended), serialize(bodyStructureValue(body, extended)).toString('latin1'));
    }
  };
  for (const raw of raws) check(parseMessage(raw).body);
  const part = (fields: Partial<BodyPart>): BodyPart => ({
    type: 'text', subtype: 'plain', params: [], id: null, description: null, encoding: '7bit',
    size: 10, lines: 1, md5: null, disposition: null, language: null, location: null,
    headerStart: 0, bodyStart: 0, bodyEnd: 0, ...fields,
  });
  check(part({ params: [['name', 'caf\xc3\xa9 "x".txt'], ['charset', 'utf-8']], id: '<id>', description: 'd\\e', md5: 'md5', location: 'x'.repeat(1000) }));
  check(part({ type: 'application', subtype: 'pdf', disposition: { type: 'attachment', params: [['filename', 'a b.pdf']] }, language: ['en', 'de'] }));
  check(part({ type: 'multipart', subtype: 'mixed', parts: [] }));
  check(part({ type: 'message', subtype: 'rfc822', message: undefined }));
  check(part({ type: 'message', subtype: 'rfc822', message: { envelope: parseHeaderMeta(Buffer.from('Subject: inner\n\n'), true)!.envelope, body: part({}) } }));
  assert.throws(() => bodyStructureWire(part({ size: -1 }), true), RangeError);
  assert.throws(() => serialize(bodyStructureValue(part({ size: -1 }), true)), RangeError);
});

// The cached ENVELOPE bytes (envelope-wire.ts) are exactly what the general formatter sends.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelopeWire } from '../../server/imap/commands/envelope-wire.js';
import { envelopeValue } from '../../server/imap/format/envelope.js';
import { serialize } from '../../server/imap/protocol/writer.js';
import { parseHeaderMeta } from '../../server/mime/parse.js';
import type { Address, Envelope } from '../../server/mime/types.js';
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

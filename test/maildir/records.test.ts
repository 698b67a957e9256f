// The binary structure and header records (records.ts): every value comes back exactly as it
// went in, a damaged record is refused, and caches of the earlier JSON forms are rebuilt.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { encodeHeader } from '../../server/maildir/derive.js';
import { HEADER_CACHE_FILE, MessageCache, STRUCTURE_CACHE_FILE } from '../../server/maildir/messagecache.js';
import { decodeHeaderRest, decodeStructure, encodeStructure } from '../../server/maildir/records.js';
import { parseHeaderMeta, parseMessage, parseStructure } from '../../server/mime/parse.js';
import type { BodyPart, Envelope } from '../../server/mime/types.js';
import { envelopeWire } from '../../server/wire/render.js';
import { corpus } from '../mime/corpus.js';
import { tempMaildir } from './helpers.js';
import { encodeRecord } from '../../server/maildir/recordlog.js';

test('the structure of every corpus message comes back from its record as parsed', () => {
  for (const entry of corpus()) {
    const { body } = parseMessage(entry.raw);
    assert.deepEqual(decodeStructure(encodeStructure(body)), body, entry.name);
  }
});

const odd = [
  '', 'a', 'x'.repeat(62), 'x'.repeat(63), 'é'.repeat(100), 'y'.repeat(8190), 'y'.repeat(8191), 'z'.repeat(70_000),
  'caf\u00e9 \u00ff', 'snow \u2603', 'emoji \u{1f600}', 'lone \ud800 surrogate', 'lone \udc00', '\u0000nul', `${'w'.repeat(70)}\u20ac`,
];

function envelopeWith(s: string): Envelope {
  const address = { name: s, adl: null, mailbox: s === '' ? null : s, host: 'example.org' };
  return {
    date: s, subject: s, from: [address], sender: [], replyTo: null, to: [address, address],
    cc: null, bcc: null, inReplyTo: null, messageId: s,
  };
}

function partWith(s: string): BodyPart {
  const leaf = (n: number): BodyPart => ({
    type: 'text', subtype: s === '' ? 'plain' : s, params: [['charset', s], [s, 'x']], id: s, description: null, encoding: '7bit',
    size: n * 1_000_003, lines: n, md5: null, disposition: { type: s, params: [] }, language: [s, 'en'], location: s,
    headerStart: n, bodyStart: 2 ** 40 + n, bodyEnd: Number.MAX_SAFE_INTEGER - n,
  });
  return {
    ...leaf(0), type: 'multipart', subtype: 'mixed', disposition: null, language: null,
    parts: [leaf(1), { ...leaf(2), type: 'message', subtype: 'rfc822', message: { envelope: envelopeWith(s), body: { ...leaf(3), parts: [] } } }],
  };
}

test('strings of any length and any characters, large offsets, empty and absent lists come back exactly', () => {
  for (const s of odd) {
    const body = partWith(s);
    assert.deepEqual(decodeStructure(encodeStructure(body)), body, JSON.stringify(s.slice(0, 20)));
    const header = { envelope: envelopeWith(s), references: [s, '<a@b>'], sentDate: -86_400_000.5, decoded: { subject: s, from: s, to: '', cc: '', bcc: s } };
    const record = encodeHeader(header);
    const start = record.indexOf(10) + 1 + ['subject', 'from', 'to', 'cc', 'bcc'].reduce((n, k) => n + Buffer.byteLength(header.decoded[k as 'to']), 0);
    assert.deepEqual(decodeHeaderRest(record, start), { envelope: header.envelope, references: header.references, sentDate: header.sentDate });
  }
});

test('a damaged record decodes to nothing rather than to a wrong structure', () => {
  const record = encodeStructure(parseMessage(corpus()[0].raw).body);
  assert.equal(decodeStructure(record.subarray(0, record.length - 1)), undefined, 'cut short');
  assert.equal(decodeStructure(Buffer.concat([record, Buffer.from([0])])), undefined, 'bytes left over');
  assert.equal(decodeStructure(Buffer.from(JSON.stringify(['text', 'plain', []]))), undefined, 'the earlier JSON form');
  assert.equal(decodeStructure(Buffer.alloc(0)), undefined, 'empty');
});

test('structure and header caches of the earlier JSON forms are replaced, and what they held is made again', async () => {
  const md = tempMaildir();
  try {
    const raw = corpus().find((e) => e.name.includes('multipart'))?.raw ?? corpus()[0].raw;
    const name = `1700000000.M1P1.test,S=${raw.length}:2,S`;
    writeFileSync(path.join(md.root, 'cur', name), raw);
    const base = name.split(':')[0];
    const record = (payload: Buffer): Buffer => encodeRecord(1, base, payload);
    // As the previous version wrote them: nested JSON arrays under the kinds "-2".
    const structureFile = path.join(md.root, STRUCTURE_CACHE_FILE);
    const headerFile = path.join(md.root, HEADER_CACHE_FILE);
    writeFileSync(structureFile, Buffer.concat([Buffer.from('imapd-ts structure-2 1 test-v1\n'), record(Buffer.from('["image","png",[],null,null,"base64",1,0,null,null,null,null,0,0,1,0,0]'))]));
    writeFileSync(headerFile, Buffer.concat([Buffer.from('imapd-ts headers-2 1 test-v1\n'), record(Buffer.from('1 0 0 0 0\nX[[null,"X",null,null,null,null,null,null,null,null],[],null]'))]));
    const open = (): MessageCache => new MessageCache(md.root, {
      parseMessage, parseStructure, parseHeader: parseHeaderMeta, renderEnvelope: envelopeWire, version: 'test-v1', memoryEntries: 100,
    });
    const parsed = parseMessage(raw);
    const header = parseHeaderMeta(raw, true)!;
    for (const round of ['rebuilt', 'read back']) {
      const cache = open();
      const { data } = await cache.get([{ uid: 1, base, fileName: name }], { structure: true, header: true });
      assert.deepEqual(data[0]!.structure, parsed.body, round);
      assert.equal(data[0]!.header!.decoded.subject, header.decoded.subject, round);
      assert.deepEqual(data[0]!.header!.envelope, header.envelope, round);
      assert.deepEqual(data[0]!.header!.references, header.references, round);
      assert.equal(data[0]!.header!.sentDate, header.sentDate, round);
      await cache.save();
      cache.close();
    }
    assert.ok(readFileSync(structureFile).toString('latin1').startsWith('imapd-ts structure-3 1 test-v1\n'));
    assert.ok(readFileSync(headerFile).toString('latin1').startsWith('imapd-ts headers-3 1 test-v1\n'));
  } finally {
    md.cleanup();
  }
});

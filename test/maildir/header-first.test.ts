// The first listing of a folder (FETCH UID FLAGS RFC822.SIZE ENVELOPE) of messages whose names
// carry no ",W=" reads each file whole (RFC822.SIZE counts its bare LFs) and, the file being in
// memory, keeps its MIME structure too. Measured (bench/run.ts, 10k, issue 14): parsing headers
// only took 9% off that FETCH's CPU and tripled BODYSTRUCTURE's (340 -> 1150 ms, Dovecot 390),
// which then reads every file again. Its answers must equal what a whole-message parse gives,
// also for a header longer than the first read and for a message without the blank line that
// ends a header.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseMessage } from '../../server/mime/parse.js';
import { envelopeWire } from '../../server/wire/render.js';
import { crlfSize } from '../../server/maildir/filenames.js';
import { deliver, select, store, storeFixture, tempMaildir } from './helpers.js';

const fx = storeFixture();

/** Records after the header line of a record log (0 when the file is absent). */
function recordBytes(file: string): number {
  if (!existsSync(file)) return 0;
  const data = readFileSync(file);
  return data.length - (data.indexOf(10) + 1);
}

const received = Array.from({ length: 300 }, (_, i) => `Received: from relay${i}.example.net (relay${i}.example.net [192.0.2.${i % 250}]) by mx.example.org\n`).join('');
const messages = [
  Buffer.from('From: "Ann" <ann@example.org>\nTo: b@example.org\nSubject: plain\nDate: Mon, 13 Nov 2023 10:00:00 +0000\n\nHello.\nBye.\n'),
  Buffer.from(
    'From: c@example.org\nTo: d@example.org\nSubject: =?utf-8?B?w6l0w6k=?=\nMessage-ID: <m1@x>\nContent-Type: multipart/mixed; boundary=zz\n\n' +
      '--zz\nContent-Type: text/plain\n\npart one\n--zz\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAAA\n--zz--\n',
  ),
  // A header of about 30 KB, longer than the first read of a header.
  Buffer.from(`${received}From: e@example.org\nTo: f@example.org\nSubject: long header\n\nbody after a long header\n`),
  // No blank line: all header, no body.
  Buffer.from('From: g@example.org\nTo: h@example.org\nSubject: no body'),
  // CRLF line ends and a bare LF among them.
  Buffer.from('From: i@example.org\r\nSubject: crlf\r\n\r\nline one\r\nline two\nline three\r\n'),
];

test('the first ENVELOPE and RFC822.SIZE listing equals a whole parse and keeps the structure for BODYSTRUCTURE', async () => {
  fx.md = tempMaildir();
  for (const m of messages) deliver(fx.md.root, '', m, { dir: 'cur', flags: 'S' }); // names with S= only: no W=
  fx.mail = await store(fx.md.root, { watch: false });
  const folder = await select(fx.mail, 'INBOX');
  const uids = messages.map((_, i) => i + 1);
  const data = await folder.messageData(uids, { info: true, envelope: true });
  for (let i = 0; i < messages.length; i++) {
    const whole = parseMessage(messages[i]);
    assert.equal(data[i]!.size, crlfSize(messages[i]), `RFC822.SIZE of message ${i + 1}`);
    assert.equal(data[i]!.size, whole.size);
    assert.equal(data[i]!.envelope!.toString('latin1'), envelopeWire(whole.envelope).toString('latin1'), `ENVELOPE of message ${i + 1}`);
  }
  folder.release();
  await fx.mail.close();
  fx.mail = undefined;
  await new Promise((resolve) => setTimeout(resolve, 30)); // the idle folder state writes its caches
  assert.ok(recordBytes(path.join(fx.md.root, 'imapd-ts.envelopes')) > 0, 'envelopes kept');
  assert.ok(recordBytes(path.join(fx.md.root, 'imapd-ts.headers')) > 0, 'header data kept');
  assert.ok(recordBytes(path.join(fx.md.root, 'imapd-ts.structure')) > 0, 'structure kept from the same read');

  // BODYSTRUCTURE afterwards (a new process): the structure of a whole parse, and the header
  // data read back from the caches as it was computed.
  fx.mail = await store(fx.md.root, { watch: false });
  const again = await select(fx.mail, 'INBOX');
  const later = await again.messageData(uids, { info: true, envelope: true, header: true, structure: true });
  for (let i = 0; i < messages.length; i++) {
    const whole = parseMessage(messages[i]);
    assert.deepEqual(later[i]!.structure, whole.body, `structure of message ${i + 1}`);
    assert.deepEqual(later[i]!.header!.envelope, whole.envelope);
    assert.equal(later[i]!.header!.decoded.subject, whole.decoded.subject);
    assert.equal(later[i]!.header!.decoded.from, whole.decoded.from);
    assert.deepEqual(later[i]!.header!.references, whole.references);
    assert.equal(later[i]!.size, whole.size);
    assert.ok(later[i]!.envelope!.equals(data[i]!.envelope!));
  }
  again.release();
});

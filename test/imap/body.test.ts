// Message data in FETCH responses: the LF -> CRLF conversion (WebAssembly and JavaScript),
// BODY[section]<partial> written into output blocks against the MIME module's sectionOf, the
// block writer's flow control, and a session whose client does not read.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { CRLF_CHUNK, crlfAccelerated, crlfConvert, crlfLength, crlfPieces, makeConverter } from '../../server/imap/crlf.js';
import { sectionRange, writeSection } from '../../server/imap/commands/body.js';
import { BLOCK_SIZE, BlockWriter, MAX_QUEUED } from '../../server/imap/output.js';
import { sectionOf, type SectionRequest } from '../../server/mime/section.js';
import { parseMessage } from '../../server/mime/parse.js';
import { startSession } from '../../server/imap/session.js';
import { sessionSettingsFrom, settingsFromEnvironment } from '../../server/config/index.js';
import { openMaildirStore } from '../../server/maildir/index.js';
import { corpus, lf } from '../mime/corpus.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

/** What RFC 3501 wants on the wire, made the slow and obvious way. */
function reference(raw: Buffer, start = 0, end = raw.length): Buffer {
  const out: number[] = [];
  for (let i = start; i < end; i++) {
    const c = raw[i];
    const before = i > 0 ? raw[i - 1] : -1;
    if (c === 10 && before !== 13) out.push(13);
    out.push(c === 0 ? 0x80 : c);
  }
  return Buffer.from(out);
}

/** Deterministic bytes with many LF, CR, CRLF and NUL, runs longer and shorter than 16. */
function awkward(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const r = (x >>> 16) % 40;
    out[i] = r === 0 ? 10 : r === 1 ? 13 : r === 2 ? 0 : r === 3 ? 0x80 + (x & 0x7f) : 32 + r;
  }
  return out;
}

const converters = [['js', makeConverter('js')!] as const, ...(makeConverter('wasm') ? [['wasm', makeConverter('wasm')!] as const] : [])];

describe('LF -> CRLF conversion', () => {
  it('uses WebAssembly here (Node 20 has SIMD)', () => {
    assert.equal(crlfAccelerated(), true);
  });

  for (const [kind, convert] of converters) {
    it(`${kind}: bare LF, CRLF already there, a lone CR, NUL, an LF right after the range start`, () => {
      const cases: [string, string][] = [
        ['', ''],
        ['a\nb', 'a\r\nb'],
        ['\n', '\r\n'],
        ['\n\n', '\r\n\r\n'],
        ['line\r\nline\n', 'line\r\nline\r\n'],
        ['a\rb\r', 'a\rb\r'],
        ['a\r\r\nb', 'a\r\r\nb'],
        ['x\0y\n', 'x\x80y\r\n'],
        ['0123456789abcde\n0123456789abcdef\n', '0123456789abcde\r\n0123456789abcdef\r\n'],
        ['0123456789abcdef\r\n0123456789abcdef\n\n\r\n', '0123456789abcdef\r\n0123456789abcdef\r\n\r\n\r\n'],
      ];
      for (const [input, want] of cases) {
        assert.equal(Buffer.from(convert(bin(input), 0, input.length)).toString('latin1'), want, JSON.stringify(input));
      }
      // The byte before the range decides whether an LF at its start is bare.
      assert.equal(Buffer.from(convert(bin('ab\r\ncd'), 3, 6)).toString('latin1'), '\ncd');
      assert.equal(Buffer.from(convert(bin('ab\ncd'), 2, 5)).toString('latin1'), '\r\ncd');
    });

    it(`${kind}: random bytes of many lengths and offsets, as the reference`, () => {
      for (let n = 0; n < 300; n++) {
        const raw = awkward(n * 7 + (n % 17), n + 1);
        const start = n % 5 === 0 ? 0 : Math.min(raw.length, n % 13);
        assert.deepEqual(Buffer.from(convert(raw, start, raw.length)), reference(raw, start), `case ${n}`);
      }
    });
  }

  it('crlfLength counts what the conversion makes', () => {
    for (let n = 1; n < 60; n++) {
      const raw = awkward(n * 31, n);
      const start = n % 7;
      assert.equal(crlfLength(raw, start, raw.length), reference(raw, start).length);
    }
  });

  it('pieces of a large range join up to the whole, and a part of it is cut across pieces', () => {
    const raw = Buffer.concat([bin('x'.repeat(CRLF_CHUNK - 1)), bin('\n\r\n'), awkward(CRLF_CHUNK + 5000, 7)]);
    const want = reference(raw);
    const pieces: Buffer[] = [];
    crlfPieces(raw, 0, raw.length, 0, Infinity, (p) => pieces.push(Buffer.from(p)));
    assert.ok(pieces.length >= 3);
    assert.deepEqual(Buffer.concat(pieces), want);
    const part: Buffer[] = [];
    crlfPieces(raw, 0, raw.length, CRLF_CHUNK - 3, 10, (p) => part.push(Buffer.from(p)));
    assert.deepEqual(Buffer.concat(part), want.subarray(CRLF_CHUNK - 3, CRLF_CHUNK + 7));
    assert.deepEqual(Buffer.from(crlfConvert(bin('a\nb'), 0, 3)), bin('a\r\nb'));
  });
});

/** What writeSection puts out, as one buffer. */
function written(raw: Buffer, section: SectionRequest, partial?: { origin: number; count: number }): Buffer {
  const chunks: Buffer[] = [];
  const out = new BlockWriter((data, done) => {
    chunks.push(Buffer.from(data));
    done();
  }, 4096);
  writeSection(out, raw, parseMessage(raw).body, section, partial);
  out.flush();
  return Buffer.concat(chunks);
}

/** The same from sectionOf: {n} CRLF bytes, or "". */
function expected(raw: Buffer, section: SectionRequest, partial?: { origin: number; count: number }): Buffer {
  let bytes = sectionOf(raw, parseMessage(raw).body, section);
  if (bytes === null) return bin('""');
  if (partial) bytes = bytes.subarray(Math.min(partial.origin, bytes.length), Math.min(bytes.length, partial.origin + partial.count));
  return Buffer.concat([bin(`{${bytes.length}}\r\n`), bytes]);
}

const SECTIONS: SectionRequest[] = [
  { part: [], kind: '' },
  { part: [], kind: 'HEADER' },
  { part: [], kind: 'TEXT' },
  { part: [], kind: 'MIME' },
  { part: [], kind: 'HEADER.FIELDS', fields: ['From', 'Subject'] },
  { part: [], kind: 'HEADER.FIELDS.NOT', fields: ['To'] },
  { part: [1], kind: '' },
  { part: [1], kind: 'MIME' },
  { part: [1], kind: 'HEADER' },
  { part: [2], kind: '' },
  { part: [2], kind: 'TEXT' },
  { part: [2], kind: 'HEADER' },
  { part: [1, 1], kind: '' },
  { part: [1, 2], kind: 'MIME' },
  { part: [3, 1], kind: '' },
  { part: [9], kind: '' },
];

describe('BODY[section] into output blocks', () => {
  it('gives the bytes sectionOf gives, for every section of the MIME corpus, stored with CRLF and with LF', () => {
    let compared = 0;
    for (const entry of corpus()) {
      for (const raw of [entry.raw, bin(lf(entry.raw.toString('latin1')))]) {
        for (const section of SECTIONS) {
          assert.deepEqual(written(raw, section).toString('latin1'), expected(raw, section).toString('latin1'), `${entry.name} ${JSON.stringify(section)}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 100);
  });

  it('cuts a partial fetch out of the converted bytes, also across a converted line end', () => {
    const raw = bin('Subject: partial\n\nab\ncd\n');
    const whole = { part: [], kind: '' } as SectionRequest;
    // converted: "Subject: partial\r\n\r\nab\r\ncd\r\n"; byte 22 is the CR added before "\ncd"
    assert.equal(written(raw, whole, { origin: 21, count: 3 }).toString('latin1'), '{3}\r\nb\r\n');
    assert.equal(written(raw, whole, { origin: 22, count: 1 }).toString('latin1'), '{1}\r\n\r');
    assert.equal(written(raw, whole, { origin: 23, count: 100 }).toString('latin1'), '{5}\r\n\ncd\r\n');
    assert.equal(written(raw, whole, { origin: 500, count: 10 }).toString('latin1'), '{0}\r\n');
    for (let origin = 0; origin < 30; origin += 3) {
      for (const section of SECTIONS.slice(0, 6)) {
        const partial = { origin, count: 4 };
        assert.deepEqual(written(raw, section, partial), expected(raw, section, partial));
      }
    }
  });

  it('converts a section larger than one conversion chunk in pieces, partial fetches included', () => {
    const line = 'a line of the big message body, long enough\n';
    const raw = bin(`Subject: big\n\n${line.repeat(Math.ceil((2.5 * CRLF_CHUNK) / line.length))}`);
    const whole = { part: [], kind: '' } as SectionRequest;
    assert.deepEqual(written(raw, whole), expected(raw, whole));
    const partial = { origin: CRLF_CHUNK + 11, count: CRLF_CHUNK };
    assert.deepEqual(written(raw, whole, partial), expected(raw, whole, partial));
    assert.deepEqual(sectionRange(raw, parseMessage(raw).body, { part: [], kind: 'TEXT' }), [14, raw.length]);
  });
});

describe('BlockWriter', () => {
  it('keeps the order of bytes, copies views, sends large stable buffers without copying', () => {
    const writes: Buffer[] = [];
    let bigSent = false;
    const out = new BlockWriter((data, done) => {
      if (data === big) bigSent = true;
      writes.push(Buffer.from(data)); // the writer may use its blocks again after done()
      done();
    }, 1024, true);
    const view = Buffer.from('abc');
    const big = Buffer.alloc(2000, 0x41);
    out.ascii('* 1 FETCH (BODY[] ');
    out.bytes(view);
    view.fill(0); // reused by the caller: the writer has its own copy
    out.stable(big);
    out.bytes(Buffer.alloc(3000, 0x42));
    out.ascii(')\r\n');
    out.flush();
    assert.ok(bigSent);
    const all = Buffer.concat(writes).toString('latin1');
    assert.equal(all, `* 1 FETCH (BODY[] abc${'A'.repeat(2000)}${'B'.repeat(3000)})\r\n`);
    assert.ok(writes.every((w) => w.length === 2000 || w.length <= 1024));
  });

  it('room() waits while MAX_QUEUED writes are not done, and returns when half of them are', async () => {
    const pending: (() => void)[] = [];
    const out = new BlockWriter((_data, done) => pending.push(done), 16);
    for (let i = 0; i < MAX_QUEUED; i++) out.stable(Buffer.alloc(64));
    let roomy = false;
    const waiting = out.room()!.then(() => (roomy = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(roomy, false);
    pending.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(roomy, false, 'one write done is not enough');
    while (out.pending > MAX_QUEUED >> 1) pending.shift()!();
    await waiting;
    assert.equal(roomy, true);
  });
});

describe('a client that does not read', () => {
  it('holds up a FETCH of whole messages after a few blocks: the folder is not buffered', async () => {
    const dir = tempDir('body');
    const root = emptyMaildir(path.join(dir, 'Maildir'));
    const body = 'a line of text that is there to fill the message up\n'.repeat(2000); // ~100 KB
    const count = 60;
    for (let i = 0; i < count; i++) deliver(root, `Subject: message ${i}\nFrom: a@example.org\n\n${body}`);
    const store = await openMaildirStore({ root, watch: false });
    const input = new PassThrough();
    let accepted = 0;
    let written = 0;
    // A transport whose client never reads: the first write is "in the kernel" for ever.
    const output = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        accepted += chunk.length;
        if (written++ < 3) callback();
      },
    });
    const logger = { log: () => undefined };
    const handle = startSession({
      transport: { input, output, remoteAddress: 'test', secure: true, close: () => output.destroy() },
      settings: sessionSettingsFrom(settingsFromEnvironment({}).settings),
      logger,
      preauth: { user: 'test', store },
    });
    try {
      input.write('a SELECT INBOX\r\nb FETCH 1:* (BODY.PEEK[])\r\n');
      // Let the server run until it stops making progress.
      let last = -1;
      for (let turns = 0; turns < 200 && output.writableLength + accepted !== last; turns++) {
        last = output.writableLength + accepted;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const held = output.writableLength + accepted;
      const total = count * body.length;
      assert.ok(held < (MAX_QUEUED + 4) * BLOCK_SIZE, `${held} bytes queued`);
      assert.ok(held < total / 2, `${held} of ${total} bytes queued`);
    } finally {
      handle.disconnect(null);
      await handle.closed;
      await store.close();
      removeTree(dir);
    }
  });
});

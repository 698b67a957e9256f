// Whole messages read for FETCH BODY[] and SEARCH TEXT share one buffer per command (RawArena):
// each batch's messages are placed where the last batch's were. The bytes on the wire must
// be each message's own, across batches, for messages too large for the arena, and with two
// sessions of one store fetching at the same time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough, Writable } from 'node:stream';
import { RawArena } from '../../server/backend/mailstore.js';
import { sessionSettingsFrom, settingsFromEnvironment } from '../../server/config/index.js';
import { startSession } from '../../server/imap/session.js';
import { openMaildirStore } from '../../server/maildir/index.js';
import type { MailStore } from '../../server/backend/mailstore.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

describe('RawArena', () => {
  it('places the messages of one request apart, and again from the start after reset', () => {
    const arena = new RawArena();
    const a = arena.take(1000);
    const b = arena.take(3000);
    a.fill(1);
    b.fill(2);
    assert.ok(a.every((x) => x === 1) && b.every((x) => x === 2), 'no overlap');
    assert.equal(a.buffer, b.buffer, 'one block');
    arena.reset();
    const c = arena.take(10);
    assert.equal(c.buffer, a.buffer);
    assert.equal(c.byteOffset, a.byteOffset, 'used again after reset');
  });

  it('gives a large message a buffer of its own, and a new block when the block is full', () => {
    const arena = new RawArena();
    const small = arena.take(100);
    const large = arena.take(1024 * 1024);
    assert.notEqual(large.buffer, small.buffer);
    const many = Array.from({ length: 8 }, () => arena.take(200 * 1024));
    many.forEach((m, i) => m.fill(i));
    many.forEach((m, i) => assert.ok(m.every((x) => x === i), `message ${i} intact`));
  });
});

/** A message whose body is its own number repeated: sizes from 1 KB to 400 KB. */
function message(i: number): string {
  const size = i % 17 === 0 ? 300_000 + i * 1000 : 500 + ((i * 7919) % 40_000);
  const word = i % 3 === 0 ? ` marker${i % 10}` : '';
  const line = `message ${i} line${word}\n`;
  return `From: a@example.org\nSubject: m ${i}\nMessage-ID: <${i}@example.org>\n\n${line.repeat(Math.ceil(size / line.length))}`;
}

/** Runs commands in an in-process session; returns everything the server wrote. */
async function session(store: MailStore, commands: string): Promise<Buffer> {
  const input = new PassThrough();
  const chunks: Buffer[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      if (chunk.includes('z OK')) done();
      // A slow reader: the command waits for room between messages, the other session runs.
      setTimeout(callback, 1);
    },
  });
  startSession({
    transport: { input, output, remoteAddress: 'test', secure: true, close: () => output.destroy() },
    settings: sessionSettingsFrom(settingsFromEnvironment({}).settings),
    logger: { log: () => undefined },
    preauth: { user: 'test', store },
  });
  input.write(`${commands}z NOOP\r\n`);
  await finished;
  input.end();
  return Buffer.concat(chunks);
}

/** The BODY[] literals of the FETCH responses, by sequence number. */
function bodies(wire: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const head = /\* (\d+) FETCH \(BODY\[\] \{(\d+)\}\r\n/g;
  const text = wire.toString('latin1');
  for (let m = head.exec(text); m; m = head.exec(text)) {
    const start = m.index + m[0].length;
    out.set(Number(m[1]), wire.subarray(start, start + Number(m[2])));
    head.lastIndex = start + Number(m[2]);
  }
  return out;
}

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

describe('messages through the arena', () => {
  it('FETCH BODY[] of 120 messages in several batches, two sessions at once: every body its own', async () => {
    const dir = tempDir('raw-arena-');
    try {
      const root = emptyMaildir(dir);
      const count = 120;
      for (let i = 1; i <= count; i++) deliver(root, message(i));
      const store = await openMaildirStore({ root, watch: false });
      try {
        // Different messages in each session's batches (the same ones would hide an overwrite).
        const even = Array.from({ length: count / 2 }, (_, k) => 2 * (k + 1));
        const [one, two] = await Promise.all([
          session(store, 'a SELECT INBOX\r\nb FETCH 1:* (BODY.PEEK[])\r\n'),
          session(store, `a SELECT INBOX\r\nb FETCH ${even.join(',')} (BODY.PEEK[])\r\n`),
        ]);
        for (const [wire, expected] of [[one, Array.from({ length: count }, (_, k) => k + 1)], [two, even]] as const) {
          const got = bodies(wire);
          assert.equal(got.size, expected.length);
          // Delivered in order: sequence number i is message i.
          for (const i of expected) assert.ok(got.get(i)!.equals(crlf(message(i))), `message ${i}`);
        }
      } finally {
        await store.close();
      }
    } finally {
      removeTree(dir);
    }
  });

  it('SEARCH TEXT over batches of messages read into the arena finds exactly the messages with the word', async () => {
    const dir = tempDir('raw-arena-');
    try {
      const root = emptyMaildir(dir);
      const count = 200;
      for (let i = 1; i <= count; i++) deliver(root, message(i));
      const store = await openMaildirStore({ root, watch: false });
      try {
        const wire = (await session(store, 'a SELECT INBOX\r\nb SEARCH TEXT marker3\r\n')).toString('latin1');
        const found = /\* SEARCH([\d ]*)\r\n/.exec(wire)![1].trim().split(' ').map(Number);
        const expected = Array.from({ length: count }, (_, k) => k + 1).filter((i) => i % 3 === 0 && i % 10 === 3);
        assert.deepEqual(found, expected);
      } finally {
        await store.close();
      }
    } finally {
      removeTree(dir);
    }
  });
});

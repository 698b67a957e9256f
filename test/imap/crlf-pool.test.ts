// Whole messages read into the converter's own memory and converted straight into output
// blocks there (crlf-pool.ts): the same bytes as the copying path, the byte before a message
// in the arena not taken for its own, the literal's length right when its digits were guessed
// wrong, blocks given back, and the copying path when the pool has no block left.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawArena } from '../../server/backend/mailstore.js';
import { writeSection } from '../../server/imap/commands/body.js';
import { arenaBlocks, DIRECT_MAX, outputBlocks } from '../../server/imap/crlf-pool.js';
import { BLOCK_SIZE, BlockWriter } from '../../server/imap/output.js';
import type { SectionSpec } from '../../server/imap/protocol/types.js';
import { parseMessage } from '../../server/mime/parse.js';
import { corpus, lf } from '../mime/corpus.js';
import { crlfReference } from '../helpers/crlf-reference.js';

const WHOLE: SectionSpec = { part: [], kind: '' };
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

function mixed(size: number, seed: number): Buffer {
  const ends = ['\n', '\r\n', '\r', '\n\0', '\n\n'];
  let x = seed;
  let text = 'Subject: x\n\n';
  while (text.length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    text += 'abc '.repeat((x >>> 8) % 20) + ends[(x >>> 16) % ends.length];
  }
  return bin(text.slice(0, size));
}

/** The messages placed one after the other in an arena, written as FETCH does; the writes seen. */
function fetchLike(messages: Buffer[], arena: RawArena | null, direct: boolean): { bytes: Buffer; writes: Buffer[] } {
  const chunks: Buffer[] = [];
  const writes: Buffer[] = [];
  const out = new BlockWriter((data, done) => {
    chunks.push(Buffer.from(data)); // the block is used again after done()
    writes.push(data);
    done();
  }, BLOCK_SIZE, true, direct ? outputBlocks(BLOCK_SIZE) : null);
  const placed = messages.map((m) => {
    if (!arena) return m;
    const room = arena.take(m.length);
    m.copy(room);
    return room;
  });
  for (const raw of placed) {
    out.ascii('* 1 FETCH (BODY[] ');
    writeSection(out, raw, undefined, WHOLE);
    out.ascii(')\r\n');
  }
  out.close();
  arena?.release();
  return { bytes: Buffer.concat(chunks), writes };
}

function expected(messages: Buffer[]): Buffer {
  return Buffer.concat(messages.map((m) => Buffer.concat([bin(`* 1 FETCH (BODY[] {${crlfReference(m).length}}\r\n`), crlfReference(m), bin(')\r\n')])));
}

describe('converting into the pool', () => {
  const pool = outputBlocks(BLOCK_SIZE);
  const memory = (() => {
    const b = pool!.take()!;
    pool!.give(b);
    return b.buffer;
  })();

  it('gives the bytes of the copying path, written from the pool, for messages in and out of the arena', () => {
    const messages = [
      bin('Subject: a\n\nends with CR\r'), // 26 bytes: with padding to 8, the next starts apart
      bin('abcdefg\r'), // 8 bytes: the next message starts right after this CR
      bin('\nstarts with LF\n'),
      bin('\n'),
      bin(''),
      bin('Subject: crlf\r\n\r\nalready\r\n'),
      ...Array.from({ length: 60 }, (_, i) => mixed([40, 700, 5000, 16000, 70000, DIRECT_MAX][i % 6], i + 1)),
      mixed(DIRECT_MAX + 1, 7), // too large for the direct path
      mixed(300_000, 8), // larger than an arena's one-message limit
    ];
    const want = expected(messages);
    const copying = fetchLike(messages, null, false);
    assert.ok(copying.bytes.equals(want));
    for (const arena of [new RawArena(arenaBlocks()), new RawArena(), null]) {
      const { bytes, writes } = fetchLike(messages, arena, true);
      assert.ok(bytes.equals(want));
      assert.ok(writes.some((w) => w.buffer === memory), 'blocks of the pool were written');
    }
  });

  it('gives the bytes of the copying path for sections that start inside the message (the byte before them is theirs)', () => {
    const sections: SectionSpec[] = [
      { part: [], kind: 'HEADER' },
      { part: [], kind: 'TEXT' },
      { part: [1], kind: '' },
      { part: [1], kind: 'MIME' },
      { part: [2], kind: '' },
      { part: [2], kind: 'TEXT' },
      { part: [1, 2], kind: '' },
    ];
    const write = (raw: Buffer, section: SectionSpec, direct: boolean): { bytes: Buffer; pooled: boolean } => {
      const chunks: Buffer[] = [];
      let pooled = false;
      const out = new BlockWriter((data, done) => {
        chunks.push(Buffer.from(data));
        pooled ||= data.buffer === memory;
        done();
      }, BLOCK_SIZE, true, direct ? outputBlocks(BLOCK_SIZE) : null);
      writeSection(out, raw, parseMessage(raw).body, section);
      out.close();
      return { bytes: Buffer.concat(chunks), pooled };
    };
    let compared = 0;
    const arena = new RawArena(arenaBlocks());
    for (const entry of corpus()) {
      for (const stored of [entry.raw, bin(lf(entry.raw.toString('latin1')))]) {
        arena.reset();
        const raw = arena.take(stored.length);
        stored.copy(raw);
        for (const section of sections) {
          const direct = write(raw, section, true);
          assert.ok(direct.bytes.equals(write(stored, section, false).bytes), `${entry.name} ${JSON.stringify(section)}`);
          assert.ok(direct.pooled);
          compared++;
        }
      }
    }
    arena.release();
    assert.ok(compared > 50);
  });

  it('moves the bytes when the literal has more or fewer digits than guessed', () => {
    // 9,990 bytes without LF: 4 digits (guessed 5); 9,000 LFs: 18,000 bytes (guessed 4).
    const messages = [bin('x'.repeat(9990)), bin('\n'.repeat(9000)), bin('y'.repeat(99_999)), bin('\n'.repeat(50_000) + 'z'.repeat(2))];
    const { bytes, writes } = fetchLike(messages, new RawArena(arenaBlocks()), true);
    assert.ok(bytes.equals(expected(messages)));
    assert.ok(writes.every((w) => w.buffer === memory));
  });

  it('gives every block back, and takes the copying path when the pool has none left', () => {
    const taken: Buffer[] = [];
    for (let b = pool!.take(); b; b = pool!.take()) taken.push(b);
    const arenaPool = arenaBlocks()!;
    const arenaTaken: Buffer[] = [];
    for (let b = arenaPool.take(); b; b = arenaPool.take()) arenaTaken.push(b);
    try {
      const messages = Array.from({ length: 30 }, (_, i) => mixed(3000 + i * 1000, i));
      const { bytes, writes } = fetchLike(messages, new RawArena(arenaBlocks()), true);
      assert.ok(bytes.equals(expected(messages)));
      assert.ok(writes.every((w) => w.buffer !== memory));
      assert.equal(pool!.take(), null);
    } finally {
      for (const b of taken) pool!.give(b);
      for (const b of arenaTaken) arenaPool.give(b);
    }
    assert.ok(taken.length >= 4 && arenaTaken.length >= 1);
    // All of them back after a FETCH that used them.
    fetchLike([mixed(200_000, 1), mixed(100_000, 2), mixed(100_000, 3)], new RawArena(arenaBlocks()), true);
    const again: Buffer[] = [];
    for (let b = pool!.take(); b; b = pool!.take()) again.push(b);
    for (const b of again) pool!.give(b);
    assert.equal(again.length, taken.length);
  });
});

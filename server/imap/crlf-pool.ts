// Whole messages for FETCH without the two copies around the conversion (crlf.ts): the files
// are read into blocks of the converter's own WebAssembly memory (RawArena blocks), and the
// converted bytes are written by the converter straight into output blocks that are also in
// that memory (BlockWriter blocks), which go to the transport as they are. Otherwise each
// message is copied into the module's memory before the conversion and out of it after.
//
// The memory is made once, of a fixed size, and never grown: growing a WebAssembly memory
// detaches every view of it, and these blocks are views held by the transport until written.
// Blocks are lent to one command at a time and given back when it ends (or, for an output
// block, when its write is done); when all are lent, a command gets ordinary buffers and the
// copying path, with the same bytes.

import type { BlockSource } from '../backend/mailstore.js';
import { crlfInstance, type CrlfInstance } from './crlf.js';

/** Input bytes converted in place at most (a message must fit a block with its worst case). */
export const DIRECT_MAX = 112 * 1024;
/** Arena blocks (RawArena's block size) and output blocks (BlockWriter's) in the memory. */
const ARENA_BLOCK = 1024 * 1024;
const ARENA_BLOCKS = 2;
const OUTPUT_BLOCK = 256 * 1024;
const OUTPUT_BLOCKS = 8;
/** Where a message that is not in the memory is copied for the conversion. */
const IN = 16;
const PAGE = 65536;

class Blocks implements BlockSource {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly memory: ArrayBuffer,
    private readonly start: number,
    private readonly end: number,
    readonly size: number,
  ) {
    for (let at = start; at + size <= end; at += size) this.free.push(Buffer.from(memory, at, size));
  }

  take(): Buffer | null {
    return this.free.pop() ?? null;
  }

  give(block: Buffer): void {
    // Only whole blocks of this pool come back (a view of part of one would be lent twice).
    if (block.buffer === this.memory && block.length === this.size && block.byteOffset >= this.start && block.byteOffset < this.end) this.free.push(block);
  }
}

interface Pool {
  instance: CrlfInstance;
  heap: Uint8Array;
  arena: Blocks;
  output: Blocks;
}

let pool: Pool | null | undefined;

function thePool(): Pool | null {
  if (pool !== undefined) return pool;
  const instance = crlfInstance();
  if (!instance) return (pool = null);
  const arenaStart = IN + DIRECT_MAX + 64;
  const outputStart = arenaStart + ARENA_BLOCKS * ARENA_BLOCK + 64;
  const end = outputStart + OUTPUT_BLOCKS * OUTPUT_BLOCK;
  instance.mem.grow(Math.ceil(end / PAGE) - instance.mem.buffer.byteLength / PAGE);
  const memory = instance.mem.buffer;
  pool = {
    instance,
    heap: new Uint8Array(memory),
    arena: new Blocks(memory, arenaStart, arenaStart + ARENA_BLOCKS * ARENA_BLOCK, ARENA_BLOCK),
    output: new Blocks(memory, outputStart, end, OUTPUT_BLOCK),
  };
  return pool;
}

/** Blocks for a RawArena (ARENA_BLOCK bytes), or null without WebAssembly SIMD. */
export function arenaBlocks(): BlockSource | null {
  return thePool()?.arena ?? null;
}

/** Output blocks of `size` bytes for a BlockWriter, or null (no such blocks here). */
export function outputBlocks(size: number): BlockSource | null {
  const p = thePool();
  return p && size === OUTPUT_BLOCK ? p.output : null;
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/**
 * Writes raw[start, end) converted as a literal, "{n}" CRLF and the bytes, into `block` (an
 * output block of the pool) from `at`; returns where it ends, or -1 when it cannot: the block
 * is not the pool's, the range is too large, or the block has too little room for the worst
 * case (twice the bytes).
 */
export function literalInto(raw: Buffer, start: number, end: number, block: Buffer, at: number): number {
  const p = pool;
  if (!p || block.buffer !== p.heap.buffer) return -1;
  const len = end - start;
  if (len > DIRECT_MAX) return -1;
  // The literal's length is known once converted: the bytes go after room for the digits of
  // a likely length (about one line end in 64 bytes), moved by a byte or two when that was wrong.
  const guessed = digits(len + (len >> 6)) + 4; // "{" digits "}" CRLF
  const dst = block.byteOffset + at + guessed;
  if (dst + 2 * len + 16 > block.byteOffset + block.length) return -1;
  const { heap, instance } = p;
  let src: number;
  let before = -1;
  let saved = 0;
  if (raw.buffer === heap.buffer) {
    // In place: the byte before the range tells whether an LF at its start is bare; for a
    // whole message it is another message's byte, set to 0 for the call.
    src = raw.byteOffset + start;
    if (start === 0) {
      before = src - 1;
      saved = heap[before];
      heap[before] = 0;
    }
  } else {
    heap[IN - 1] = start > 0 ? raw[start - 1] : 0;
    heap.set(raw.subarray(start, end), IN);
    src = IN;
  }
  const stop = instance.crlf(src, len, dst);
  if (before >= 0) heap[before] = saved;
  const n = stop - dst;
  const header = digits(n) + 4;
  const data = block.byteOffset + at + header;
  if (data !== dst) heap.copyWithin(data, dst, stop);
  // "{n}" CRLF, digit by digit (a string per message shows in profiles)
  let q = data - 3;
  heap[q] = 0x7d; // }
  heap[q + 1] = 13;
  heap[q + 2] = 10;
  for (let v = n; ; v = Math.floor(v / 10)) {
    heap[--q] = 0x30 + (v % 10);
    if (v < 10) break;
  }
  heap[q - 1] = 0x7b; // {
  return at + header + n;
}

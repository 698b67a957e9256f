// Message bytes as sent in BODY[...] literals: every bare LF becomes CRLF (Maildir files are
// usually stored with LF line ends) and NUL becomes 0x80 (RFC 3501 section 9 forbids NUL in a
// literal; Dovecot does the same). An LF whose CR is already there, and a lone CR, stay as
// they are.
//
// This is the hot loop of a FETCH of whole messages. In JavaScript it runs at 300-550 MB/s on
// our machines (byte loops, or latin1 strings with replaceAll), so it is done by a tiny
// WebAssembly function with 16-byte SIMD compares (2-3 GB/s with the copies in and out). The
// module is assembled below from its text form; where WebAssembly SIMD is missing, a plain
// loop does the same.

const LF = 10;
const CR = 13;

/** Input bytes converted at once; larger ranges go through in pieces of this size. */
export const CRLF_CHUNK = 1 << 20;

/** Converted bytes of raw[start, end): the view is valid until the next call. */
type Converter = (raw: Uint8Array, start: number, end: number) => Uint8Array;

// ---- the WebAssembly module ------------------------------------------------------------------
//
// (func (export "crlf") (param $src i32) (param $len i32) (param $dst i32) (result i32)
//   ;; Converts [src, src+len) to dst and returns the end of the output. The byte at src-1 is
//   ;; the one before the range (0 if none): an LF at src is bare unless it is a CR. dst needs
//   ;; 2*len + 16 bytes (16-byte stores may run past the output).
//   (local $end i32) (local $m i32) (local $n i32) (local $v v128) (local $lfs v128) (local $nuls v128)
//   end = src + len; lfs = i8x16.splat(10); nuls = i8x16.splat(0)
//   block loop                                   ;; 16 bytes at a time
//     br_if 1 (src + 16 > end)
//     v = v128.load(src); v128.store(dst, v)     ;; copied as they are, fixed up below
//     m = i8x16.bitmask(i8x16.eq(v, lfs) | i8x16.eq(v, nuls))
//     if (m == 0) { src += 16; dst += 16; br 1 }
//     n = ctz(m); src += n; dst += n; m = load8_u(src)
//     <one byte>                                  ;; the LF or NUL at src
//     br 0
//   end end
//   block loop                                   ;; the last < 16 bytes, one at a time
//     br_if 1 (src >= end)
//     m = load8_u(src); <one byte>; br 0
//   end end
//   dst)
// <one byte>: if (m == 10 && load8_u(src - 1) != 13) { store8(dst, 13); dst++ }
//             if (m == 0) m = 0x80; store8(dst, m); dst++; src++

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function moduleBytes(): Uint8Array {
  const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
  const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
  const get = (i: number): number[] => [0x20, i];
  const set = (i: number): number[] => [0x21, i];
  const tee = (i: number): number[] => [0x22, i];
  const i32 = (n: number): number[] => [0x41, ...sleb(n)];
  const [ADD, SUB, GT_U, GE_U, EQ, NE, EQZ, CTZ, END] = [0x6a, 0x6b, 0x4b, 0x4f, 0x46, 0x47, 0x45, 0x68, 0x0b];
  const LOAD8 = [0x2d, 0, 0];
  const STORE8 = [0x3a, 0, 0];
  const BLOCK = [0x02, 0x40];
  const LOOP = [0x03, 0x40];
  const IF = [0x04, 0x40];
  const br = (depth: number): number[] => [0x0c, depth];
  const brIf = (depth: number): number[] => [0x0d, depth];
  const V128_LOAD = [0xfd, 0x00, 0, 0];
  const V128_STORE = [0xfd, 0x0b, 0, 0];
  const SPLAT = [0xfd, 0x0f];
  const I8_EQ = [0xfd, 0x23];
  const V128_OR = [0xfd, 0x50];
  const BITMASK = [0xfd, 0x64];
  // params 0 src, 1 len, 2 dst; locals 3 end, 4 m, 5 n (i32), 6 v, 7 lfs, 8 nuls (v128)
  const [SRC, LEN, DST, E, M, N, V, LFS, NULS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const inc = (local: number, k: number): number[] => [...get(local), ...i32(k), ADD, ...set(local)];
  const oneByte = [
    ...get(M), ...i32(LF), EQ, ...IF,
    ...get(SRC), ...i32(1), SUB, ...LOAD8, ...i32(CR), NE, ...IF,
    ...get(DST), ...i32(CR), ...STORE8, ...inc(DST, 1),
    END, END,
    ...get(M), EQZ, ...IF, ...i32(0x80), ...set(M), END,
    ...get(DST), ...get(M), ...STORE8, ...inc(DST, 1), ...inc(SRC, 1),
  ];
  const body = [
    2, 3, 0x7f, 3, 0x7b, // locals: 3 x i32, 3 x v128
    ...get(SRC), ...get(LEN), ADD, ...set(E),
    ...i32(LF), ...SPLAT, ...set(LFS), ...i32(0), ...SPLAT, ...set(NULS),
    ...BLOCK, ...LOOP,
    ...get(SRC), ...i32(16), ADD, ...get(E), GT_U, ...brIf(1),
    ...get(DST), ...get(SRC), ...V128_LOAD, ...tee(V), ...V128_STORE,
    ...get(V), ...get(LFS), ...I8_EQ, ...get(V), ...get(NULS), ...I8_EQ, ...V128_OR, ...BITMASK, ...tee(M), EQZ,
    ...IF, ...inc(SRC, 16), ...inc(DST, 16), ...br(1), END,
    ...get(M), CTZ, ...tee(N), ...get(SRC), ADD, ...set(SRC), ...get(DST), ...get(N), ADD, ...set(DST),
    ...get(SRC), ...LOAD8, ...set(M), ...oneByte,
    ...br(0),
    END, END,
    ...BLOCK, ...LOOP,
    ...get(SRC), ...get(E), GE_U, ...brIf(1),
    ...get(SRC), ...LOAD8, ...set(M), ...oneByte,
    ...br(0),
    END, END,
    ...get(DST), END,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]), // type: (i32 i32 i32) -> i32
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0x00, 1]), // memory: 1 page to start, grown as needed
    ...section(7, [2, ...name('mem'), 0x02, 0, ...name('crlf'), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

// The few WebAssembly declarations we use (the project's lib settings have none).
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { mem: WasmMemory; crlf: (src: number, len: number, dst: number) => number } };
}

/** Where the input goes in the module's memory; the byte before it is the one before the range. */
const IN = 16;
const PAGE = 65536;

/** The module's memory and function: crlf(src, len, dst) -> end of the output (see above). */
export interface CrlfInstance {
  mem: WasmMemory;
  crlf: (src: number, len: number, dst: number) => number;
}

/** A new instance of the module (memory of its own), or null where WebAssembly SIMD is missing. */
export function crlfInstance(): CrlfInstance | null {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return null;
  try {
    const bytes = moduleBytes();
    if (!api.validate(bytes)) return null; // no SIMD
    return new api.Instance(new api.Module(bytes)).exports;
  } catch {
    return null;
  }
}

function wasmConverter(): Converter | null {
  const exports = crlfInstance();
  if (!exports) return null;
  const { mem, crlf } = exports;
  // Room for a whole chunk from the start, and the function compiled by one call: the first
  // FETCH does not pay for either.
  mem.grow(Math.ceil((IN + 3 * CRLF_CHUNK + 64) / PAGE) - mem.buffer.byteLength / PAGE);
  let heap = new Uint8Array(mem.buffer);
  crlf(IN, 0, IN + 16);
  return (raw, start, end) => {
    const len = end - start;
    const out = IN + len + 16;
    const need = out + 2 * len + 16;
    if (need > heap.length) {
      mem.grow(Math.ceil((need - heap.length) / PAGE));
      heap = new Uint8Array(mem.buffer);
    }
    heap[IN - 1] = start > 0 ? raw[start - 1] : 0;
    heap.set(raw.subarray(start, end), IN);
    return heap.subarray(out, crlf(IN, len, out));
  };
}

/** The same in JavaScript (no WebAssembly SIMD): slower, same bytes. */
function jsConverter(): Converter {
  let scratch = new Uint8Array(0);
  return (raw, start, end) => {
    if (scratch.length < 2 * (end - start)) scratch = new Uint8Array(2 * (end - start));
    const out = scratch;
    let j = 0;
    let previous = start > 0 ? raw[start - 1] : 0;
    for (let i = start; i < end; i++) {
      const c = raw[i];
      if (c === LF && previous !== CR) out[j++] = CR;
      out[j++] = c === 0 ? 0x80 : c;
      previous = c;
    }
    return out.subarray(0, j);
  };
}

let converter: Converter | undefined;
let accelerated = false;
// Made when the module loads (a few milliseconds at start rather than in the first FETCH).
current();

/** A converter of the given kind (tests compare them); null when WebAssembly SIMD is missing. */
export function makeConverter(kind: 'wasm' | 'js'): Converter | null {
  return kind === 'wasm' ? wasmConverter() : jsConverter();
}

function current(): Converter {
  if (!converter) {
    const wasm = wasmConverter();
    accelerated = wasm !== null;
    converter = wasm ?? jsConverter();
  }
  return converter;
}

/** Converted raw[start, end) for end - start <= CRLF_CHUNK; valid until the next call. */
export function crlfConvert(raw: Uint8Array, start: number, end: number): Uint8Array {
  return current()(raw, start, end);
}

/** Whether the WebAssembly converter is in use. */
export function crlfAccelerated(): boolean {
  current();
  return accelerated;
}

/** Length of raw[start, end) once converted (only LF adds a byte). */
export function crlfLength(raw: Buffer, start: number, end: number): number {
  let length = end - start;
  let previous = start > 0 ? raw[start - 1] : 0;
  let at = start;
  for (;;) {
    const lf = raw.indexOf(LF, at);
    if (lf < 0 || lf >= end) return length;
    if ((lf === at ? previous : raw[lf - 1]) !== CR) length++;
    previous = LF;
    at = lf + 1;
  }
}

/**
 * Converted raw[start, end), or the part [from, from + count) of it, handed to `emit` in
 * pieces (each valid only during the call), CRLF_CHUNK input bytes at a time.
 */
export function crlfPieces(raw: Uint8Array, start: number, end: number, from: number, count: number, emit: (piece: Uint8Array) => void): void {
  let position = 0; // in the converted bytes
  const stop = from + count;
  for (let a = start; a < end && position < stop; a += CRLF_CHUNK) {
    const piece = crlfConvert(raw, a, Math.min(end, a + CRLF_CHUNK));
    const lo = Math.max(0, from - position);
    const hi = Math.min(piece.length, stop - position);
    if (lo < hi) emit(lo === 0 && hi === piece.length ? piece : piece.subarray(lo, hi));
    position += piece.length;
  }
}

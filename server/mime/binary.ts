// Content-Transfer-Encoding undone a piece at a time, for IMAP BINARY (RFC 3516): the decoded
// bytes of [start, end) of a stored message go to a callback in pieces of at most PIECE octets,
// so that a 40 MB attachment never becomes a second 40 MB buffer. The same walk counts them
// (BINARY.SIZE, and the literal's length before its data) without keeping them.
//
// Line ends: the stored file may have LF or CRLF; the canonical form (RFC 2045 2.10) has CRLF.
// Identity encodings (7bit, 8bit, binary) get every bare LF as CRLF, as BODY[] does; quoted-
// printable's hard line breaks become CRLF and the whitespace ending a line is dropped (RFC 2045
// 6.7 (3), as Dovecot); base64 ignores everything outside its alphabet (RFC 2045 6.8), line ends
// included, and stops at "=". NUL and other octets come out as they are.

/** Decoded octets per piece given to the callback. */
export const PIECE = 64 * 1024;

export type TransferEncoding = 'identity' | 'base64' | 'quoted-printable';

/** The decoding a Content-Transfer-Encoding value needs, or null for an encoding we do not know (UNKNOWN-CTE). */
export function transferEncoding(value: string): TransferEncoding | null {
  switch (value.trim().toLowerCase()) {
    case '':
    case '7bit':
    case '8bit':
    case 'binary':
      return 'identity';
    case 'base64':
      return 'base64';
    case 'quoted-printable':
      return 'quoted-printable';
    default:
      return null;
  }
}

/** Gets each decoded piece in order; returning false stops the walk. */
export type PieceSink = (piece: Buffer) => boolean | void;

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
}

/** Collects output octets into pieces of PIECE; `stopped` once the sink said so. */
class Pieces {
  private buf = Buffer.allocUnsafe(PIECE);
  private n = 0;
  stopped = false;

  constructor(private readonly sink: PieceSink) {}

  push(byte: number): void {
    this.buf[this.n++] = byte;
    if (this.n === PIECE) this.flush();
  }

  flush(): void {
    if (this.n === 0 || this.stopped) return;
    const piece = this.buf.subarray(0, this.n);
    this.buf = Buffer.allocUnsafe(PIECE); // the sink may keep the piece
    this.n = 0;
    if (this.sink(piece) === false) this.stopped = true;
  }
}

/** Decodes raw[start, end) as `encoding` into `sink`. */
export function decodePieces(raw: Buffer, start: number, end: number, encoding: TransferEncoding, sink: PieceSink): void {
  const out = new Pieces(sink);
  if (encoding === 'base64') base64(raw, start, end, out);
  else if (encoding === 'quoted-printable') quotedPrintable(raw, start, end, out);
  else identity(raw, start, end, out);
  out.flush();
}

/** Size of the decoded data and whether it holds a NUL (then it goes out as literal8). */
export function decodedSize(raw: Buffer, start: number, end: number, encoding: TransferEncoding): { size: number; nul: boolean } {
  let size = 0;
  let nul = false;
  decodePieces(raw, start, end, encoding, (piece) => {
    size += piece.length;
    if (!nul && piece.indexOf(0) >= 0) nul = true;
  });
  return { size, nul };
}

function identity(raw: Buffer, start: number, end: number, out: Pieces): void {
  for (let i = start; i < end && !out.stopped; i++) {
    const c = raw[i];
    if (c === 10 && (i === start || raw[i - 1] !== 13)) out.push(13);
    out.push(c);
  }
}

function base64(raw: Buffer, start: number, end: number, out: Pieces): void {
  let acc = 0;
  let bits = 0;
  for (let i = start; i < end && !out.stopped; i++) {
    const c = raw[i];
    if (c === 61 /* = */) break;
    const v = B64[c];
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
}

function quotedPrintable(raw: Buffer, start: number, end: number, out: Pieces): void {
  let lineStart = start;
  while (lineStart < end && !out.stopped) {
    let lf = raw.indexOf(10, lineStart);
    if (lf < 0 || lf >= end) lf = end;
    // The line without its end and the whitespace before it.
    let stop = lf;
    if (stop > lineStart && raw[stop - 1] === 13) stop--;
    while (stop > lineStart && (raw[stop - 1] === 32 || raw[stop - 1] === 9)) stop--;
    const soft = stop > lineStart && raw[stop - 1] === 61;
    if (soft) stop--;
    for (let i = lineStart; i < stop; i++) {
      const c = raw[i];
      if (c === 61 && i + 2 < stop && HEX[raw[i + 1]] >= 0 && HEX[raw[i + 2]] >= 0) {
        out.push((HEX[raw[i + 1]] << 4) | HEX[raw[i + 2]]);
        i += 2;
      } else {
        out.push(c); // a malformed "=" stays as it is
      }
    }
    if (lf < end && !soft) {
      out.push(13);
      out.push(10);
    }
    lineStart = lf + 1;
  }
}

// What a server must send for a stored message, computed the slow, obvious way: every bare LF
// preceded by CR, and NUL sent as 0x80 (as Courier does), so that tests of the fast paths
// (server/imap/crlf.ts, crlf-pool.ts) compare against something written independently.

export function crlfReference(raw: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 10 && (i === 0 || raw[i - 1] !== 13)) out.push(13);
    out.push(c === 0 ? 0x80 : c);
  }
  return Buffer.from(out);
}

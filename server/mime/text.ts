// Text for SEARCH: decoded bodies of the text parts and decoded header values.

import { decodeCharset, decodeHeaderValue, decodeTransfer } from './decode.js';
import { fieldValue, scanHeader } from './header.js';
import type { BodyPart } from './types.js';

export { decodeHeaderValue };

function collectText(raw: Buffer, part: BodyPart, out: string[]): void {
  if (part.parts !== undefined) {
    for (const child of part.parts) collectText(raw, child, out);
    return;
  }
  if (part.message !== undefined) {
    collectText(raw, part.message.body, out);
    return;
  }
  if (part.type !== 'text') return;
  const bytes = decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
  const charset = part.params.find(([k]) => k === 'charset')?.[1];
  out.push(decodeCharset(bytes, charset));
}

/** The decoded text (UTF-16 JS string) of every text/* part, including those inside attached
 * messages; HTML is kept as it is. Parts are separated by a newline. */
export function searchableText(raw: Buffer, body: BodyPart): string {
  const out: string[] = [];
  try {
    collectText(raw, body, out);
  } catch {
    // decoding never throws by design; a bug here must not break SEARCH
  }
  return out.join('\n');
}

/** Decoded (RFC 2047) values of every field named `field` in the top-level header of the
 * message whose body is `body`, in message order. */
export function headerSearchValues(raw: Buffer, body: BodyPart, field: string): string[] {
  const name = field.toLowerCase();
  const { fields } = scanHeader(raw, body.headerStart, body.bodyStart);
  const out: string[] = [];
  for (const f of fields) if (f.name === name) out.push(decodeHeaderValue(fieldValue(raw, f)));
  return out;
}

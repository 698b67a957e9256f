// Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3).
//
// Written here rather than taken from npm: the packages that do this (utf7, imap-utf7,
// emailjs-utf7) are small, mostly unmaintained, and lenient - they accept "&" left open
// and non-canonical forms, which we must reject so that one folder cannot have two names.

import { ProtocolError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** UTF-16 code units of a run of non-direct characters in modified base64 (no padding). */
function encodeRun(units: number[]): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const u of units) {
    acc = (acc << 16) | u;
    bits += 16;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(acc >> bits) & 0x3f];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (6 - bits)) & 0x3f];
  return out;
}

/** Unicode mailbox name -> modified UTF-7 ("Café" -> "Caf&AOk-", "&" -> "&-"). */
export function encodeMailboxName(name: string): string {
  let out = '';
  let run: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (isDirect(code)) {
      if (run.length > 0) {
        out += `&${encodeRun(run)}-`;
        run = [];
      }
      out += code === 0x26 ? '&-' : name[i];
    } else {
      run.push(code); // UTF-16 code units, surrogate pairs included as they are
    }
  }
  if (run.length > 0) out += `&${encodeRun(run)}-`;
  return out;
}

function invalid(name: string, why: string): ProtocolError {
  const shown = name.length > 60 ? `${name.slice(0, 60)}...` : name;
  return new ProtocolError(`Invalid mailbox name "${shown}": ${why}`);
}

/**
 * Modified UTF-7 -> Unicode. Strict: only printable ASCII, every "&" closed by "-", base64
 * with no padding bits set and no leftover, well-paired surrogates, no printable ASCII
 * encoded, and no two encoded runs side by side ("&AOk-&AOk-" must be "&AOkA6Q-").
 */
export function decodeMailboxName(text: string): string {
  let out = '';
  let i = 0;
  let previousWasRun = false;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (!isDirect(code)) throw invalid(text, 'only printable US-ASCII characters are allowed in modified UTF-7');
    if (code !== 0x26) {
      out += text[i++];
      previousWasRun = false;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end === -1) throw invalid(text, '"&" is not closed by "-"');
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      previousWasRun = false;
      continue;
    }
    if (previousWasRun) throw invalid(text, 'two adjacent encoded runs (not canonical)');
    let acc = 0;
    let bits = 0;
    const units: number[] = [];
    for (let j = i + 1; j < end; j++) {
      const c = text.charCodeAt(j);
      const v = c < 128 ? VALUE[c] : -1;
      if (v < 0) throw invalid(text, `"${text[j]}" is not a modified base64 character`);
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        units.push((acc >> bits) & 0xffff);
      }
    }
    if (bits >= 6 || (acc & ((1 << bits) - 1)) !== 0) throw invalid(text, 'bad modified base64 length or padding');
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      if (isDirect(u)) throw invalid(text, 'a printable ASCII character is encoded (not canonical)');
      if (u >= 0xd800 && u <= 0xdbff) {
        const next = units[k + 1];
        if (next === undefined || next < 0xdc00 || next > 0xdfff) throw invalid(text, 'unpaired UTF-16 surrogate');
        out += String.fromCharCode(u, next);
        k++;
        continue;
      }
      if (u >= 0xdc00 && u <= 0xdfff) throw invalid(text, 'unpaired UTF-16 surrogate');
      out += String.fromCharCode(u);
    }
    i = end + 1;
    previousWasRun = true;
  }
  return out;
}

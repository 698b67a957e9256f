// Helpers for the full-text index tests: SEARCH run through the evaluator over a real folder,
// once with the index's answers and once scanning, and messages to search.

import iconv from 'iconv-lite';
import type { Folder, TextCandidates } from '../../../server/backend/mailstore.js';
import { search, type SearchMessage } from '../../../server/imap/search/evaluate.js';
import { foldForSearch } from '../../../server/imap/search/fold.js';
import type { SearchKey } from '../../../server/imap/protocol/types.js';

export interface SearchRun {
  uids: number[];
  /** Messages whose file the search read. */
  read: number;
  /** Whether the index answered. */
  indexed: boolean;
}

/** The UIDs that match `key` (BODY or TEXT of one string), with or without the index. */
export async function searchFolder(folder: Folder, key: SearchKey & { op: 'body' | 'text' }, useIndex: boolean): Promise<SearchRun> {
  const messages: SearchMessage[] = folder.snapshot().messages.map((m, i) => ({
    seq: i + 1,
    uid: m.uid,
    info: { uid: m.uid, flags: m.flags, modseq: m.modseq, size: 0, internalDate: 0 },
    recent: false,
  }));
  let answer: TextCandidates | null = null;
  if (useIndex && folder.textCandidates) answer = await folder.textCandidates(foldForSearch(key.value));
  let read = 0;
  const seqs = await search(messages, key, {
    meta: (uid) => folder.messageMeta(uid),
    rawBatch: async (uids) => {
      read += uids.length;
      const data = await folder.messageData(uids, { raw: true, structure: true });
      return data.map((item) => (item ? { raw: item.raw!, body: item.structure! } : null));
    },
    ...(answer ? { textCandidates: () => answer ?? undefined } : {}),
  }, { maxSeq: messages.length, maxUid: messages.at(-1)?.uid ?? 0 });
  return { uids: seqs.map((s) => messages[s - 1].uid), read, indexed: answer !== null };
}

/** Seeded random numbers (so that a failure can be repeated). */
export function randomSource(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
}

const PIECES = [
  'zorbulate', 'ZORBULATE', 'ZorBuLate', 'zorbu', 'late', 'fine', 'fi', ' ', ' ', ' ', 'k', 'K', 'ss', 'x', '\n', '.', ':', '=',
  'é', 'e\u0301', '\u0301', 'ﬁ', 'ＺＯＲ', 'ｂｕｌａｔｅ', '\u212a', 'İ', 'ı', 'ª', '\u00a0', 'ſ', '漢字', '😀', '𝐳𝐨𝐫', 'ΟΔΟΣ', 'ς',
  'ß', '½', '…', 'café', 'straße', 'Grüße', 'Привет', 'quux', 'attachment', 'report.pdf', '"', '""',
];

function words(random: (n: number) => number, count: number, latin1: boolean): string {
  const pool = latin1 ? PIECES.filter((p) => [...p].every((c) => c.charCodeAt(0) < 256)) : PIECES;
  let text = '';
  for (let i = 0; i < count; i++) text += pool[random(pool.length)];
  return text;
}

function encodeBody(text: string, charset: string, cte: string): string {
  const bytes = charset === 'utf-8' || charset === 'us-ascii' ? Buffer.from(text, 'utf8') : iconv.encode(text, charset);
  if (cte === 'base64') return bytes.toString('base64').replace(/.{1,76}/g, (line) => line + '\n');
  if (cte === 'quoted-printable') {
    let out = '';
    let column = 0;
    for (const b of bytes) {
      const piece = b === 10 ? '\n' : b === 61 || b >= 127 || b < 32 ? `=${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
      if (column + piece.length > 72 && piece !== '\n') {
        out += '=\n';
        column = 0;
      }
      out += piece;
      column = piece === '\n' ? 0 : column + piece.length;
    }
    return out;
  }
  return bytes.toString('latin1');
}

function encodedWord(text: string): string {
  return `=?utf-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** A random message: encoded-word subjects, several charsets and transfer encodings, multiparts
 * with a named attachment and an attached message. */
export function randomMessage(random: (n: number) => number): Buffer {
  const charsets: [string, string[]][] = [
    ['utf-8', ['8bit', 'quoted-printable', 'base64']],
    ['us-ascii', ['7bit', 'quoted-printable']],
    ['iso-8859-1', ['8bit', 'quoted-printable', 'base64']],
    ['windows-1252', ['8bit']],
  ];
  const part = (): string => {
    const [charset, ctes] = charsets[random(charsets.length)];
    const cte = ctes[random(ctes.length)];
    const text = words(random, 3 + random(30), charset !== 'utf-8');
    const type = random(4) === 0 ? 'text/html' : 'text/plain';
    return `Content-Type: ${type}; charset=${charset}\nContent-Transfer-Encoding: ${cte}\n\n${encodeBody(text, charset, cte)}\n`;
  };
  const subject = random(2) === 0 ? encodedWord(words(random, 4, false).replace(/\n/g, ' ')) : words(random, 4, true).replace(/\n/g, ' ');
  const head = `From: ${encodedWord('Wilhelmina ' + words(random, 1, false).replace(/\n/g, ''))} <w@example.org>\nTo: b@example.org\nSubject: ${subject}\nMIME-Version: 1.0\n`;
  const shape = random(3);
  if (shape === 0) return Buffer.from(head + part(), 'latin1');
  const boundary = `b${random(1e6)}`;
  let body = `Content-Type: multipart/mixed; boundary="${boundary}"\n\n`;
  body += `--${boundary}\n${part()}`;
  const name = `${words(random, 2, false).replace(/[\n"]/g, '')}.pdf`;
  body += `--${boundary}\nContent-Type: application/pdf; name="${encodedWord(name)}"\nContent-Disposition: attachment; filename="${encodedWord(name)}"\nContent-Transfer-Encoding: base64\n\n${Buffer.from('%PDF zorbulate quux').toString('base64')}\n`;
  if (shape === 2) body += `--${boundary}\nContent-Type: message/rfc822\n\nSubject: ${encodedWord(words(random, 3, false).replace(/\n/g, ' '))}\nContent-Type: text/plain; charset=utf-8\n\n${words(random, 10, false)}\n`;
  body += `--${boundary}--\n`;
  return Buffer.from(head + body, 'latin1');
}

/** Strings to look for in random messages: pieces, pieces in other cases, parts of pieces, and random cuts of a message's text. */
export function randomNeedles(random: (n: number) => number, text: string, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = random(3);
    if (kind === 0) out.push(PIECES[random(PIECES.length)]);
    else if (kind === 1) out.push(PIECES[random(PIECES.length)].toUpperCase());
    else {
      const chars = [...text];
      const start = random(Math.max(1, chars.length));
      out.push(chars.slice(start, start + 1 + random(8)).join(''));
    }
  }
  return out;
}

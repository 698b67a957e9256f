// The benchmark corpus's messages (bench/corpus.ts writes them into a Maildir): realistic
// mail from a deterministic generator: vocabulary, senders and subjects (some RFC 2047
// encoded), plain, alternative, mixed and forwarded structures in three charsets, threads,
// marker words for SEARCH to find, and flags.

import iconv from 'iconv-lite';
import type { Rng } from './corpus-rng.js';

/** Marker words: unique nonsense words that occur only in the bodies of a chosen fraction of messages. */
export const MARKER_WORDS: Readonly<Record<string, number>> = {
  quindlefax: 0.01,
  zorbulate: 0.1,
  mirthquake: 0.5,
};
/** A sender with a known share of the From headers (some of them RFC 2047 encoded). */
export const TARGET_SENDER = { name: 'Wilhelmina Quist', address: 'wilhelmina.quist@example.net', share: 0.03 };

// ---------- vocabulary ----------

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over man ' +
  'me even most made after also did many before must through back years where much your way well down should ' +
  'because each just those people how too little state good very make world still own see men work long get here ' +
  'between both life being under never day same another know while last might us great old year off come since ' +
  'against go came right used take three project meeting report budget schedule review draft contract invoice ' +
  'customer server release deadline update proposal agenda quarter revenue forecast design backlog ticket ' +
  'migration database network outage deployment feedback colleague vacation holiday weekend morning afternoon ' +
  'evening tomorrow yesterday office building parking lunch dinner coffee train flight hotel conference ' +
  'presentation slides spreadsheet document attachment signature approval request question answer problem ' +
  'solution estimate milestone sprint planning training onboarding invoice payment receipt shipping delivery ' +
  'warehouse supplier order catalogue price discount offer subscription renewal account password security ' +
  'backup storage printer laptop monitor keyboard license support team manager director assistant department ' +
  'marketing sales finance legal engineering operations research garden kitchen school birthday wedding family ' +
  'children weather rain sunshine mountain river bicycle football concert theatre museum library recipe'
).split(' ');
/** Latin-1 representable non-ASCII words (safe in ISO-8859-1 and UTF-8 bodies). */
const ACCENTED = ['café', 'naïve', 'Grüße', 'señor', 'Müller', 'façade', 'déjà', 'über', 'Straße', 'jalapeño', 'résumé', 'Åse'];
const UNICODE_LINES = [
  'Привет, как дела? Встреча перенесена на пятницу.',
  '会議の資料を添付します。よろしくお願いします。',
  'Καλημέρα, το έγγραφο είναι έτοιμο.',
  'Zażółć gęślą jaźń — termin przesunięty.',
  '你好，附件是本季度的报告。',
];
const FIRST = ['Anna', 'Bernd', 'Carla', 'David', 'Elena', 'Farid', 'Greta', 'Hugo', 'Ingrid', 'Jonas', 'Karin', 'Lars',
  'Maria', 'Nils', 'Olga', 'Paul', 'Rosa', 'Stefan', 'Tanja', 'Ulrich', 'Vera', 'Walter', 'Xenia', 'Yusuf', 'Zoe',
  'Aiko', 'Bruno', 'Chloe', 'Dmitri', 'Emma'];
const LAST = ['Adams', 'Becker', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Hansen', 'Ivanova', 'Jensen',
  'Kowalski', 'Larsen', 'Moreau', 'Novak', 'Olsen', 'Petrov', 'Rossi', 'Schmidt', 'Tanaka', 'Urban', 'Vogel',
  'Weber', 'Yilmaz', 'Zimmer', 'Baker', 'Carter', 'Dixon', 'Evans', 'Foster', 'Gray'];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'corp.example.org', 'lists.example.net'];
/** Display names that are sent RFC 2047 encoded: [name, charset, encoding] */
const ENCODED_NAMES: readonly (readonly [string, string, 'B' | 'Q'])[] = [
  ['René Dupré', 'ISO-8859-1', 'Q'],
  ['Jürgen Weiß', 'UTF-8', 'Q'],
  ['Владимир Соколов', 'KOI8-R', 'B'],
  ['Zdeněk Dvořák', 'ISO-8859-2', 'Q'],
  ['山田 太郎', 'Shift_JIS', 'B'],
  ['王小明', 'GB2312', 'B'],
  ['Ólafur Þórsson', 'UTF-8', 'B'],
  ['François Lefèvre', 'Windows-1252', 'Q'],
];
const SUBJECTS = ['Quarterly report', 'Lunch on Friday?', 'Build failure on main', 'Invoice {n}', 'Holiday photos',
  'Meeting notes {d}', 'Contract draft v{n}', 'Server maintenance window', 'Your order {n} has shipped',
  'Re-scheduling the review', 'Budget {y} planning', 'Question about the migration', 'Weekly status',
  'Welcome to the team', 'Password expiry notice', 'Slides for tomorrow', 'Team offsite', 'Support ticket #{n}',
  'Newsletter: {d} edition', 'Feedback on the proposal'];
const ENCODED_SUBJECTS: readonly (readonly [string, string, 'B' | 'Q'])[] = [
  ['Grüße aus München', 'ISO-8859-1', 'Q'],
  ['Réunion de l’équipe', 'UTF-8', 'Q'],
  ['Отчёт за квартал', 'KOI8-R', 'B'],
  ['Faktura č. 2024/118 - připomínka', 'ISO-8859-2', 'Q'],
  ['会議の議事録について', 'Shift_JIS', 'B'],
  ['季度报告', 'GB2312', 'B'],
  ['Ünïcödé test — “quotes” and €uro', 'UTF-8', 'B'],
  ['Café menu – special offer', 'Windows-1252', 'Q'],
];
const MAILERS = ['Mozilla Thunderbird 115.6.0', 'Microsoft Outlook 16.0', 'Apple Mail (2.3731)', 'Roundcube Webmail/1.6.5',
  'Mutt/2.2.12', 'K-9 Mail for Android', 'Evolution 3.50.2'];
const ATTACHMENTS: readonly (readonly [string, string])[] = [
  ['application/pdf', 'pdf'], ['image/png', 'png'], ['image/jpeg', 'jpg'], ['application/zip', 'zip'],
  ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'],
  ['application/vnd.ms-excel', 'xls'], ['text/calendar', 'ics'],
];

// ---------- encoders ----------

const HEX = '0123456789ABCDEF';

/** RFC 2045 quoted-printable of a byte buffer whose lines end in LF. */
export function quotedPrintable(bytes: Buffer): string {
  const out: string[] = [];
  let line = '';
  const flush = (soft: boolean): void => {
    out.push(soft ? line + '=' : line);
    line = '';
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0a) {
      // trailing whitespace must be encoded
      const last = line.charCodeAt(line.length - 1);
      if (last === 0x20 || last === 0x09) line = line.slice(0, -1) + '=' + HEX[last >> 4] + HEX[last & 15];
      flush(false);
      continue;
    }
    const piece = (b >= 33 && b <= 126 && b !== 61) || b === 0x20 || b === 0x09 ? String.fromCharCode(b) : '=' + HEX[b >> 4] + HEX[b & 15];
    if (line.length + piece.length > 75) flush(true);
    line += piece;
  }
  if (line.length) out.push(line);
  return out.join('\n');
}

/** base64 in lines of 76 characters. */
export function base64Lines(bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\n');
}

/** RFC 2047 encoded-words for text in a charset, split so that no word exceeds 75 characters. */
export function encodedWords(text: string, charset: string, encoding: 'B' | 'Q'): string {
  const words: string[] = [];
  const chars = Array.from(text);
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    // shrink the chunk until its encoded word fits (chunks are whole characters, never split bytes)
    for (;;) {
      const word = encodeWord(chars.slice(start, end).join(''), charset, encoding);
      if (word.length <= 75 || end - start <= 1) {
        words.push(word);
        break;
      }
      end = start + Math.max(1, Math.floor((end - start) / 2));
    }
    start = end;
  }
  return words.join('\n ');
}

function encodeWord(text: string, charset: string, encoding: 'B' | 'Q'): string {
  const bytes = iconv.encode(text, charset);
  if (encoding === 'B') return `=?${charset}?B?${bytes.toString('base64')}?=`;
  let q = '';
  for (const b of bytes) {
    if (b === 0x20) q += '_';
    else if ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 0x2e || b === 0x2c || b === 0x2d) q += String.fromCharCode(b);
    else q += '=' + HEX[b >> 4] + HEX[b & 15];
  }
  return `=?${charset}?Q?${q}?=`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** RFC 5322 date of a Unix time shown in a zone offset given in minutes. */
export function rfc5322Date(unixSeconds: number, offsetMinutes: number): string {
  const d = new Date((unixSeconds + offsetMinutes * 60) * 1000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

// ---------- message generation ----------

interface ThreadNode {
  id: string;
  refs: string[];
  subject: string;
}

type Charset = 'us-ascii' | 'utf-8' | 'iso-8859-1';
type Kind = 'plain' | 'plain-b64' | 'alternative' | 'mixed' | 'mixed-alt' | 'forward';

/** Shared pools (built once per generator from the seed) that keep per-message work cheap. */
export class Pools {
  readonly paragraphs: string[] = [];
  readonly binary: Buffer;
  readonly senders: { name: string; address: string; encoded?: readonly [string, string, 'B' | 'Q'] }[] = [];
  constructor(rng: Rng) {
    for (let p = 0; p < 3000; p++) {
      const words: string[] = [];
      const n = rng.int(25, 110);
      for (let w = 0; w < n; w++) {
        let word = rng.chance(0.015) ? rng.pick(ACCENTED) : rng.pick(WORDS);
        if (w === 0 || words[w - 1]!.endsWith('.')) word = word[0]!.toUpperCase() + word.slice(1);
        if (rng.chance(0.08) || w === n - 1) word += '.';
        else if (rng.chance(0.06)) word += ',';
        words.push(word);
      }
      this.paragraphs.push(wrap(words, 72));
    }
    const bin = Buffer.alloc(256 * 1024);
    for (let i = 0; i < bin.length; i += 4) bin.writeUInt32LE(Math.floor(rng.next() * 4294967296), i);
    this.binary = bin;
    for (const f of FIRST) {
      for (const l of LAST) {
        if (!rng.chance(0.3)) continue;
        const sep = rng.pick(['.', '_', '']);
        this.senders.push({ name: `${f} ${l}`, address: `${f.toLowerCase()}${sep}${l.toLowerCase()}@${rng.pick(DOMAINS)}` });
      }
    }
    for (const e of ENCODED_NAMES) {
      this.senders.push({ name: e[0], address: `${asciiLocal(e[0])}@${rng.pick(DOMAINS)}`, encoded: e });
    }
  }
}

function asciiLocal(name: string): string {
  const a = name.normalize('NFD').replace(/[^A-Za-z ]/g, '').trim().toLowerCase().replace(/ +/g, '.');
  return a || 'user' + name.length;
}

function wrap(words: string[], width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? line + ' ' + w : w;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** Target size in bytes: mostly small, a tail of large ones, always 2-200 KB. */
function sampleSize(rng: Rng): number {
  const band = rng.weighted([['small', 78], ['medium', 17], ['large', 5]] as const);
  let size: number;
  if (band === 'small') size = Math.exp(Math.log(4500) + 0.55 * rng.normal());
  else if (band === 'medium') size = Math.exp(Math.log(26000) + 0.5 * rng.normal());
  else size = Math.exp(Math.log(60000) + rng.next() * Math.log(200000 / 60000));
  return Math.round(Math.min(196 * 1024, Math.max(2048, size))); // headers and rounding add a little
}

function chooseKind(rng: Rng, size: number): Kind {
  if (size > 16000) return rng.weighted([['mixed', 55], ['mixed-alt', 30], ['forward', 5], ['alternative', 10]] as const);
  return rng.weighted([['plain', 50], ['plain-b64', 3], ['alternative', 37], ['mixed', 6], ['forward', 4]] as const);
}

const FLAG_TABLE: readonly (readonly [string, number])[] = [
  ['', 12], ['S', 58], ['RS', 14], ['FS', 5], ['FRS', 2], ['PS', 3], ['DS', 1], ['ST', 2], ['F', 2], ['T', 1],
];

interface BuiltMessage {
  bytes: Buffer;
  flags: string;
  time: number;
  kind: Kind;
  markers: string[];
  fromTarget: boolean;
  reply: boolean;
  encodedHeader: boolean;
}

export class MessageFactory {
  private readonly recent: ThreadNode[] = [];
  private time = Date.UTC(2023, 0, 2, 8, 0, 0) / 1000;
  private readonly gap: number;

  constructor(private readonly rng: Rng, private readonly pools: Pools, private readonly total: number) {
    // spread the folder over two years whatever its size
    this.gap = (730 * 86400) / Math.max(1, total);
  }

  build(index: number): BuiltMessage {
    const rng = this.rng;
    this.time += Math.max(1, Math.round(-Math.log(1 - rng.next()) * this.gap));
    const time = this.time;
    const size = sampleSize(rng);
    const kind = chooseKind(rng, size);
    const markers = Object.entries(MARKER_WORDS).filter(([, p]) => rng.chance(p)).map(([w]) => w);
    const fromTarget = rng.chance(TARGET_SENDER.share);

    // --- thread ---
    let subject: string;
    let inReplyTo: string | undefined;
    let refs: string[] = [];
    const replyTo = this.recent.length > 0 && rng.chance(0.45)
      ? this.recent[this.recent.length - 1 - Math.min(this.recent.length - 1, Math.floor(-Math.log(1 - rng.next()) * 20))]!
      : undefined;
    let encodedSubject: readonly [string, string, 'B' | 'Q'] | undefined;
    if (replyTo) {
      subject = rng.weighted([['Re: ', 85], ['RE: ', 5], ['AW: ', 4], ['Fwd: ', 6]] as const) + replyTo.subject;
      inReplyTo = replyTo.id;
      refs = [...replyTo.refs.slice(-9), replyTo.id];
    } else if (rng.chance(0.06)) {
      encodedSubject = rng.pick(ENCODED_SUBJECTS);
      subject = encodedSubject[0];
    } else {
      subject = rng.pick(SUBJECTS)
        .replace('{n}', String(rng.int(1000, 99999)))
        .replace('{d}', rfc5322Date(time, 0).slice(5, 16).trim())
        .replace('{y}', String(new Date(time * 1000).getUTCFullYear() + 1));
    }
    const id = `<${time.toString(36)}.${index.toString(36)}.${rng.int(100000, 999999)}@${rng.pick(DOMAINS)}>`;
    const base = replyTo ? replyTo.subject : subject;
    this.recent.push({ id, refs, subject: base });
    if (this.recent.length > 400) this.recent.splice(0, 100);

    // --- addresses ---
    const sender = fromTarget ? undefined : rng.pick(this.pools.senders);
    const to = rng.pick(this.pools.senders);
    let encodedHeader = false;
    let fromHeader: string;
    if (fromTarget) {
      fromHeader = rng.chance(0.1)
        ? `${encodedWords(TARGET_SENDER.name, 'UTF-8', 'Q')} <${TARGET_SENDER.address}>`
        : `${TARGET_SENDER.name} <${TARGET_SENDER.address}>`;
    } else if (sender!.encoded) {
      encodedHeader = true;
      fromHeader = `${encodedWords(sender!.name, sender!.encoded[1], sender!.encoded[2])} <${sender!.address}>`;
    } else {
      fromHeader = rng.chance(0.3) ? `"${sender!.name}" <${sender!.address}>` : `${sender!.name} <${sender!.address}>`;
    }
    const toHeader = to.encoded ? `${encodedWords(to.name, to.encoded[1], to.encoded[2])} <${to.address}>` : `${to.name} <${to.address}>`;
    const senderAddress = fromTarget ? TARGET_SENDER.address : sender!.address;
    const senderDomain = senderAddress.split('@')[1]!;
    const offset = rng.pick([0, 60, 120, -300, -420, 330, 540]);
    const date = rfc5322Date(time, offset);

    // --- headers (LF line ends; servers convert to CRLF on the wire) ---
    const h: string[] = [];
    h.push(`Return-Path: <${senderAddress}>`);
    h.push(`Delivered-To: ${to.address}`);
    for (let hop = rng.int(1, 3); hop > 0; hop--) {
      h.push(`Received: from mx${hop}.${senderDomain} (mx${hop}.${senderDomain} [192.0.2.${rng.int(1, 254)}])\n\tby mail.example.com (Postfix) with ESMTPS id ${rng.int(0x10000000, 0x7fffffff).toString(16).toUpperCase()}\n\tfor <${to.address}>; ${rfc5322Date(time + hop, 0)}`);
    }
    if (rng.chance(0.6)) {
      const at = rng.int(0, 1000) * 64;
      const sig = this.pools.binary.toString('base64', at, at + 192); // 256 characters
      h.push(`DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${senderDomain}; s=mail;\n\tt=${time}; h=from:to:subject:date:message-id;\n\tbh=${sig.slice(0, 44)};\n\tb=${sig.slice(44, 120)}\n\t ${sig.slice(120, 196)}\n\t ${sig.slice(196, 256)}`);
      h.push(`Authentication-Results: mail.example.com;\n\tdkim=pass header.d=${senderDomain};\n\tspf=pass smtp.mailfrom=${senderAddress}`);
    }
    h.push(`Message-ID: ${id}`);
    if (inReplyTo) {
      h.push(`In-Reply-To: ${inReplyTo}`);
      h.push(`References: ${refs.join('\n ')}`);
    }
    h.push(`Date: ${date}`);
    h.push(`From: ${fromHeader}`);
    h.push(`To: ${toHeader}`);
    if (rng.chance(0.25)) {
      const cc: string[] = [];
      for (let c = rng.int(1, 4); c > 0; c--) {
        const p = rng.pick(this.pools.senders);
        cc.push(p.encoded ? `${encodedWords(p.name, p.encoded[1], p.encoded[2])} <${p.address}>` : `"${p.name.split(' ').reverse().join(', ')}" <${p.address}>`);
      }
      h.push(`Cc: ${cc.join(',\n ')}`);
    }
    if (encodedSubject) {
      encodedHeader = true;
      h.push(`Subject: ${encodedWords(encodedSubject[0], encodedSubject[1], encodedSubject[2])}`);
    } else {
      const subj = replyTo && /[^\x00-\x7f]/.test(subject) ? encodedWords(subject, 'UTF-8', 'B') : subject;
      h.push(`Subject: ${subj}`);
    }
    h.push(rng.chance(0.5) ? `User-Agent: ${rng.pick(MAILERS)}` : `X-Mailer: ${rng.pick(MAILERS)}`);
    if (rng.chance(0.12)) h.push(`List-Id: Team discussion <team.${senderDomain}>\nList-Unsubscribe: <mailto:unsubscribe@${senderDomain}>`);
    h.push('MIME-Version: 1.0');
    const headerText = h.join('\n') + '\n';
    let room = Math.max(600, size - headerText.length - 200);

    // --- body (grown until the message reaches the 2 KB floor) ---
    let bytes: Buffer;
    for (;;) {
      bytes = Buffer.concat([Buffer.from(headerText, 'latin1'), this.body(kind, room, markers, index)]);
      if (bytes.length >= 2048) break;
      room += 2048 - bytes.length + 64;
    }
    return { bytes, flags: rng.weighted(FLAG_TABLE), time, kind, markers, fromTarget, reply: !!replyTo, encodedHeader };
  }

  /** Plain text of about `length` characters, with the marker sentences somewhere inside. */
  private text(length: number, markers: string[], unicode: boolean): string {
    const rng = this.rng;
    const parts: string[] = [rng.pick(['Hi,', 'Hello,', 'Dear colleagues,', 'Good morning,', 'Hallo,'])];
    let len = 0;
    while (len < length) {
      const p = rng.pick(this.pools.paragraphs);
      parts.push(p);
      len += p.length + 2;
    }
    if (unicode && rng.chance(0.5)) parts.splice(1 + rng.int(0, parts.length - 1), 0, rng.pick(UNICODE_LINES));
    for (const m of markers) {
      const sentence = rng.pick([`Please check the ${m} figures before Monday.`, `The ${m} question is still open.`, `See ${m} below.`]);
      parts.splice(1 + rng.int(0, parts.length - 1), 0, sentence);
    }
    parts.push(rng.pick(['Regards,', 'Best,', 'Thanks,', 'Cheers,', 'Viele Grüße,']) + '\n' + rng.pick(FIRST));
    return parts.join('\n\n') + '\n';
  }

  /** A text/plain part: charset, transfer encoding and bytes. */
  private textPart(length: number, markers: string[], forceBase64 = false): { headers: string; body: string } {
    const rng = this.rng;
    const charset: Charset = rng.weighted([['utf-8', 70], ['us-ascii', 15], ['iso-8859-1', 15]] as const);
    let text = this.text(length, markers, charset === 'utf-8');
    if (charset === 'us-ascii') text = text.replace(/[^\x00-\x7f]/g, '?');
    const raw = charset === 'utf-8' ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
    const cte = forceBase64 ? 'base64' : charset === 'us-ascii' ? rng.pick(['7bit', '']) : rng.weighted([['quoted-printable', 55], ['8bit', 45]] as const);
    const headers = `Content-Type: text/plain; charset=${rng.chance(0.5) ? '"' + charset + '"' : charset}${rng.chance(0.3) ? '; format=flowed' : ''}\n` +
      (cte ? `Content-Transfer-Encoding: ${cte}\n` : '');
    const body = cte === 'base64' ? base64Lines(raw) + '\n' : cte === 'quoted-printable' ? quotedPrintable(raw) + '\n' : raw.toString('latin1');
    return { headers, body };
  }

  private htmlPart(length: number, markers: string[]): { headers: string; body: string } {
    const text = this.text(length, markers, true);
    const html = '<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>\n' +
      '<body style="font-family: Arial, sans-serif; font-size: 11pt">\n' +
      text.split('\n\n').map((p) => `<p>${p.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n/g, '<br>\n')}</p>`).join('\n') +
      '\n</body></html>\n';
    return {
      headers: 'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n',
      body: quotedPrintable(Buffer.from(html, 'utf8')) + '\n',
    };
  }

  private attachment(bytes: number): { headers: string; body: string } {
    const rng = this.rng;
    const [type, ext] = rng.pick(ATTACHMENTS);
    const name = `${rng.pick(WORDS)}-${rng.int(1, 999)}.${ext}`;
    const pool = this.pools.binary;
    const raw = Buffer.alloc(Math.max(64, bytes));
    for (let off = 0; off < raw.length; ) {
      const start = rng.int(0, pool.length - 4096);
      off += pool.copy(raw, off, start, Math.min(pool.length, start + raw.length - off));
    }
    return {
      headers: `Content-Type: ${type}; name="${name}"\nContent-Disposition: attachment; filename="${name}"\nContent-Transfer-Encoding: base64\n`,
      body: base64Lines(raw) + '\n',
    };
  }

  private body(kind: Kind, room: number, markers: string[], index: number): Buffer {
    const rng = this.rng;
    const boundary = (tag: string): string => `----=_Part_${index}_${tag}_${rng.int(100000, 999999)}`;
    const multipart = (subtype: string, b: string, parts: { headers: string; body: string }[], preamble = true): { headers: string; body: string } => ({
      headers: `Content-Type: multipart/${subtype};\n\tboundary="${b}"\n`,
      body: (preamble ? 'This is a multi-part message in MIME format.\n\n' : '') +
        parts.map((p) => `--${b}\n${p.headers}\n${p.body}`).join('\n') + `\n--${b}--\n`,
    });
    let top: { headers: string; body: string };
    const textRoom = Math.min(room, rng.int(400, 6000));
    switch (kind) {
      case 'plain':
        top = this.textPart(room, markers);
        break;
      case 'plain-b64':
        top = this.textPart(Math.floor(room * 0.72), markers, true);
        break;
      case 'alternative': {
        // the HTML copy is roughly 1.6 times the text once tagged and QP-encoded
        const share = Math.floor(room / 2.8);
        top = multipart('alternative', boundary('alt'), [this.textPart(share, markers), this.htmlPart(share, markers)], false);
        break;
      }
      case 'mixed':
      case 'mixed-alt': {
        const first = kind === 'mixed'
          ? this.textPart(textRoom, markers)
          : multipart('alternative', boundary('alt'), [this.textPart(Math.floor(textRoom / 2.8), markers), this.htmlPart(Math.floor(textRoom / 2.8), markers)], false);
        const count = room - textRoom > 30000 && rng.chance(0.4) ? rng.int(2, 3) : 1;
        const parts = [first];
        const left = Math.max(300, room - textRoom);
        for (let a = 0; a < count; a++) parts.push(this.attachment(Math.floor((left * 0.74) / count)));
        top = multipart('mixed', boundary('mix'), parts);
        break;
      }
      case 'forward': {
        const innerText = this.textPart(Math.max(300, Math.floor(room * 0.4)), []);
        const inner = `From: ${rng.pick(FIRST)} <forwarded@example.org>\nTo: someone@example.com\nSubject: ${rng.pick(SUBJECTS).replace(/\{.\}/, '7')}\n` +
          `Date: ${rfc5322Date(this.time - 86400 * rng.int(1, 60), 60)}\nMessage-ID: <fwd.${index}@example.org>\nMIME-Version: 1.0\n${innerText.headers}\n${innerText.body}`;
        top = multipart('mixed', boundary('fwd'), [
          this.textPart(Math.max(200, Math.floor(room * 0.3)), markers),
          { headers: 'Content-Type: message/rfc822\nContent-Disposition: inline\n', body: inner },
        ]);
        break;
      }
    }
    return Buffer.from(`${top.headers}\n${top.body}`, 'latin1');
  }
}

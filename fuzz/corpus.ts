// Valid commands: every command and extension the server announces (capabilities.ts and
// the command table in server/imap/commands/index.ts), with random but well-formed
// arguments. The mutator starts from these.

import { extendedCommand } from './corpus-ext.js';
import type { Rng } from './random.js';

export const USER = 'fuzz';
export const PASSWORD = 'fuzz-pass';

/** Folder names of the seed Maildir, plus new ones with modified UTF-7 and hierarchy. */
const FOLDERS = [
  'INBOX', 'inbox', 'INBOX.Sent', 'INBOX.Archive', 'INBOX.Archive.2025', 'INBOX.Caf&AOk-',
  'INBOX.&ZeVnLIqe-', 'INBOX.new', 'INBOX.new.sub', 'INBOX.Trash', 'INBOX.a b', 'INBOX.x&-y',
  'INBOX.Sent.child', 'Sent', 'INBOX.',
];
const PATTERNS = ['*', '%', 'INBOX.*', 'INBOX.%', 'INBOX.%.%', '%.%', 'INBOX.Arch*', '*2025', '', 'INBOX', '&AOk-*'];
const FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '$Forwarded', '$Junk', 'work', 'NonJunk'];
const HEADERS = ['From', 'To', 'Subject', 'Date', 'Message-ID', 'Cc', 'References', 'X-Unknown', 'Content-Type'];
const DATES = ['1-Feb-2024', '26-Nov-2026', '01-Jan-1970', '31-Dec-2099', '29-Feb-2024'];
const WORDS = ['Alice', 'report', 'Invoice', 'café', 'Ünïcödé', 'msg1', 'example.org', 'x', '', 'Re:', '#4711'];

/** A mailbox name, an address, a search string: as atom, quoted string, literal or LITERAL+. */
export function astring(rng: Rng, value: string): string {
  const bytes = Buffer.byteLength(value);
  const r = rng.int(10);
  if (r < 4 && /^[A-Za-z0-9.&\-_]+$/.test(value)) return value;
  if (r < 7 && !/["\\\r\n]/.test(value)) return `"${value}"`;
  if (r < 8) return `"${value.replace(/["\\]/g, (c) => `\\${c}`).replace(/[\r\n]/g, '')}"`;
  return `{${bytes}${rng.chance(0.5) ? '+' : ''}}\r\n${value}`;
}

function folder(rng: Rng): string {
  return astring(rng, rng.pick(FOLDERS));
}

/** A sequence set for a mailbox of a dozen messages (COPY and MOVE keep theirs small). */
export function sequenceSet(rng: Rng, allowStar = true): string {
  const n = rng.range(1, 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.range(1, 14);
    const r = rng.int(4);
    if (r === 0) parts.push(String(a));
    else if (r === 1) parts.push(`${a}:${rng.range(1, 14)}`);
    else if (r === 2 && allowStar) parts.push(rng.chance(0.5) ? `${a}:*` : '*');
    else parts.push(`${a},${a + 1}`);
  }
  return parts.join(',');
}

function flagList(rng: Rng): string {
  const n = rng.int(4);
  const flags = Array.from({ length: n }, () => rng.pick(FLAGS));
  return `(${flags.join(' ')})`;
}

function section(rng: Rng): string {
  const part = rng.chance(0.4) ? `${rng.range(1, 3)}${rng.chance(0.3) ? `.${rng.range(1, 2)}` : ''}` : '';
  const dot = part ? `${part}.` : '';
  const r = rng.int(7);
  const fields = () => `(${Array.from({ length: rng.range(1, 3) }, () => rng.pick(HEADERS)).join(' ')})`;
  const text =
    r === 0 ? part : r === 1 ? `${dot}HEADER` : r === 2 ? `${dot}TEXT` : r === 3 ? `${dot}HEADER.FIELDS ${fields()}` :
    r === 4 ? `${dot}HEADER.FIELDS.NOT ${fields()}` : r === 5 && part ? `${part}.MIME` : '';
  const partial = rng.chance(0.3) ? `<${rng.int(200)}.${rng.range(1, 100)}>` : rng.chance(0.1) ? '<0.10>' : '';
  return `${rng.chance(0.5) ? 'BODY.PEEK' : 'BODY'}[${text}]${partial}`;
}

function fetchItems(rng: Rng): string {
  const r = rng.int(10);
  if (r === 0) return rng.pick(['ALL', 'FAST', 'FULL']);
  const simple = ['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'];
  const n = rng.range(1, 4);
  const items = Array.from({ length: n }, () => (rng.chance(0.5) ? section(rng) : rng.pick(simple)));
  return n === 1 && rng.chance(0.5) ? items[0] : `(${items.join(' ')})`;
}

/** A SEARCH program: keys nested with OR, NOT and parentheses up to `depth`. */
export function searchKey(rng: Rng, depth = 3): string {
  const r = rng.int(depth > 0 ? 30 : 24);
  const str = () => astring(rng, rng.pick(WORDS));
  switch (r) {
    case 0: return 'ALL';
    case 1: return rng.pick(['ANSWERED', 'DELETED', 'DRAFT', 'FLAGGED', 'NEW', 'OLD', 'RECENT', 'SEEN']);
    case 2: return rng.pick(['UNANSWERED', 'UNDELETED', 'UNDRAFT', 'UNFLAGGED', 'UNSEEN']);
    case 3: return `KEYWORD ${rng.pick(['work', '$Forwarded', 'NonJunk'])}`;
    case 4: return `UNKEYWORD ${rng.pick(['work', '$Junk'])}`;
    case 5: return `${rng.pick(['BCC', 'CC', 'FROM', 'TO', 'SUBJECT', 'BODY', 'TEXT'])} ${str()}`;
    case 6: return `HEADER ${rng.pick(HEADERS)} ${str()}`;
    case 7: return `${rng.pick(['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE'])} ${rng.pick(DATES)}`;
    case 8: return `${rng.pick(['LARGER', 'SMALLER'])} ${rng.int(5000)}`;
    case 9: return `UID ${sequenceSet(rng)}`;
    case 10: return sequenceSet(rng);
    case 11: return `FROM ${str()}`;
    case 12: return `SUBJECT ${astring(rng, 'Quarterly')}`;
    case 13: return `HEADER Message-ID ${astring(rng, '<msg3')}`;
    case 14: return `TEXT ${astring(rng, 'café')}`;
    case 15: return `LARGER ${rng.int(3000)}`;
    case 16: return `UNDELETED`;
    case 17: return `BODY ${astring(rng, 'Line 2 of')}`;
    case 18: return `SINCE ${rng.pick(DATES)}`;
    case 19: return 'UNSEEN';
    case 20: return 'NOT SEEN';
    case 21: return `OR SEEN FLAGGED`;
    case 22: return `*`;
    case 23: return '1:*';
    case 24: case 25: return `NOT ${searchKey(rng, depth - 1)}`;
    case 26: case 27: return `OR ${searchKey(rng, depth - 1)} ${searchKey(rng, depth - 1)}`;
    default: return `(${Array.from({ length: rng.range(1, 3) }, () => searchKey(rng, depth - 1)).join(' ')})`;
  }
}

function searchProgram(rng: Rng): string {
  const charset = rng.chance(0.2) ? `CHARSET ${rng.pick(['UTF-8', 'US-ASCII', 'utf-8'])} ` : '';
  return charset + Array.from({ length: rng.range(1, 3) }, () => searchKey(rng)).join(' ');
}

function message(rng: Rng): string {
  const subject = rng.pick(['Hello', 'Re: Invoice #4711', '=?UTF-8?B?Q2Fmw6k=?=', 'Fwd: contract']);
  const body = rng.chance(0.3)
    ? 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\npart one\r\n--b1--\r\n'
    : '\r\nJust a body.\r\n';
  return `From: a@example.org\r\nTo: b@example.com\r\nSubject: ${subject}\r\nMessage-ID: <f${rng.int(1000)}@x>\r\n${body}`;
}

function append(rng: Rng, tag: string): string {
  const flags = rng.chance(0.6) ? ` ${flagList(rng)}` : '';
  const date = rng.chance(0.5) ? ` "${rng.pick(['26-Nov-2026 10:00:00 +0000', ' 1-Feb-2024 23:59:59 -0800', '29-Feb-2024 00:00:00 +1400'])}"` : '';
  const msg = message(rng);
  const plus = rng.chance(0.5) ? '+' : '';
  return `${tag} APPEND ${folder(rng)}${flags}${date} {${Buffer.byteLength(msg)}${plus}}\r\n${msg}`;
}

function plain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

export interface CorpusOptions {
  /** Network target: STARTTLS and logins that can succeed. */
  net: boolean;
}

/** One valid command, complete with its CRLF (and literal data where it has literals). */
export function validCommand(rng: Rng, tag: string, opts: CorpusOptions): string {
  // The newer extensions (corpus-ext.ts) get a good share: they are where the bugs are likely.
  if (rng.chance(0.4)) return `${extendedCommand(rng, tag, astring)}\r\n`;
  const uid = rng.chance(0.35) ? 'UID ' : '';
  const r = rng.int(48);
  let cmd: string;
  switch (r) {
    case 0: cmd = `${tag} CAPABILITY`; break;
    case 1: cmd = `${tag} NOOP`; break;
    case 2: cmd = `${tag} CHECK`; break;
    case 3: cmd = `${tag} ${rng.chance(0.5) ? 'SELECT' : 'EXAMINE'} ${folder(rng)}`; break;
    case 4: cmd = `${tag} SELECT ${astring(rng, 'INBOX')}`; break;
    case 5: cmd = `${tag} CREATE ${folder(rng)}`; break;
    case 6: cmd = `${tag} DELETE ${folder(rng)}`; break;
    case 7: cmd = `${tag} RENAME ${folder(rng)} ${folder(rng)}`; break;
    case 8: cmd = `${tag} ${rng.chance(0.5) ? 'SUBSCRIBE' : 'UNSUBSCRIBE'} ${folder(rng)}`; break;
    case 9: cmd = `${tag} LIST ${astring(rng, rng.pick(['', 'INBOX.', 'INBOX']))} ${astring(rng, rng.pick(PATTERNS))}`; break;
    case 10: cmd = `${tag} LIST (SPECIAL-USE) "" ${astring(rng, rng.pick(PATTERNS))}`; break;
    case 11: cmd = `${tag} LIST "" ${astring(rng, rng.pick(PATTERNS))} RETURN (${rng.pick(['SPECIAL-USE', 'CHILDREN', 'SUBSCRIBED', ''])})`; break;
    case 12: cmd = `${tag} LSUB "" ${astring(rng, rng.pick(PATTERNS))}`; break;
    case 13: {
      const items = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN'].filter(() => rng.chance(0.6));
      cmd = `${tag} STATUS ${folder(rng)} (${items.join(' ')})`;
      break;
    }
    case 14: case 15: return `${append(rng, tag)}\r\n`;
    case 16: cmd = `${tag} ${rng.pick(['CLOSE', 'UNSELECT'])}`; break;
    case 17: cmd = `${tag} ${rng.chance(0.5) ? `UID EXPUNGE ${sequenceSet(rng)}` : 'EXPUNGE'}`; break;
    case 18: case 19: case 20: cmd = `${tag} ${uid}SEARCH ${searchProgram(rng)}`; break;
    case 21: case 22: case 23: case 24: cmd = `${tag} ${uid}FETCH ${sequenceSet(rng)} ${fetchItems(rng)}`; break;
    case 25: case 26: {
      const op = `${rng.pick(['', '+', '-'])}FLAGS${rng.chance(0.4) ? '.SILENT' : ''}`;
      cmd = `${tag} ${uid}STORE ${sequenceSet(rng)} ${op} ${rng.chance(0.8) ? flagList(rng) : rng.pick(FLAGS)}`;
      break;
    }
    case 27: cmd = `${tag} ${uid}COPY ${sequenceSet(rng, false)} ${folder(rng)}`; break;
    case 28: cmd = `${tag} ${uid}MOVE ${sequenceSet(rng, false)} ${folder(rng)}`; break;
    case 29: case 30: return `${tag} IDLE\r\n${rng.chance(0.8) ? 'DONE' : rng.pick(['done', 'DONE ', 'NOT DONE', ''])}\r\n`;
    case 31: cmd = `${tag} NAMESPACE`; break;
    case 32: cmd = `${tag} ENABLE ${rng.pick(['UTF8=ACCEPT', 'CONDSTORE', 'UTF8=ACCEPT QRESYNC', 'X-UNKNOWN'])}`; break;
    case 33: cmd = `${tag} ID ${rng.chance(0.3) ? 'NIL' : `("name" ${astring(rng, 'fuzz')} "version" "1.0")`}`; break;
    case 34: case 35: {
      const keys = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO'];
      const crit = Array.from({ length: rng.range(1, 3) }, () => `${rng.chance(0.3) ? 'REVERSE ' : ''}${rng.pick(keys)}`);
      cmd = `${tag} ${uid}SORT (${crit.join(' ')}) ${rng.pick(['UTF-8', 'US-ASCII'])} ${searchProgram(rng)}`;
      break;
    }
    case 36: case 37: cmd = `${tag} ${uid}THREAD ${rng.pick(['ORDEREDSUBJECT', 'REFERENCES'])} UTF-8 ${searchProgram(rng)}`; break;
    case 38: cmd = `${tag} GETQUOTA ${astring(rng, rng.pick(['', 'ROOT']))}`; break;
    case 39: cmd = `${tag} GETQUOTAROOT ${folder(rng)}`; break;
    case 40: cmd = `${tag} SETQUOTA "" (STORAGE ${rng.int(100000)})`; break;
    case 41: cmd = `${tag} LOGIN ${astring(rng, USER)} ${astring(rng, rng.chance(0.9) ? PASSWORD : 'wrong')}`; break;
    case 42: {
      const initial = plain(USER, rng.chance(0.9) ? PASSWORD : 'wrong');
      cmd = rng.chance(0.5) ? `${tag} AUTHENTICATE PLAIN ${initial}` : `${tag} AUTHENTICATE PLAIN\r\n${rng.chance(0.9) ? initial : '*'}`;
      break;
    }
    case 43: cmd = opts.net ? `${tag} STARTTLS` : `${tag} NOOP`; break;
    case 44: cmd = `${tag} ${rng.pick(['SELECT', 'EXAMINE'])} ${folder(rng)}`; break;
    case 45: cmd = `${tag} ${uid}FETCH ${sequenceSet(rng)} (UID FLAGS ${section(rng)})`; break;
    case 46: cmd = rng.chance(0.2) ? `${tag} LOGOUT` : `${tag} NOOP`; break;
    default: cmd = `${tag} ${uid}SEARCH ${searchKey(rng, 5)}`; break;
  }
  return `${cmd}\r\n`;
}

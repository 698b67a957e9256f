// Valid commands of the extensions that came after the first corpus (corpus.ts): ESEARCH,
// ESORT, SEARCHRES, CONTEXT=SEARCH, WITHIN, CONDSTORE/QRESYNC, MULTIAPPEND, CATENATE with
// URL-PARTIAL, REPLACE, APPENDLIMIT, BINARY and literal8, OBJECTID, SAVEDATE, PREVIEW,
// COMPRESS=DEFLATE, NOTIFY, IMAP4rev2, the ACL commands, shared folders (Courier's virtual
// "#shared.OWNER.FOLDER" and sharable "shared.NAME.FOLDER"), AUTHENTICATE EXTERNAL, THREAD=REFS,
// SORT=DISPLAY, LIST-EXTENDED / LIST-STATUS, UNAUTHENTICATE.

import type { Rng } from './random.js';

/** The second account (net) and the sharable Maildir (stdio) the seed sets up (targets.ts). */
export const OTHER_USER = 'fuzz2';
export const SHARABLE_NAME = 'pub';

const MAILBOXES = [
  'INBOX', 'INBOX.Sent', 'INBOX.Archive', 'INBOX.Archive.2025', 'INBOX.Caf&AOk-', 'INBOX.new', 'INBOX.Trash',
  `#shared.${OTHER_USER}.INBOX`, `#shared.${OTHER_USER}.Public`, `#shared.${OTHER_USER}`, '#shared.nobody.INBOX', '#shared.',
  `shared.${SHARABLE_NAME}.Public`, `shared.${SHARABLE_NAME}.Public.sub`, 'shared.nope.x', 'shared.',
];
const KEYS_PLAIN = ['ALL', 'SEEN', 'UNSEEN', 'DELETED', 'FLAGGED', 'RECENT', 'NEW', '1:*', '*', '2:5', '$'];

export function mailbox(rng: Rng, quote: (rng: Rng, v: string) => string): string {
  return quote(rng, rng.pick(MAILBOXES));
}

function seq(rng: Rng): string {
  const r = rng.int(6);
  if (r === 0) return '$';
  if (r === 1) return '1:*';
  if (r === 2) return `${rng.range(1, 14)}`;
  if (r === 3) return `${rng.range(1, 14)}:${rng.range(1, 14)}`;
  if (r === 4) return '*';
  return `${rng.range(1, 5)},${rng.range(6, 14)}:*`;
}

function extKey(rng: Rng): string {
  switch (rng.int(12)) {
    case 0: return `${rng.pick(['YOUNGER', 'OLDER'])} ${rng.pick(['0', '1', '3600', '100000000', '4294967295'])}`;
    case 1: return `MODSEQ ${rng.pick(['1', '5', '18446744073709551615', '0'])}`;
    case 2: return `MODSEQ "/flags/\\\\Seen" ${rng.pick(['all', 'priv', 'shared'])} ${rng.int(20)}`;
    case 3: return `${rng.pick(['SAVEDBEFORE', 'SAVEDON', 'SAVEDSINCE'])} ${rng.pick(['1-Jan-2020', '7-Dec-2026', '31-Dec-2099'])}`;
    case 4: return 'SAVEDATESUPPORTED';
    case 5: return `${rng.pick(['EMAILID', 'THREADID'])} ${rng.pick(['M1', 'T1', 'Mabcdef0123', 'x'])}`;
    case 6: return '$';
    case 7: return `UID $`;
    case 8: return `NOT $`;
    case 9: return `OR $ ${rng.pick(KEYS_PLAIN)}`;
    case 10: return `FUZZY SUBJECT report`;
    default: return rng.pick(KEYS_PLAIN);
  }
}

function returnOpts(rng: Rng, sort: boolean): string {
  const opts = ['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'UPDATE', 'CONTEXT', `PARTIAL ${rng.pick(['1:10', '-1:-5', '5:1', '1:4294967295', '-4294967295:-1'])}`];
  const n = rng.int(4);
  const picked = Array.from({ length: n }, () => rng.pick(sort ? opts.filter((o) => o !== 'SAVE') : opts));
  return `RETURN (${picked.join(' ')})`;
}

function fetchExt(rng: Rng): string {
  const part = rng.pick(['', '1', '2', '1.1', '3.2', '4', '0']);
  const partial = rng.chance(0.3) ? `<${rng.int(100)}.${rng.range(1, 200)}>` : '';
  const items = [
    `BINARY[${part}]${partial}`, `BINARY.PEEK[${part}]${partial}`, `BINARY.SIZE[${part}]`, 'EMAILID', 'THREADID', 'SAVEDATE',
    'PREVIEW', 'PREVIEW (LAZY)', 'MODSEQ', 'UID', 'FLAGS', 'RFC822.SIZE', 'BODY.PEEK[HEADER.FIELDS (Subject)]',
  ];
  const list = Array.from({ length: rng.range(1, 4) }, () => rng.pick(items));
  const modifiers = rng.pick(['', '', ` (CHANGEDSINCE ${rng.int(30)})`, ` (CHANGEDSINCE ${rng.int(30)} VANISHED)`, ' (VANISHED)', ' (PARTIAL 1:5)']);
  return `(${list.join(' ')})${modifiers}`;
}

function message(rng: Rng, nul = false): string {
  const body = nul ? `bin\x00ary\x00\r\n\x00\x01\xff` : rng.pick(['Body.\r\n', 'x\r\n', '']);
  return `From: x@example.org\r\nSubject: ext ${rng.int(100)}\r\nMessage-ID: <e${rng.int(1000)}@x>\r\n\r\n${body}`;
}

function literal(rng: Rng, text: string, eight = false): string {
  const n = Buffer.byteLength(text, 'latin1');
  return `${eight ? '~' : ''}{${n}${rng.chance(0.5) ? '+' : ''}}\r\n${text}`;
}

function imapUrl(rng: Rng): string {
  const box = rng.pick(['INBOX', 'INBOX.Sent', 'INBOX.Archive.2025', 'Caf%C3%A9', 'INBOX.Nope']);
  const uid = rng.pick(['1', '2', '3', '12', '99', '0', '4294967295', 'x']);
  const section = rng.pick(['', '/;SECTION=HEADER', '/;SECTION=TEXT', '/;SECTION=1', '/;SECTION=2.MIME', '/;SECTION=HEADER.FIELDS%20(Subject)', '/;SECTION=9.9.9']);
  const partial = rng.pick(['', '', '/;PARTIAL=0.10', '/;PARTIAL=5', '/;PARTIAL=4294967295.1', '/;PARTIAL=0.0']);
  const uv = rng.chance(0.3) ? `;UIDVALIDITY=${rng.pick(['1', '1700000000', '4294967296'])}` : '';
  switch (rng.int(8)) {
    case 0: return `imap://fuzz@localhost/${box}${uv}/;UID=${uid}${section}${partial}`;
    case 1: return `/;UID=${uid}${section}${partial}`;
    case 2: return `imap://other@host/${box}/;UID=${uid}`;
    case 3: return rng.pick(['', '/', '//', 'imap://', 'imap:///;UID=1', '/%zz/;UID=1', 'http://x/', '/INBOX/;UID=1;URLAUTH=anonymous:internal:91354a4', '/INBOX/;UID=1/;SECTION=../../']);
    default: return `/${box}${uv}/;UID=${uid}${section}${partial}`;
  }
}

function catenate(rng: Rng): string {
  const parts = Array.from({ length: rng.range(1, 4) }, () =>
    rng.chance(0.5) ? `URL "${imapUrl(rng)}"` : `TEXT ${literal(rng, rng.chance(0.5) ? message(rng) : '\r\n--sep--\r\n', rng.chance(0.1))}`,
  );
  return `CATENATE (${parts.join(' ')})`;
}

function appendTail(rng: Rng): string {
  const flags = rng.chance(0.4) ? ` (${rng.pick(['\\Seen', '\\Draft', '$Fwd', ''])})` : '';
  const date = rng.chance(0.3) ? ' "7-Dec-2026 10:00:00 +0000"' : '';
  const r = rng.int(5);
  const body = r === 0 ? catenate(rng) : r === 1 ? literal(rng, message(rng, true), true) : literal(rng, message(rng, rng.chance(0.1)), rng.chance(0.2));
  return `${flags}${date} ${body}`;
}

const NOTIFY_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange', 'AnnotationChange', 'ServerMetadataChange', 'Bogus'];

function notifyGroup(rng: Rng): string {
  const filters = [
    'selected', 'selected-delayed', 'personal', 'inboxes', 'subscribed',
    `subtree ${rng.pick(['INBOX', '(INBOX INBOX.Archive)', `"#shared.${OTHER_USER}"`])}`,
    `mailboxes ${rng.pick(['INBOX.Sent', '(INBOX "INBOX.Caf&AOk-" INBOX.Nope)', `"shared.${SHARABLE_NAME}.Public"`])}`,
  ];
  const filter = rng.pick(filters);
  const evs = rng.chance(0.2) ? 'NONE' : `(${Array.from({ length: rng.int(4) }, () => rng.pick(NOTIFY_EVENTS)).join(' ')})`;
  const full = rng.chance(0.7) ? '(MessageNew (UID FLAGS) MessageExpunge FlagChange)' : rng.chance(0.5) ? '(MessageNew MessageExpunge)' : evs;
  return `(${filter} ${filter.startsWith('selected') ? full : evs})`;
}

/** One valid (or nearly valid) command of the newer extensions, without its CRLF. */
export function extendedCommand(rng: Rng, tag: string, quote: (rng: Rng, v: string) => string): string {
  const uid = rng.chance(0.4) ? 'UID ' : '';
  const box = () => mailbox(rng, quote);
  switch (rng.int(40)) {
    case 0: case 1: return `${tag} ${uid}SEARCH ${returnOpts(rng, false)} ${extKey(rng)}${rng.chance(0.5) ? ` ${extKey(rng)}` : ''}`;
    case 2: return `${tag} ${uid}SEARCH RETURN (UPDATE${rng.chance(0.5) ? ' COUNT' : ''}) ${extKey(rng)}`;
    case 3: return `${tag} CANCELUPDATE ${rng.pick(['"f1"', `"${tag}"`, '"nope"', '"f1" "f2"', 'f3'])}`;
    case 4: return `${tag} ${uid}SORT ${rng.chance(0.5) ? `${returnOpts(rng, true)} ` : ''}(${rng.pick(['DISPLAYFROM', 'DISPLAYTO', 'REVERSE DISPLAYFROM DATE', 'ARRIVAL', 'SUBJECT SIZE'])}) UTF-8 ${extKey(rng)}`;
    case 5: return `${tag} ${uid}THREAD ${rng.pick(['REFS', 'REFERENCES', 'ORDEREDSUBJECT', 'REFS'])} UTF-8 ${extKey(rng)}`;
    case 6: case 7: return `${tag} ${uid}FETCH ${seq(rng)} ${fetchExt(rng)}`;
    case 8: return `${tag} ${uid}STORE ${seq(rng)} ${rng.chance(0.5) ? `(UNCHANGEDSINCE ${rng.int(30)}) ` : ''}${rng.pick(['+', '-', ''])}FLAGS${rng.chance(0.5) ? '.SILENT' : ''} (${rng.pick(['\\Seen', '\\Deleted', '$Fwd', '\\Deleted \\Seen'])})`;
    case 9: return `${tag} ${rng.pick(['SELECT', 'EXAMINE'])} ${box()}${rng.pick(['', ' (CONDSTORE)', ` (QRESYNC (1700000000 ${rng.int(20)}${rng.chance(0.5) ? ' 1:20' : ''}${rng.chance(0.3) ? ' (1,3,5 1,3,5)' : ''}))`])}`;
    case 10: case 11: return `${tag} APPEND ${box()}${appendTail(rng)}${rng.chance(0.4) ? appendTail(rng) : ''}${rng.chance(0.2) ? appendTail(rng) : ''}`;
    case 12: return `${tag} ${uid}REPLACE ${seq(rng)} ${box()}${appendTail(rng)}`;
    case 13: return `${tag} STATUS ${box()} (${Array.from({ length: rng.range(1, 4) }, () => rng.pick(['APPENDLIMIT', 'MAILBOXID', 'SIZE', 'HIGHESTMODSEQ', 'DELETED', 'MESSAGES', 'UNSEEN'])).join(' ')})`;
    case 14: return `${tag} COMPRESS ${rng.chance(0.9) ? 'DEFLATE' : rng.pick(['deflate', 'GZIP', ''])}`;
    case 15: case 16: return `${tag} NOTIFY SET${rng.chance(0.3) ? ' STATUS' : ''} ${Array.from({ length: rng.range(1, 3) }, () => notifyGroup(rng)).join(' ')}`;
    case 17: return `${tag} NOTIFY NONE`;
    case 18: return `${tag} ENABLE ${rng.pick(['IMAP4rev2', 'IMAP4REV2 UTF8=ACCEPT', 'IMAP4rev2 CONDSTORE', 'QRESYNC IMAP4rev2'])}`;
    case 19: return `${tag} GETACL ${box()}`;
    case 20: return `${tag} SETACL ${box()} ${rng.pick(['fuzz2', 'anyone', '-fuzz2', 'fuzz', 'owner', 'administrators', '"a b"'])} ${rng.pick(['+lr', '-w', 'lrswipkxtecda', '', '+z', 'lr'])}`;
    case 21: return `${tag} DELETEACL ${box()} ${rng.pick(['fuzz2', 'anyone', 'fuzz'])}`;
    case 22: return `${tag} LISTRIGHTS ${box()} ${rng.pick(['fuzz2', 'anyone', 'fuzz'])}`;
    case 23: return `${tag} MYRIGHTS ${box()}`;
    case 24: return `${tag} LIST ${rng.pick(['""', '"#shared."', '"shared."', `"#shared.${OTHER_USER}."`])} ${quote(rng, rng.pick(['*', '%', '%.%', `#shared.${OTHER_USER}.*`, 'shared.*']))}${rng.chance(0.5) ? ` RETURN (STATUS (MESSAGES UIDNEXT${rng.chance(0.5) ? ' SIZE' : ''}) CHILDREN)` : ''}`;
    case 25: return `${tag} LIST (${rng.pick(['SUBSCRIBED', 'REMOTE', 'SUBSCRIBED RECURSIVEMATCH', 'SPECIAL-USE'])}) "" (${rng.pick(['"*"', 'INBOX "#shared.*"', '%'])})`;
    case 26: return `${tag} ${rng.pick(['SELECT', 'EXAMINE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'CREATE', 'DELETE'])} ${box()}`;
    case 27: return `${tag} ${uid}${rng.pick(['COPY', 'MOVE'])} ${seq(rng)} ${box()}`;
    case 28: return `${tag} AUTHENTICATE EXTERNAL${rng.pick(['', ' =', ` ${Buffer.from('fuzz').toString('base64')}`, '\r\n=', '\r\n*'])}`;
    case 29: return `${tag} UNAUTHENTICATE`;
    case 30: return `${tag} CREATE INBOX.${rng.pick(['Junk', 'Drafts2', 'x'])} (USE (${rng.pick(['\\Junk', '\\Drafts', '\\All', '\\Bogus', ''])}))`;
    case 31: return `${tag} ${uid}EXPUNGE${uid ? ` ${seq(rng)}` : ''}`;
    case 32: return `${tag} ${uid}SEARCH RETURN (SAVE) ${extKey(rng)}`;
    case 33: return `${tag} ${uid}FETCH $ (FLAGS UID)`;
    case 34: return `${tag} ${uid}COPY $ INBOX.Archive`;
    case 35: return `${tag} RENAME ${box()} ${box()}`;
    case 36: return `${tag} STORE ${seq(rng)} +FLAGS.SILENT (\\Deleted)\r\n${tag}x EXPUNGE`;
    case 37: return `${tag} IDLE\r\nDONE`;
    case 38: return `${tag} GETQUOTAROOT ${box()}`;
    default: return `${tag} NOOP`;
  }
}

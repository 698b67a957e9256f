// Hostile cases for the newer extensions (corpus-ext.ts): huge sets and saved results, deep
// nesting in CATENATE and NOTIFY, bad IMAP URLs, literal8 with NUL, COMPRESS followed by
// garbage or by a decompression bomb, NOTIFY with thousands of names, ENABLE IMAP4rev2 in the
// middle of a session, CONTEXT=SEARCH updates while the session (or, on the network, another
// one: they share the account) expunges, MULTIAPPEND with thousands of messages.

import { rawLine } from './driver.js';
import { OTHER_USER } from './corpus-ext.js';
import type { Rng } from './random.js';

const repeat = (s: string, n: number) => s.repeat(Math.max(0, n));

function msg(n: number): string {
  return `Subject: h${n}\r\n\r\nbody ${n}\r\n`;
}

function lit(text: string, plus = true, eight = false): string {
  return `${eight ? '~' : ''}{${Buffer.byteLength(text, 'latin1')}${plus ? '+' : ''}}\r\n${text}`;
}

/** A case's text (latin1) for one of the hostile shapes; `tag` is the case's tag. */
export function hostile(rng: Rng, tag: string): { label: string; text: string } {
  const items: [string, () => string][] = [
    ['huge saved set', () => `${tag}a SEARCH RETURN (SAVE) ALL\r\n${tag} UID FETCH $,${repeat('1:4294967295,$,', rng.range(10, 3000))}1 (FLAGS)\r\n`],
    ['huge partial', () => `${tag} UID SEARCH RETURN (PARTIAL ${rng.pick(['1:4294967295', '-1:-4294967295', '4294967295:4294967295', '0:1', '1:0', '-0:-1'])} COUNT) ALL\r\n`],
    ['many return options', () => `${tag} SEARCH RETURN (${repeat('MIN MAX COUNT ALL SAVE ', rng.range(10, 4000))}) ALL\r\n`],
    ['many update contexts', () => Array.from({ length: rng.range(50, 400) }, (_, i) => `${tag}u${i} SEARCH RETURN (UPDATE) ${rng.pick(['ALL', 'SEEN', 'UNSEEN', 'DELETED'])}\r\n`).join('') +
      `${tag}s STORE 1:* +FLAGS (\\Seen \\Deleted)\r\n${tag}e EXPUNGE\r\n${tag} NOOP\r\n`],
    ['context then expunge', () => `${tag}c SEARCH RETURN (UPDATE COUNT MIN) UNDELETED\r\n${tag}s STORE ${rng.pick(['1:3', '1:*', '2', '$'])} +FLAGS (\\Deleted)\r\n` +
      `${tag}a APPEND INBOX ${lit(msg(1))}\r\n${tag}e ${rng.pick(['EXPUNGE', 'UID EXPUNGE 1:*', 'CLOSE', 'MOVE 1 INBOX.Archive'])}\r\n${tag}n NOOP\r\n${tag} CANCELUPDATE "${tag}c"\r\n`],
    ['many cancelupdate', () => `${tag} CANCELUPDATE ${Array.from({ length: rng.range(10, 5000) }, (_, i) => `"t${i}"`).join(' ')}\r\n`],
    ['deep catenate parens', () => `${tag} APPEND INBOX CATENATE ${repeat('(', rng.size(10000))}TEXT ${lit(msg(2))}${repeat(')', rng.size(10000))}\r\n`],
    ['many catenate parts', () => `${tag} APPEND INBOX CATENATE (${repeat(`TEXT ${lit('x')} `, rng.range(10, 5000))})\r\n`],
    ['many catenate urls', () => `${tag} APPEND INBOX CATENATE (${repeat(`URL "${rng.pick(['/INBOX/;UID=1', '/;UID=2/;SECTION=TEXT', '/INBOX/;UID=3/;PARTIAL=0.5'])}" `, rng.range(10, 800))})\r\n`],
    ['long url', () => `${tag} APPEND INBOX CATENATE (URL "/${repeat(rng.pick(['a', '%41', '%', '/', ';UID=1/']), rng.range(1000, 60_000))}/;UID=1")\r\n`],
    ['bad url', () => `${tag} APPEND INBOX CATENATE (URL ${rng.pick([
      '"imap://fuzz@localhost:99999999999/INBOX/;UID=1"', '"/INBOX/;UID=1/;SECTION=1.2.3.4.5.6.7.8.9.10.11.12.13.14"',
      '"/INBOX/;UID=1/;PARTIAL=4294967295.4294967295"', '"/%00/;UID=1"', '"/INBOX;UIDVALIDITY=0/;UID=1"', '"/../../etc/passwd/;UID=1"',
      '"/INBOX.Caf%26AOk-/;UID=1"', `"/#shared.${OTHER_USER}.Public/;UID=1"`, '"/shared.pub.Public/;UID=1"', '"imap://[::1/INBOX/;UID=1"',
      '{20}\r\n/INBOX/;UID=1\x00\r\nabcd', '""', 'NIL', '(/INBOX/;UID=1)',
    ])})\r\n`],
    ['url to itself', () => `${tag}a APPEND INBOX CATENATE (URL "/INBOX/;UID=${rng.range(1, 20)}" URL "/INBOX/;UID=${rng.range(1, 20)}")\r\n${tag} UID ${rng.pick(['REPLACE', 'REPLACE'])} ${rng.range(1, 20)} INBOX CATENATE (URL "/INBOX/;UID=${rng.range(1, 20)}")\r\n`],
    // A MULTIAPPEND costs 8-19 ms a message on our loaded 2-core machine (a sync each): 300 took
    // 2.4 s and 3000 took 58 s, beyond any deadline without being a stall; 1000 URLs took 1.3 s.
    ['multiappend many', () => `${tag} APPEND INBOX ${Array.from({ length: rng.range(10, 100) }, (_, i) => lit(msg(i))).join(' ')}\r\n`],
    ['multiappend then huge', () => `${tag} APPEND INBOX ${lit(msg(1))} ${lit(msg(2))} {${rng.pick(['4294967296', '67108865', '99999999999999999999'])}+}\r\n`],
    ['multiappend then bad', () => `${tag} APPEND INBOX ${lit(msg(1))} (\\Seen) ${lit(msg(2))} ${rng.pick(['(', ')', 'NIL', '"x"', '{0+}\r\n', 'CATENATE (URL "/nope/;UID=1")', 'CATENATE ()'])}\r\n${tag}n NOOP\r\n`],
    ['literal8 with NUL', () => { const b = Buffer.from(msg(3) + repeat('\x00', rng.range(1, 5000)) + '\r\n', 'latin1'); return `${tag} ${rng.pick(['APPEND INBOX', 'APPEND INBOX (\\Seen)', 'REPLACE 1 INBOX', `APPEND INBOX CATENATE (TEXT`])} ${lit(b.toString('latin1'), rng.chance(0.5), true)}${rng.chance(0.3) ? ')' : ''}\r\n`; }],
    ['NUL in plain literal', () => `${tag} APPEND INBOX ${lit(`${msg(4)}\x00\x00`, rng.chance(0.5), false)}\r\n`],
    ['literal8 outside APPEND', () => `${tag} ${rng.pick(['SELECT', 'SEARCH TEXT', 'LOGIN', 'CREATE'])} ${lit('a\x00b', rng.chance(0.5), true)}\r\n`],
    ['binary deep part', () => `${tag} FETCH 1:* ${rng.pick(['BINARY', 'BINARY.PEEK', 'BINARY.SIZE'])}[${Array.from({ length: rng.range(10, 3000) }, () => String(rng.range(1, 4))).join('.')}]\r\n`],
    ['binary huge partial', () => `${tag} FETCH 1:* BINARY.PEEK[${rng.pick(['', '1', '2', '4.2'])}]<${rng.pick(['4294967295.4294967295', '0.4294967295', '4294967296.1', '0.0'])}>\r\n`],
    ['compress garbage', () => `${tag} COMPRESS DEFLATE\r\n${rawLine(garbage(rng))}`],
    ['compress bomb', () => `${tag} COMPRESS DEFLATE\r\n${tag}b NOOP ${repeat('a', rng.range(100_000, 4_000_000))}\r\n${tag}c NOOP\r\n`],
    ['compress twice', () => `${tag}a COMPRESS DEFLATE\r\n${tag}b COMPRESS DEFLATE\r\n${tag}c ${rng.pick(['STARTTLS', 'NOOP', 'IDLE\r\nDONE', 'LOGOUT'])}\r\n`],
    ['compress then big fetch', () => `${tag}a COMPRESS DEFLATE\r\n${tag} FETCH 1:* (BODY.PEEK[] BINARY.PEEK[1] PREVIEW)\r\n`],
    ['notify many names', () => `${tag} NOTIFY SET (mailboxes (${Array.from({ length: rng.range(100, 5000) }, (_, i) => `INBOX.n${i}`).join(' ')})) (MessageNew MessageExpunge)\r\n`],
    ['notify long name', () => `${tag} NOTIFY SET (mailboxes ${repeat(rng.pick(['a', '&AOk-', '.', '%']), rng.range(1000, 60_000))}) (MessageNew MessageExpunge)\r\n`],
    ['notify many groups', () => `${tag} NOTIFY SET ${repeat(`(${rng.pick(['personal', 'inboxes', 'subscribed', 'subtree INBOX'])} (MessageNew MessageExpunge FlagChange)) `, rng.range(10, 3000))}\r\n`],
    ['notify deep', () => `${tag} NOTIFY SET ${repeat('(', rng.size(5000))}personal (MessageNew MessageExpunge)${repeat(')', rng.size(5000))}\r\n`],
    ['notify many events', () => `${tag} NOTIFY SET (personal (${repeat('MessageNew MessageExpunge FlagChange ', rng.range(10, 5000))}))\r\n`],
    ['notify then churn', () => `${tag}a NOTIFY SET STATUS (selected (MessageNew (UID FLAGS ${rng.pick(['BODY.PEEK[]', 'PREVIEW', 'BINARY.SIZE[1]', 'ENVELOPE'])}) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))\r\n` +
      `${tag}b APPEND INBOX.Sent ${lit(msg(5))}\r\n${tag}c CREATE INBOX.nt${rng.int(9)}\r\n${tag}d RENAME INBOX.nt${rng.int(9)} INBOX.nu${rng.int(9)}\r\n${tag}e SUBSCRIBE INBOX.Archive\r\n${tag}f STORE 1:* +FLAGS (\\Seen)\r\n${tag} NOOP\r\n`],
    ['rev2 mid-session', () => `${tag}a ENABLE IMAP4rev2\r\n${tag}b ${rng.pick(['SELECT INBOX', 'NOOP', 'EXAMINE INBOX.Sent'])}\r\n${tag}c ${rng.pick(['FETCH 1:* (FLAGS BINARY.SIZE[1])', 'SEARCH RETURN () ALL', 'LIST "" *', 'STATUS INBOX (SIZE DELETED)', 'EXPUNGE', 'SEARCH UNSEEN', 'COPY 1:* INBOX.Archive'])}\r\n${tag}d ENABLE IMAP4rev2 UTF8=ACCEPT QRESYNC\r\n${tag} ${rng.pick(['LSUB "" *', 'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)', 'SELECT INBOX (QRESYNC (1 1))', 'NOOP'])}\r\n`],
    ['many acl entries', () => Array.from({ length: rng.range(10, 500) }, (_, i) => `${tag}${i} SETACL ${rng.pick(['INBOX', 'INBOX.Sent'])} u${i}${repeat('x', rng.int(200))} lrswi\r\n`).join('') + `${tag} GETACL INBOX\r\n`],
    ['long acl identifier', () => `${tag} SETACL INBOX ${lit(repeat(rng.pick(['a', ' ', '\n', '-', '\x01']), rng.range(100, 60_000)))} ${rng.pick(['lr', '+a', '-x'])}\r\n`],
    ['deep shared name', () => `${tag} ${rng.pick(['SELECT', 'STATUS', 'CREATE', 'DELETE', 'GETACL', 'MYRIGHTS'])} "#shared.${repeat(rng.pick([`${OTHER_USER}.`, 'x.', '.', '%.']), rng.range(10, 5000))}"${rng.chance(0.3) ? ' (MESSAGES)' : ''}\r\n`],
    ['shared churn', () => `${tag}a SELECT "#shared.${OTHER_USER}.Public"\r\n${tag}b APPEND "#shared.${OTHER_USER}.Public" ${lit(msg(6))}\r\n${tag}c STORE 1:* +FLAGS (\\Deleted)\r\n${tag}d EXPUNGE\r\n${tag}e SETACL "#shared.${OTHER_USER}.Public" fuzz ${rng.pick(['lr', '-rw', '+a', ''])}\r\n${tag} MOVE 1:* "shared.pub.Public"\r\n`],
    ['qresync huge', () => `${tag} SELECT INBOX (QRESYNC (${rng.pick(['1700000000', '1', '4294967295'])} ${rng.pick(['1', '18446744073709551615', '0'])} ${repeat('1:4294967295,', rng.range(10, 2000))}1 (${repeat('1,', rng.range(10, 2000))}2 ${repeat('1,', rng.range(10, 2000))}2)))\r\n`],
    ['many enables', () => `${tag} ENABLE ${repeat('IMAP4rev2 CONDSTORE QRESYNC UTF8=ACCEPT X-FOO ', rng.range(10, 5000))}\r\n`],
    ['authenticate external', () => `${tag} AUTHENTICATE EXTERNAL ${rng.pick([repeat('A', rng.range(1000, 70_000)), '=', '====', '%%%', Buffer.from(`${OTHER_USER}\x00x`).toString('base64')])}\r\n`],
    ['unauthenticate churn', () => `${tag}a SEARCH RETURN (UPDATE) ALL\r\n${tag}b NOTIFY SET (selected (MessageNew (UID) MessageExpunge)) (personal (MessageNew MessageExpunge))\r\n${tag}c UNAUTHENTICATE\r\n${tag} ${rng.pick(['NOOP', 'FETCH 1 FLAGS', 'CANCELUPDATE "x"', 'NOTIFY NONE'])}\r\n`],
    ['sort display many', () => `${tag} SORT (${repeat('REVERSE DISPLAYFROM DISPLAYTO ', rng.range(10, 3000))}) UTF-8 ALL\r\n`],
    ['thread refs deep', () => `${tag} UID THREAD REFS UTF-8 ${repeat('OR SEEN ', rng.range(10, 5000))}ALL\r\n`],
    ['within extreme', () => `${tag} SEARCH ${rng.pick(['YOUNGER', 'OLDER'])} ${rng.pick(['99999999999999999999', '4294967296', '-1', '0'])}\r\n`],
    ['replace chain', () => Array.from({ length: rng.range(5, 60) }, (_, i) => `${tag}${i} UID REPLACE ${rng.range(1, 30)} ${rng.pick(['INBOX', 'INBOX.Sent', `"#shared.${OTHER_USER}.Public"`])} ${lit(msg(i))}\r\n`).join('')],
  ];
  const [label, make] = rng.pick(items);
  return { label, text: make() };
}

/** Bytes that are not a DEFLATE stream (or are one, now and then: a stored block of noise). */
function garbage(rng: Rng): Buffer {
  const r = rng.int(4);
  if (r === 0) return rng.bytes(rng.range(1, 200));
  if (r === 1) return Buffer.from('a1 NOOP\r\n'); // plain text where DEFLATE is expected
  if (r === 2) return Buffer.concat([Buffer.from([0x00, 0x05, 0x00, 0xfa, 0xff]), Buffer.from('a1 NO'), rng.bytes(rng.range(1, 50))]);
  return Buffer.alloc(rng.range(1, 100_000), 0xff);
}

// Differential test: SEARCH on the same Maildir in Dovecot and here, with the keys parsed by
// our protocol parser. Known, deliberate differences are asserted as such at the end.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { MessageMeta } from '../../../server/mime/types.js';
import { parseMessage } from '../../../server/mime/parse.js';
import { parseCommand, parseSearchKeys } from '../../../server/imap/protocol/parser.js';
import { search, type SearchMessage } from '../../../server/imap/search/evaluate.js';
import { CORPUS, corpusRaw } from './corpus.js';
import { makeMaildir, makeWorkDir, peerScript, runPeer, untaggedData, type MaildirMessage, type PeerCommand } from './peer-harness.js';

const DOVECOT = peerScript('dovecot');

const lf = (lines: string[]): Buffer => Buffer.from(lines.join('\n'), 'latin1');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

// Messages with real bodies, after the 30 of the corpus (X-Seq 31...).
const EXTRA: Buffer[] = [
  lf([
    'From: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>', 'To: alice@example.org', 'Subject: Gruss', 'Date: Thu, 2 May 2024 10:00:00 +0200', 'X-Seq: 31',
    'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '',
    'Sch=F6ne Gr=FC=DFe aus K=F6ln, caf=E9', '--b', 'Content-Type: text/html; charset=us-ascii', '', '<p>html only words</p>', '--b--', '',
  ]),
  lf([
    'From: bob@example.com', 'To: carol@example.net', 'Subject: Encoded body', 'Date: Thu, 2 May 2024 11:00:00 +0000', 'X-Seq: 32',
    'Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: base64', '',
    Buffer.from('Base64 hidden WORD here\r\n').toString('base64'), '',
  ]),
  lf([
    'From: Carol <carol@example.net>', 'To: bob@example.com', 'Subject: Decomposed', 'Date: Thu, 2 May 2024 12:00:00 +0000', 'X-Seq: 33',
    'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '',
    utf8('a cafe\u0301 in decomposed form, and a stra\u00dfe'), '',
  ]),
  lf([
    'From: Dave <dave@example.org>', 'To: x@example.org', 'Subject: With attachment', 'Date: Thu, 2 May 2024 13:00:00 +0000', 'X-Seq: 34',
    'Content-Type: multipart/mixed; boundary="m"', '',
    '--m', 'Content-Type: text/plain', '', 'See attached.', '--m', 'Content-Type: message/rfc822', '',
    'From: inner@example.net', 'Subject: Inner subject', '', 'inner body text', '--m--', '',
  ]),
];

const FLAG_CYCLE = ['S', '', 'FS', 'RS', 'DS', 'ST'];
const FLAG_NAMES: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };

const MESSAGES: MaildirMessage[] = [
  ...CORPUS.map((c, i) => ({ raw: corpusRaw(i + 1), internalDate: c.internalDate })),
  ...EXTRA.map((raw, i) => ({ raw, internalDate: Date.UTC(2024, 4, 2, 14 + i) })),
].map((m, i) => ({ ...m, flags: FLAG_CYCLE[i % FLAG_CYCLE.length] }));

const lit = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Compared as they are. */
const SEARCHES: PeerCommand[] = [
  'ALL', '1:3', '*:28', '2,5:7', 'UID 30:*', 'UID 100:*', 'UID 3:1',
  'SEEN', 'UNSEEN', 'FLAGGED', 'ANSWERED', 'DELETED', 'DRAFT', 'UNDRAFT', 'RECENT', 'NEW', 'OLD',
  'BEFORE 1-May-2024', 'ON 1-May-2024', 'SINCE 2-May-2024', 'ON 2-May-2024',
  'SENTON 1-May-2024', 'SENTON 2-May-2024', 'SENTSINCE 2-May-2024', 'SENTON 30-Apr-2024',
  'LARGER 300', 'SMALLER 300',
  'FROM alice', 'FROM example.org', 'TO bob', 'CC team', 'BCC ""', 'CC ""', 'FROM ""',
  'SUBJECT plan', 'SUBJECT "re:"', 'SUBJECT "[list]"', 'SUBJECT ""',
  'HEADER X-Seq 1', 'HEADER Message-ID "a@x"', 'HEADER In-Reply-To gone', 'HEADER References ""', 'HEADER Subject ""',
  'BODY "message 1"', 'BODY "body of"', 'BODY "html only"', 'BODY "hidden word"', 'BODY "inner body"', 'BODY alice',
  'TEXT project', 'TEXT "x-seq: 2"', 'TEXT "inner subject"',
  ['CHARSET UTF-8 SUBJECT ', lit('äpfel')],
  ['CHARSET UTF-8 FROM ', lit('ÅSA')],
  ['CHARSET UTF-8 TO ', lit('øystein')],
  ['CHARSET UTF-8 FROM ', lit('jörg')],
  ['CHARSET UTF-8 BODY ', lit('grüße aus köln')],
  ['CHARSET UTF-8 BODY ', lit('café')],
  ['CHARSET UTF-8 BODY ', lit('straße')],
  // I18NLEVEL=1: i;unicode-casemap decomposes (NFKD), so "cafe" and a lone accent are found in "café".
  'BODY cafe', 'TEXT "CAFE"', ['CHARSET UTF-8 BODY ', lit('\u0301')], ['CHARSET UTF-8 BODY ', lit('CAFE\u0301')],
  'OR FROM alice NOT SEEN', 'NOT OR FLAGGED DELETED', '(SEEN FLAGGED) OR DRAFT ANSWERED',
  'OR (FROM alice TO bob) SUBJECT weekly', 'NOT (SUBJECT plan BODY "body of")', 'UNSEEN OR BODY hidden TEXT "lost parent"',
];

let work: Awaited<ReturnType<typeof makeWorkDir>> | undefined;
before(async () => {
  work = await makeWorkDir();
});
after(async () => {
  await work?.remove();
});

/** Our SEARCH result for a command as the peer got it. */
async function ours(command: PeerCommand, messages: SearchMessage[], metas: MessageMeta[]): Promise<string> {
  const parts = typeof command === 'string' ? [command] : command;
  const lines: Buffer[] = [];
  const literals: Buffer[] = [];
  let text = 't SEARCH ';
  for (const part of parts) {
    if (typeof part === 'string') text += part;
    else {
      lines.push(Buffer.from(`${text}{${part.length}}`, 'latin1'));
      literals.push(part);
      text = '';
    }
  }
  lines.push(Buffer.from(text, 'latin1'));
  const key = parseSearchKeys(parseCommand({ lines, literals }).args);
  const result = await search(messages, key, {
    cachedMeta: (uid) => metas[uid - 1],
    meta: async (uid) => metas[uid - 1],
    raw: async (uid) => MESSAGES[uid - 1].raw,
  });
  return result.join(' ');
}

const label = (command: PeerCommand): string => (typeof command === 'string' ? command : command.map((p) => p.toString()).join(''));

test('SEARCH agrees with Dovecot', { skip: DOVECOT ? false : 'Dovecot is not installed' }, async () => {
  const maildir = await makeMaildir(path.join(work!.dir, 'dovecot'), MESSAGES);
  const known: PeerCommand[] = ['SENTBEFORE 1-Jan-2030', 'NOT SENTSINCE 1-Jan-1990', '40:*'];
  const replies = await runPeer(DOVECOT!, maildir, path.join(work!.dir, 'state'), MESSAGES.map((_, i) => i + 1), [
    ...SEARCHES.map((c) => (typeof c === 'string' ? `SEARCH ${c}` : ['SEARCH ', ...c])),
    ...known.map((c) => `SEARCH ${String(c)}`),
  ]);
  const theirs = replies.map((text) => untaggedData(text, 'SEARCH'));

  const metas = MESSAGES.map((m) => parseMessage(m.raw));
  const messages: SearchMessage[] = MESSAGES.map((m, i) => ({
    seq: i + 1,
    uid: i + 1,
    info: { uid: i + 1, flags: new Set([...(m.flags ?? '')].map((c) => FLAG_NAMES[c])), size: metas[i].size, internalDate: m.internalDate, modseq: 1 },
    recent: true, // first SELECT of a new Maildir: everything is \Recent
  }));

  for (const [i, command] of SEARCHES.entries()) {
    assert.equal(await ours(command, messages, metas), theirs[i], `SEARCH ${label(command)}`);
  }
  // Sanity: the comparison is not between empty answers only.
  assert.ok(theirs.filter((t) => t !== '').length > SEARCHES.length * 0.8);

  // Message 20 has no Date: Dovecot takes 1-Jan-1970 for it; we (like Courier) let no SENT* key match it.
  const [sentBefore, notSentSince, beyondStar] = theirs.slice(SEARCHES.length);
  const ourSentBefore = await ours('SENTBEFORE 1-Jan-2030', messages, metas);
  assert.equal(sentBefore, `${ourSentBefore.split(' ').concat('20').map(Number).sort((a, b) => a - b).join(' ')}`);
  assert.equal(notSentSince, '20');
  assert.equal(await ours('NOT SENTSINCE 1-Jan-1990', messages, metas), '20'); // NOT of "no match" is a match
  // "40:*" with 34 messages: RFC 3501 section 9 reads it as 34:40, so 34 matches; Dovecot answers nothing.
  assert.equal(beyondStar, '');
  assert.equal(await ours('40:*', messages, metas), '34');
});

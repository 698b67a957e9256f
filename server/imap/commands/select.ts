// SELECT and EXAMINE (RFC 3501 6.3.1, 6.3.2). A new SELECT first closes the current
// mailbox without expunging (RFC 3501: "no expunge is performed"). With CONDSTORE announced,
// HIGHESTMODSEQ is reported (RFC 7162 3.1.2.1, as Dovecot does on every SELECT); the
// parameters (CONDSTORE) and, after ENABLE QRESYNC, (QRESYNC (...)) are taken (3.1.8, 3.2.5).
import { myRights, myRightsCode, requireRights } from '../rights.js';
import { AUTHENTICATED, ok, type CommandContext, type CommandSpec } from './types.js';
import { SyntaxError } from './args.js';
import { modseqValue, numberValue, parseSequenceSet } from '../protocol/parser.js';
import type { Token } from '../protocol/types.js';
import { qresyncAnswer, type QresyncParams } from './qresync.js';
import { selectedListLine } from './list.js';
import { isRev2 } from '../rev2.js';

async function open({ session, args }: CommandContext, examine: boolean) {
  let readOnly = examine;
  const wire = args.astring('mailbox name');
  let qresync: QresyncParams | undefined;
  if (args.remaining) {
    const params = args.list('SELECT parameters');
    for (let i = 0; i < params.length; i++) {
      const word = params[i].type === 'atom' ? (params[i] as { value: string }).value.toUpperCase() : '';
      if (word === 'CONDSTORE' && session.offers('CONDSTORE')) {
        session.enableCondstore();
      } else if (word === 'QRESYNC' && session.enabled.has('QRESYNC')) {
        // Only after ENABLE QRESYNC (RFC 7162 3.2.5: BAD otherwise).
        qresync = qresyncParams(params[++i]);
      } else {
        throw new SyntaxError(`Unknown SELECT parameter ${word.slice(0, 40)}`);
      }
    }
  }
  args.end();
  const name = session.storeName(wire);
  const denied = await requireRights(session, name, 'r', readOnly ? 'EXAMINE' : 'SELECT');
  if (denied) return (session.unselect(), denied);
  // As Courier: without a right to change anything (i, e, s, w, t) the folder is opened read-only.
  const rights = await myRights(session, name);
  if (![...'iestw'].some((c) => rights.includes(c))) readOnly = true;
  // A sharable Maildir's folder this process may not write (maildir/sharable.ts).
  if (await session.store.readOnlyFolder?.(name)) readOnly = true;
  const view = await session.select(name, readOnly);
  for (const line of view.flagsAnnouncement(view.announcedKeywords(), view.keywordsAllowed)) session.untagged(line);
  session.untagged([view.exists, { atom: 'EXISTS' }]);
  // IMAP4rev2 (RFC 9051 6.3.2, Appendix E items 10-12): a LIST line, and neither RECENT nor UNSEEN.
  const rev2 = isRev2(session.enabled);
  if (rev2) session.untagged(await selectedListLine(session, name));
  else session.untagged([view.recentCount, { atom: 'RECENT' }]);
  const firstUnseen = rev2 ? 0 : view.firstUnseen();
  if (firstUnseen > 0) session.untagged([{ atom: 'OK' }, { atom: `[UNSEEN ${firstUnseen}]` }, { atom: 'First unseen' }]);
  session.untagged([{ atom: 'OK' }, { atom: `[UIDVALIDITY ${view.uidValidity}]` }, { atom: 'UIDs valid' }]);
  session.untagged([{ atom: 'OK' }, { atom: `[UIDNEXT ${view.uidNext}]` }, { atom: 'Predicted next UID' }]);
  // RFC 8474 4.2.
  const mailboxId = session.offers('OBJECTID') ? await session.store.mailboxId?.(name) : null;
  if (mailboxId) session.untagged([{ atom: 'OK' }, { atom: `[MAILBOXID (${mailboxId})]` }, { atom: 'Ok' }]);
  if (session.settings.acl) session.untagged([{ atom: 'OK' }, { atom: `[${await myRightsCode(session, name)}]` }, { atom: 'ACL' }]);
  if (session.offers('CONDSTORE')) {
    // Not beyond what this view has been told (changes in flight reach it after the SELECT).
    const snapshot = view.folder.snapshot();
    session.untagged([{ atom: 'OK' }, { atom: `[HIGHESTMODSEQ ${snapshot.toldModseq ?? snapshot.highestModseq}]` }, { atom: 'Highest' }]);
  }
  // Another UIDVALIDITY: the client's state is void, the parameter is ignored (RFC 7162 3.2.5).
  if (qresync && qresync.uidValidity === view.uidValidity) session.write(Buffer.from(qresyncAnswer(view, qresync), 'utf8'));
  return ok(examine ? 'EXAMINE completed' : 'SELECT completed', readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

/** (QRESYNC (uidvalidity modseq [known-uids [(known-sequence-set known-uid-set)]])) */
function qresyncParams(token: Token | undefined): QresyncParams {
  if (token?.type !== 'list' || token.items.length < 2 || token.items.length > 4) throw new SyntaxError('Invalid QRESYNC parameters');
  const [validity, modseq, ...rest] = token.items;
  const params: QresyncParams = {
    uidValidity: numberValue(validity, 'UIDVALIDITY in QRESYNC', { nonZero: true }),
    modseq: modseqValue(modseq, 'mod-sequence in QRESYNC', { nonZero: true }),
  };
  let next = rest.shift();
  if (next?.type === 'atom') {
    params.knownUids = parseSequenceSet(next.value);
    if (params.knownUids.some((r) => r.from === Infinity || r.to === Infinity)) throw new SyntaxError('"*" is not allowed in known-uids');
    next = rest.shift();
  }
  if (next) {
    if (next.type !== 'list' || next.items.length !== 2 || next.items.some((t) => t.type !== 'atom') || rest.length) {
      throw new SyntaxError('Invalid QRESYNC sequence match data');
    }
    const [seqs, uids] = next.items.map((t) => parseSequenceSet((t as { value: string }).value));
    params.seqMatch = { seqs, uids };
  }
  return params;
}

export const select: CommandSpec = {
  names: ['SELECT'],
  states: AUTHENTICATED,
  // RFC 7162: mod-sequences span SELECT, FETCH, STORE, SEARCH, STATUS and ENABLE; declared
  // here, where a session's CONDSTORE or QRESYNC state starts.
  capabilities: [{ word: 'CONDSTORE' }, { word: 'QRESYNC' }],
  handler: (ctx) => open(ctx, false),
};

export const examine: CommandSpec = {
  names: ['EXAMINE'],
  states: AUTHENTICATED,
  handler: (ctx) => open(ctx, true),
};

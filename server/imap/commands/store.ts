// STORE and UID STORE (RFC 3501 6.4.6). The untagged FETCH answers come from us, not
// from the change queue: the queue's echo of our own change is dropped, and with
// .SILENT nothing is sent for the messages we changed. A message another session expunged
// (before we may say so) gets no FETCH: flags without the change would contradict the STORE
// (RFC 3501 6.4.6); STORE then answers NO [EXPUNGEISSUED] (RFC 5530), as FETCH does, and
// UID STORE OK (its EXPUNGE follows at once).
//
// CONDSTORE (RFC 7162 3.1.3): (UNCHANGEDSINCE n) leaves alone the messages changed after n
// (tested and stored in one step in the folder's queue) and names them in [MODIFIED ...];
// once CONDSTORE is on, the answers carry MODSEQ, and with .SILENT they are MODSEQ alone for
// the messages this STORE changed.
import { myRights, rightsForFlags } from '../rights.js';
import { SELECTED, bad, no, ok, type CommandSpec } from './types.js';
import { parseFlags, SyntaxError } from './args.js';
import { modseqValue } from '../protocol/parser.js';
import { sequenceSetArg } from './esearch.js';
import { compactSet, resolveSet } from '../resolve-set.js';
import type { FlagOperation, MessageState } from '../../backend/mailstore.js';

export const store: CommandSpec = {
  names: ['STORE', 'UID STORE'],
  states: SELECTED,
  sequenceNumbers: 'non-uid',
  async handler(ctx) {
    const { session, args, uid } = ctx;
    const view = session.selected!;
    const set = sequenceSetArg(ctx, 'sequence set');
    let unchangedSince: number | undefined;
    if (args.peek()?.type === 'list') {
      const modifiers = args.list('STORE modifiers');
      const word = modifiers[0]?.type === 'atom' ? modifiers[0].value.toUpperCase() : '';
      if (word !== 'UNCHANGEDSINCE' || modifiers.length !== 2) throw new SyntaxError('Unknown STORE modifier');
      unchangedSince = modseqValue(modifiers[1], 'mod-sequence after UNCHANGEDSINCE');
      session.enableCondstore();
    }
    const item = args.atom('message data item name').toUpperCase();
    const match = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
    if (!match) throw new SyntaxError(`Unknown STORE data item ${item}`);
    let flags = parseFlags(args.listOrItem('flag list'));
    args.end();
    const op: FlagOperation = match[1] === '+' ? 'add' : match[1] === '-' ? 'remove' : 'replace';
    const silent = Boolean(match[2]);
    const seqs = resolveSet(view, set, uid);
    if (view.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    if (!session.settings.keywords && flags.some((f) => !f.startsWith('\\'))) {
      return bad('Keywords are disabled on this server (IMAP_KEYWORDS=0)');
    }
    // RFC 4314 section 4: flags the ACL does not let this user change ("s" for \Seen, "t" for
    // \Deleted, "w" for the rest) are left as they are, and the STORE answers OK with the
    // flags as they are, as Courier does (the RFC has a STORE not fail for them).
    const held = await myRights(session, view.folder.name);
    const mayChange = (f: string) => held.includes(rightsForFlags([f]));
    const uids = seqs.map((s) => view.message(s)!.uid);
    const before = new Map(seqs.map((s) => [s, view.message(s)!.modseq]));
    let groups: { flags: readonly string[]; uids: number[] }[];
    if (op !== 'replace') {
      flags = flags.filter(mayChange);
      groups = flags.length ? [{ flags, uids }] : [];
    } else if (['s', 't', 'w'].every((r) => held.includes(r))) {
      groups = [{ flags, uids }];
    } else {
      // FLAGS (...) replaces only the flags this user may change; each message keeps the others.
      const byFlags = new Map<string, { flags: readonly string[]; uids: number[] }>();
      for (const s of seqs) {
        const m = view.message(s)!;
        const kept = [...m.flags].filter((f) => f !== '\\Recent' && !mayChange(f));
        const final = [...new Set([...flags.filter(mayChange), ...kept])].sort();
        const key = final.join(' ');
        const group = byFlags.get(key) ?? { flags: final, uids: [] };
        group.uids.push(m.uid);
        byFlags.set(key, group);
      }
      groups = [...byFlags.values()];
    }
    const result: { gone: number[]; modified: number[] } = { gone: [], modified: [] };
    for (const group of groups) {
      if (group.uids.length === 0) continue;
      const r = await view.folder.storeFlags(group.uids, op, group.flags, { unchangedSince });
      result.gone.push(...r.gone);
      result.modified.push(...r.modified);
    }
    const modified = new Set(result.modified);
    const gone = new Set(result.gone);
    // Take the folder's new state for these messages into our view (looked up by UID in the
    // folder's list, which ascends: no map of a whole 100,000-message folder per STORE).
    const current = view.folder.snapshot().messages;
    // Messages left alone keep their queued changes (by others): reported after the command.
    const stored = uids.filter((u) => !modified.has(u));
    view.discardFlagChanges(new Set(stored));
    for (const u of stored) {
      const m = gone.has(u) ? undefined : findUid(current, u);
      if (m) view.updateFlags(u, m.flags, m.modseq);
      else gone.add(u);
    }
    const condstore = view.condstore;
    const failed = seqs.filter((s) => modified.has(view.message(s)!.uid));
    // Our flags, and others' changes to the same messages, may bring keywords new to the client.
    if (!silent) session.announceKeywords();
    if ((!silent || condstore) && seqs.length) {
      // One write for all the answers (1,000 in STORE 1:1000), each FLAGS text made once per flag set.
      let text = '';
      // After ENABLE QRESYNC every FETCH names its UID (RFC 7162 3.2.4), as Dovecot's STORE answers do.
      const withUid = uid || session.enabled.has('QRESYNC');
      for (const s of seqs) {
        const m = view.message(s)!;
        if (modified.has(m.uid) || gone.has(m.uid)) continue;
        const modseq = condstore ? ` MODSEQ (${m.modseq})` : '';
        if (silent) {
          if (m.modseq !== before.get(s)) text += withUid ? `* ${s} FETCH (UID ${m.uid}${modseq})\r\n` : `* ${s} FETCH (${modseq.slice(1)})\r\n`;
          continue;
        }
        text += withUid ? `* ${s} FETCH (UID ${m.uid} FLAGS ${view.flagsText(m)}${modseq})\r\n` : `* ${s} FETCH (FLAGS ${view.flagsText(m)}${modseq})\r\n`;
      }
      if (text) session.write(Buffer.from(text, 'utf8'));
    }
    if (failed.length) {
      const numbers = uid ? failed.map((s) => view.message(s)!.uid) : failed;
      return ok('Conditional STORE failed', `MODIFIED ${compactSet(numbers)}`);
    }
    if (gone.size && !uid) return no('Some of the requested messages no longer exist', 'EXPUNGEISSUED');
    return ok('STORE completed');
  },
};

function findUid(messages: readonly MessageState[], uid: number): MessageState | undefined {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = messages[mid];
    if (m.uid === uid) return m;
    if (m.uid < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

// The session's view of its selected mailbox: the sequence-number map, the \Recent set,
// and the changes that other sessions or processes made and that this session has not
// been told of yet. Reporting them is done in one place, `flush`, as Dovecot's imap-sync.c
// does: the view keeps its own ordered list of the UIDs the client knows, and each report
// (a) announces new keywords (FLAGS, PERMANENTFLAGS) before anything shows them
// (RFC 3501 7.2.6), (b) sends EXPUNGEs where they are allowed, each numbered against the
// view as it stands (no EXPUNGE during FETCH, STORE or SEARCH, RFC 3501 7.4.1; after ENABLE
// QRESYNC one VANISHED of their UIDs instead, RFC 7162 3.2.10), (c) sends
// EXISTS for new messages, and (d) only then FETCH FLAGS, for messages the client has been
// told of, with its numbering (RFC 3501 5.2: no number beyond the last EXISTS).

import type { Folder, FolderChange, FolderSummary, MessageState } from '../backend/mailstore.js';
import type { ImapValue } from './protocol/types.js';
import { Encoder } from '../wire/writer.js';
import { formatSequenceSet } from './protocol/sequence.js';
import { isRev2, recentShown } from './rev2.js';

export type Untagged = ImapValue[];

/**
 * Follows what the view learns of its messages, for results kept up to date (CONTEXT=SEARCH,
 * RFC 5267 4.3): told of the messages that leave (before their EXPUNGE is sent: REMOVEFROM
 * must come first, 4.3.4) and of those that arrive or change flags (by anyone); `settle`
 * then says, asynchronously, what that did to the results (after EXISTS, 4.3.3).
 */
export interface ViewWatcher {
  /** Lines to send before the EXPUNGE (or VANISHED) of these UIDs, numbered as the view stands. */
  beforeExpunge(uids: readonly number[]): Untagged[];
  /** Messages of the view that are new or whose flags changed. */
  touch(uids: Iterable<number>): void;
  /** Whether touched messages wait for `settle`. */
  readonly unsettled: boolean;
  settle(): Promise<Untagged[]>;
}

export class SelectedMailbox {
  readonly readOnly: boolean;
  readonly folder: Folder;
  uidValidity: number;
  /** messages[seq - 1]; ascending UIDs. Copied from the folder when first needed (see `messages`). */
  private copy: MessageState[] | undefined;
  /** What SELECT needs to answer, when the folder can tell it without its messages (then
   * `summary.messages()` are the messages as they were at SELECT: changes since are queued). */
  private summary: FolderSummary | undefined;
  private readonly recent = new Set<number>();
  /** Changes as the folder delivered them, folded into the four below at the next report. */
  private pending: FolderChange[] = [];
  /** UIDs the client knows that are gone from the folder, not yet reported. */
  private expunged = new Set<number>();
  /** New messages (UIDs above all the client knows, ascending), not yet announced. */
  private added: MessageState[] = [];
  private addedRecent = new Set<number>();
  /** New flags (and modseqs) of messages the client knows (and that are not expunged), not yet reported. */
  private changedFlags = new Map<number, { flags: ReadonlySet<string>; modseq: number }>();
  private unsubscribe: () => void;
  /** Set when the folder was deleted or replaced under us. */
  gone = false;
  /** Keywords the client has been given in a FLAGS response; new ones are announced first. */
  private knownKeywords: Set<string>;
  /** Flag sets our own STORE or FETCH put in the view since keywords were last looked for. */
  private ownFlags: ReadonlySet<string>[] = [];
  /** RFC 5182: the UIDs (ascending) of the result saved by SEARCH RETURN (SAVE), "$"; empty
   * until then, and with every SELECT (a new view). Expunged messages drop out when "$" is read. */
  saved: readonly number[] = [];
  /** The session's kept search results, if any (commands/search-context.ts). */
  watcher: ViewWatcher | null = null;
  /** Whether PERMANENTFLAGS offers \* (IMAP_KEYWORDS); set by SELECT. */
  keywordsAllowed = true;

  /**
   * The session's ENABLEd extensions: CONDSTORE adds MODSEQ to FETCH responses of flag
   * changes, QRESYNC also UID, and turns EXPUNGE into VANISHED (RFC 7162 3.1.4, 3.2.10);
   * IMAP4rev2 adds UID too and hides \Recent (rev2.ts).
   */
  private readonly enabled: ReadonlySet<string>;

  constructor(folder: Folder, readOnly: boolean, onChange: () => void, enabled: ReadonlySet<string> = new Set()) {
    this.enabled = enabled;
    this.folder = folder;
    this.readOnly = readOnly;
    const snap = folder.snapshot();
    this.uidValidity = snap.uidValidity;
    // A folder opened from its listing reads its messages only when they are asked for.
    this.summary = snap.summary;
    if (!this.summary) this.copy = [...snap.messages];
    this.knownKeywords = new Set();
    this.unsubscribe = folder.subscribe((change) => {
      this.pending.push(change);
      onChange();
    });
  }

  /** Apply the changes found while opening (SELECT) without reporting them one by one. */
  absorbPending(): void {
    this.fold();
    if (this.expunged.size) this.removeExpunged();
    if (this.added.length) this.announceAdded();
    for (const [uid, change] of this.changedFlags) this.setFlags(this.seqOfUid(uid), change.flags, change.modseq);
    this.changedFlags.clear();
    this.knownKeywords = this.keywords();
  }

  private get messages(): MessageState[] {
    if (!this.copy) {
      this.copy = [...this.summary!.messages()];
      this.summary = undefined;
    }
    return this.copy;
  }

  get exists(): number {
    return this.copy ? this.copy.length : this.summary!.count;
  }

  /** Sequence number of the first message without \Seen, or 0. */
  firstUnseen(): number {
    if (!this.copy) return this.summary!.firstUnseen;
    return this.copy.findIndex((m) => !m.flags.has('\\Seen')) + 1;
  }
  get recentCount(): number {
    return this.recent.size;
  }
  message(seq: number): MessageState | undefined {
    return this.messages[seq - 1];
  }
  all(): readonly MessageState[] {
    return this.messages;
  }
  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }
  get uidNext(): number {
    return this.folder.snapshot().uidNext;
  }

  /** Sequence number of a UID, or 0. */
  seqOfUid(uid: number): number {
    return indexOfUid(this.messages, uid) + 1;
  }

  maxUid(): number {
    return this.messages.length ? this.messages[this.messages.length - 1].uid : 0;
  }

  /** The keywords of the last FLAGS response (SELECT's, or a later one), sorted. */
  announcedKeywords(): string[] {
    return [...this.knownKeywords].sort();
  }

  keywords(): Set<string> {
    if (!this.copy) return new Set(this.summary!.keywords);
    const set = new Set<string>();
    // Messages with the same flags share one set: each set is looked at once.
    const seen = new Set<ReadonlySet<string>>();
    for (const m of this.messages) {
      if (seen.has(m.flags)) continue;
      seen.add(m.flags);
      for (const f of m.flags) if (!f.startsWith('\\')) set.add(f);
    }
    return set;
  }

  /**
   * Replace our copy of one message's flags (after our own STORE). The command answers with
   * these flags itself: it sends `newKeywords()` first.
   */
  updateFlags(uid: number, flags: ReadonlySet<string>, modseq: number): void {
    const seq = this.seqOfUid(uid);
    if (!seq) return;
    this.ownFlags.push(flags);
    this.setFlags(seq, flags, modseq);
    this.watcher?.touch([uid]);
  }

  /** CONDSTORE is enabled: FETCH responses carry MODSEQ. */
  get condstore(): boolean {
    return this.enabled.has('CONDSTORE');
  }

  /**
   * Take the queued flag changes into the view now, for a FETCH (CHANGEDSINCE n) that must see
   * changes made up to its start (another session's STORE). Those the FETCH answers itself
   * (`answered`) leave the queue; the others are still reported by the next flush. New keywords
   * among them are announced by newKeywords().
   */
  takeFlagChanges(answered: (seq: number) => boolean): void {
    this.fold();
    for (const [uid, change] of this.changedFlags) {
      const seq = this.seqOfUid(uid);
      if (!seq) continue;
      this.ownFlags.push(change.flags);
      this.setFlags(seq, change.flags, change.modseq);
      this.watcher?.touch([uid]);
      if (answered(seq)) this.changedFlags.delete(uid);
    }
  }

  /** Drop queued flag changes for these UIDs (our own STORE reports them itself). */
  discardFlagChanges(uids: ReadonlySet<number>): void {
    this.fold();
    for (const uid of uids) this.changedFlags.delete(uid);
  }

  /** FLAGS and PERMANENTFLAGS when our own STORE or FETCH is about to show a keyword the client was not given. */
  newKeywords(): Untagged[] {
    const own = this.ownFlags;
    this.ownFlags = [];
    return this.keywordAnnouncement(own);
  }

  /**
   * Report what changed since the last report, in the order of the comment at the top, and
   * apply it to the view. With allowExpunge false the expunged messages stay in the view
   * (and keep their numbers) until a command that may report them; their flag changes are
   * dropped, and new messages are numbered after them. With `flagChanges` false (NOTIFY without
   * FlagChange for the selected mailbox) flag changes are taken into the view unreported.
   */
  flush(allowExpunge: boolean, flagChanges = true): Untagged[] {
    this.fold();
    const out: Untagged[] = [];
    const shown: ReadonlySet<string>[] = this.ownFlags;
    this.ownFlags = [];
    for (const m of this.added) shown.push(m.flags);
    for (const change of this.changedFlags.values()) shown.push(change.flags);
    out.push(...this.keywordAnnouncement(shown));
    if (allowExpunge && this.expunged.size) {
      if (this.watcher) out.push(...this.watcher.beforeExpunge([...this.expunged].sort((a, b) => a - b)));
      if (this.enabled.has('QRESYNC')) {
        out.push([{ atom: 'VANISHED' }, { atom: formatSequenceSet([...this.expunged].sort((a, b) => a - b)) }]);
      } else {
        // Ascending numbers, each one less for every message removed before it.
        const seqs = [...this.expunged].map((uid) => this.seqOfUid(uid)).sort((a, b) => a - b);
        seqs.forEach((seq, i) => out.push([seq - i, { atom: 'EXPUNGE' }]));
      }
      this.removeExpunged();
    }
    if (this.added.length) {
      this.watcher?.touch(this.added.map((m) => m.uid));
      this.announceAdded();
      out.push([this.messages.length, { atom: 'EXISTS' }]);
      if (recentShown(this.enabled)) out.push([this.recent.size, { atom: 'RECENT' }]);
    }
    if (this.changedFlags.size) {
      for (const uid of [...this.changedFlags.keys()].sort((a, b) => a - b)) {
        const seq = this.seqOfUid(uid);
        if (!seq) continue; // cannot happen: expunged UIDs leave changedFlags in fold()
        const change = this.changedFlags.get(uid)!;
        this.setFlags(seq, change.flags, change.modseq);
        if (flagChanges) out.push(this.flagsResponse(seq));
      }
      this.watcher?.touch(this.changedFlags.keys());
      this.changedFlags.clear();
    }
    return out;
  }

  /**
   * Move the changes as delivered into what the next report will say: a message that came
   * and went in between is never announced, flag changes of new messages become their
   * flags, and those of expunged messages are dropped.
   */
  private fold(): void {
    if (!this.pending.length) return;
    const changes = this.pending;
    this.pending = [];
    for (const change of changes) {
      if (change.kind === 'added') {
        for (const m of change.messages) {
          const last = this.added.length ? this.added[this.added.length - 1].uid : this.maxUid();
          if (m.uid > last) {
            this.added.push(m);
            if (change.recent) this.addedRecent.add(m.uid);
          } else if (change.recent) {
            // Already in our snapshot (the change raced the SELECT); keep \Recent if ours.
            if (this.seqOfUid(m.uid)) this.recent.add(m.uid);
            else if (indexOfUid(this.added, m.uid) >= 0) this.addedRecent.add(m.uid);
          }
        }
      } else if (change.kind === 'expunged') {
        for (const uid of change.uids) {
          const i = indexOfUid(this.added, uid);
          if (i >= 0) {
            this.added.splice(i, 1);
            this.addedRecent.delete(uid);
          } else if (this.seqOfUid(uid)) {
            this.expunged.add(uid);
            this.changedFlags.delete(uid);
          }
        }
      } else if (change.kind === 'flags') {
        const i = indexOfUid(this.added, change.uid);
        if (i >= 0) this.added[i] = { ...this.added[i], flags: change.flags, modseq: change.modseq };
        else if (!this.expunged.has(change.uid) && this.seqOfUid(change.uid)) this.changedFlags.set(change.uid, { flags: change.flags, modseq: change.modseq });
      } else {
        this.gone = true;
      }
    }
  }

  private removeExpunged(): void {
    const gone = this.expunged;
    this.copy = this.messages.filter((m) => !gone.has(m.uid));
    for (const uid of gone) this.recent.delete(uid);
    this.expunged = new Set();
  }

  private announceAdded(): void {
    for (const m of this.added) {
      this.messages.push(m);
      if (this.addedRecent.has(m.uid)) this.recent.add(m.uid);
    }
    this.added = [];
    this.addedRecent.clear();
  }

  private setFlags(seq: number, flags: ReadonlySet<string>, modseq: number): void {
    this.messages[seq - 1] = { uid: this.messages[seq - 1].uid, flags, modseq };
  }

  /** FLAGS and PERMANENTFLAGS if these flag sets hold a keyword the client was not given. */
  private keywordAnnouncement(flagSets: readonly ReadonlySet<string>[]): Untagged[] {
    let fresh = false;
    // Messages with the same flags share one set: each set is looked at once.
    const seen = new Set<ReadonlySet<string>>();
    for (const flags of flagSets) {
      if (seen.has(flags)) continue;
      seen.add(flags);
      for (const f of flags) {
        if (f.startsWith('\\') || this.knownKeywords.has(f)) continue;
        this.knownKeywords.add(f);
        fresh = true;
      }
    }
    return fresh ? this.flagsAnnouncement([...this.knownKeywords].sort(), this.keywordsAllowed) : [];
  }

  /** FLAGS and PERMANENTFLAGS responses for SELECT and for new keywords. */
  flagsAnnouncement(keywords: string[], keywordsAllowed = true): Untagged[] {
    const flags = [...SYSTEM_ORDER, ...keywords].map((f) => ({ atom: f }));
    const permanent = this.readOnly ? [] : [...flags, ...(keywordsAllowed ? [{ atom: '\\*' }] : [])];
    return [
      [{ atom: 'FLAGS' }, flags],
      [{ atom: 'OK' }, { atom: `[PERMANENTFLAGS ${listText(permanent)}]` }, { atom: this.readOnly ? 'No permanent flags permitted' : 'Limited' }],
    ];
  }

  flagsResponse(seq: number, withUid = false): Untagged {
    const m = this.messages[seq - 1];
    const items: ImapValue[] = [];
    // After ENABLE QRESYNC or IMAP4rev2 every unsolicited FETCH carries the UID (RFC 7162 3.2.4, RFC 9051 7.5.2).
    if (withUid || this.enabled.has('QRESYNC') || isRev2(this.enabled)) items.push({ atom: 'UID' }, m.uid);
    items.push({ atom: 'FLAGS' }, this.flagList(m));
    if (this.condstore) items.push({ atom: 'MODSEQ' }, [m.modseq]);
    return [seq, { atom: 'FETCH' }, items];
  }

  /** The FLAGS list as response text; the text of each flag set is made once (messages share sets). */
  flagsText(m: MessageState): string {
    let text = flagTexts.get(m.flags);
    if (text === undefined) {
      text = new Encoder().list([...m.flags].sort(flagOrder).map((f) => ({ atom: f }))).finish().toString('utf8');
      flagTexts.set(m.flags, text);
    }
    if (!this.recent.has(m.uid) || !recentShown(this.enabled)) return text;
    return text.length === 2 ? '(\\Recent)' : `${text.slice(0, -1)} \\Recent)`;
  }

  flagList(m: MessageState): ImapValue[] {
    const list: ImapValue[] = [...m.flags].sort(flagOrder).map((f) => ({ atom: f }));
    if (this.recent.has(m.uid) && recentShown(this.enabled)) list.push({ atom: '\\Recent' });
    return list;
  }

  close(): void {
    this.unsubscribe();
    this.folder.release();
  }
}

const flagTexts = new WeakMap<ReadonlySet<string>, string>();

const SYSTEM_ORDER = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** System flags first, in a fixed order, then keywords by name: stable output for clients and tests. */
function flagOrder(a: string, b: string): number {
  const ia = SYSTEM_ORDER.indexOf(a);
  const ib = SYSTEM_ORDER.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of a UID in a list of ascending UIDs, or -1. */
function indexOfUid(messages: readonly MessageState[], uid: number): number {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const u = messages[mid].uid;
    if (u === uid) return mid;
    if (u < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function listText(flags: { atom: string }[]): string {
  return '(' + flags.map((f) => f.atom).join(' ') + ')';
}

// The session's view of its selected mailbox: the sequence-number map, the \Recent set,
// and the queue of changes that other sessions or processes made and that this
// session has not reported yet. Changes are applied to the view only when they are
// reported, so sequence numbers stay what the client believes they are
// (RFC 3501 sections 5.5 and 7.4.1: no EXPUNGE during FETCH, STORE or SEARCH).

import type { Folder, FolderChange, FolderSummary, MessageState } from '../backend/mailstore.js';
import type { ImapValue } from './protocol/types.js';
import { Encoder } from '../wire/writer.js';

export type Untagged = ImapValue[];

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
  private pending: FolderChange[] = [];
  private unsubscribe: () => void;
  /** Set when the folder was deleted or replaced under us. */
  gone = false;
  /** Keywords announced in the last FLAGS response, to announce new ones when they appear. */
  private knownKeywords: Set<string>;
  /** Flag sets that came (changes, new messages) since new keywords were last looked for. */
  private newFlags: ReadonlySet<string>[] = [];

  constructor(folder: Folder, readOnly: boolean, onChange: () => void) {
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
    for (const change of this.pending) this.apply(change);
    this.pending = [];
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
  get hasPending(): boolean {
    return this.pending.length > 0;
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

  /** Sequence number of a UID, or 0. Binary search: UIDs ascend. */
  seqOfUid(uid: number): number {
    let lo = 0;
    let hi = this.messages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = this.messages[mid].uid;
      if (u === uid) return mid + 1;
      if (u < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  maxUid(): number {
    return this.messages.length ? this.messages[this.messages.length - 1].uid : 0;
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

  /** Replace our copy of one message's flags (after our own STORE). */
  updateFlags(uid: number, flags: ReadonlySet<string>): void {
    this.newFlags.push(flags);
    const seq = this.seqOfUid(uid);
    if (seq) this.messages[seq - 1] = { ...this.messages[seq - 1], flags };
  }

  /** Drop queued flag changes for these UIDs (our own STORE reports them itself). */
  discardFlagChanges(uids: ReadonlySet<number>): void {
    this.pending = this.pending.filter((c) => !(c.kind === 'flags' && uids.has(c.uid)));
  }

  /**
   * Report queued changes as untagged responses and apply them to the view.
   * With allowExpunge false, stops at the first expunge (it stays queued).
   */
  flush(allowExpunge: boolean): Untagged[] {
    const out: Untagged[] = [];
    let existsChanged = false;
    let i = 0;
    for (; i < this.pending.length; i++) {
      const change = this.pending[i];
      if (change.kind === 'expunged' && !allowExpunge) break;
      if (change.kind === 'expunged') {
        for (const uid of change.uids) {
          const seq = this.seqOfUid(uid);
          if (!seq) continue;
          this.messages.splice(seq - 1, 1);
          this.recent.delete(uid);
          out.push([seq, { atom: 'EXPUNGE' }]);
        }
      } else if (change.kind === 'added') {
        for (const m of change.messages) this.newFlags.push(m.flags);
        if (this.apply(change)) existsChanged = true;
      } else if (change.kind === 'flags') {
        this.newFlags.push(change.flags);
        const seq = this.seqOfUid(change.uid);
        if (!seq) continue;
        this.messages[seq - 1] = { ...this.messages[seq - 1], flags: change.flags };
        out.push(this.flagsResponse(seq));
      } else if (change.kind === 'gone') {
        this.gone = true;
      }
    }
    this.pending = this.pending.slice(i);
    // New keywords can only come with flag changes or new messages: their flags are looked at.
    const newFlags = this.newFlags;
    this.newFlags = [];
    const seen = new Set<ReadonlySet<string>>();
    let newKeyword = false;
    for (const flags of newFlags) {
      if (seen.has(flags)) continue;
      seen.add(flags);
      for (const f of flags) if (!f.startsWith('\\') && !this.knownKeywords.has(f)) newKeyword = true;
    }
    if (newKeyword) {
      this.knownKeywords = new Set([...this.knownKeywords, ...this.keywords()]);
      out.unshift(...this.flagsAnnouncement([...this.knownKeywords]));
    }
    if (existsChanged) {
      out.push([this.messages.length, { atom: 'EXISTS' }]);
      out.push([this.recent.size, { atom: 'RECENT' }]);
    }
    return out;
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
    if (withUid) items.push({ atom: 'UID' }, m.uid);
    items.push({ atom: 'FLAGS' }, this.flagList(m));
    return [seq, { atom: 'FETCH' }, items];
  }

  /** The FLAGS list as response text; the text of each flag set is made once (messages share sets). */
  flagsText(m: MessageState): string {
    let text = flagTexts.get(m.flags);
    if (text === undefined) {
      text = new Encoder().list([...m.flags].sort(flagOrder).map((f) => ({ atom: f }))).finish().toString('utf8');
      flagTexts.set(m.flags, text);
    }
    if (!this.recent.has(m.uid)) return text;
    return text.length === 2 ? '(\\Recent)' : `${text.slice(0, -1)} \\Recent)`;
  }

  flagList(m: MessageState): ImapValue[] {
    const list: ImapValue[] = [...m.flags].sort(flagOrder).map((f) => ({ atom: f }));
    if (this.recent.has(m.uid)) list.push({ atom: '\\Recent' });
    return list;
  }

  close(): void {
    this.unsubscribe();
    this.folder.release();
  }

  private apply(change: FolderChange): boolean {
    if (change.kind !== 'added') {
      if (change.kind === 'flags') {
        const seq = this.seqOfUid(change.uid);
        if (seq) this.messages[seq - 1] = { ...this.messages[seq - 1], flags: change.flags };
      } else if (change.kind === 'expunged') {
        for (const uid of change.uids) {
          const seq = this.seqOfUid(uid);
          if (seq) this.messages.splice(seq - 1, 1);
          this.recent.delete(uid);
        }
      } else {
        this.gone = true;
      }
      return false;
    }
    let added = false;
    for (const m of change.messages) {
      if (m.uid <= this.maxUid()) {
        // Already in our snapshot (the change raced the SELECT); keep \Recent if ours.
        if (change.recent && this.seqOfUid(m.uid)) this.recent.add(m.uid);
        continue;
      }
      this.messages.push(m);
      if (change.recent) this.recent.add(m.uid);
      added = true;
    }
    return added;
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

function listText(flags: { atom: string }[]): string {
  return '(' + flags.map((f) => f.atom).join(' ') + ')';
}

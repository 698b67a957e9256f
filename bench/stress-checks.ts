// Checks of bench/stress.ts beside the mailbox model (stress-model.ts), for what the extensions
// tell a session beyond its selected mailbox's messages. Standing alone, as the model does.
//
// SearchUpdates (CONTEXT=SEARCH, RFC 5267 4.3): the result of a kept UID SEARCH as its ESEARCH
// ALL, ADDTO and REMOVEFROM responses build it, compared with a plain UID SEARCH of the same
// key followed by a NOOP. The key is a keyword only this session sets or clears, so at the
// moment the server evaluates the plain SEARCH the kept result must equal it, and by the end
// of the NOOP every update up to that moment has come: a UID in the plain result and not in
// the kept one is a missing ADDTO; a UID in the kept result, not in the plain one and still in
// the mailbox is a missing REMOVEFROM (or a wrong ADDTO).
//
// StatusTracker (NOTIFY, RFC 5465; STATUS): per mailbox, UIDVALIDITY never changes and UIDNEXT
// and HIGHESTMODSEQ never go down across every STATUS the session is sent, notified or asked,
// and two with the same HIGHESTMODSEQ give the same MESSAGES.

import { expandSet, type MailboxModel } from './stress-model.js';

export class SearchUpdates {
  /** The kept result by its command's tag: UIDs, or message numbers (renumbered as messages leave). */
  private readonly kept = new Map<string, Set<number>>();
  private readonly byNumber = new Set<string>();

  constructor(private readonly model: MailboxModel) {}

  /** A kept search was started with this tag (before its reply arrives); `uid`: a UID SEARCH. */
  keep(tag: string, uid = true): void {
    this.kept.set(tag, new Set());
    if (!uid) this.byNumber.add(tag);
  }

  /** The kept result as UIDs (numbers translated by what the session knows). */
  result(tag: string): Set<number> | undefined {
    const kept = this.kept.get(tag);
    if (!kept || !this.byNumber.has(tag)) return kept;
    return new Set([...kept].map((n) => this.model.knownUids[n - 1] ?? 0).filter(Boolean));
  }

  /** An untagged response: ESEARCH updates of kept searches; EXPUNGE and VANISHED leave them (the model's UIDs, read before it handles the line). */
  handle(text: string): void {
    const m = /^\* ESEARCH \(TAG "([^"]+)"\)( UID)?(.*)$/i.exec(text);
    if (m) {
      const rest = m[3]!;
      const all = /\bALL ([\d:,]+)/i.exec(rest);
      if (all && !m[2]) {
        const beyond = expandSet(all[1]!).filter((n) => n > this.model.exists);
        if (beyond.length) this.model.fail(`* ESEARCH ALL has message ${beyond[0]} with EXISTS ${this.model.exists}`);
      }
      const result = this.kept.get(m[1]!);
      if (!result) return;
      if (all) for (const uid of expandSet(all[1]!)) result.add(uid);
      for (const u of rest.matchAll(/\b(ADDTO|REMOVEFROM) \((\d+) ([\d:,]+)\)/gi)) {
        for (const uid of expandSet(u[3]!)) {
          if (this.byNumber.has(m[1]!) && (uid < 1 || uid > this.model.exists)) this.model.fail(`* ESEARCH ${u[1]} of message ${uid} with EXISTS ${this.model.exists}`);
          if (u[1]!.toUpperCase() === 'ADDTO') result.add(uid);
          else result.delete(uid);
        }
      }
      return;
    }
    const expunge = /^\* (\d+) EXPUNGE\b/i.exec(text);
    const vanished = /^\* VANISHED ([\d:,]+)\s*$/i.exec(text);
    const gone = expunge ? [this.model.knownUids[Number(expunge[1]) - 1] ?? 0] : vanished ? expandSet(vanished[1]!) : [];
    // message numbers of the messages that leave, highest first (each leaves before the next is counted)
    const seqs = expunge ? [Number(expunge[1])] : gone.map((uid) => this.model.seqOf(uid)).filter((n) => n > 0).sort((a, b) => b - a);
    for (const [tag, result] of this.kept) {
      if (!this.byNumber.has(tag)) {
        for (const uid of gone) result.delete(uid);
        continue;
      }
      for (const seq of seqs) {
        const moved = [...result].filter((n) => n !== seq).map((n) => (n > seq ? n - 1 : n));
        result.clear();
        for (const n of moved) result.add(n);
      }
    }
  }

  /** After `UID SEARCH key` (its UIDs) and a NOOP: the kept result of `tag` must be the same, among the messages still there. */
  compare(tag: string, plain: readonly number[]): void {
    const kept = this.result(tag);
    if (!kept) return;
    const live = new Set(this.model.knownUids.filter(Boolean));
    const missing = plain.filter((uid) => live.has(uid) && !kept.has(uid));
    const extra = [...kept].filter((uid) => live.has(uid) && !plain.includes(uid));
    if (missing.length) this.model.fail(`kept SEARCH ${tag} lacks UIDs ${missing.join(',')} that UID SEARCH found (no ADDTO, RFC 5267 4.3)`);
    if (extra.length) this.model.fail(`kept SEARCH ${tag} has UIDs ${extra.join(',')} that UID SEARCH did not find (no REMOVEFROM, RFC 5267 4.3)`);
  }
}

interface MailboxStatus {
  uidValidity?: number;
  uidNext?: number;
  highestModseq?: number;
  messages?: number;
}

export class StatusTracker {
  private readonly seen = new Map<string, MailboxStatus>();
  /** The last STATUS with HIGHESTMODSEQ per mailbox. */
  private readonly snapshots = new Map<string, MailboxStatus>();
  /** STATUS responses seen outside a STATUS command (NOTIFY's), for the report. */
  notified = 0;

  constructor(private readonly model: MailboxModel) {}

  handle(text: string, duringStatus: boolean): void {
    const m = /^\* STATUS ("(?:[^"\\]|\\.)*"|\S+) \((.*)\)\s*$/i.exec(text);
    if (!m) return;
    if (!duringStatus) this.notified++;
    const name = m[1]!.replace(/^"|"$/g, '').toUpperCase();
    const items = m[2]!.split(' ');
    const now: MailboxStatus = {};
    for (let i = 0; i + 1 < items.length; i += 2) {
      const value = Number(items[i + 1]);
      const item = items[i]!.toUpperCase();
      if (item === 'UIDVALIDITY') now.uidValidity = value;
      else if (item === 'UIDNEXT') now.uidNext = value;
      else if (item === 'HIGHESTMODSEQ') now.highestModseq = value;
      else if (item === 'MESSAGES') now.messages = value;
    }
    const before = this.seen.get(name) ?? {};
    // One HIGHESTMODSEQ is one set of messages (every arrival and expunge raises it, RFC 7162
    // 3.1.2): two STATUS with the same one (notified, then asked) give the same MESSAGES. (Not
    // UIDNEXT: a UID may be taken by an APPEND that has not landed, or by none at all.)
    const snapshot = this.snapshots.get(name);
    if (now.highestModseq !== undefined) {
      if (snapshot && snapshot.highestModseq === now.highestModseq) {
        for (const item of ['messages'] as const) {
          if (snapshot[item] !== undefined && now[item] !== undefined && snapshot[item] !== now[item]) {
            this.model.fail(`${duringStatus ? 'STATUS' : 'notified STATUS'} of ${name}: ${item.toUpperCase()} ${now[item]} but ${snapshot[item]} before with the same HIGHESTMODSEQ ${now.highestModseq}`);
          }
        }
      }
      this.snapshots.set(name, snapshot?.highestModseq === now.highestModseq ? { ...snapshot, ...now } : now);
    }
    const how = duringStatus ? 'STATUS' : 'notified STATUS';
    if (before.uidValidity !== undefined && now.uidValidity !== undefined && now.uidValidity !== before.uidValidity) {
      this.model.fail(`${how} of ${name}: UIDVALIDITY ${now.uidValidity} after ${before.uidValidity}`);
    }
    if (before.uidNext !== undefined && now.uidNext !== undefined && now.uidNext < before.uidNext) {
      this.model.fail(`${how} of ${name}: UIDNEXT ${now.uidNext} after ${before.uidNext} (it never goes down)`);
    }
    if (before.highestModseq !== undefined && now.highestModseq !== undefined && now.highestModseq < before.highestModseq) {
      this.model.fail(`${how} of ${name}: HIGHESTMODSEQ ${now.highestModseq} after ${before.highestModseq} (it never goes down)`);
    }
    this.seen.set(name, {
      uidValidity: now.uidValidity ?? before.uidValidity,
      uidNext: Math.max(now.uidNext ?? 0, before.uidNext ?? 0) || undefined,
      highestModseq: Math.max(now.highestModseq ?? 0, before.highestModseq ?? 0) || undefined,
    } as MailboxStatus);
  }
}

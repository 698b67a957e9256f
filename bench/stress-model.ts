// The client-side model of one selected mailbox that bench/stress.ts keeps for every session,
// to check each untagged response against RFC 3501 as it arrives:
// - a message number is never beyond the EXISTS the session was given (7.4.1, 5.2);
// - EXISTS never shrinks (only EXPUNGE removes messages); EXPUNGE names a message in range, and
//   the count goes down by one; no EXPUNGE during FETCH, STORE or SEARCH (7.4.1);
// - a keyword in FLAGS of a FETCH was announced by an untagged FLAGS first (7.2.6);
// - UIDs rise with sequence numbers and a message keeps its UID; UIDVALIDITY does not change;
//   an APPENDUID is above every UID the session has seen (2.3.1.1);
// - after STORE +FLAGS / -FLAGS a FETCH the server sends for the message shows the change
//   (6.4.6). Only one of them need: a FETCH may come at any time (7.4.2), so one sent after
//   the STORE's own answer may show a concurrent change by another session.
// Each error comes with the session's last lines (commands, responses) as its context.
// It stands alone (no import from the server or the tests) so that it judges every server alike.

export interface StoreExpectation {
  seq: number;
  add: string[];
  remove: string[];
  /** Flags other sessions change both ways meanwhile: not checked. Another session's STORE
   * that lands between ours and our answer legally shows in it (the FETCH gives the flags as
   * they are, RFC 3501 7.4.2); Dovecot shows this with keywords under 50 clients. */
  contested?: string[];
}

type Command = 'FETCH' | 'STORE' | 'SEARCH' | 'OTHER';

/** The top-level items of a FETCH response that the model checks; null when the text is not one. */
export function parseFetch(text: string): { seq: number; uid?: number; flags?: string[] } | null {
  const m = /^\* (\d+) FETCH \(/i.exec(text);
  if (!m) return null;
  const out: { seq: number; uid?: number; flags?: string[] } = { seq: Number(m[1]) };
  let i = m[0].length;
  const n = text.length;
  const skipValue = (): void => {
    // one value at depth 1: a parenthesized list, a quoted string, a literal marker or an atom
    let depth = 0;
    while (i < n) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
        i++;
      } else if (c === '(') {
        depth++;
        i++;
      } else if (c === ')') {
        if (depth === 0) return;
        depth--;
        i++;
        if (depth === 0) return;
      } else if (c === ' ' && depth === 0) return;
      else i++;
    }
  };
  while (i < n && text[i] !== ')') {
    if (text[i] === ' ' || text[i] === '\n') {
      i++;
      continue;
    }
    const start = i;
    // item name; BODY[...]<...> sections contain spaces only inside brackets
    let bracket = 0;
    while (i < n && (bracket > 0 || (text[i] !== ' ' && text[i] !== ')'))) {
      if (text[i] === '[') bracket++;
      else if (text[i] === ']') bracket--;
      i++;
    }
    const name = text.slice(start, i).toUpperCase();
    if (text[i] === ' ') i++;
    const valueStart = i;
    skipValue();
    const value = text.slice(valueStart, i);
    if (name === 'UID') out.uid = Number(value);
    else if (name === 'FLAGS') out.flags = value.replace(/^\(|\)$/g, '').split(' ').filter(Boolean);
  }
  return out;
}

export class MailboxModel {
  exists = 0;
  /** UID per sequence number - 1; 0 while unknown. */
  private uids: number[] = [];
  /** Keywords from the latest untagged FLAGS; null before the first. */
  private keywords: Set<string> | null = null;
  private uidValidity: number | undefined;
  private command: Command = 'OTHER';
  private store: StoreExpectation | undefined;
  /** Every flag list a FETCH of the STORE's message showed during the STORE. */
  private storeSeen: string[][] = [];
  /** The UID the session knew for the STORE's message (0 when unknown), for the report. */
  private storeUid = 0;
  readonly errors: string[] = [];
  /** The session's last lines, newest last: "C: command", "S: response" (shortened). */
  private readonly trail: string[] = [];

  constructor(private readonly onError: (message: string, context: string[]) => void) {}

  private note(line: string): void {
    this.trail.push(line.length > 160 ? `${line.slice(0, 160)}...` : line);
    if (this.trail.length > TRAIL) this.trail.shift();
  }

  /** A new SELECT: forget the previous view. */
  reset(): void {
    this.exists = 0;
    this.uids = [];
    this.keywords = null;
    this.uidValidity = undefined;
  }

  /** Before a command is sent: which kind it is, and what a STORE must show. */
  begin(command: string, store?: StoreExpectation): void {
    const verb = command.split(' ', 1)[0]!.toUpperCase();
    this.command = verb === 'FETCH' || verb === 'STORE' || verb === 'SEARCH' ? verb : 'OTHER';
    this.store = store;
    this.storeSeen = [];
    this.storeUid = store ? this.uids[store.seq - 1] ?? 0 : 0;
    this.note(`C: ${command}`);
  }

  /** After the tagged reply. */
  end(status: string, text: string): void {
    this.note(`S: ${status} ${text}`);
    const store = this.store;
    if (store && status === 'OK' && this.storeSeen.length) {
      const contested = store.contested ?? [];
      const add = store.add.filter((f) => !hasFlag(contested, f));
      const remove = store.remove.filter((f) => !hasFlag(contested, f));
      const shows = (flags: string[]) => add.every((f) => hasFlag(flags, f)) && !remove.some((f) => hasFlag(flags, f));
      if (!this.storeSeen.some(shows)) {
        const flags = this.storeSeen[0]!;
        const missing = add.filter((f) => !hasFlag(flags, f));
        const kept = remove.filter((f) => hasFlag(flags, f));
        this.error(`flags after STORE of ${store.seq} (UID ${this.storeUid || '?'}): (${flags.join(' ')}) lacks [${missing.join(' ')}] or keeps [${kept.join(' ')}]`);
      }
    }
    const appendUid = /\[APPENDUID (\d+) (\d+)\]/i.exec(text);
    if (appendUid && status === 'OK') {
      const [validity, uid] = [Number(appendUid[1]), Number(appendUid[2])];
      if (this.uidValidity !== undefined && validity !== this.uidValidity) this.error(`APPENDUID validity ${validity} but the mailbox has ${this.uidValidity}`);
      const highest = this.uids.reduce((a, b) => Math.max(a, b), 0);
      if (uid <= highest) this.error(`APPENDUID ${uid} not above the highest UID seen (${highest})`);
    }
    this.command = 'OTHER';
    this.store = undefined;
    this.storeSeen = [];
  }

  /** One untagged response (its text; literal contents left out). */
  handle(text: string): void {
    this.note(`S: ${text}`);
    let m: RegExpExecArray | null;
    if ((m = /^\* (\d+) EXISTS\b/i.exec(text))) {
      const n = Number(m[1]);
      if (n < this.exists) this.error(`* ${n} EXISTS after ${this.exists} without EXPUNGE`);
      while (this.uids.length < n) this.uids.push(0);
      this.exists = Math.max(n, this.exists);
    } else if ((m = /^\* (\d+) RECENT\b/i.exec(text))) {
      if (Number(m[1]) > this.exists) this.error(`* ${m[1]} RECENT above EXISTS ${this.exists}`);
    } else if ((m = /^\* (\d+) EXPUNGE\b/i.exec(text))) {
      const n = Number(m[1]);
      if (this.command !== 'OTHER') this.error(`* ${n} EXPUNGE during ${this.command}`);
      if (n < 1 || n > this.exists) this.error(`* ${n} EXPUNGE with EXISTS ${this.exists}`);
      else {
        this.uids.splice(n - 1, 1);
        this.exists--;
        if (this.store && this.store.seq === n) this.store = undefined;
        else if (this.store && this.store.seq > n) this.store.seq--;
      }
    } else if (/^\* FLAGS \(/i.test(text)) {
      const list = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      this.keywords = new Set(list.split(' ').filter((f) => f && !f.startsWith('\\')).map((f) => f.toLowerCase()));
    } else if ((m = /^\* OK \[UIDVALIDITY (\d+)\]/i.exec(text))) {
      const v = Number(m[1]);
      if (this.uidValidity !== undefined && v !== this.uidValidity) this.error(`UIDVALIDITY changed from ${this.uidValidity} to ${v}`);
      this.uidValidity = v;
    } else if (/^\* \d+ FETCH \(/i.test(text)) {
      this.fetch(text);
    }
  }

  private fetch(text: string): void {
    const f = parseFetch(text);
    if (!f) return;
    const n = f.seq;
    if (n < 1 || n > this.exists) {
      this.error(`* ${n} FETCH with EXISTS ${this.exists}: ${text.slice(0, 100)}`);
      return;
    }
    if (f.uid !== undefined) {
      const known = this.uids[n - 1]!;
      if (known && known !== f.uid) this.error(`message ${n} had UID ${known}, now ${f.uid}`);
      const below = this.uids[n - 2];
      const above = this.uids[n];
      if (below && below >= f.uid) this.error(`UID ${f.uid} of ${n} not above UID ${below} of ${n - 1}`);
      if (above && above <= f.uid) this.error(`UID ${f.uid} of ${n} not below UID ${above} of ${n + 1}`);
      this.uids[n - 1] = f.uid;
    }
    if (f.flags) {
      for (const flag of f.flags) {
        if (flag.startsWith('\\')) continue;
        if (this.keywords && !this.keywords.has(flag.toLowerCase())) {
          this.error(`keyword ${flag} in * ${n} FETCH before a FLAGS response announced it`);
          this.keywords.add(flag.toLowerCase()); // once per keyword and session
        }
      }
      if (this.store && this.store.seq === n) this.storeSeen.push(f.flags);
    }
  }

  private error(message: string): void {
    this.errors.push(message);
    this.onError(message, [...this.trail]);
  }
}

/** Lines of context kept per session. */
const TRAIL = 40;

function hasFlag(flags: string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}

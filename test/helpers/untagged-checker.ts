// A client-side model of one session's selected mailbox that checks every untagged
// response against RFC 3501: no message number beyond the last EXISTS (5.2, 7.4.1),
// EXPUNGE n within 1..count and never during a non-UID FETCH, STORE or SEARCH (7.4.1),
// EXISTS never lowering the count (7.3.1, 7.4.1), keywords in FETCH FLAGS only after a
// FLAGS response that lists them (7.2.6), UIDs rising with message numbers (2.3.1.1), and
// after STORE +FLAGS / -FLAGS (not .SILENT) a FETCH of a stored message that shows the
// change (6.4.6): when several FETCHes of it come, one is enough (a later one may show
// another session's change, 7.4.2); none at all is allowed (the message was expunged).
// It has no server-specific knowledge: the tests and bench:stress feed it every response
// line of a session, ours or a peer's.
//
//   const check = new UntaggedChecker('A');
//   check.feed('SELECT INBOX', reply.lines);   // the command text, without its tag
//   ...
//   check.assertClean();                       // throws with every error and its context

import { parseResponse, type Node } from './response.js';

export class UntaggedChecker {
  /** Messages the client has been told of (the last EXISTS, less the EXPUNGEs since). */
  count = 0;
  /** UID at each message number (index seq - 1), 0 where no response has told it yet. */
  uids: number[] = [];
  /** Keywords (lower case) of the last FLAGS response. */
  keywords = new Set<string>();
  /** Whether a mailbox is selected (after SELECT or EXAMINE). */
  selected = false;
  readonly errors: string[] = [];
  /** The last lines seen, for the error report. */
  private readonly recent: string[] = [];
  /** The current command, upper case, and as sent (for error messages). */
  private command = '';
  private commandText = '';

  /**
   * Check that a STORE's own FETCH shows its change (6.4.6). Off where other sessions change
   * the same flags at the same time: the FETCH may then rightly show their later change
   * (7.4.2), and nothing on the client's side can tell the two apart.
   */
  storeResultsChecked = true;

  constructor(readonly name = 'session') {}

  /**
   * Check the untagged lines of one command's response (or of an IDLE's pushes, with the
   * command 'IDLE'). `command` is the command as sent, without its tag: SELECT and EXAMINE
   * start a new mailbox model, CLOSE and UNSELECT end it, and it decides whether EXPUNGE
   * may appear and whether SEARCH results are message numbers.
   */
  feed(command: string, lines: readonly string[]): void {
    this.begin(command);
    for (const line of lines) this.line(line);
    this.end();
  }

  /** Start a command: lines fed with `line()` belong to it until `end()`. */
  begin(command: string): void {
    this.commandText = command.trim();
    this.command = this.commandText.toUpperCase();
    this.store = this.storeExpectation();
    if (/^(SELECT|EXAMINE) /.test(this.command)) {
      this.selected = true;
      this.count = 0;
      this.uids = [];
      this.keywords = new Set();
      this.selecting = true;
    }
  }

  end(): void {
    if (this.store) this.checkStore(this.store);
    this.store = undefined;
    if (/^(CLOSE|UNSELECT)\b/.test(this.command)) this.selected = false;
    this.selecting = false;
    this.command = '';
    this.commandText = '';
  }

  private selecting = false;

  /** What the running STORE must show: its set, by number or UID, and the flag change. */
  private store: StoreCheck | undefined;

  private storeExpectation(): StoreCheck | undefined {
    const m = /^(UID )?STORE ([0-9:,*]+) ([+-])FLAGS \(([^)]*)\)$/.exec(this.command);
    if (!m) return undefined;
    const max = m[1] ? Infinity : this.count;
    const ranges = m[2].split(',').map((part) => {
      const [a, b = a] = part.split(':').map((x) => (x === '*' ? max : Number(x)));
      return [Math.min(a, b), Math.max(a, b)] as const;
    });
    const flags = m[4].split(' ').filter(Boolean);
    return { byUid: Boolean(m[1]), ranges, add: m[3] === '+', flags, seen: new Map() };
  }

  private checkStore(store: StoreCheck): void {
    if (!this.storeResultsChecked) return;
    for (const [key, lists] of store.seen) {
      const shows = (list: string[]) => store.flags.every((f) => list.includes(f) === store.add);
      if (!lists.some(shows)) {
        this.error(`${store.byUid ? 'UID' : 'message'} ${key}: FLAGS (${lists[0].join(' ')}) after ${store.add ? '+' : '-'}FLAGS (${store.flags.join(' ')}) (RFC 3501 6.4.6)`);
      }
    }
  }

  /** A FETCH during a STORE: keep its flags if it is of a stored message. */
  private storeFetch(n: number, uid: number | undefined, flags: Node): void {
    const store = this.store;
    if (!store || !Array.isArray(flags)) return;
    const key = store.byUid ? uid : n;
    if (key === undefined || !store.ranges.some(([a, b]) => key >= a && key <= b)) return;
    const list = flags.map((f) => String(f).toUpperCase());
    store.seen.set(key, [...(store.seen.get(key) ?? []), list]);
  }

  /** Check one response line (literals inlined, as ImapTestClient returns them). */
  line(text: string): void {
    this.recent.push(text.length > 300 ? `${text.slice(0, 300)}...` : text);
    if (this.recent.length > 40) this.recent.shift();
    if (!text.startsWith('* ')) return;
    const head = /^\* (\d+) ([A-Za-z]+)/.exec(text);
    if (head) {
      const n = Number(head[1]);
      const kind = head[2].toUpperCase();
      if (kind === 'EXISTS') this.exists(n);
      else if (kind === 'EXPUNGE') this.expunge(n);
      else if (kind === 'FETCH') this.fetch(n, text);
      else if (kind === 'RECENT' && n > this.count) this.error(`* ${n} RECENT with only ${this.count} messages`);
      return;
    }
    const word = /^\* ([A-Za-z]+)/.exec(text)?.[1].toUpperCase();
    if (word === 'FLAGS') this.flags(text);
    else if (word === 'SEARCH' && !this.command.startsWith('UID ')) this.search(text);
  }

  private exists(n: number): void {
    // RFC 3501 7.4.1: only EXPUNGE may lower the count; a SELECT's EXISTS sets it.
    if (!this.selecting && n < this.count) this.error(`* ${n} EXISTS lowers the count from ${this.count}`);
    this.count = n;
    if (this.uids.length > n) this.uids.length = n;
    while (this.uids.length < n) this.uids.push(0);
  }

  private expunge(n: number): void {
    if (/^(FETCH|STORE|SEARCH) /.test(this.command)) this.error(`* ${n} EXPUNGE during ${this.command.split(' ')[0]} (RFC 3501 7.4.1)`);
    if (n < 1 || n > this.count) {
      this.error(`* ${n} EXPUNGE with ${this.count} messages`);
      return;
    }
    this.uids.splice(n - 1, 1);
    this.count -= 1;
  }

  private fetch(n: number, text: string): void {
    if (n < 1 || n > this.count) {
      this.error(`* ${n} FETCH with ${this.count} messages`);
      return;
    }
    const items = parseResponse(text)[3];
    if (!Array.isArray(items)) {
      this.error(`FETCH without a parenthesized list: ${text.slice(0, 120)}`);
      return;
    }
    let uid: number | undefined;
    let flags: Node | undefined;
    for (let k = 0; k + 1 < items.length; k += 2) {
      const name = String(items[k]).toUpperCase();
      const value = items[k + 1];
      if (name === 'UID') this.uid(n, (uid = Number(value)));
      else if (name === 'FLAGS') this.fetchFlags(n, (flags = value));
    }
    if (flags !== undefined) this.storeFetch(n, uid, flags);
  }

  private uid(n: number, uid: number): void {
    if (!Number.isInteger(uid) || uid < 1) {
      this.error(`* ${n} FETCH with UID ${uid}`);
      return;
    }
    const known = this.uids[n - 1];
    if (known && known !== uid) this.error(`message ${n} was UID ${known}, now UID ${uid}`);
    // UIDs rise with message numbers: compare with the nearest known neighbours.
    for (let i = n - 2; i >= 0; i--) {
      if (!this.uids[i]) continue;
      if (this.uids[i] >= uid) this.error(`message ${n} has UID ${uid}, but message ${i + 1} has UID ${this.uids[i]}`);
      break;
    }
    for (let i = n; i < this.uids.length; i++) {
      if (!this.uids[i]) continue;
      if (this.uids[i] <= uid) this.error(`message ${n} has UID ${uid}, but message ${i + 1} has UID ${this.uids[i]}`);
      break;
    }
    this.uids[n - 1] = uid;
  }

  private fetchFlags(n: number, value: Node): void {
    if (!Array.isArray(value)) {
      this.error(`* ${n} FETCH FLAGS is not a list`);
      return;
    }
    for (const flag of value) {
      const name = String(flag);
      if (name.startsWith('\\')) continue;
      if (!this.keywords.has(name.toLowerCase())) this.error(`* ${n} FETCH shows keyword ${name} before a FLAGS response lists it`);
    }
  }

  private flags(text: string): void {
    const list = parseResponse(text)[2];
    if (!Array.isArray(list)) {
      this.error(`FLAGS without a list: ${text}`);
      return;
    }
    this.keywords = new Set(list.map(String).filter((f) => !f.startsWith('\\')).map((f) => f.toLowerCase()));
  }

  private search(text: string): void {
    for (const word of text.slice('* SEARCH'.length).trim().split(' ')) {
      if (!/^\d+$/.test(word)) continue; // (MODSEQ ...) and the like
      const n = Number(word);
      if (n < 1 || n > this.count) this.error(`* SEARCH result ${n} with ${this.count} messages`);
    }
  }

  private error(message: string): void {
    if (!this.selected) return;
    this.errors.push(`${this.name}: ${message} (in ${this.commandText || 'no command'})\n    last lines:\n      ${this.recent.slice(-12).join('\n      ')}`);
  }

  /** Throws an Error listing every violation seen, if there was one. */
  assertClean(): void {
    if (this.errors.length) throw new Error(`${this.errors.length} untagged-response error(s):\n${this.errors.slice(0, 10).join('\n')}`);
  }
}

interface StoreCheck {
  byUid: boolean;
  ranges: (readonly [number, number])[];
  /** +FLAGS (true) or -FLAGS; flags upper case (the command is). */
  add: boolean;
  flags: string[];
  /** The flag lists (upper case) each stored message was shown with, by number or UID. */
  seen: Map<number, string[][]>;
}

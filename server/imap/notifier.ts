// A session's NOTIFY (RFC 5465): what it asked for (a NotifyPlan, parsed by commands/notify.ts)
// and the notifications waiting to be sent. The account's changes come from the store's one
// fan-out (MailStore.watchMailboxes); they are queued here, folded per mailbox, and written
// whenever the server may send unsolicited responses: before the tagged answer of any command
// and at once during IDLE (the session calls wake()), as Dovecot does.
//
// Non-selected mailboxes get STATUS (figures from the store's cheap status path, asked only
// for a mailbox that changed), name changes and subscription changes get LIST. Which STATUS
// items follow Dovecot's imap-notify.c: MESSAGES, UIDNEXT and UNSEEN for new and expunged
// messages, UNSEEN for flag changes, UIDVALIDITY when it changed, HIGHESTMODSEQ once CONDSTORE
// is enabled. The selected mailbox keeps its usual EXISTS / EXPUNGE reports; NOTIFY decides
// whether other sessions' flag changes are shown (FlagChange), whether expunges wait for a
// command that allows them (SELECTED-DELAYED) and what is fetched for new messages.
//
// Memory per session is bounded: at most MAX_PENDING notifications wait (beyond that the
// client is told [NOTIFICATIONOVERFLOW] and NOTIFY is off, RFC 5465 section 5.8), and the
// last STATUS of at most MAX_REMEMBERED mailboxes is kept to leave out repeats.

import type { FolderStatus, MailboxEvent } from '../backend/mailstore.js';
import { MailStoreError } from '../backend/mailstore.js';
import { Args } from './commands/args.js';
import { fetch } from './commands/fetch.js';
import type { SessionContext, SessionNotifier } from './commands/types.js';
import type { ImapValue, Token } from './protocol/types.js';

export type NotifyEvent = 'MessageNew' | 'MessageExpunge' | 'FlagChange' | 'MailboxName' | 'SubscriptionChange';

export interface NotifyGroup {
  /** INBOXES is PERSONAL here (RFC 5465 6: Courier's maildrop may deliver into any folder). */
  filter: 'personal' | 'subscribed' | 'subtree' | 'mailboxes';
  /** Store names (SUBTREE, MAILBOXES). */
  names: string[];
  events: ReadonlySet<NotifyEvent>;
}

export interface NotifyPlan {
  /** NOTIFY SET STATUS: a STATUS of every mailbox the groups name, at once. */
  status: boolean;
  selected: { events: ReadonlySet<NotifyEvent>; fetch: Token | null; delayed: boolean } | null;
  groups: NotifyGroup[];
}

export const MAX_PENDING = 1000;
const MAX_REMEMBERED = 1000;
const MESSAGE_EVENTS: readonly NotifyEvent[] = ['MessageNew', 'MessageExpunge', 'FlagChange'];

type Kind = 'new' | 'expunge' | 'flags' | 'unknown';
type Pending = { kind: 'status'; name: string; hints: Set<Kind> } | { kind: 'line'; line: ImapValue[] };

export class Notifier implements SessionNotifier {
  private pending = new Map<string, Pending>();
  private lines = 0;
  private readonly lastStatus = new Map<string, FolderStatus>();
  /** Mailboxes made (or renamed to) since NOTIFY SET and not yet in a STATUS: their first one has UIDVALIDITY (as Dovecot). */
  private readonly created = new Set<string>();
  private subscribed = new Set<string>();
  private stopWatch: () => void = () => undefined;
  private scheduled = false;
  private stopped = false;
  private overflowed = false;

  constructor(
    private readonly session: SessionContext,
    readonly plan: NotifyPlan,
  ) {}

  /** Expunges in the selected mailbox are sent after any command (SELECTED, not SELECTED-DELAYED). */
  get immediateExpunges(): boolean {
    const selected = this.plan.selected;
    return selected !== null && !selected.delayed && selected.events.has('MessageExpunge');
  }

  /** Other sessions' flag changes in the selected mailbox are shown (FlagChange for SELECTED). */
  get selectedFlagChanges(): boolean {
    return this.plan.selected?.events.has('FlagChange') ?? false;
  }

  /** Subscribes to the account's changes; with `status`, writes the STATUS of every mailbox named. */
  async start(): Promise<void> {
    const groups = this.plan.groups;
    if (!groups.length) return;
    if (groups.some((g) => g.filter === 'subscribed')) this.subscribed = new Set(await this.session.store.listSubscriptions());
    const messages = groups.some((g) => MESSAGE_EVENTS.some((e) => g.events.has(e)));
    this.stopWatch = this.session.store.watchMailboxes?.((event) => this.onEvent(event), { messages }) ?? (() => undefined);
    if (this.plan.status) await this.initialStatus();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch();
    this.pending.clear();
    this.lastStatus.clear();
  }

  /** New messages in the selected mailbox were announced (sequence numbers `from` to `to`): their fetch-att. */
  selectedAdded(from: number, to: number): void {
    const selected = this.plan.selected;
    if (!selected?.fetch || !selected.events.has('MessageNew')) return;
    const tokens: Token[] = [{ type: 'atom', value: `${from}:${to}` }, selected.fetch];
    const session = this.session;
    session.later(async () => {
      if (this.stopped || !session.selected) return;
      // FETCH's own code: the answer is a FETCH response like any other (RFC 5465 5.2).
      await fetch.handler({ session, command: { tag: '*', name: 'FETCH', args: tokens }, args: new Args(tokens), tag: '*', uid: false });
    });
  }

  /** The session may send unsolicited responses now: what waits goes out (in the session's order of reports). */
  wake(): void {
    if (this.scheduled || this.stopped || !this.pending.size) return;
    this.scheduled = true;
    this.session.later(() => this.flush());
  }

  private onEvent(event: MailboxEvent): void {
    if (this.stopped || this.overflowed) return;
    switch (event.kind) {
      case 'messages':
        if (this.session.selected?.folder.name === event.name) return; // the selected mailbox reports itself
        if (!this.wants(event.name, event.what === 'new' ? 'MessageNew' : event.what === 'expunge' ? 'MessageExpunge' : event.what === 'flags' ? 'FlagChange' : null)) return;
        this.queueStatus(event.name, event.what);
        break;
      case 'created':
        this.noteCreated(event.name);
        if (this.wants(event.name, 'MailboxName')) this.queueLine(this.listLine(event.name, []));
        break;
      case 'deleted':
        this.lastStatus.delete(event.name);
        if (this.wants(event.name, 'MailboxName')) this.queueLine(this.listLine(event.name, ['\\NonExistent']));
        break;
      case 'renamed':
        this.lastStatus.delete(event.from);
        this.noteCreated(event.name);
        if (this.wants(event.name, 'MailboxName') || this.wants(event.from, 'MailboxName')) {
          this.queueLine([...this.listLine(event.name, []), ['OLDNAME', [this.session.wireName(event.from)]]]);
        }
        break;
      case 'subscription':
        // Checked before the set changes: an unsubscribed mailbox still matches SUBSCRIBED for its own event.
        if (this.wants(event.name, 'SubscriptionChange')) this.queueLine(this.listLine(event.name, event.subscribed ? ['\\Subscribed'] : []));
        if (event.subscribed) this.subscribed.add(event.name);
        else this.subscribed.delete(event.name);
        break;
    }
    if (this.session.idling) this.wake();
  }

  private noteCreated(name: string): void {
    this.created.add(name);
    if (this.created.size > MAX_REMEMBERED) this.created.delete(this.created.values().next().value!);
  }

  private listLine(name: string, attributes: string[]): ImapValue[] {
    return [{ atom: 'LIST' }, attributes.map((a) => ({ atom: a })), this.session.store.hierarchySeparator, this.session.wireName(name)];
  }

  private queueLine(line: ImapValue[]): void {
    this.pending.set(`L${this.lines++}`, { kind: 'line', line });
    this.checkOverflow();
  }

  private queueStatus(name: string, hint: Kind): void {
    const key = `S${name}`;
    const known = this.pending.get(key);
    if (known?.kind === 'status') known.hints.add(hint);
    else this.pending.set(key, { kind: 'status', name, hints: new Set([hint]) });
    this.checkOverflow();
  }

  /** Beyond MAX_PENDING: what waits is dropped, the client is told when it may be, and NOTIFY is NONE from then on. */
  private checkOverflow(): void {
    if (this.pending.size <= MAX_PENDING) return;
    this.stopWatch();
    this.overflowed = true;
    this.pending.clear();
    this.pending.set('overflow', { kind: 'line', line: [{ atom: 'OK' }, { atom: '[NOTIFICATIONOVERFLOW]' }, { atom: 'Too many notifications: NOTIFY is now NONE' }] });
  }

  /** Whether a group that covers `name` asks for `event` (null: any message event). */
  private wants(name: string, event: NotifyEvent | null): boolean {
    return this.plan.groups.some((g) => this.covers(g, name) && (event ? g.events.has(event) : MESSAGE_EVENTS.some((e) => g.events.has(e))));
  }

  private covers(group: NotifyGroup, name: string): boolean {
    switch (group.filter) {
      case 'personal':
        return true;
      case 'subscribed':
        return this.subscribed.has(name);
      case 'subtree':
        return group.names.some((n) => name === n || name.startsWith(n + this.session.store.hierarchySeparator));
      case 'mailboxes':
        return group.names.includes(name);
    }
  }

  /** Writes what waits, in the order it happened (a STATUS where its mailbox first changed). */
  async flush(): Promise<void> {
    this.scheduled = false;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const item of pending) {
      if (this.stopped) return;
      if (item.kind === 'line') this.session.untagged(item.line);
      else await this.sendStatus(item.name, item.hints);
    }
    if (this.overflowed && this.session.notifier === this) this.session.setNotifier(null);
  }

  private async sendStatus(name: string, hints: ReadonlySet<Kind>): Promise<void> {
    if (this.session.selected?.folder.name === name) return;
    let status: FolderStatus;
    try {
      status = await this.session.store.folderStatus(name, { size: false });
    } catch (err) {
      if (err instanceof MailStoreError) return; // deleted meanwhile: its LIST says so
      throw err;
    }
    const before = this.lastStatus.get(name);
    const kinds = new Set<Kind>();
    if (before) {
      if (status.uidNext > before.uidNext) kinds.add('new');
      if (status.messages < before.messages + (status.uidNext - before.uidNext)) kinds.add('expunge');
      if (status.unseen !== before.unseen || status.highestModseq !== before.highestModseq) kinds.add('flags');
    } else {
      for (const hint of hints) {
        if (hint === 'unknown') ['new', 'expunge', 'flags'].forEach((k) => kinds.add(k as Kind));
        else kinds.add(hint);
      }
    }
    // A UIDVALIDITY the client cannot know: changed, or of a mailbox made since NOTIFY SET.
    const newValidity = before !== undefined ? before.uidValidity !== status.uidValidity : this.created.delete(name);
    const wanted = (event: NotifyEvent): boolean => this.wants(name, event);
    const items = new Set<keyof FolderStatus>();
    if ((kinds.has('new') && wanted('MessageNew')) || (kinds.has('expunge') && wanted('MessageExpunge'))) ['messages', 'uidNext', 'unseen'].forEach((i) => items.add(i as keyof FolderStatus));
    if (kinds.has('flags') && wanted('FlagChange') && (!before || before.unseen !== status.unseen)) items.add('unseen');
    const condstore = this.session.enabled.has('CONDSTORE');
    if (newValidity && before) ['messages', 'uidNext', 'unseen'].forEach((i) => items.add(i as keyof FolderStatus));
    if (newValidity && items.size) items.add('uidValidity');
    if (condstore && (items.size || (kinds.has('flags') && wanted('FlagChange')))) items.add('highestModseq');
    this.remember(name, status);
    if (!items.size) return;
    if (before && [...items].every((i) => before[i] === status[i])) return;
    this.writeStatus(name, status, items);
  }

  private remember(name: string, status: FolderStatus): void {
    this.lastStatus.delete(name);
    this.lastStatus.set(name, status);
    if (this.lastStatus.size > MAX_REMEMBERED) this.lastStatus.delete(this.lastStatus.keys().next().value!);
  }

  private writeStatus(name: string, status: FolderStatus, items: ReadonlySet<keyof FolderStatus>): void {
    const values: ImapValue[] = [];
    for (const [word, key] of STATUS_ORDER) if (items.has(key)) values.push({ atom: word }, status[key]);
    this.session.untagged([{ atom: 'STATUS' }, this.session.wireName(name), values]);
  }

  /** NOTIFY SET STATUS: every selectable mailbox a group with message events names, but the selected one. */
  private async initialStatus(): Promise<void> {
    const items = new Set<keyof FolderStatus>(['messages', 'uidNext', 'uidValidity', 'unseen']);
    if (this.plan.groups.some((g) => g.events.has('FlagChange')) && this.session.offers('CONDSTORE')) {
      items.add('highestModseq');
      // A STATUS with HIGHESTMODSEQ enables CONDSTORE (RFC 7162 3.1), as in Dovecot: later STATUS carry it too.
      this.session.enableCondstore();
    }
    for (const entry of await this.session.store.listFolders()) {
      if (!entry.selectable || this.session.selected?.folder.name === entry.name || !this.wants(entry.name, null)) continue;
      let status: FolderStatus;
      try {
        status = await this.session.store.folderStatus(entry.name, { size: false });
      } catch (err) {
        if (err instanceof MailStoreError) continue;
        throw err;
      }
      this.remember(entry.name, status);
      this.writeStatus(entry.name, status, items);
    }
  }
}

/** STATUS items in the order Dovecot writes them. */
const STATUS_ORDER: [string, keyof FolderStatus][] = [
  ['MESSAGES', 'messages'],
  ['UIDNEXT', 'uidNext'],
  ['UIDVALIDITY', 'uidValidity'],
  ['UNSEEN', 'unseen'],
  ['HIGHESTMODSEQ', 'highestModseq'],
];

// Mail delivery into the accounts' Maildirs, for the LMTP listener and imapd-deliver: finds
// the account of a recipient address, checks its quota, and writes the message to its INBOX
// through the Maildir engine (tmp/, fsync, rename, UID assigned, sessions told), with
// `Return-Path:` and `Delivered-To:` put in front as Dovecot's LMTP and LDA do. The message's
// own bytes are kept as they came.
//
// Each outcome is one Outcome: an SMTP reply code (RFC 5321 4.2, enhanced codes RFC 3463,
// added by the LMTP layer from the code) and a sysexits code for imapd-deliver.

import { createHash } from 'node:crypto';
import type { Account, AccountStore } from '../accounts/index.js';
import { MailStoreError, type MailStore, type Quota } from '../backend/mailstore.js';
import type { Logger } from '../log/logger.js';
import { stageMessages } from './import-writer.js';
import type { MessageSpool } from './spool.js';

/** sysexits.h, as MTAs read a delivery agent's exit status. */
export const EX = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOUSER: 67,
  SOFTWARE: 70,
  OSERR: 71,
  CANTCREAT: 73,
  TEMPFAIL: 75,
  NOPERM: 77,
  CONFIG: 78,
} as const;

export interface Outcome {
  /** 250 delivered; 4xx try again later; 5xx never. */
  code: number;
  message: string;
  exit: number;
  /** Where the message went, when delivered. */
  uid?: number;
  uidValidity?: number;
}

/** What delivery needs of the account side: the authenticator opens Maildirs the same way for logins. */
export interface MailboxOpener {
  openMailbox(account: Account): Promise<MailStore>;
}

export interface DelivererOptions {
  accounts: AccountStore;
  /** Called for each delivery, so that a replaced authenticator (new settings) is used at once. */
  opener: () => MailboxOpener;
  logger: Logger;
  /** QUOTA_FULL_TEMPFAIL: a full mailbox is 452 / EX_TEMPFAIL, else 552 / EX_NOPERM. */
  quotaFullTempfail: boolean;
  /** Keep an account's store open this long after its last delivery (default 30 s). */
  storeIdleMs?: number;
}

export interface Envelope {
  /** MAIL FROM; '' for the null sender <>; null: add no Return-Path. */
  sender: string | null;
}

export interface Recipient {
  /** As given (RCPT TO, --address); null: add no Delivered-To. */
  address: string | null;
  account: Account;
}

interface OpenStore {
  store: MailStore;
  busy: number;
  timer: NodeJS.Timeout | null;
}

const INBOX = 'INBOX';

export class Deliverer {
  private readonly stores = new Map<number, Promise<OpenStore>>();
  private readonly storeIdleMs: number;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly options: DelivererOptions) {
    this.storeIdleMs = options.storeIdleMs ?? 30_000;
    // A changed account (quota, Maildir, removed) is opened afresh at its next delivery.
    this.unsubscribe = options.accounts.onChange((event) => {
      if (event.type === 'updated' || event.type === 'removed') {
        for (const [id, entry] of this.stores) {
          void entry.then((open) => {
            if (open.busy === 0 && this.stores.get(id) === entry) this.closeStore(id, open);
          }, () => undefined);
        }
      }
    });
  }

  /** The account for an address, or the 550 outcome. */
  async resolve(address: string): Promise<{ recipient: Recipient } | { outcome: Outcome }> {
    const match = await this.options.accounts.findRecipient(address);
    if (!match) return { outcome: { code: 550, message: `No such user here: ${printable(address)}`, exit: EX.NOUSER } };
    return { recipient: { address, account: match.account } };
  }

  /** RCPT time: would a message of `size` octets (0: not announced) fit? Null when it would. */
  async precheck(recipient: Recipient, size: number): Promise<Outcome | null> {
    try {
      return await this.withStore(recipient.account, async (store) => {
        const quota = await store.quota();
        return quota ? this.quotaOutcome(quota, size) : null;
      });
    } catch (err) {
      return this.failure(recipient, err);
    }
  }

  /**
   * Write the spooled message to the recipient's INBOX, or to `folder` (created when missing:
   * the folders a mail source's provider folders map to).
   */
  async deliver(spool: MessageSpool, envelope: Envelope, recipient: Recipient, folder = INBOX): Promise<Outcome> {
    const started = Date.now();
    const prefix = Buffer.from(addedHeaders(envelope, recipient, spool.lineEnd), 'utf8');
    try {
      const placed = await this.withStore(recipient.account, async (store) => {
        if (folder !== INBOX) await store.createFolder(folder).catch((err: unknown) => {
          if (!(err instanceof MailStoreError && err.code === 'ALREADYEXISTS')) throw err;
        });
        const whole = spool.buffer();
        if (whole) return store.append(folder, prefix.length ? Buffer.concat([prefix, whole]) : whole);
        const sink = await store.beginAppend(folder, prefix.length + spool.size);
        try {
          if (prefix.length) await sink.write(prefix);
          for await (const piece of spool.pieces()) await sink.write(piece);
        } catch (err) {
          await sink.abort();
          throw err;
        }
        return sink.commit();
      });
      this.options.logger.log('info', 'delivered', {
        user: recipient.account.username, to: recipient.address ?? undefined, from: envelope.sender ?? undefined,
        size: prefix.length + spool.size, uid: placed.uid, ms: Date.now() - started,
      });
      return { code: 250, message: `Saved for ${recipient.account.username} (UID ${placed.uid})`, exit: EX.OK, ...placed };
    } catch (err) {
      const outcome = await this.failure(recipient, err, prefix.length + spool.size);
      this.options.logger.log(outcome.code >= 500 ? 'warn' : 'info', 'delivery failed', {
        user: recipient.account.username, to: recipient.address ?? undefined, code: outcome.code, reason: outcome.message,
      });
      return outcome;
    }
  }

  /**
   * Write several messages (whole, in memory) to `folder` as one step of the Maildir engine
   * (appendMany: each written and synced in tmp/, then all renamed and numbered under one
   * lock): all of them with consecutive UIDs, or none. A mail source's batch of small messages
   * costs one lock and one UID-list write instead of one per message.
   */
  async deliverMany(messages: readonly Buffer[], envelope: Envelope, recipient: Recipient, folder = INBOX): Promise<Outcome & { uids?: number[] }> {
    const started = Date.now();
    const withPrefix = messages.map((m) => {
      const prefix = addedHeaders(envelope, recipient, lineEndOf(m));
      return prefix ? Buffer.concat([Buffer.from(prefix, 'utf8'), m]) : m;
    });
    const size = withPrefix.reduce((n, m) => n + m.length, 0);
    try {
      const placed = await this.withStore(recipient.account, async (store) => {
        if (folder !== INBOX) await store.createFolder(folder).catch((err: unknown) => {
          if (!(err instanceof MailStoreError && err.code === 'ALREADYEXISTS')) throw err;
        });
        return store.appendMany(folder, withPrefix.map((message) => ({ message })));
      });
      this.options.logger.log('info', 'delivered', {
        user: recipient.account.username, to: recipient.address ?? undefined, from: envelope.sender ?? undefined,
        size, messages: messages.length, uid: placed.uids[0], ms: Date.now() - started,
      });
      return { code: 250, message: `Saved for ${recipient.account.username} (${messages.length} messages)`, exit: EX.OK, uidValidity: placed.uidValidity, uids: placed.uids };
    } catch (err) {
      const outcome = await this.failure(recipient, err, size);
      this.options.logger.log(outcome.code >= 500 ? 'warn' : 'info', 'delivery failed', {
        user: recipient.account.username, to: recipient.address ?? undefined, code: outcome.code, reason: outcome.message,
      });
      return outcome;
    }
  }

  /** The UID the next message of `folder` will get at least (0 when the folder does not exist yet). */
  async uidNext(account: Account, folder: string): Promise<number> {
    return this.withStore(account, async (store) => {
      try {
        return (await store.folderStatus(folder, { size: false })).uidNext;
      } catch (err) {
        if (err instanceof MailStoreError && err.code === 'NONEXISTENT') return 0;
        throw err;
      }
    });
  }

  /**
   * The UID of a message of `folder` from `fromUid` on whose bytes hash to `sha256` (hex), or
   * null: did a delivery interrupted before it was recorded (a crash, a kill) get through?
   */
  async findDelivered(account: Account, folder: string, fromUid: number, sha256: string): Promise<number | null> {
    return this.withStore(account, async (store) => {
      let handle;
      try {
        handle = await store.openFolder(folder, { readOnly: true });
      } catch (err) {
        if (err instanceof MailStoreError && err.code === 'NONEXISTENT') return null;
        throw err;
      }
      try {
        await handle.refresh();
        for (const m of handle.snapshot().messages) {
          if (m.uid < fromUid) continue;
          if (createHash('sha256').update(await handle.readMessage(m.uid)).digest('hex') === sha256) return m.uid;
        }
        return null;
      } finally {
        handle.release();
      }
    });
  }

  /** Close the stores kept open. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    const entries = [...this.stores];
    this.stores.clear();
    await Promise.all(entries.map(async ([, entry]) => {
      const open = await entry.catch(() => null);
      if (!open) return;
      if (open.timer) clearTimeout(open.timer);
      await open.store.close().catch(() => undefined);
    }));
  }

  private quotaOutcome(quota: Quota, size: number): Outcome | null {
    const bytesOver = quota.storageLimit !== undefined && quota.storageUsed + size > quota.storageLimit;
    const countOver = quota.messageLimit !== undefined && quota.messagesUsed + 1 > quota.messageLimit;
    if (!bytesOver && !countOver) return null;
    if (quota.storageLimit !== undefined && size > quota.storageLimit) {
      return { code: 552, message: `Message is larger than the mailbox's whole quota (${quota.storageLimit} bytes)`, exit: EX.NOPERM };
    }
    return this.options.quotaFullTempfail
      ? { code: 452, message: 'Mailbox is full; try again later', exit: EX.TEMPFAIL }
      : { code: 552, message: 'Mailbox is full', exit: EX.NOPERM };
  }

  private async failure(recipient: Recipient, err: unknown, size = 0): Promise<Outcome> {
    if (err instanceof MailStoreError) {
      if (err.code === 'OVERQUOTA') {
        const quota = await this.withStore(recipient.account, (store) => store.quota()).catch(() => null);
        return (quota && this.quotaOutcome(quota, size)) ?? { code: this.options.quotaFullTempfail ? 452 : 552, message: 'Mailbox is full', exit: this.options.quotaFullTempfail ? EX.TEMPFAIL : EX.NOPERM };
      }
      // Disk full: the whole machine, not this mailbox (RFC 3463 4.3.1).
      if (err.code === 'LIMIT') return { code: 452, message: 'Not enough disk space on the server; try again later', exit: EX.TEMPFAIL };
      if (err.code === 'UNAVAILABLE') return { code: 450, message: 'Mailbox unavailable; try again later', exit: EX.CANTCREAT };
    }
    this.options.logger.log('error', 'delivery error', { user: recipient.account.username, error: (err as Error).message });
    return { code: 451, message: 'Local error while saving the message; try again later', exit: EX.TEMPFAIL };
  }

  /** Run `work` with the account's store, opened once and kept for following deliveries. */
  private async withStore<T>(account: Account, work: (store: MailStore) => Promise<T>): Promise<T> {
    if (this.closed) throw new MailStoreError('delivery is stopping', 'UNAVAILABLE');
    let entry = this.stores.get(account.id);
    if (!entry) {
      entry = this.options.opener().openMailbox(account).then((store) => ({ store, busy: 0, timer: null }));
      this.stores.set(account.id, entry);
      entry.catch(() => this.stores.delete(account.id));
    }
    const open = await entry;
    open.busy++;
    if (open.timer) {
      clearTimeout(open.timer);
      open.timer = null;
    }
    try {
      return await work(open.store);
    } finally {
      open.busy--;
      if (open.busy === 0 && this.stores.get(account.id) === entry) {
        open.timer = setTimeout(() => this.closeStore(account.id, open), this.storeIdleMs);
        open.timer.unref();
      }
    }
  }

  private closeStore(id: number, open: OpenStore): void {
    if (open.busy > 0) return;
    if (open.timer) clearTimeout(open.timer);
    open.timer = null;
    this.stores.delete(id);
    void open.store.close().catch(() => undefined);
  }
}

/** Return-Path and Delivered-To, as Dovecot writes them, in the message's own line ends. */
export function addedHeaders(envelope: Envelope, recipient: Recipient, lineEnd: '\r\n' | '\n'): string {
  let text = '';
  if (envelope.sender !== null) text += `Return-Path: <${headerSafe(envelope.sender)}>${lineEnd}`;
  // Dovecot leaves Delivered-To out when one copy serves several recipients (it would show
  // them to each other); each recipient gets a copy of its own here, naming only itself.
  if (recipient.address !== null) text += `Delivered-To: ${headerSafe(recipient.address)}${lineEnd}`;
  return text;
}

/** The line end of a message's first line (CRLF when it has none), as MessageSpool.lineEnd. */
function lineEndOf(message: Buffer): '\r\n' | '\n' {
  const lf = message.indexOf(10);
  return lf === 0 || (lf > 0 && message[lf - 1] !== 13) ? '\n' : '\r\n';
}

/** Addresses come from the protocol, which allows no line ends; this keeps any out of the header anyway. */
function headerSafe(text: string): string {
  return text.replace(/[\0-\x1f\x7f]/g, '');
}

function printable(text: string): string {
  const cleaned = text.slice(0, 256).replace(/[\0-\x1f\x7f-\x9f]/g, '?');
  return text.length > 256 ? cleaned + '...' : cleaned;
}

// The contract between the session and the command modules (one module per command,
// as Dovecot's src/imap/cmd-*.c). Commands see the connection only through SessionContext,
// which Session implements: they do not import the session, so a command runs in a test
// without a socket, and the command table and the session form no import cycle.

import type { MailStore, StagedMessage } from '../../backend/mailstore.js';
import type { Authenticator, Logger, LoginResult, ProxyConnection, SessionSettings, Transport } from '../contracts.js';
import type { ImapValue, ParsedCommand } from '../protocol/types.js';
import type { SelectedMailbox } from '../selected.js';
import type { Args } from './args.js';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  /** Response code without brackets, e.g. "READ-WRITE", "APPENDUID 1 2". */
  code?: string;
  text: string;
  /** Runs after the tagged response has been written (STARTTLS switches the transport here). */
  after?: () => Promise<void>;
}

/** What the commands use of their connection: the members of Session they may touch. */
export interface SessionContext {
  readonly settings: SessionSettings;
  readonly logger: Logger;
  /** Needed for LOGIN/AUTHENTICATE; absent where login is not offered. */
  readonly authenticator?: Authenticator;
  readonly transport: Transport;
  readonly user: string | null;
  /** The logged-in account's mail address, for the Outbox (../outbox.ts); null when unknown. */
  /** The account's mail address (the Outbox's sender), looked up when first asked. */
  sender?(): Promise<string | null>;
  readonly selected: SelectedMailbox | null;
  /** Extensions switched on with ENABLE. */
  readonly enabled: Set<string>;
  /** The account's store (throws before login). */
  readonly store: MailStore;

  /** A mailbox name as the client writes it, in the store's form (namespace, UTF-7 or UTF-8). */
  storeName(wire: string): string;
  wireName(store: string): string;
  /** The CAPABILITY words for this connection now. */
  capabilities(): string[];
  /** Whether CAPABILITY announces `word` now (an extension switched off in IMAP_CAPABILITY is refused). */
  offers(word: string): boolean;
  /** A CONDSTORE-enabling command (RFC 7162 3.1): MODSEQ in FETCH responses from now on. */
  enableCondstore(): void;

  /** `account`: the rest of what the login found (the Outbox's sender, the IMAPDEBUGFILE record). */
  loggedIn(user: string, store: MailStore, account?: Pick<LoginResult, 'sender' | 'protocolLog'>): void;
  /** Leave the authenticated state (UNAUTHENTICATE): no folder, no store, nothing enabled. */
  unauthenticate(): void;
  select(name: string, readOnly: boolean): Promise<SelectedMailbox>;
  unselect(): void;
  /** Expunge (or with IMAP_MOVE_EXPUNGE_TO_TRASH, move to Trash) in the selected folder. */
  expungeMessages(uids: number[]): Promise<void>;
  /**
   * The data of literal `index` of the command now running when it went to the store's scratch
   * space instead of memory (a large APPEND message or CATENATE part; the token says `streamed`),
   * else null. Taken once; dropped at the end of the command unless delivered.
   */
  stagedLiteral(index: number): Promise<StagedMessage | null>;
  /** In IDLE: other sessions' changes are pushed at once. */
  readonly idling: boolean;
  setIdling(idling: boolean): void;
  logout(): Promise<void>;
  /** Switch the transport to TLS (after the tagged OK of STARTTLS). */
  startTls(): Promise<void>;
  /** Compress both directions with DEFLATE (after the tagged OK of COMPRESS). */
  compress(): void;
  /**
   * After the tagged OK of a proxied login (IMAP_PROXY): the connection is relayed to the
   * other server until either side closes (server/net/relay.ts); resolves then.
   */
  relayTo(user: string, proxy: ProxyConnection): Promise<void>;

  /** `done` is called once the data has gone to the system, or was dropped. */
  write(data: Buffer, done?: () => void): void;
  untagged(values: ImapValue[]): void;
  continuation(text: string): void;
  /** The next raw line (IDLE's DONE, AUTHENTICATE responses), or null on disconnect. */
  readLine(): Promise<Buffer | null>;
  /** FLAGS and PERMANENTFLAGS first, if a flag about to be shown holds a keyword not yet announced. */
  announceKeywords(): void;
  /** NOTIFY (RFC 5465): the session's notifier, null for none (NOTIFY NONE, the default). */
  readonly notifier: SessionNotifier | null;
  /** Replaces the notifier (the previous one is stopped). */
  setNotifier(notifier: SessionNotifier | null): void;
  /** Runs `task` after the reports already under way (kept searches, notifications), before the next tagged answer. */
  later(task: () => Promise<void>): void;
}

/** What the session uses of its NOTIFY notifier (../notifier.ts). */
export interface SessionNotifier {
  /** Expunges in the selected mailbox go out after any command (RFC 5465 SELECTED). */
  readonly immediateExpunges: boolean;
  /** Other sessions' flag changes in the selected mailbox are shown. */
  readonly selectedFlagChanges: boolean;
  /** New messages in the selected mailbox were announced (sequence numbers from..to). */
  selectedAdded(from: number, to: number): void;
  /** Unsolicited responses may be sent now. */
  wake(): void;
  stop(): void;
}

export interface CommandContext {
  session: SessionContext;
  command: ParsedCommand;
  args: Args;
  tag: string;
  /** True for the UID forms (UID FETCH, ...). */
  uid: boolean;
}

/**
 * Whether a command's answer identifies messages by sequence number: 'non-uid' for FETCH,
 * STORE, SEARCH, SORT and THREAD (with their UID forms the client goes by UID, RFC 3501 6.4.8), 'always' for one that does
 * in both forms. No untagged EXPUNGE may be sent at the end of such a command (RFC 3501
 * 7.4.1: it would renumber the messages the answer names); the session derives that from
 * this declaration, as Dovecot from COMMAND_FLAG_USES_SEQS.
 */
export type SequenceNumberUse = 'always' | 'non-uid' | 'never';

/** A capability word a module implements, and when the server announces it. */
export interface CapabilityWord {
  /** As announced: 'MOVE', 'THREAD=REFERENCES', 'AUTH=PLAIN'. */
  word: string;
  /**
   * Announced when IMAP_CAPABILITY (IMAP_CAPABILITY_TLS under TLS) lists it, as Courier does;
   * with `added` the server also announces it unlisted: 'always' (ENABLE, UTF8=ACCEPT, as
   * Courier's imapd adds them), 'starttls' (before login on a connection that offers STARTTLS
   * unencrypted), 'tls-required' (LOGINDISABLED before login when IMAP_TLS_REQUIRED is set
   * and the connection is not encrypted), 'id-fields' (ID: when IMAP_ID_FIELDS is set, and
   * only then, whatever IMAP_CAPABILITY says, as Courier does), 'acl' (ACL and ACL2=UNION:
   * when IMAP_ACL is on, and only then, as Courier does), 'external' (AUTH=EXTERNAL: before
   * login on a connection whose client certificate names an account, TLS_EXTERNAL).
   * IMAP_DISABLETHREADSORT switches no word off: SORT and THREAD stay announced and the
   * commands are refused, as in Courier.
   */
  added?: 'always' | 'starttls' | 'tls-required' | 'id-fields' | 'acl' | 'external';
  /** Only before login (AUTH=..., SASL-IR). */
  beforeLogin?: boolean;
  /**
   * A word with a value computed from the settings (RFC 7889's APPENDLIMIT=n): announced as
   * `word=value`. IMAP_CAPABILITY lists it by its name, with or without a value; the value
   * announced is always the computed one.
   */
  value?: (settings: SessionSettings) => string;
  /** Only once logged in (COMPRESS=DEFLATE: the command is refused before, as in Dovecot). */
  afterLogin?: boolean;
}

export interface CommandSpec {
  /** Upper-case name(s) this module answers to, e.g. ['FETCH', 'UID FETCH']. */
  names: string[];
  states: SessionState[];
  /** Default 'never': EXPUNGE may be sent at the end of the command. */
  sequenceNumbers?: SequenceNumberUse;
  /** The capability words this command implements (server/imap/capabilities.ts announces them). */
  capabilities?: CapabilityWord[];
  handler(ctx: CommandContext): Promise<CommandResult>;
}

export const ok = (text = 'Completed', code?: string): CommandResult => ({ status: 'OK', text, code });
export const no = (text: string, code?: string): CommandResult => ({ status: 'NO', text, code });
export const bad = (text: string, code?: string): CommandResult => ({ status: 'BAD', text, code });

export const AUTHENTICATED: SessionState[] = ['authenticated', 'selected'];
export const SELECTED: SessionState[] = ['selected'];
export const ANY: SessionState[] = ['not-authenticated', 'authenticated', 'selected'];

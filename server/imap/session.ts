// One IMAP connection: its state (RFC 3501 section 3), the command loop, the output,
// and the moments at which other sessions' changes are reported. Everything a command
// module may touch of the connection goes through this class.

import type { MailStore, MessageStager, StagedMessage } from '../backend/mailstore.js';
import { MailStoreError } from '../backend/mailstore.js';
import { capabilities } from './capabilities.js';
import { COMMANDS } from './commands/index.js';
import { APPEND_FAMILY, checkAppendLiteral } from './commands/append.js';
import { literalMemory, NON_SYNC_MINUS_LIMIT, refusingNul, STREAM_THRESHOLD } from './literals.js';
import { Args, SyntaxError } from './commands/args.js';
import type { CommandContext, CommandResult, SessionContext, SessionNotifier, SessionState } from './commands/types.js';
import type { Authenticator, Logger, LoginResult, ProtocolLog, ProxyConnection, RelayHandle, SessionOptions, SessionSettings, Transport } from './contracts.js';
import { MailboxNameError, toStoreName, toWireName, type NameOptions } from './names.js';
import { CommandReader, type CommandInput, type LiteralRequest, type LiteralSink, type ReaderError } from './protocol/reader.js';
import { parseCommand } from './protocol/parser.js';
import { ProtocolError } from './protocol/errors.js';
import type { ImapValue, ParsedCommand } from './protocol/types.js';
import { Encoder, tagged as statusLine, untagged } from '../wire/writer.js';
import { SelectedMailbox } from './selected.js';
import { SequenceError } from './resolve-set.js';
import { deflateTransport } from './compress.js';
import { folded, isRev2, utf8Strings } from './rev2.js';
import { traceStart } from './trace.js';

type ReaderEvent = { kind: 'command'; input: CommandInput } | { kind: 'error'; error: ReaderError };

export interface SessionInfo {
  id: number;
  user: string | null;
  remoteAddress: string;
  secure: boolean;
  state: SessionState;
  selected: string | null;
  idle: boolean;
  connectedAt: number;
  bytesIn: number;
  bytesOut: number;
}

export interface SessionHandle {
  closed: Promise<void>;
  disconnect(reason: string | null): void;
  info(): SessionInfo;
  /** Called with the session's info whenever its state, folder or IDLE changes. */
  onChange?: (info: SessionInfo) => void;
}

const DEFAULT_TIMEOUTS = { unauthenticated: 60_000, authenticated: 30 * 60_000, literal: 60_000 };
/**
 * Deadlines, not inactivity timers (a byte now and then must not keep a connection): a
 * client has `unauthenticated` ms from connecting to log in; each command line must arrive
 * within `literal` ms of its first byte, and each literal within `literal` ms plus its size
 * at this rate (a 40 MB upload may take 60 s + 640 s). Logged in, `authenticated` ms
 * without input ends the connection (IDLE included, as RFC 2177 allows).
 */
const LITERAL_MIN_RATE = 64 * 1024; // octets per second
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Largest literal accepted before login (user names, passwords, SASL responses). */
const UNAUTHENTICATED_LITERAL_MAX = 8 * 1024;
let nextSessionId = 1;

export class Session implements SessionContext {
  readonly id = nextSessionId++;
  state: SessionState = 'not-authenticated';
  user: string | null = null;
  /** The account's mail address (the Outbox's sender), or how to find it. */
  private senderSource: LoginResult['sender'] = null;
  selected: SelectedMailbox | null = null;
  /** Extensions switched on with ENABLE. */
  readonly enabled = new Set<string>();
  transport: Transport;
  readonly settings: SessionSettings;
  readonly logger: Logger;
  readonly authenticator?: Authenticator;
  readonly connectedAt = Date.now();
  bytesIn = 0;
  bytesOut = 0;
  idling = false;

  private storeRef: MailStore | null = null;
  /** IMAPDEBUGFILE: this session's protocol record, from login on. */
  private protocolLog: ProtocolLog | null = null;
  private reader: CommandReader;
  private readonly timeouts: typeof DEFAULT_TIMEOUTS;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  private currentCommand: string | null = null;
  private detachInput: () => void = () => undefined;
  private lastInput = Date.now();
  /** The large APPEND literals of the command being received, written to the store's scratch space, by literal index. */
  private stagers = new Map<number, MessageStager>();
  /** Those the command has taken (finished): dropped at its end unless delivered. */
  private staged: StagedMessage[] = [];
  /** Octets of literalMemory this session holds for the command being received. */
  private heldLiteral = 0;
  /** The evaluation of kept search results after the last report (CONTEXT=SEARCH), in order. */
  private settling: Promise<void> = Promise.resolve();
  /** NOTIFY (RFC 5465), null for NOTIFY NONE (notifier.ts). */
  notifier: SessionNotifier | null = null;
  /** After a proxied login (IMAP_PROXY): the relay to the other server, which keeps the deadlines from then on. */
  private relay: RelayHandle | null = null;
  onChange?: (info: SessionInfo) => void;

  constructor(private readonly options: SessionOptions) {
    this.transport = options.transport;
    this.settings = options.settings;
    this.logger = options.logger;
    this.authenticator = options.authenticator;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.reader = this.newReader();
  }

  // ---- state -------------------------------------------------------------

  get store(): MailStore {
    if (!this.storeRef) throw new Error('not authenticated');
    return this.storeRef;
  }

  get names(): NameOptions {
    return { prefix: this.settings.namespacePrefix, utf8: utf8Strings(this.enabled) };
  }

  storeName(wire: string): string {
    return toStoreName(wire, this.names);
  }

  wireName(store: string): string {
    return toWireName(store, this.names);
  }

  capabilities(): string[] {
    return capabilities({
      settings: this.settings,
      secure: this.transport.secure,
      canStartTls: Boolean(this.transport.startTls),
      authenticated: this.state !== 'not-authenticated',
      external: Boolean(this.transport.externalIdentity && this.authenticator?.loginExternal),
    });
  }

  async sender(): Promise<string | null> {
    const source = this.senderSource;
    return typeof source === 'function' ? source() : (source ?? null);
  }

  loggedIn(user: string, store: MailStore, account?: Pick<LoginResult, 'sender' | 'protocolLog'>): void {
    this.user = user;
    this.storeRef = store;
    this.senderSource = account?.sender ?? null;
    this.protocolLog?.close();
    this.protocolLog = account?.protocolLog ?? null;
    this.reader.setLiteralLimit(this.settings.maxLiteralSize);
    this.setState('authenticated');
  }

  /** Whether CAPABILITY announces `word` now (an extension switched off in IMAP_CAPABILITY is refused). */
  offers(word: string): boolean {
    // A word with a value (APPENDLIMIT=n) is offered by its name; IMAP4rev2 includes some (rev2.ts).
    return folded(this.enabled, word) || this.capabilities().some((w) => w.toUpperCase() === word || w.toUpperCase().startsWith(`${word}=`));
  }

  /** A CONDSTORE-enabling command (RFC 7162 3.1): MODSEQ in FETCH responses from now on. */
  enableCondstore(): void {
    if (this.offers('CONDSTORE')) this.enabled.add('CONDSTORE');
  }

  async select(name: string, readOnly: boolean): Promise<SelectedMailbox> {
    // QRESYNC servers tell that the previous mailbox is closed (RFC 7162 3.2.11, as Dovecot), and IMAP4rev2 ones (RFC 9051 6.3.2).
    if (this.selected && (this.offers('QRESYNC') || isRev2(this.enabled))) this.untagged([{ atom: 'OK' }, { atom: '[CLOSED]' }, { atom: 'Previous mailbox closed.' }]);
    // The old view goes once the new one is open: a folder selected again never has no session,
    // so it keeps its watches (new ones look at all of cur/ first: test/imap/reselect.test.ts).
    const previous = this.selected;
    this.selected = null;
    this.unselect();
    const folder = await this.store.openFolder(name, { readOnly }).finally(() => previous?.close());
    const view = new SelectedMailbox(folder, readOnly, () => this.onFolderChange(), this.enabled);
    view.keywordsAllowed = this.settings.keywords;
    this.selected = view;
    try {
      // Whatever is new on disk now belongs to this SELECT, with \Recent for us.
      await folder.refresh();
    } catch (err) {
      this.unselect();
      throw err;
    }
    view.absorbPending();
    this.setState('selected');
    return view;
  }

  unselect(): void {
    if (this.selected) {
      this.selected.close();
      this.selected = null;
    }
    if (this.state === 'selected') this.setState('authenticated');
  }

  /** Expunge (or with IMAP_MOVE_EXPUNGE_TO_TRASH, move to Trash) in the selected folder. */
  async expungeMessages(uids: number[]): Promise<void> {
    const view = this.selected!;
    const trash = `INBOX.${this.settings.trashFolder}`;
    if (this.settings.moveExpungeToTrash && view.folder.name !== trash) {
      try {
        await view.folder.moveTo(uids, trash);
      } catch (err) {
        // The first expunge of an account makes its Trash, as Courier does.
        if (!(err instanceof MailStoreError) || err.code !== 'TRYCREATE') throw err;
        await this.store.createFolder(trash);
        await view.folder.moveTo(uids, trash);
      }
    } else {
      // Courier 5's line, word for word: INFO: EXPUNGED, user=..., ip=[...], port=[...], old_name=...
      const log = this.settings.logDeletions
        ? (file: string) => this.logger.log('info', `EXPUNGED, user=${this.user}, ip=[${this.transport.remoteAddress}], port=[${this.transport.remotePort ?? ''}], old_name=${file}`)
        : undefined;
      await view.folder.expunge(uids, log);
    }
  }

  async stagedLiteral(index: number): Promise<StagedMessage | null> {
    const stager = this.stagers.get(index);
    if (!stager) return null;
    this.stagers.delete(index);
    const staged = await stager.finish();
    this.staged.push(staged);
    return staged;
  }

  setIdling(idling: boolean): void {
    this.idling = idling;
    if (idling) {
      this.reportUpdates(true);
      this.notifier?.wake();
    }
    this.changed();
  }

  setNotifier(notifier: SessionNotifier | null): void {
    if (this.notifier !== notifier) this.notifier?.stop();
    this.notifier = notifier;
  }

  /** UNAUTHENTICATE (RFC 8437): back to the not-authenticated state as if the connection were new. */
  unauthenticate(): void {
    this.unselect();
    this.setNotifier(null);
    this.logger.log('info', 'UNAUTHENTICATE', { user: this.user ?? '' });
    this.user = null;
    this.senderSource = null;
    this.storeRef = null;
    // The next LOGIN's password must not be recorded: the record ends with the login it belongs to.
    this.protocolLog?.close();
    this.protocolLog = null;
    // RFC 8437 section 3: what ENABLE switched on is off again.
    this.enabled.clear();
    this.setState('not-authenticated');
    this.reader.setLiteralLimit(this.literalLimit());
  }

  async logout(): Promise<void> {
    this.unselect();
    this.setState('logout');
  }

  async startTls(): Promise<void> {
    const start = this.transport.startTls;
    if (!start) return;
    // Anything the client sent after STARTTLS in the clear is dropped (RFC 3501 11.1 / CVE-2011-0411 class).
    this.detachInput();
    this.reader.discardBuffered();
    this.transport = await start();
    this.attachInput();
    this.changed();
  }

  /** COMPRESS=DEFLATE (after its tagged OK): both directions compressed from here on. */
  compress(): void {
    this.detachInput();
    // Whatever came after the COMPRESS line is the start of the compressed stream.
    this.transport = deflateTransport(this.transport, this.reader.takeBuffered());
    this.attachInput();
    this.changed();
  }

  async relayTo(user: string, proxy: ProxyConnection): Promise<void> {
    if (this.ended) {
      proxy.close();
      return;
    }
    // What the client sent after its login command belongs to the other server.
    this.detachInput();
    const pending = Buffer.concat(this.reader.takeBuffered());
    this.user = user;
    this.relay = proxy.relay({ input: this.transport.input, output: this.transport.output, pending, timeouts: this.timeouts });
    if (this.timer) clearTimeout(this.timer);
    this.setState('authenticated');
    await this.relay.done;
    this.finish();
  }

  info(): SessionInfo {
    return {
      id: this.id,
      user: this.user,
      remoteAddress: this.transport.remoteAddress,
      secure: this.transport.secure,
      state: this.state,
      selected: this.selected ? this.wireName(this.selected.folder.name) : null,
      idle: this.idling,
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn + (this.relay?.bytes.in ?? 0),
      bytesOut: this.bytesOut + (this.relay?.bytes.out ?? 0),
    };
  }

  // ---- output ------------------------------------------------------------

  /** `done` (for output.ts's flow control) is called once the data has gone to the system, or was dropped. */
  write(data: Buffer, done?: () => void): void {
    if (this.ended) {
      done?.();
      return;
    }
    this.bytesOut += data.length;
    this.protocolLog?.wrote(data);
    if (done) this.transport.output.write(data, () => done());
    else this.transport.output.write(data);
  }

  untagged(values: ImapValue[]): void {
    this.write(untagged(values, { utf8: utf8Strings(this.enabled) }));
  }

  continuation(text: string): void {
    this.write(Buffer.from(`+ ${text}\r\n`));
  }

  /** Wait until the transport has room again (large FETCH responses). */
  drain(): Promise<void> {
    const out = this.transport.output;
    if (this.ended || !out.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.once('drain', done);
      out.once('close', done);
    });
  }

  private tagged(tag: string, result: CommandResult): void {
    // The writer drops CR and LF from the text: messages may quote client input.
    this.write(statusLine(tag, result.status, result.text, result.code || undefined));
  }

  /**
   * Refuses a literal announced by a command: tagged, or, where the line has no tag to answer
   * with, "* BAD" (an untagged NO ends no command: a client waiting for "+" would wait forever).
   */
  private refuseLiteral(tag: string | null, result: CommandResult): void {
    this.tagged(tag ?? '*', tag === null && result.status === 'NO' ? { ...result, status: 'BAD' } : result);
  }

  // ---- input -------------------------------------------------------------

  /** The next raw line (IDLE's DONE, AUTHENTICATE responses), or null on disconnect. */
  readLine(): Promise<Buffer | null> {
    if (this.inputEnded) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.rawWaiter = (line) => {
        if (line) this.protocolLog?.read(line);
        resolve(line);
      };
      this.reader.readRawLine();
    });
  }

  private events: (ReaderEvent | null)[] = [];
  private eventWaiter: ((event: ReaderEvent | null) => void) | null = null;
  private rawWaiter: ((line: Buffer | null) => void) | null = null;
  private inputEnded = false;

  private deliver(event: ReaderEvent | null): void {
    const waiter = this.eventWaiter;
    if (waiter) {
      this.eventWaiter = null;
      waiter(event);
    } else {
      this.events.push(event);
    }
  }

  /** The next command or framing error; null once the client has gone. */
  private nextEvent(): Promise<ReaderEvent | null> {
    if (this.events.length) return Promise.resolve(this.events.shift()!);
    if (this.inputEnded) return Promise.resolve(null);
    return new Promise((resolve) => (this.eventWaiter = resolve));
  }

  /** The client has gone: commands it sent before are still run, then the loop ends. */
  private endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    const waiter = this.eventWaiter;
    this.eventWaiter = null;
    waiter?.(null);
    const raw = this.rawWaiter;
    this.rawWaiter = null;
    raw?.(null);
  }

  /** The largest literal the reader takes now (small before login). */
  private literalLimit(): number {
    return this.state === 'not-authenticated' && !this.options.preauth ? Math.min(this.settings.maxLiteralSize, UNAUTHENTICATED_LITERAL_MAX) : this.settings.maxLiteralSize;
  }

  private newReader(): CommandReader {
    return new CommandReader({
      maxLineLength: this.settings.maxLineLength,
      maxLiteralSize: this.literalLimit(),
      onCommand: (input) => this.deliver({ kind: 'command', input }),
      onError: (error) => {
        if (error.raw && this.rawWaiter) {
          // An over-long raw line: treat it as garbage for IDLE / AUTHENTICATE.
          const raw = this.rawWaiter;
          this.rawWaiter = null;
          raw(Buffer.from('*'));
          return;
        }
        this.deliver({ kind: 'error', error });
      },
      onLiteral: (request, lines) => this.acceptLiteral(request, lines, false),
      onNonSyncLiteral: (request, lines) => this.acceptLiteral(request, lines, true),
      onRawLine: (line) => {
        const raw = this.rawWaiter;
        this.rawWaiter = null;
        raw?.(line);
      },
    });
  }

  /**
   * A literal is announced: an APPEND's large one goes straight to the store; others are held
   * in memory within the process's budget. For a synchronizing literal the client waits for "+".
   */
  private acceptLiteral(request: LiteralRequest, lines: readonly Buffer[], nonSync: boolean): boolean | LiteralSink | Promise<boolean | LiteralSink> {
    // RFC 7888 section 5: without LITERAL+ (LITERAL- or neither announced) a non-synchronizing
    // literal over 4096 octets is refused with BAD [TOOBIG]; the reader swallows its data.
    if (nonSync && request.size > NON_SYNC_MINUS_LIMIT && !this.offers('LITERAL+')) {
      this.refuseLiteral(request.tag, { status: 'BAD', code: 'TOOBIG', text: `Non-synchronizing literals over ${NON_SYNC_MINUS_LIMIT} octets need a "+" first (LITERAL-)` });
      return false;
    }
    if (request.name !== null && APPEND_FAMILY.has(request.name) && request.size > STREAM_THRESHOLD && this.storeRef) {
      return this.stageLiteral(request, lines, nonSync);
    }
    if (!literalMemory.reserve(request.size)) {
      this.refuseLiteral(request.tag, { status: 'NO', code: 'LIMIT', text: 'Server busy: too much literal data in memory. Try again later.' });
      return false;
    }
    this.heldLiteral += request.size;
    if (!nonSync) this.continuation('Ready for literal data');
    return true;
  }

  /**
   * A large literal of an APPEND, REPLACE or MULTIAPPEND goes to the store's scratch space as it
   * arrives (a message or a CATENATE part: the command decides when it runs). What the command
   * would refuse is refused before the client sends the data, where it can be told already.
   */
  private async stageLiteral(request: LiteralRequest, lines: readonly Buffer[], nonSync: boolean): Promise<boolean | LiteralSink> {
    let stager: MessageStager;
    try {
      await checkAppendLiteral(this, request.name ?? 'APPEND', lines, request.size);
      stager = await this.store.stageMessage(request.size);
    } catch (err) {
      this.refuseLiteral(request.tag, this.errorResult(err, { name: request.name ?? 'APPEND' }));
      return false;
    }
    if (this.ended) {
      await stager.abort();
      return false;
    }
    // A literal (not literal8) may not hold NUL (RFC 3501 9 CHAR8, RFC 3516 4.2).
    if (!request.binary) stager = refusingNul(stager);
    this.stagers.set(request.index, stager);
    if (!nonSync) this.continuation('Ready for literal data');
    return stager;
  }

  /** A command is over: give back its literal memory, drop a streamed literal it did not use. */
  private async endCommand(): Promise<void> {
    literalMemory.release(this.heldLiteral);
    this.heldLiteral = 0;
    const stagers = [...this.stagers.values()];
    const staged = this.staged;
    this.stagers.clear();
    this.staged = [];
    for (const stager of stagers) await stager.abort();
    // Delivered ones are gone already (discard does nothing then).
    for (const message of staged) await message.discard();
  }

  private attachInput(): void {
    const input = this.transport.input;
    const onData = (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.lastInput = Date.now();
      this.refreshDeadline(); // after the reader has seen the chunk (listener order)
    };
    const onEnd = () => this.endInput();
    const detachReader = this.reader.attach(input);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onEnd);
    input.on('close', onEnd);
    this.detachInput = () => {
      detachReader();
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onEnd);
      input.off('close', onEnd);
    };
  }

  /** The earliest deadline that applies now, and what to tell the client when it passes. */
  private deadline(): { at: number; reason: string } {
    const t = this.timeouts;
    const login = this.state === 'not-authenticated';
    let at = login ? this.connectedAt + t.unauthenticated : this.lastInput + t.authenticated;
    let reason = login ? 'No login in time.' : 'Disconnected for inactivity.';
    const part = this.reader.progress;
    if (part) {
      const end = part.since + t.literal + (part.kind === 'literal' ? (part.size / LITERAL_MIN_RATE) * 1000 : 0);
      if (end < at) {
        at = end;
        reason = part.kind === 'literal' ? 'Literal data too slow.' : 'Command line too slow.';
      }
    }
    return { at, reason };
  }

  private refreshDeadline(): void {
    if (this.ended || this.relay) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, this.deadline().at - Date.now()));
    this.timer = setTimeout(() => {
      const { at, reason } = this.deadline();
      if (Date.now() >= at) this.disconnect(reason);
      else this.refreshDeadline(); // the deadline moved (a literal began, input came)
    }, wait);
    this.timer.unref?.();
  }

  // ---- the command loop --------------------------------------------------

  async run(): Promise<void> {
    this.attachInput();
    this.refreshDeadline();
    this.greet();
    try {
      while (this.state !== 'logout' && !this.ended) {
        const event = await this.nextEvent();
        if (!event) break;
        await this.handle(event);
        await this.endCommand();
        if (!this.loggedOut()) {
          this.reader.resume();
          this.refreshDeadline();
        }
      }
    } catch (err) {
      this.logger.log('error', 'session failed', { error: String(err), user: this.user ?? undefined });
    } finally {
      this.finish();
    }
  }

  private loggedOut(): boolean {
    return this.state === 'logout' || this.ended;
  }

  private greet(): void {
    const pre = this.options.preauth;
    if (pre) {
      this.loggedIn(pre.user, pre.store, pre);
      if (pre.loginTag !== undefined) {
        // Started by Courier's imaplogin after a successful LOGIN: answer that command.
        this.write(Buffer.from(`${pre.loginTag} OK LOGIN Ok.\r\n`));
      } else {
        this.write(Buffer.from(`* PREAUTH [CAPABILITY ${this.capabilities().join(' ')}] Ready.\r\n`));
      }
      return;
    }
    this.write(Buffer.from(`* OK [CAPABILITY ${this.capabilities().join(' ')}] IMAP server ready.\r\n`));
  }

  private async handle(event: ReaderEvent): Promise<void> {
    if (event.kind === 'error') {
      // A line that was too long or a literal over the limit: that command is skipped.
      const { error } = event;
      const code = error.code === 'literal-too-big' ? '[TOOBIG] ' : '';
      // RFC 7888: a non-synchronizing literal over the limit is answered BAD, at once.
      const status = error.code === 'literal-too-big' && error.tag && !error.nonSync ? 'NO' : 'BAD';
      this.write(Buffer.from(`${error.tag ?? '*'} ${status} ${code}${error.message}\r\n`));
      // Its data is on the way: skipped when it is at most twice the limit, else not worth waiting for.
      if (error.nonSync && (error.literalSize ?? 0) > 2 * this.literalLimit()) this.disconnect('Literal too big.');
      return;
    }
    if (this.protocolLog) for (const line of event.input.lines) this.protocolLog.read(line);
    let command: ParsedCommand;
    try {
      command = parseCommand(event.input);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.write(statusLine(err.tag ?? '*', err.status, err.message, err.code || undefined));
        return;
      }
      throw err;
    }
    await this.dispatch(command);
  }

  private async dispatch(command: ParsedCommand): Promise<void> {
    const spec = COMMANDS.get(command.name);
    const tag = command.tag;
    if (!spec) {
      this.tagged(tag, { status: 'BAD', text: `Unknown command ${command.name.slice(0, 40)}` });
      return;
    }
    if (!spec.states.includes(this.state)) {
      this.tagged(tag, { status: 'BAD', text: `${command.name} is not valid in the ${this.state} state` });
      return;
    }
    const ctx: CommandContext = {
      session: this,
      command,
      args: new Args(command.args),
      tag,
      uid: command.name.startsWith('UID '),
    };
    this.currentCommand = command.name;
    const traced = traceStart();
    // IDLE and AUTHENTICATE mostly wait for the client: they would be named in every stall.
    const waits = command.name === 'IDLE' || command.name === 'AUTHENTICATE';
    const ended = waits ? undefined : this.options.stalls?.begin(command.name);
    let result: CommandResult;
    try {
      result = await spec.handler(ctx);
    } catch (err) {
      result = this.errorResult(err, command);
    } finally {
      this.currentCommand = null;
      ended?.();
    }
    traced?.(command.name);
    if (this.state !== 'logout' && (this.selected || this.notifier)) {
      // No EXPUNGE after an answer that names messages by sequence number (RFC 3501 7.4.1),
      // unless NOTIFY asked for them at once (RFC 5465 SELECTED: the client goes by UID).
      const seqs = spec.sequenceNumbers ?? 'never';
      this.reportUpdates(seqs === 'never' || (seqs === 'non-uid' && ctx.uid) || this.notifier?.immediateExpunges === true);
      this.notifier?.wake();
      // ADDTO and REMOVEFROM of kept searches before the tagged answer (RFC 5267 4.3).
      await this.settling;
    }
    this.tagged(tag, result);
    if (result.after) {
      try {
        await result.after();
      } catch (err) {
        // A TLS handshake that fails after STARTTLS is routine (a scanner, a client giving up).
        this.logger.log('info', `${command.name} failed`, { ip: this.transport.remoteAddress, error: String(err) });
        this.disconnect(null);
      }
    }
    this.changed();
  }

  private errorResult(err: unknown, command: Pick<ParsedCommand, 'name'>): CommandResult {
    if (err instanceof SyntaxError || err instanceof SequenceError) return { status: 'BAD', text: err.message };
    if (err instanceof ProtocolError) return { status: err.status, code: err.code, text: err.message };
    if (err instanceof MailboxNameError) return { status: 'NO', code: 'CANNOT', text: err.message };
    if (err instanceof MailStoreError) return { status: 'NO', code: err.code, text: err.message };
    this.logger.log('error', `${command.name} failed`, { user: this.user ?? undefined, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    return { status: 'NO', code: 'SERVERBUG', text: 'Internal error, see the server log' };
  }

  /**
   * Before a STORE or FETCH shows the flags it changed: FLAGS and PERMANENTFLAGS if they
   * hold a keyword the client has not been given (RFC 3501 7.2.6).
   */
  announceKeywords(): void {
    if (this.selected) this.writeUntagged(this.selected.newKeywords());
  }

  private writeUntagged(lines: ImapValue[][]): void {
    if (!lines.length) return;
    const out = new Encoder({ utf8: utf8Strings(this.enabled) });
    for (const line of lines) out.raw('* ').values(line).raw('\r\n');
    this.write(out.finish());
  }

  /** Send what other sessions and processes changed in the selected folder, in one write. */
  private reportUpdates(allowExpunge: boolean): void {
    const view = this.selected;
    if (!view) return;
    const known = view.exists;
    this.writeUntagged(view.flush(allowExpunge, this.notifier?.selectedFlagChanges ?? true));
    if (this.notifier && view.exists > known) this.notifier.selectedAdded(known + 1, view.exists);
    if (view.watcher?.unsettled) this.settleSearches(view);
    if (view.gone) {
      this.untagged([{ atom: 'BYE' }, { atom: 'The selected folder was deleted or replaced' }]);
      this.disconnect(null);
    }
  }

  /** The ADDTO / REMOVEFROM of kept searches for what the last report told (they may read
   * message files), written once known: after that report, in the order of the reports. */
  private settleSearches(view: SelectedMailbox): void {
    this.later(async () => {
      const lines = await view.watcher!.settle();
      if (this.selected === view && !this.ended) this.writeUntagged(lines);
    });
  }

  later(task: () => Promise<void>): void {
    this.settling = this.settling.then(async () => {
      if (this.ended) return;
      try {
        await task();
      } catch (err) {
        this.logger.log('error', 'an unsolicited report failed', { user: this.user ?? undefined, error: err instanceof Error ? err.message : String(err) });
      }
    });
  }

  private onFolderChange(): void {
    // Pushed at once while idling; otherwise reported with the next command's response.
    // (Deferring the report to a microtask, to report the changes of one operation
    // together, made the p99 of 1,000 idle clients worse in bench:idle: 53-80 ms against
    // 34-44 ms, measured four times.)
    // Without IMAP_ENHANCEDIDLE the IDLE timer reports (commands/idle.ts).
    if (this.idling && this.currentCommand === 'IDLE' && this.settings.enhancedIdle) this.reportUpdates(true);
  }

  private setState(state: SessionState): void {
    this.state = state;
    this.refreshDeadline();
    this.changed();
  }

  private changed(): void {
    this.onChange?.(this.info());
  }

  /** Close the connection, with "* BYE reason" first unless reason is null. */
  disconnect(reason: string | null): void {
    if (this.ended) return;
    if (this.relay) {
      // The relay knows whether a BYE can go between the other server's responses; relayTo finishes.
      this.relay.stop(reason);
      return;
    }
    if (reason) this.write(Buffer.from(`* BYE ${reason}\r\n`));
    this.endInput();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.detachInput();
    // A half-received APPEND leaves nothing behind: `closed` waits for its scratch files to go
    // (imapd on stdio exits when its session is closed).
    const dropped = this.endCommand().catch((err) => this.logger.log('warn', 'dropping a partial APPEND failed', { error: String(err) }));
    this.unselect();
    this.protocolLog?.close();
    this.protocolLog = null;
    this.setNotifier(null);
    // A compressed transport sends its last bytes (BYE, LOGOUT's OK) before it closes.
    this.transport.close();
    const closing = this.transport.whenClosed?.();
    void dropped.then(() => closing).finally(() => this.resolveClosed());
  }
}

export function startSession(options: SessionOptions): SessionHandle {
  const session = new Session(options);
  const handle: SessionHandle = {
    closed: session.closed,
    disconnect: (reason) => session.disconnect(reason),
    info: () => session.info(),
  };
  session.onChange = (info) => handle.onChange?.(info);
  void session.run();
  return handle;
}

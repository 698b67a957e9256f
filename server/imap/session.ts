// One IMAP connection: its state (RFC 3501 section 3), the command loop, the output,
// and the moments at which other sessions' changes are reported. Everything a command
// module may touch of the connection goes through this class. Its parts live beside it:
// the input queue (session-input.ts), the command reader on the transport (session-reader.ts),
// the deadlines (session-deadlines.ts), the literals of the command being received
// (session-literals.ts), parsing and running a command (session-dispatch.ts), the reports of
// other sessions' changes (session-updates.ts) and what EXPUNGE does (session-expunge.ts).

import type { MailStore, StagedMessage } from '../backend/mailstore.js';
import { capabilities, greeting } from './capabilities.js';
import type { CommandResult, SessionContext, SessionNotifier, SessionState } from './commands/types.js';
import type { Authenticator, Logger, LoginResult, ProtocolLog, ProxyConnection, RelayHandle, SessionOptions, SessionSettings, Transport } from './contracts.js';
import { toStoreName, toWireName, type NameOptions } from './names.js';
import type { CommandReader } from './protocol/reader.js';
import type { ImapValue, ParsedCommand } from './protocol/types.js';
import { tagged as statusLine, untagged } from '../wire/writer.js';
import { SelectedMailbox } from './selected.js';
import { deflateTransport } from './compress.js';
import { folded, isRev2, utf8Strings } from './rev2.js';
import { InputQueue, type ReaderEvent } from './session-input.js';
import { Deadlines, DEFAULT_TIMEOUTS } from './session-deadlines.js';
import { LiteralIntake } from './session-literals.js';
import { UpdateReporter } from './session-updates.js';
import { expungeOrTrash } from './session-expunge.js';
import { errorResult, parseOrAnswer, runCommand, type DispatchHost } from './session-dispatch.js';
import { attachInput, framingErrorAnswer, literalLimit, newCommandReader } from './session-reader.js';
import type { SessionHandle, SessionInfo } from './session-info.js';

export type { SessionHandle, SessionInfo } from './session-info.js';

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
  private readonly input = new InputQueue();
  private readonly deadlines: Deadlines;
  private readonly literals: LiteralIntake;
  private readonly updates: UpdateReporter;
  private readonly dispatcher: DispatchHost;
  private ended = false;
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  private currentCommand: string | null = null;
  private detachInput: () => void = () => undefined;
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
    this.deadlines = new Deadlines(
      { ...DEFAULT_TIMEOUTS, ...options.timeouts },
      {
        connectedAt: this.connectedAt,
        loggingIn: () => this.state === 'not-authenticated',
        progress: () => this.reader.progress,
        stopped: () => this.ended || Boolean(this.relay),
        expire: (reason) => this.disconnect(reason),
      },
    );
    this.literals = new LiteralIntake({
      context: this,
      hasStore: () => this.storeRef !== null,
      ended: () => this.ended,
      refuse: (tag, result) => this.refuseLiteral(tag, result),
      ready: () => this.continuation('Ready for literal data'),
      errorResult: (err, name) => this.errorResult(err, name),
    });
    this.updates = new UpdateReporter({
      selected: () => this.selected,
      notifier: () => this.notifier,
      enabled: this.enabled,
      user: () => this.user,
      logger: this.logger,
      ended: () => this.ended,
      pushing: () => this.idling && this.currentCommand === 'IDLE' && this.settings.enhancedIdle,
      write: (data) => this.write(data),
      untagged: (values) => this.untagged(values),
      disconnect: (reason) => this.disconnect(reason),
    });
    this.dispatcher = {
      context: this,
      state: () => this.state,
      running: (name) => (this.currentCommand = name),
      stalls: options.stalls,
      errorResult: (err, name) => this.errorResult(err, name),
    };
    this.reader = newCommandReader({ maxLineLength: this.settings.maxLineLength, maxLiteralSize: this.literalLimit() }, this.input, this.literals);
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
    const view = new SelectedMailbox(folder, readOnly, () => this.updates.folderChanged(), this.enabled);
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
  expungeMessages(uids: number[]): Promise<void> {
    return expungeOrTrash(this, this.selected!, uids);
  }

  stagedLiteral(index: number): Promise<StagedMessage | null> {
    return this.literals.take(index);
  }

  setIdling(idling: boolean): void {
    this.idling = idling;
    if (idling) {
      this.updates.report(true);
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
    this.switchTransport(await start());
  }

  /** COMPRESS=DEFLATE (after its tagged OK): both directions compressed from here on. */
  compress(): void {
    this.detachInput();
    // Whatever came after the COMPRESS line is the start of the compressed stream.
    this.switchTransport(deflateTransport(this.transport, this.reader.takeBuffered()));
  }

  /** After STARTTLS or COMPRESS: the reader goes on with the new transport's input. */
  private switchTransport(transport: Transport): void {
    this.transport = transport;
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
    this.relay = proxy.relay({ input: this.transport.input, output: this.transport.output, pending, timeouts: this.deadlines.timeouts });
    this.deadlines.stop();
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
    return this.input.rawLine(
      () => this.reader.readRawLine(),
      (line) => this.protocolLog?.read(line),
    );
  }

  /** The largest literal the reader takes now (small before login). */
  private literalLimit(): number {
    return literalLimit(this.settings.maxLiteralSize, this.state === 'not-authenticated' && !this.options.preauth);
  }

  private attachInput(): void {
    this.detachInput = attachInput(this.transport.input, this.reader, {
      received: (octets) => {
        this.bytesIn += octets;
        this.deadlines.input();
      },
      ended: () => this.input.end(),
    });
  }

  // ---- the command loop --------------------------------------------------

  async run(): Promise<void> {
    this.attachInput();
    this.deadlines.refresh();
    this.greet();
    try {
      while (this.state !== 'logout' && !this.ended) {
        const event = await this.input.next();
        if (!event) break;
        await this.handle(event);
        await this.literals.endCommand();
        if (!this.loggedOut()) {
          this.reader.resume();
          this.deadlines.refresh();
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
    if (pre) this.loggedIn(pre.user, pre.store, pre);
    this.write(greeting(this.capabilities(), pre));
  }

  private async handle(event: ReaderEvent): Promise<void> {
    if (event.kind === 'error') {
      // A line that was too long or a literal over the limit: that command is skipped.
      const answer = framingErrorAnswer(event.error, this.literalLimit());
      this.write(answer.line);
      if (answer.hangUp) this.disconnect('Literal too big.');
      return;
    }
    if (this.protocolLog) for (const line of event.input.lines) this.protocolLog.read(line);
    const command = parseOrAnswer(event.input);
    if (Buffer.isBuffer(command)) this.write(command);
    else await this.dispatch(command);
  }

  private async dispatch(command: ParsedCommand): Promise<void> {
    const tag = command.tag;
    const outcome = await runCommand(this.dispatcher, command);
    const result = outcome.result;
    if (!outcome.ran) {
      this.tagged(tag, result);
      return;
    }
    const reported = this.state === 'logout' ? null : this.updates.beforeAnswer(outcome.expunges);
    if (reported) await reported;
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

  private errorResult(err: unknown, command: string): CommandResult {
    return errorResult(err, command, this.logger, this.user);
  }

  /**
   * Before a STORE or FETCH shows the flags it changed: FLAGS and PERMANENTFLAGS if they
   * hold a keyword the client has not been given (RFC 3501 7.2.6).
   */
  announceKeywords(): void {
    this.updates.announceKeywords();
  }

  later(task: () => Promise<void>): void {
    this.updates.later(task);
  }

  private setState(state: SessionState): void {
    this.state = state;
    this.deadlines.refresh();
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
    this.input.end();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.deadlines.stop();
    this.detachInput();
    // A half-received APPEND leaves nothing behind: `closed` waits for its scratch files to go
    // (imapd on stdio exits when its session is closed).
    const dropped = this.literals.endCommand().catch((err) => this.logger.log('warn', 'dropping a partial APPEND failed', { error: String(err) }));
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

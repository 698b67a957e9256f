// What an IMAP session needs from whoever hosts it: the transport (stdio, a TCP or TLS
// socket), how to log in, and the settings. The stdio command (server/bin/imapd.ts) and
// the network listener (server/net/) both provide these; the session itself
// (server/imap/session.ts) knows nothing about sockets or files.

import type { Readable, Writable } from 'node:stream';
import type { MailStore } from '../backend/mailstore.js';
import type { SessionSettings } from '../config/session.js';
import type { Logger } from '../log/logger.js';

export interface Transport {
  input: Readable;
  output: Writable;
  /** "127.0.0.1" etc., or "stdin" for the command-line mode. */
  remoteAddress: string;
  /** The client's port, where known (TCPREMOTEPORT for the stdio imapd). */
  remotePort?: number | string;
  /** True when the transport is encrypted (implicit TLS, after STARTTLS, or local stdio). */
  secure: boolean;
  /** The login name a verified client certificate carries (TLS_EXTERNAL): AUTHENTICATE EXTERNAL logs in as it. */
  externalIdentity?: string;
  /**
   * Present when STARTTLS can be offered. Called after the tagged OK has been written;
   * resolves with the encrypted transport, which replaces this one. The session drops
   * whatever plaintext it had buffered beyond the STARTTLS command line.
   */
  startTls?: () => Promise<Transport>;
  /** Close the connection (after the output has been flushed). */
  close(): void;
  /** After close(): resolves once the connection is closed, where that takes time (a compressed
   * transport sends its last bytes first). */
  whenClosed?(): Promise<void>;
  /** COMPRESS=DEFLATE is on (RFC 4978): server/imap/compress.ts wraps the transport it replaced. */
  compressed?: boolean;
  /**
   * The output has sent or copied a buffer by the time that write's callback runs (sockets,
   * TLS, stdio), so the buffer may be filled again (output.ts reuses its blocks then).
   */
  reusesWrittenBuffers?: boolean;
}

export interface LoginResult {
  user: string;
  store: MailStore;
  /**
   * The account's mail address: the Outbox's sender (sendmail -f, HEADERFROM); or how to find
   * it, asked only when the Outbox sends (a login then does not wait for the account's addresses).
   */
  sender?: string | null | (() => Promise<string | null>);
  /** IMAPDEBUGFILE: where this session's protocol is recorded from now on. */
  protocolLog?: ProtocolLog | null;
}

/**
 * A login whose account lives on another server (IMAP_PROXY, Courier's "mailhost" account
 * option): the authenticator has opened a connection there and logged in, and the session
 * answers the client's login with that server's answer and hands its streams to the relay.
 */
export interface ProxiedLogin {
  user: string;
  proxy: ProxyConnection;
}

/** A logged-in connection to another IMAP server (server/net/proxy.ts). */
export interface ProxyConnection {
  /** The other server as named in the account's mailhost, for the log. */
  readonly host: string;
  /** Untagged lines the other server sent with its answer (its CAPABILITY with IMAP_PROXY_FOREIGN), passed on before the tagged answer. */
  readonly untagged: Buffer;
  /** Its tagged OK: response code (without brackets) and text, given to the client with the client's tag. */
  readonly answer: { code: string | null; text: string };
  /**
   * Relay bytes between the client and the other server until either side closes, with
   * backpressure both ways; `pending` is what the client sent after its login command.
   */
  relay(client: RelayClient): RelayHandle;
  /** Close the connection unused (the client went away first). */
  close(): void;
}

export interface RelayClient {
  input: Readable;
  output: Writable;
  pending: Buffer;
  /** The session's deadlines (ms), applied to the client's side of the relay as the session applies them. */
  timeouts: { authenticated: number; literal: number };
}

export interface RelayHandle {
  /** Resolves once both sides are closed. */
  readonly done: Promise<void>;
  /** End the relay: "* BYE reason" to the client first when its output is between responses (null: no BYE). */
  stop(reason: string | null): void;
  /** Octets relayed from the client and to it. */
  readonly bytes: { in: number; out: number };
}

/**
 * A record of one session's protocol (IMAPDEBUGFILE, server/log/debug-file.ts), begun after
 * login so that no password is in it. The session gives it each command line as received
 * (literal data left out) and each piece of output.
 */
export interface ProtocolLog {
  read(line: Buffer): void;
  wrote(data: Buffer): void;
  close(): void;
}

export interface Authenticator {
  /**
   * Check a username and password. Resolves with the account's store, or with null
   * for bad credentials or a disabled account (the authenticator applies the failure
   * delay and throttling before it resolves).
   */
  login(user: string, password: string, remoteAddress: string): Promise<LoginResult | null>;
  /**
   * As login, where the host proxies (IMAP_PROXY): an account living on another server comes
   * back as a logged-in connection there. LOGIN and AUTHENTICATE PLAIN use it when present.
   */
  loginOrProxy?(user: string, password: string, remoteAddress: string): Promise<LoginResult | ProxiedLogin | null>;
  /**
   * Log in as `user` without a password: TLS has verified a client certificate naming it
   * (AUTHENTICATE EXTERNAL). Null for an unknown or disabled account.
   */
  loginExternal?(user: string, remoteAddress: string): Promise<LoginResult | null>;
}

export type { Logger, LogLevel } from '../log/logger.js';

export type { SessionSettings } from '../config/session.js';

export interface SessionOptions {
  transport: Transport;
  settings: SessionSettings;
  logger: Logger;
  /** Needed for LOGIN/AUTHENTICATE in the not-authenticated state. */
  authenticator?: Authenticator;
  /** Start already authenticated (PREAUTH greeting, or "<tag> OK LOGIN Ok." after imaplogin). */
  preauth?: { user: string; store: MailStore; loginTag?: string; sender?: string | null; protocolLog?: ProtocolLog | null };
  /**
   * Deadlines in ms: `unauthenticated` from connecting to login; `literal` for each command
   * line, and for each literal plus its size at 64 KiB/s; `authenticated` without input once logged in.
   */
  timeouts?: { unauthenticated: number; authenticated: number; literal: number };
  /** The process's event-loop stall monitor: told which command runs, to name it in a stall. */
  stalls?: { begin(command: string): () => void };
}

// What the network front (listener.ts) shows of itself: its options, its listeners, its live
// connections as the GUI lists them, and the events it emits.

import type { ImapdSettings } from '../config/settings.js';
import type { Authenticator, Logger, LogLevel, SessionOptions, SessionSettings } from '../imap/contracts.js';
import type { SessionHandle } from '../imap/session.js';
import type { Stall } from '../imap/stall.js';
import type { TlsMaterial } from './tls.js';

export type ListenerKind = 'imap' | 'imaps';

export interface ListenerInfo {
  kind: ListenerKind;
  /** The address bound: "127.0.0.1", "::" for all addresses, ... */
  address: string;
  port: number;
  /** STARTTLS offered (plain listeners). */
  startTls: boolean;
}

export type ServerSettings = Pick<
  ImapdSettings,
  | 'address' | 'ports' | 'sslAddress' | 'sslPorts' | 'plainStart' | 'sslStart' | 'startTls'
  | 'maxDaemons' | 'maxPerIp' | 'tlsMinVersion' | 'startTlsMinVersion' | 'tlsCipherList'
> & Partial<Pick<ImapdSettings, 'accessFile' | 'tlsVerifyPeer' | 'tlsTrustCerts' | 'tlsExternal'>>;

export interface ImapServerOptions {
  settings: ServerSettings;
  /** Protocol settings for the sessions (ImapServer.fromSettings derives them from the full settings). */
  sessionSettings: SessionSettings;
  authenticator: Authenticator;
  /** Needed when IMAPDSSLSTART or IMAPDSTARTTLS is on. */
  tls?: TlsMaterial | null;
  /** Where log lines go (they are also emitted as 'log' events). */
  logger?: Logger;
  /** Session deadlines (ms, see SessionOptions.timeouts); the session's defaults otherwise. */
  timeouts?: SessionOptions['timeouts'];
  /** A TLS handshake that takes longer is dropped. Default 60 s. */
  tlsHandshakeTimeoutMs?: number;
  /** How long stop() lets sessions finish before closing their sockets. Default 10 s. */
  stopGraceMs?: number;
  /** The IMAP session to run on each connection (default: server/imap/session.ts). */
  startSession?: (options: SessionOptions) => SessionHandle;
}

export type ConnectionPhase = 'handshake' | 'session' | 'closing';

/** One live connection, as the GUI shows it. */
export interface ConnectionInfo {
  id: number;
  listener: ListenerKind;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  phase: ConnectionPhase;
  tls: boolean;
  tlsProtocol: string | null;
  tlsCipher: string | null;
  user: string | null;
  /** Session state: not-authenticated, authenticated, selected, logout. */
  state: string | null;
  selected: string | null;
  idle: boolean;
  connectedAt: number;
  /** Octets on the wire (TLS records included). */
  bytesIn: number;
  bytesOut: number;
}

export interface RejectedConnection {
  listener: ListenerKind;
  remoteAddress: string;
  reason: string;
}

export interface LogEvent {
  level: LogLevel;
  message: string;
  fields: Record<string, string | number | boolean | undefined>;
}

export type ImapServerEvents = {
  'session-start': [ConnectionInfo];
  'session-change': [ConnectionInfo];
  'session-end': [ConnectionInfo];
  rejected: [RejectedConnection];
  log: [LogEvent];
  /** The event loop was blocked (already logged as a warning). */
  stall: [Stall];
};

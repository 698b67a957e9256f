// An account's mailhost: the server its mail lives on when it is not this one (Courier's
// authlib account option "mailhost", used by IMAP_PROXY). As in Courier it may list several
// hosts separated by commas, tried in order. Each entry is a host name or address, with an
// optional port; Courier always uses port 143 in the clear, we never send a password in the
// clear (server/net/proxy.ts): port 143 and other ports use STARTTLS, port 993 and entries
// written "imaps://host[:port]" use TLS from the start.

import type { ProxyConnection } from '../imap/contracts.js';

/** IMAP_PROXY: how a login reaches an account's mailhost (server/net/proxy.ts implements it). */
export interface ProxyConnector {
  /**
   * Log in as `user` on the first reachable entry of `mailhost`. 'local': an entry before
   * it names this server (the login goes on here); 'refused': a server there refused the
   * credentials; 'unavailable': none could be reached (the log says why).
   */
  open(mailhost: string, user: string, password: string): Promise<ProxyOutcome>;
}

export type ProxyOutcome =
  | { kind: 'local' }
  | { kind: 'proxied'; connection: ProxyConnection }
  | { kind: 'refused' }
  | { kind: 'unavailable' };

export interface MailhostEntry {
  /** As written, lower-cased ("[::1]" for an IPv6 address, without brackets here: "::1"). */
  host: string;
  port: number;
  /** TLS from the first byte (else STARTTLS before the login). */
  implicitTls: boolean;
}

export const IMAP_PORT = 143;
export const IMAPS_PORT = 993;
/** Longest mailhost value accepted, and most entries in it. */
const MAX_LENGTH = 1024;
const MAX_ENTRIES = 8;

export class MailhostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailhostError';
  }
}

/** The entries of a mailhost value; throws MailhostError with the reason for a malformed one. */
export function parseMailhost(value: string): MailhostEntry[] {
  if (value.length > MAX_LENGTH) throw new MailhostError(`a mailhost is at most ${MAX_LENGTH} characters`);
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) throw new MailhostError('a mailhost names at least one host');
  if (entries.length > MAX_ENTRIES) throw new MailhostError(`a mailhost lists at most ${MAX_ENTRIES} hosts`);
  return entries.map(parseEntry);
}

function parseEntry(text: string): MailhostEntry {
  let rest = text;
  let implicitTls = false;
  if (rest.toLowerCase().startsWith('imaps://')) {
    implicitTls = true;
    rest = rest.slice(8);
  }
  let host: string;
  let portText: string | null = null;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new MailhostError(`${JSON.stringify(text)}: "[" without "]"`);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new MailhostError(`${JSON.stringify(text)}: expected ":port" after "]"`);
      portText = after.slice(1);
    }
    if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(':')) throw new MailhostError(`${JSON.stringify(text)}: not an IPv6 address in brackets`);
  } else {
    const colon = rest.indexOf(':');
    if (colon >= 0 && rest.indexOf(':', colon + 1) >= 0) throw new MailhostError(`${JSON.stringify(text)}: write an IPv6 address in brackets, as [::1]:143`);
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    portText = colon >= 0 ? rest.slice(colon + 1) : null;
    if (!/^[A-Za-z0-9._-]{1,253}$/.test(host) || host.startsWith('.') || host.startsWith('-')) {
      throw new MailhostError(`${JSON.stringify(text)}: expected a host name or address, such as mail2.example.com or 192.0.2.7, with an optional :port`);
    }
  }
  let port = implicitTls ? IMAPS_PORT : IMAP_PORT;
  if (portText !== null) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw new MailhostError(`${JSON.stringify(text)}: the port must be a number from 1 to 65535`);
    port = Number(portText);
  }
  return { host: host.toLowerCase(), port, implicitTls: implicitTls || port === IMAPS_PORT };
}

/** The value as stored: entries trimmed, joined with ",". */
export function normalizeMailhost(value: string): string {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '').join(',');
}

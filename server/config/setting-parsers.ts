// The value parsers of the settings table (settings.ts): each turns a value as written in
// Courier's files (or imapd's environment) into its typed form, or throws SettingValueError,
// which the loader turns into a ConfigError naming file, line and setting.

import { statSync, accessSync, constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type * as Tls from 'node:tls';
import { SUPPORTED_WORDS, VALUED_WORDS } from './session.js';
import { SettingValueError, type ParseContext, type PortSpec, type TlsVersion } from './settings-types.js';

// node:tls only once a cipher list is checked: imapd (a process per connection) otherwise
// never loads it.
const require = createRequire(import.meta.url);

const invalid = (message: string): never => {
  throw new SettingValueError(message);
};

export function parseInteger(value: string, min: number, max: number): number {
  const v = value.trim();
  if (!/^\d+$/.test(v)) invalid(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  const n = Number(v);
  if (n < min || n > max) invalid(`${n} is out of range (${min} to ${max})`);
  return n;
}

export function parseBoolean(value: string): boolean {
  const v = value.trim();
  if (v !== '0' && v !== '1') invalid(`expected 0 or 1, got ${JSON.stringify(value)}`);
  return v === '1';
}

/** Courier's start scripts test these with `case x$VAR in x[yY]*)`. */
export function parseYesNo(value: string): boolean {
  const v = value.trim();
  if (/^y/i.test(v)) return true;
  if (/^n/i.test(v)) return false;
  return invalid(`expected YES or NO, got ${JSON.stringify(value)}`);
}

export function parseAddress(value: string): string | null {
  const v = value.trim();
  if (v === '0') return null;
  if (isIP(v) === 0) invalid(`expected an IP address, or 0 for all addresses, got ${JSON.stringify(value)}`);
  return v;
}

export function parsePort(value: string): number {
  const v = value.trim();
  if (!/^\d+$/.test(v)) invalid(`expected a port number (1 to 65535), got ${JSON.stringify(value)}`);
  const n = Number(v);
  // 0 asks the operating system for any free port (tests, --port 0).
  if (n > 65535) invalid(`port ${n} is out of range (1 to 65535)`);
  return n;
}

/** "143", "143,144", "127.0.0.1.143" (Courier's ip.port form), "::1.143". */
export function parsePorts(value: string): PortSpec[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) invalid('no port given');
  return items.map((item) => {
    if (/^\d+$/.test(item)) return { port: parsePort(item) };
    const dot = item.lastIndexOf('.');
    if (dot <= 0) invalid(`expected a port number or ip.port, got ${JSON.stringify(item)}`);
    return { address: parseAddress(item.slice(0, dot)), port: parsePort(item.slice(dot + 1)) };
  });
}

export function parseWords(value: string, ctx: ParseContext, name: string): string[] {
  const words = value.split(/\s+/).filter((w) => w !== '');
  // Compared in upper case: capability words are case-insensitive.
  const supported = new Set([...SUPPORTED_WORDS].map((w) => w.toUpperCase()));
  // A word with a value we compute (APPENDLIMIT=n) may be listed with a value of its own.
  const dropped = words.filter((w) => !supported.has(w.toUpperCase()) && !(VALUED_WORDS.has(w.toUpperCase().split('=')[0])));
  if (dropped.length) {
    ctx.warn(`not implemented, so not advertised: ${dropped.join(' ')}`, 'unsupported');
  }
  if (words.length === 0) invalid(`${name} is empty`);
  return words;
}

export function parseText(value: string): string {
  const v = value.trim();
  if (v === '') invalid('must not be empty');
  if (/[\0-\x1f\x7f]/.test(v)) invalid('must not contain control characters');
  return v;
}

export function parseRelativePath(value: string): string {
  const v = parseText(value);
  if (isAbsolute(v)) invalid(`expected a path relative to the home directory, got ${JSON.stringify(v)}`);
  if (v.split(/[/\\]/).includes('..')) invalid(`must not leave the home directory ("..")`);
  return v;
}

export function parseExistingPath(value: string, ctx: ParseContext, want: 'file' | 'directory'): string | null {
  const v = value.trim();
  if (v === '') return null;
  const full = resolve(ctx.configDir, v);
  let isWanted: boolean;
  try {
    const st = statSync(full);
    isWanted = want === 'file' ? st.isFile() : st.isDirectory();
  } catch {
    return invalid(`${want} ${full} not found`);
  }
  if (!isWanted) invalid(`${full} is not a ${want}`);
  try {
    accessSync(full, fsConstants.R_OK);
  } catch {
    invalid(`${full} is not readable by this server`);
  }
  return full;
}

/** Courier's OpenSSL values (TLSv1, TLSv1.1, TLSv1.2++ ...); below TLS 1.2 is raised to 1.2. */
export function parseTlsProtocol(value: string, ctx: ParseContext): TlsVersion | null {
  const v = value.trim();
  if (v === '') return null;
  const base = v.replace(/\+\+$/, '').toUpperCase().replace('TLSV', 'TLS').replace('_', '.');
  if (base === 'TLS1.3') return 'TLSv1.3';
  if (base === 'TLS1.2') return 'TLSv1.2';
  if (['SSL2', 'SSL3', 'SSL23', 'TLS1', 'TLS1.0', 'TLS1.1'].includes(base)) {
    ctx.warn(`${v} would allow protocol versions this server refuses; TLSv1.2 is the minimum`, 'adjusted');
    return 'TLSv1.2';
  }
  return invalid(`expected TLSv1.2 or TLSv1.3 (Courier's TLSv1, TLSv1.1 and "++" forms are accepted too), got ${JSON.stringify(v)}`);
}

export function parseCipherList(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  try {
    (require('node:tls') as typeof Tls).createSecureContext({ ciphers: v });
  } catch (err) {
    invalid(`not a valid OpenSSL cipher list (${(err as Error).message})`);
  }
  return v;
}

/** LMTP has no authentication: anyone who reaches the port can deliver mail to any account. */
export function parseLmtpAddress(value: string, ctx: ParseContext): string | null {
  const address = parseAddress(value);
  if (address !== '127.0.0.1' && address !== '::1') {
    ctx.warn('LMTP has no authentication: every computer that can reach this address can deliver mail to the accounts');
  }
  return address;
}

export function parseOptionalPort(value: string): number | null {
  return value.trim() === '' ? null : parsePort(value);
}

export function parseSocketPath(value: string, ctx: ParseContext): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (/[\0-\x1f\x7f]/.test(v)) invalid('must not contain control characters');
  const full = resolve(ctx.configDir, v);
  // sun_path holds 108 bytes on Linux (104 on macOS), the final NUL included.
  if (Buffer.byteLength(full) > 103) invalid(`the socket path ${full} is longer than 103 bytes, more than a Unix socket name can hold`);
  return full;
}

export function parseFolderDays(value: string): { folder: string; days: number }[] {
  const v = value.trim();
  if (v === '') return [];
  return v.split(',').map((item) => {
    const colon = item.lastIndexOf(':');
    if (colon <= 0) invalid(`expected folder:days, got ${JSON.stringify(item)}`);
    return { folder: parseText(item.slice(0, colon)), days: parseInteger(item.slice(colon + 1), 0, 100000) };
  });
}

export function parseChoice<T extends string>(value: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value.trim());
  if (found === undefined) invalid(`expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${JSON.stringify(value)}`);
  return found as T;
}

export function parseOptionalFile(value: string, ctx: ParseContext): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (/[\0-\x1f\x7f]/.test(v)) invalid('must not contain control characters');
  return resolve(ctx.configDir, v);
}

export function parseUmask(value: string): number | null {
  const v = value.trim();
  if (v === '') return null;
  if (!/^[0-7]{1,4}$/.test(v)) invalid(`expected an octal umask such as 022, got ${JSON.stringify(value)}`);
  return parseInt(v, 8) & 0o777;
}

/** Courier's DEFDOMAIN is written with its separator ("@example.com"); a bare domain gets one. */
export function parseDefaultDomain(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  const domain = parseText(v);
  if (/\s/.test(domain)) invalid('must not contain spaces');
  return domain.startsWith('@') ? domain : `@${domain}`;
}

/** OUTBOX as Courier compares it: a folder's Maildir directory name, ".Outbox" (IMAP INBOX.Outbox). */
export function parseOutbox(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (/[\0-\x1f\x7f/\\]/.test(v)) invalid('must be a folder directory name such as .Outbox (no slashes or control characters)');
  if (!v.startsWith('.') || v.length < 2 || v.startsWith('..') || v.endsWith('.') || v.includes('..')) {
    invalid(`expected the folder's directory name with its leading dot, such as .Outbox (INBOX.Outbox), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A header field name (RFC 5322 3.6.8: printable ASCII except ":"); empty: no header. */
export function parseHeaderName(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (!/^[\x21-\x39\x3b-\x7e]{1,76}$/.test(v)) invalid(`expected a header field name such as X-IMAP-Sender, got ${JSON.stringify(v)}`);
  return v;
}

/** IMAPDEBUGFILE: a plain file name, looked for in each account's Maildir, or an absolute path. */
export function parseDebugFile(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (/[\0-\x1f\x7f]/.test(v)) invalid('must not contain control characters');
  if (!isAbsolute(v) && (/[/\\]/.test(v) || v === '.' || v === '..')) {
    invalid(`expected a file name in the Maildir (such as imaplog.dat) or an absolute path, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * ACCOUNTS: "sqlite", "postgres://..." or "ldap://...". Only the form is checked here (the
 * configuration does not import the account stores); opening says whether it answers.
 */
export function parseAccounts(value: string): string {
  const v = value.trim();
  if (v === '' || v.toLowerCase() === 'sqlite') return 'sqlite';
  if (/[\0-\x20\x7f]/.test(v)) invalid('a URL must not contain spaces or control characters (percent-encode them)');
  let url: URL | null = null;
  try {
    url = new URL(v);
  } catch {
    // reported below
  }
  if (!url) return invalid(`expected sqlite, postgres://user:password@host/database or ldap://host/base-dn, got ${JSON.stringify(v.replace(/\/\/[^@/]*@/, '//***@'))}`);
  if (!['postgres:', 'postgresql:', 'ldap:', 'ldaps:'].includes(url.protocol)) invalid('expected sqlite, or a URL starting with postgres://, postgresql://, ldap:// or ldaps://');
  if (url.protocol.startsWith('ldap') && url.pathname.replace(/^\//, '') === '') invalid('an LDAP URL names its base DN: ldap://host/ou=people,dc=example,dc=com');
  return v;
}

/** PROXY_HOSTNAME: a host name as a mailhost writes it. */
export function parseHostName(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (!/^[A-Za-z0-9._:-]{1,253}$/.test(v)) invalid(`expected a host name such as mail1.example.com, got ${JSON.stringify(v)}`);
  return v.toLowerCase();
}

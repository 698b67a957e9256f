// IMAPACCESSFILE: couriertcpd's access file (`-access`), read in its text form, the one
// makeimapaccess compiles: "address<TAB>allow" or "address<TAB>deny" per line, blank lines
// and # comments ignored. The address is a full IPv4 address or a prefix of whole octets
// ("192.168.0"), IPv6 as ":hhhh:hhhh..." groups written out in lower-case hex (a prefix of
// whole groups is a netblock), or "*" for every address. The most specific line wins; an
// address that matches no line is allowed. A directory is read as its files concatenated
// (names with "~" skipped), as makeimapaccess does.
//
// Courier can also set environment variables from this file ("allow,VAR=value"); the IMAP
// server uses none of its own, so they are reported and ignored.

import { promises as fs } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';

export type AccessAction = 'allow' | 'deny';

export class AccessFileError extends Error {}

export class AccessList {
  private constructor(
    private readonly rules: ReadonlyMap<string, AccessAction>,
    /** Lines that were accepted with something ignored. */
    readonly warnings: readonly string[],
  ) {}

  static parse(text: string, source: string): AccessList {
    const rules = new Map<string, AccessAction>();
    const warnings: string[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const where = `${source} line ${i + 1}`;
      // Courier wants exactly one tab; spaces are accepted too, as editors turn tabs into them.
      const m = /^(\S+)[\t ]+(\S+)\s*$/.exec(line);
      if (!m) throw new AccessFileError(`${where}: expected "address<TAB>allow" or "address<TAB>deny"`);
      const [, address, actionText] = m;
      const [word, ...vars] = actionText.split(',');
      const action = word.toLowerCase();
      if (action !== 'allow' && action !== 'deny') throw new AccessFileError(`${where}: expected allow or deny, got ${JSON.stringify(word)}`);
      if (vars.length) warnings.push(`${where}: environment settings (${vars.join(',')}) are not used by this server`);
      if (!validKey(address)) throw new AccessFileError(`${where}: ${JSON.stringify(address)} is not an address, prefix or * in couriertcpd's form`);
      rules.set(address.toLowerCase(), action);
    });
    return new AccessList(rules, warnings);
  }

  /** Reads a file, or every file of a directory in name order. */
  static async load(path: string): Promise<AccessList> {
    let stat;
    try {
      stat = await fs.stat(path);
    } catch {
      throw new AccessFileError(`access file ${path} not found`);
    }
    if (!stat.isDirectory()) return AccessList.parse(await fs.readFile(path, 'utf8'), path);
    const names = (await fs.readdir(path)).filter((n) => !n.includes('~') && !n.startsWith('.')).sort();
    const bad = names.find((n) => /\.(rpmsave|rpmnew|dpkg-\w+)$/.test(n));
    if (bad) throw new AccessFileError(`${join(path, bad)} is a package manager's backup: merge it into the file it belongs to, then delete it`);
    const parts = await Promise.all(names.map(async (n) => AccessList.parse(await fs.readFile(join(path, n), 'utf8'), join(path, n))));
    const rules = new Map<string, AccessAction>();
    const warnings: string[] = [];
    for (const part of parts) {
      for (const [k, v] of part.rules) rules.set(k, v);
      warnings.push(...part.warnings);
    }
    return new AccessList(rules, warnings);
  }

  /** What the file says for a client address (IPv4-mapped IPv6 is looked up as IPv4). */
  decide(address: string): AccessAction {
    for (const key of lookupKeys(address)) {
      const action = this.rules.get(key);
      if (action) return action;
    }
    return 'allow';
  }
}

function validKey(key: string): boolean {
  if (key === '*') return true;
  if (key.startsWith(':')) return /^(:[0-9a-fA-F]{4}){1,8}$/.test(key);
  return /^\d{1,3}(\.\d{1,3}){0,3}$/.test(key) && key.split('.').every((o) => Number(o) <= 255);
}

/** The keys to look up, most specific first: the address, its shorter prefixes, then "*". */
export function lookupKeys(address: string): string[] {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  const keys: string[] = [];
  if (isIPv4(ip)) {
    const octets = ip.split('.');
    for (let n = 4; n >= 1; n--) keys.push(octets.slice(0, n).join('.'));
  } else if (isIPv6(ip)) {
    const groups = expandIPv6(ip);
    for (let n = 8; n >= 1; n--) keys.push(':' + groups.slice(0, n).join(':'));
  }
  keys.push('*');
  return keys;
}

function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.toLowerCase().split('::');
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0'));
}

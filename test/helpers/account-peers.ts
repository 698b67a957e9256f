// PostgreSQL and OpenLDAP's slapd from Debian's packages, as private instances for the account
// store tests: each on a free port in a temporary directory, started by the project's scripts
// (test/peers/postgres-start.sh, slapd-start.sh) and stopped by the returned stop(). Like the
// IMAP peers (peers.ts), the tests skip with the reason when the binaries are missing.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Client } from 'ldapts';
import { peerScript } from './peers.js';
import { freePort } from './provider.js';

const run = promisify(execFile);
const INSTALL_HINT = 'run `npm run peers` to install it';

const postgresBin = (() => {
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    return versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/initdb`)) ?? null;
  } catch {
    return null;
  }
})();

/** Why the PostgreSQL tests cannot run here, or false. */
export const postgresSkip: string | false = !postgresBin ? `PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb, package postgresql); ${INSTALL_HINT}` : false;

/** Why the LDAP tests cannot run here, or false. */
export const slapdSkip: string | false =
  !existsSync('/usr/sbin/slapd') || !existsSync('/usr/bin/ldapadd')
    ? `OpenLDAP's slapd is not installed (/usr/sbin/slapd and ldap-utils' ldapadd, packages slapd and ldap-utils); ${INSTALL_HINT}`
    : false;

export interface PostgresPeer {
  /** The superuser's URL (database "postgres"). */
  url: string;
  /** A new, empty database, and its URL. */
  database(): Promise<string>;
  stop(): Promise<void>;
}

let databases = 0;

export async function startPostgres(): Promise<PostgresPeer> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'imapd-pg-'));
  let url: string;
  for (let attempt = 1; ; attempt++) {
    // A free port now may be taken before PostgreSQL binds it (initdb comes first, and other
    // tests on the machine open connections meanwhile): then again on another (the cluster stays).
    const port = await freePort();
    try {
      url = (await run('bash', [peerScript('postgres-start.sh'), dir, String(port)], { timeout: 120_000 })).stdout.trim();
      break;
    } catch (err) {
      if (attempt < 3 && /Address already in use/.test(String((err as { stderr?: unknown }).stderr))) continue;
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
  return {
    url,
    async database() {
      const name = `t${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    async stop() {
      await run('bash', [peerScript('postgres-stop.sh'), dir], { timeout: 60_000 }).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SlapdPeer {
  /** ldap://127.0.0.1:PORT/ */
  url: string;
  /** The ACCOUNTS value for ou=people, bound as the administrator. */
  accountsUrl: string;
  /** Add entries under ou=people: each an RDN value for uid and its attributes. */
  add(entries: { uid: string; attributes: Record<string, string | string[]> }[]): Promise<void>;
  /** A userPassword value made by slapd's own slappasswd ({SSHA}, {ARGON2}, {CRYPT} with -c). */
  slappasswd(scheme: string, password: string, cryptFormat?: string): Promise<string>;
  stop(): Promise<void>;
}

export const LDAP_BASE = 'ou=people,dc=example,dc=com';
export const LDAP_ADMIN = 'cn=admin,dc=example,dc=com';

export async function startSlapd(): Promise<SlapdPeer> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'imapd-ldap-'));
  const port = await freePort();
  let url: string;
  try {
    url = (await run('bash', [peerScript('slapd-start.sh'), dir, String(port)], { timeout: 60_000 })).stdout.trim();
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    accountsUrl: `ldap://${encodeURIComponent(LDAP_ADMIN)}:secret@127.0.0.1:${port}/${LDAP_BASE}`,
    async add(entries) {
      const client = new Client({ url });
      try {
        await client.bind(LDAP_ADMIN, 'secret');
        for (const e of entries) {
          await client.add(`uid=${e.uid},${LDAP_BASE}`, { objectClass: ['account', 'CourierMailAccount'], uid: e.uid, ...e.attributes });
        }
      } finally {
        await client.unbind();
      }
    },
    async slappasswd(scheme, password, cryptFormat) {
      const args = ['-o', 'module-load=argon2', '-h', scheme, '-s', password, ...(cryptFormat ? ['-c', cryptFormat] : [])];
      const { stdout } = await run('/usr/sbin/slappasswd', scheme === '{ARGON2}' ? args : args.slice(2), { timeout: 30_000 });
      return stdout.trim();
    },
    async stop() {
      await run('bash', [peerScript('slapd-stop.sh'), dir], { timeout: 30_000 }).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

// Checking a password against an LDAP userPassword value, as Courier's authldap reads it
// (LDAP_CRYPTPW userPassword): "{SCHEME}value", a value without a scheme being crypt(3).
//
// Where each scheme comes from, and why:
// - {SSHA}, {SHA}, {SSHA256}, {SSHA512} (OpenLDAP's own and its contrib pw-sha2): SHA digests
//   with the salt appended; node:crypto has them, nothing to add.
// - {ARGON2} (OpenLDAP's argon2 module: "{ARGON2}$argon2i$v=19$m=...,t=...,p=...$salt$hash"):
//   Node 20 has no Argon2 (node:crypto gains it only in Node 24.7), so hash-wasm's argon2Verify,
//   a WebAssembly build of the reference code: no native add-on to rebuild for Electron or to
//   build on a machine without a compiler (the reason password.ts gives for scrypt), and no
//   dependencies of its own.
// - {CRYPT} (crypt(3)): SHA-512-crypt "$6$" and SHA-256-crypt "$5$", what slappasswd -c and
//   most Linux systems wrote before yescrypt, through unixcrypt (plain TypeScript over
//   node:crypto, no dependencies); bcrypt "$2a$/$2b$/$2y$" through hash-wasm. DES crypt, MD5-crypt
//   "$1$" and yescrypt "$y$" are refused (false): the first two are broken, and yescrypt has no
//   well-kept JavaScript implementation; such accounts need their password set again.
// Cost parameters are bounded before anything runs: the WebAssembly and unixcrypt run on the
// event loop, and a tampered directory entry must not stall every other session.

import { createHash, timingSafeEqual } from 'node:crypto';
import { argon2Verify, bcryptVerify } from 'hash-wasm';
import { verify as shaCryptVerify } from 'unixcrypt';

const MAX_SHA_CRYPT_ROUNDS = 200_000;
const MAX_BCRYPT_COST = 14;
const MAX_ARGON2_MEMORY_KIB = 256 * 1024;
const MAX_ARGON2_TIME = 16;
const MAX_ARGON2_LANES = 16;

export type LdapPasswordScheme = 'SSHA' | 'SHA' | 'SSHA256' | 'SSHA512' | 'ARGON2' | 'CRYPT';

/** The scheme of a userPassword value we can check, or null (then no password matches it). */
export function ldapPasswordScheme(stored: string): LdapPasswordScheme | null {
  const m = /^\{([A-Z0-9.-]+)\}/i.exec(stored);
  if (!m) return 'CRYPT';
  const scheme = m[1]!.toUpperCase();
  return (['SSHA', 'SHA', 'SSHA256', 'SSHA512', 'ARGON2', 'CRYPT'] as const).find((s) => s === scheme) ?? null;
}

/** Does `password` match the userPassword value `stored`? False for schemes we do not check. */
export async function verifyLdapPassword(password: string, stored: string): Promise<boolean> {
  // An empty password logs in nowhere (as with Courier), whatever the entry holds.
  if (password === '') return false;
  const scheme = ldapPasswordScheme(stored);
  const value = stored.replace(/^\{[^}]*\}/, '');
  try {
    switch (scheme) {
      case 'SHA':
        return digestMatches('sha1', password, value, false);
      case 'SSHA':
        return digestMatches('sha1', password, value, true);
      case 'SSHA256':
        return digestMatches('sha256', password, value, true);
      case 'SSHA512':
        return digestMatches('sha512', password, value, true);
      case 'ARGON2':
        return await argon2Matches(password, value);
      case 'CRYPT':
        return await cryptMatches(password, value);
      default:
        return false;
    }
  } catch {
    // A malformed stored value matches nothing.
    return false;
  }
}

/** {SHA}: base64(digest(password)); {SSHA}: base64(digest(password + salt) + salt). */
function digestMatches(algorithm: 'sha1' | 'sha256' | 'sha512', password: string, value: string, salted: boolean): boolean {
  const raw = Buffer.from(value, 'base64');
  const size = { sha1: 20, sha256: 32, sha512: 64 }[algorithm];
  if (raw.length < size || (!salted && raw.length !== size)) return false;
  const expected = raw.subarray(0, size);
  const salt = raw.subarray(size);
  const actual = createHash(algorithm).update(password, 'utf8').update(salt).digest();
  return timingSafeEqual(actual, expected);
}

async function argon2Matches(password: string, value: string): Promise<boolean> {
  const m = /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=(\d{1,10}),t=(\d{1,4}),p=(\d{1,3})\$[A-Za-z0-9+/]{8,}={0,2}\$[A-Za-z0-9+/]{16,}={0,2}$/.exec(value);
  if (!m) return false;
  const [memory, time, lanes] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (memory > MAX_ARGON2_MEMORY_KIB || time > MAX_ARGON2_TIME || lanes > MAX_ARGON2_LANES || time < 1 || lanes < 1) return false;
  return argon2Verify({ password, hash: value.replace(/=+\$/g, '$').replace(/=+$/, '') });
}

async function cryptMatches(password: string, value: string): Promise<boolean> {
  const sha = /^\$([56])\$(?:rounds=(\d{1,10})\$)?[^$]{0,16}\$[./0-9A-Za-z]{43,86}$/.exec(value);
  if (sha) {
    if (sha[2] !== undefined && Number(sha[2]) > MAX_SHA_CRYPT_ROUNDS) return false;
    return shaCryptVerify(password, value);
  }
  const bcrypt = /^\$2[aby]\$(\d\d)\$[./0-9A-Za-z]{53}$/.exec(value);
  if (bcrypt) {
    if (Number(bcrypt[1]) > MAX_BCRYPT_COST) return false;
    // bcrypt reads at most 72 bytes of the password; hash-wasm refuses longer ones.
    const bytes = Buffer.from(password, 'utf8');
    return bcryptVerify({ password: bytes.length > 72 ? bytes.subarray(0, 72) : bytes, hash: value.replace(/^\$2[ay]\$/, '$2b$') });
  }
  return false;
}

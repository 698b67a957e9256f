// Password hashing with scrypt from node:crypto. Why scrypt:
// - it is in Node's standard library, so there is no native add-on to build for Node and
//   again for Electron (bcrypt and argon2 packages need one);
// - it is memory-hard: every guess needs 128 * N * r bytes (32 MiB with the parameters
//   below), which makes guessing on GPUs and ASICs expensive;
// - its cost parameters are stored in each hash ("$scrypt$N$r$p$salt$hash"), so they can
//   be raised later: old hashes keep verifying and are re-hashed at the next login.
// Each password gets its own random salt; comparison is constant-time. Plain passwords
// are never stored or logged.

import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Current parameters: about 50-100 ms and 32 MiB per hash on a small machine. */
export const SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds for stored parameters, so that a tampered hash cannot make us allocate gigabytes. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/** Longest password accepted, in UTF-8 bytes. */
export const MAX_PASSWORD_BYTES = 1024;

/** How many scrypt runs this process has started (tests count them instead of timing logins). */
let scryptRuns = 0;
export function scryptRunCount(): number {
  return scryptRuns;
}

/**
 * Scrypt runs at one time: each takes 32 MiB (RSS while it runs) and a thread of libuv's pool
 * of 4, which file reads and writes share. 50 logins at once held 4 x 32 MiB and the whole
 * pool; two keep both cores of a small machine busy, and the rest wait their turn.
 */
const SCRYPT_CONCURRENCY = 2;
let running = 0;
let peak = 0;
const queue: (() => void)[] = [];

/** Most scrypt runs at one time so far (tests look). */
export function scryptPeakConcurrency(): number {
  return peak;
}

async function scrypt(password: Buffer, salt: Buffer, keyLength: number, params: ScryptParams): Promise<Buffer> {
  scryptRuns++;
  // A finished run hands its slot to the next one waiting (running stays counted).
  if (running >= SCRYPT_CONCURRENCY) await new Promise<void>((resolve) => queue.push(resolve));
  else running++;
  peak = Math.max(peak, running);
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r * params.p + 1024 * 1024 };
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      scryptCallback(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
    });
  } finally {
    const next = queue.shift();
    if (next) next();
    else running--;
  }
}

/** The password as the bytes we hash (NFC, so that composed and decomposed input match). */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

/** Why a password cannot be set, or null when it can. */
export function passwordProblem(password: unknown): string | null {
  if (typeof password !== 'string') return 'the password must be a string';
  if (password.length === 0) return 'the password must not be empty';
  if (password.length > MAX_PASSWORD_BYTES || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    return `the password is longer than ${MAX_PASSWORD_BYTES} bytes`;
  }
  // IMAP clients cannot send these in LOGIN or AUTHENTICATE PLAIN.
  if (/[\0\r\n]/.test(password)) return 'the password must not contain NUL or line breaks';
  return null;
}

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(passwordBytes(password), salt, KEY_BYTES, params);
  return `$scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface ParsedHash extends ScryptParams {
  salt: Buffer;
  key: Buffer;
}

function parseHash(encoded: string): ParsedHash | null {
  const m = /^\$scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/.exec(encoded);
  if (!m) return null;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return null;
  return { N, r, p, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/** Constant-time check of a password against a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed || passwordProblem(password) !== null) return false;
  const key = await scrypt(passwordBytes(password), parsed.salt, parsed.key.length, parsed);
  return timingSafeEqual(key, parsed.key);
}

/** True when a hash was made with weaker parameters than today's. */
export function needsRehash(encoded: string): boolean {
  const parsed = parseHash(encoded);
  return !parsed || parsed.N < SCRYPT_PARAMS.N || parsed.r < SCRYPT_PARAMS.r || parsed.p < SCRYPT_PARAMS.p;
}

/** The hash of a random password nobody knows, made with SCRYPT_PARAMS. */
const DUMMY_HASH = '$scrypt$32768$8$1$Aqi0BUwjnCHnIYnCPt2z9A$OrvnFXOmOdGbXAgWr6EB39CprXwDZ0pOcdLJScB8iUk';
let dummyHash: Promise<string> | undefined;

/**
 * Spend the same time as a real check, for unknown users: otherwise the time of a failed
 * login would tell whether an account exists. The dummy hash is a constant, so that even
 * the first such check costs exactly one scrypt run (it is re-made only if the
 * parameters were raised and the constant not updated).
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= needsRehash(DUMMY_HASH) ? hashPassword(randomBytes(24).toString('base64')) : Promise.resolve(DUMMY_HASH);
  await verifyPassword(passwordProblem(password) === null ? password : 'x', await dummyHash);
  return false;
}

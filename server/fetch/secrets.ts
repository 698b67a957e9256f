// Passwords of mail sources, encrypted at rest. The store keeps only what a SecretBox sealed;
// where the appliance runs in Electron, a box over safeStorage (the OS keychain) can take the
// place of the key file, behind the same interface. Headless, the key is a file of 32 random
// octets beside the store (<data>/fetch.key, mode 0600, refused when others may read it),
// and each secret is sealed with AES-256-GCM under a fresh 12-octet IV (NIST SP 800-38D), so
// that the database alone (a backup, a copied file) gives no password away.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface SecretBox {
  /** What keeps the key, for the GUI ("key file /path", "the system keychain"). */
  readonly description: string;
  seal(plain: string): string;
  /** Throws when the text was not sealed with this box's key. */
  open(sealed: string): string;
}

export const KEY_FILE = 'fetch.key';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const PREFIX = 'k1:';

export class SecretError extends Error {}

/**
 * In place of a box whose key cannot be had (a key file others may read, a damaged one): every
 * seal and open fails with why, so that the rest of the appliance opens and each mail source
 * (and the Mail sources screen) says what is wrong instead.
 */
export class UnavailableSecretBox implements SecretBox {
  constructor(readonly problem: string) {}

  get description(): string {
    return 'no key';
  }

  seal(): string {
    throw new SecretError(this.problem);
  }

  open(): string {
    throw new SecretError(this.problem);
  }
}

export class KeyFileSecretBox implements SecretBox {
  private constructor(
    private readonly key: Buffer,
    readonly description: string,
  ) {}

  /** The data directory's key, made on first use. */
  static async open(dataDir: string): Promise<KeyFileSecretBox> {
    const file = path.join(dataDir, KEY_FILE);
    await fs.mkdir(dataDir, { recursive: true });
    try {
      const handle = await fs.open(file, 'wx', 0o600);
      try {
        await handle.writeFile(randomBytes(KEY_BYTES));
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const stat = await fs.stat(file);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new SecretError(`${file} may be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it`);
    }
    let key: Buffer;
    try {
      key = await fs.readFile(file);
    } catch (err) {
      throw new SecretError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (key.length !== KEY_BYTES) throw new SecretError(`${file} is not a key of ${KEY_BYTES} octets`);
    return new KeyFileSecretBox(key, `key file ${file}`);
  }

  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) throw new SecretError('the password was not stored with this key');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + 16) throw new SecretError('the stored password is damaged');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + 16));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError(`the stored password cannot be read with ${this.description} (was the key file replaced?)`);
    }
  }
}

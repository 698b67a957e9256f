// The server's TLS certificate: the configured one (TLS_CERTFILE, with the key in it or
// in TLS_PRIVATE_KEYFILE), or a self-signed one made on first start and kept in
// <dataDir>/tls/ (cert.pem, key.pem with mode 0600) for every later start, so that its
// fingerprint stays the same and clients only have to accept it once.
//
// The self-signed certificate is made with the `selfsigned` package rather than the
// openssl command: it is plain JavaScript on Node's WebCrypto, so it works the same on
// Linux, macOS and Windows (where an appliance cannot count on an openssl binary), needs
// no child process, and is already a dependency.
//
// Whatever the settings say, TLS 1.2 is the lowest version accepted; TLS_PROTOCOL can
// only raise it to 1.3.

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { writeFileAtomic } from '../config/atomic-write.js';
import type { TlsVersion } from '../config/settings.js';

export const TLS_DIR = 'tls';
export const GENERATED_CERT_FILE = 'cert.pem';
export const GENERATED_KEY_FILE = 'key.pem';
/** Apple clients refuse server certificates valid for longer than 825 days. */
const GENERATED_VALIDITY_DAYS = 825;
/** A generated certificate this close to its end is replaced at start. */
const RENEW_BEFORE_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export class TlsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsError';
  }
}

export interface TlsMaterial {
  /** PEM: the server certificate, then any intermediate certificates. */
  cert: string;
  /** PEM private key (unencrypted). */
  key: string;
  /** SHA-256 fingerprint of the server certificate, colon-separated hex ("AB:CD:..."). */
  fingerprint256: string;
  subject: string;
  validFrom: Date;
  validTo: Date;
  source: 'configured' | 'generated' | 'reused';
  certFile: string;
  keyFile: string;
  /** Things the administrator should know (expiring certificate, key readable by others). */
  warnings: string[];
  /**
   * Courier's virtual hosts: TLS_CERTFILE.<domain> (chosen by the name the client asks for
   * through SNI) and TLS_CERTFILE.<ip address> (chosen by the address the client connected to).
   */
  virtualHosts?: VirtualHost[];
}

export interface VirtualHost {
  /** Lower-case DNS name or IP address, the suffix of the file name. */
  name: string;
  material: Omit<TlsMaterial, 'virtualHosts'>;
}

export interface LoadTlsOptions {
  /** TLS_CERTFILE; null or undefined: use (or make) the self-signed certificate. */
  certFile?: string | null;
  /** TLS_PRIVATE_KEYFILE; null: the key is in certFile. */
  keyFile?: string | null;
  /** Where tls/cert.pem and tls/key.pem live. */
  dataDir: string;
  /** Names for the generated certificate (default: this machine's name and localhost). */
  hostnames?: string[];
  now?: Date;
}

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_RE = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

export async function loadTlsMaterial(options: LoadTlsOptions): Promise<TlsMaterial> {
  const now = options.now ?? new Date();
  if (options.certFile) {
    const material = await loadConfigured(options.certFile, options.keyFile ?? null, now);
    const { hosts, warnings } = await loadVirtualHosts(options.certFile, options.keyFile ?? null, now);
    return { ...material, warnings: [...material.warnings, ...warnings], virtualHosts: hosts };
  }
  return loadOrGenerate(join(options.dataDir, TLS_DIR), options.hostnames ?? defaultHostnames(), now);
}

/**
 * The TLS_CERTFILE.<suffix> files beside TLS_CERTFILE whose suffix is a DNS name or an IP
 * address. Each holds its own key, or has it in TLS_PRIVATE_KEYFILE.<suffix>. One that cannot
 * be used is reported and left out: the main certificate still serves.
 */
async function loadVirtualHosts(certFile: string, keyFile: string | null, now: Date): Promise<{ hosts: VirtualHost[]; warnings: string[] }> {
  const prefix = basename(certFile) + '.';
  let entries: string[];
  try {
    entries = await fs.readdir(dirname(certFile));
  } catch {
    return { hosts: [], warnings: [] };
  }
  const hosts: VirtualHost[] = [];
  const warnings: string[] = [];
  for (const entry of entries.sort()) {
    if (!entry.startsWith(prefix)) continue;
    const name = entry.slice(prefix.length).toLowerCase();
    if (!isIP(name) && !isDnsName(name)) continue;
    const file = join(dirname(certFile), entry);
    try {
      const ownKey = KEY_RE.test(await fs.readFile(file, 'utf8'));
      const material = await loadConfigured(file, ownKey || !keyFile ? null : `${keyFile}.${name}`, now);
      hosts.push({ name, material });
      warnings.push(...material.warnings.map((w) => `${entry}: ${w}`));
    } catch (err) {
      warnings.push(`${file} is not used for ${name}: ${(err as Error).message}`);
    }
  }
  return { hosts, warnings };
}

/** The certificate authorities of TLS_TRUSTCERTS: a PEM file, or a directory of PEM files. */
export async function loadTrustedCertificates(path: string): Promise<string[]> {
  const stat = await fs.stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new TlsError(`TLS_TRUSTCERTS ${path}: ${err.code === 'ENOENT' ? 'not found' : err.message}`);
  });
  const files = stat.isDirectory() ? (await fs.readdir(path)).sort().map((f) => join(path, f)) : [path];
  const certs: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      if (!(await fs.stat(file)).isFile()) continue;
      text = await fs.readFile(file, 'utf8');
    } catch {
      continue; // an unreadable entry of a directory (c_rehash leaves links) is skipped
    }
    certs.push(...(text.match(CERT_RE) ?? []));
  }
  if (certs.length === 0) throw new TlsError(`TLS_TRUSTCERTS ${path}: no PEM certificate in it`);
  return certs;
}

/** The colon-hex SHA-256 fingerprint of a PEM certificate, as browsers and mail clients show it. */
export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/**
 * TLS 1.2 suites when TLS_CIPHER_LIST is not set: Mozilla's "intermediate" list without DHE
 * (forward secrecy through ECDHE, AEAD only). Node's own default also accepts RSA key
 * exchange and CBC suites (issue 9.6). TLS 1.3 suites are configured apart and keep their
 * defaults.
 */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

type ServerContextOptions = { minVersion?: TlsVersion; ciphers?: string | null; ca?: string[] };

/** The createSecureContext options of a server context with our floor of TLS 1.2. */
export function serverContextOptions(material: Pick<TlsMaterial, 'cert' | 'key'>, options: ServerContextOptions = {}): SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    ...(options.ca ? { ca: options.ca } : {}),
    minVersion: options.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2',
    ciphers: options.ciphers || DEFAULT_TLS12_CIPHERS,
    honorCipherOrder: true,
  };
}

/** A server context with our floor of TLS 1.2. */
export function createServerContext(material: Pick<TlsMaterial, 'cert' | 'key'>, options: ServerContextOptions = {}): SecureContext {
  return createSecureContext(serverContextOptions(material, options));
}

async function readPem(path: string, setting: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TlsError(`${setting} ${path}: file not found`);
    if (code === 'EACCES') throw new TlsError(`${setting} ${path}: not readable by this server (permission denied)`);
    throw new TlsError(`${setting} ${path}: ${(err as Error).message}`);
  }
}

async function loadConfigured(certFile: string, keyFile: string | null, now: Date): Promise<TlsMaterial> {
  const certText = await readPem(certFile, 'TLS_CERTFILE');
  const certs = certText.match(CERT_RE);
  if (!certs) throw new TlsError(`TLS_CERTFILE ${certFile}: no certificate in it (expected a PEM "BEGIN CERTIFICATE" block)`);
  const keySource = keyFile ?? certFile;
  const keySetting = keyFile ? 'TLS_PRIVATE_KEYFILE' : 'TLS_CERTFILE';
  const keyText = keyFile ? await readPem(keyFile, 'TLS_PRIVATE_KEYFILE') : certText;
  const keyMatch = KEY_RE.exec(keyText);
  if (!keyMatch) {
    throw new TlsError(
      keyFile
        ? `TLS_PRIVATE_KEYFILE ${keyFile}: no private key in it (expected a PEM "BEGIN PRIVATE KEY" block)`
        : `TLS_CERTFILE ${certFile}: no private key in it; add the key to the file or set TLS_PRIVATE_KEYFILE`,
    );
  }
  if (keyMatch[1] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(keyMatch[0])) {
    throw new TlsError(`${keySetting} ${keySource}: the private key is encrypted; the server needs it without a pass phrase`);
  }
  const material = checkPair(certs.join('\n') + '\n', keyMatch[0] + '\n', `${keySetting} ${keySource}`, now);
  const warnings = [...material.warnings];
  try {
    const mode = (await fs.stat(keySource)).mode;
    if (mode & 0o077) warnings.push(`${keySource} (private key) can be read by other users; chmod 600 it`);
  } catch {
    /* already read above */
  }
  return { ...material, warnings, source: 'configured', certFile, keyFile: keySource };
}

/** Parse and cross-check a certificate and key; throws TlsError with `where` in the message. */
function checkPair(cert: string, key: string, where: string, now: Date): Omit<TlsMaterial, 'source' | 'certFile' | 'keyFile'> {
  let x509: X509Certificate;
  let keyObject: KeyObject;
  try {
    x509 = new X509Certificate(cert.match(CERT_RE)![0]);
  } catch (err) {
    throw new TlsError(`${where}: the certificate cannot be read (${(err as Error).message})`);
  }
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    throw new TlsError(`${where}: the private key cannot be read (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(keyObject)) throw new TlsError(`${where}: the private key does not belong to the certificate`);
  try {
    createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (err) {
    throw new TlsError(`${where}: OpenSSL refuses the certificate or key (${(err as Error).message})`);
  }
  const validFrom = new Date(x509.validFrom);
  const validTo = new Date(x509.validTo);
  const warnings: string[] = [];
  if (validTo <= now) warnings.push(`the certificate expired on ${validTo.toISOString()}; clients will refuse it`);
  else if (validTo.getTime() - now.getTime() < 30 * DAY_MS) warnings.push(`the certificate expires on ${validTo.toISOString()}`);
  if (validFrom > now) warnings.push(`the certificate is not valid before ${validFrom.toISOString()}`);
  return { cert, key, fingerprint256: x509.fingerprint256, subject: x509.subject, validFrom, validTo, warnings };
}

async function loadOrGenerate(dir: string, hostnames: string[], now: Date): Promise<TlsMaterial> {
  const certFile = join(dir, GENERATED_CERT_FILE);
  const keyFile = join(dir, GENERATED_KEY_FILE);
  let reason = 'none yet';
  try {
    const [cert, key] = await Promise.all([fs.readFile(certFile, 'utf8'), fs.readFile(keyFile, 'utf8')]);
    const material = checkPair(cert, key, certFile, now);
    if (material.validTo.getTime() - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS) {
      return { ...material, source: 'reused', certFile, keyFile };
    }
    reason = `the previous one expires on ${material.validTo.toISOString()}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') reason = `the previous one is unusable: ${(err as Error).message}`;
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const notAfter = new Date(now.getTime() + GENERATED_VALIDITY_DAYS * DAY_MS);
  // Loaded only here: the package (node-forge inside) costs ~0.3 s and several MB at every start otherwise.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: hostnames[0]! }, { name: 'organizationName', value: 'imapd-ts self-signed' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60 * 60 * 1000), // an hour of slack for clocks
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...hostnames.map((value) => ({ type: 2 as const, value })),
          { type: 7 as const, ip: '127.0.0.1' },
          { type: 7 as const, ip: '::1' },
        ],
      },
    ],
  });
  // The key first, private from the start; then the certificate that goes with it.
  await writeFileAtomic(keyFile, pems.private, { mode: 0o600 });
  await writeFileAtomic(certFile, pems.cert, { mode: 0o644 });
  const material = checkPair(pems.cert, pems.private, certFile, now);
  return { ...material, warnings: [...material.warnings, `made a new self-signed certificate (${reason})`], source: 'generated', certFile, keyFile };
}

function defaultHostnames(): string[] {
  const name = osHostname().toLowerCase();
  const names = [name, ...(name.includes('.') ? [] : [`${name}.local`]), 'localhost'];
  // Only names that are valid DNS names go into the certificate.
  return [...new Set(names.filter(isDnsName))];
}

function isDnsName(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name);
}

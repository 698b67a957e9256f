import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { TlsError, certificateFingerprint, loadTlsMaterial } from '../../server/net/index.js';

let root: string;
let n = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'imapd-tls-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});
const freshDir = async () => {
  const dir = join(root, `d${++n}`);
  await fs.mkdir(dir);
  return dir;
};
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

test('a self-signed certificate is made once, kept private, and reused', async () => {
  const data = await freshDir();
  const first = await loadTlsMaterial({ dataDir: data, hostnames: ['mail.example.test', 'localhost'] });
  assert.equal(first.source, 'generated');
  assert.equal(first.certFile, join(data, 'tls', 'cert.pem'));
  assert.equal((await fs.stat(join(data, 'tls', 'key.pem'))).mode & 0o777, 0o600);
  assert.equal((await fs.stat(join(data, 'tls'))).mode & 0o777, 0o700);
  assert.match(first.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.match(first.subject, /CN=mail\.example\.test/);
  const days = (first.validTo.getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 800 && days <= 825, `valid for ${days} days`);

  const second = await loadTlsMaterial({ dataDir: data });
  assert.equal(second.source, 'reused');
  assert.equal(second.fingerprint256, first.fingerprint256);
  assert.equal(second.key, first.key);

  // Close to its end it is replaced.
  const later = new Date(first.validTo.getTime() - 2 * 86_400_000);
  const renewed = await loadTlsMaterial({ dataDir: data, now: later });
  assert.equal(renewed.source, 'generated');
  assert.notEqual(renewed.fingerprint256, first.fingerprint256);
});

test('the fingerprint is the one openssl shows', { skip: !haveOpenssl && 'openssl not installed' }, async () => {
  const data = await freshDir();
  const m = await loadTlsMaterial({ dataDir: data });
  const r = spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', m.certFile], { encoding: 'utf8' });
  assert.equal(r.stdout.trim().split('=')[1], m.fingerprint256);
  assert.equal(certificateFingerprint(m.cert), m.fingerprint256);
});

test('configured certificates: key in the same file or separate; clear errors otherwise', async () => {
  const dir = await freshDir();
  const a = await generate([{ name: 'commonName', value: 'a.test' }], { keySize: 2048, algorithm: 'sha256' });
  const b = await generate([{ name: 'commonName', value: 'b.test' }], { keySize: 2048, algorithm: 'sha256' });
  const encrypted = await generate([{ name: 'commonName', value: 'c.test' }], { keySize: 2048, algorithm: 'sha256', passphrase: 'pw' });
  const write = async (name: string, text: string, mode = 0o600) => {
    const p = join(dir, name);
    await fs.writeFile(p, text, { mode });
    return p;
  };
  const combined = await write('combined.pem', a.cert + a.private);
  const certOnly = await write('cert.pem', a.cert, 0o644);
  const keyOnly = await write('key.pem', a.private);
  const otherKey = await write('other-key.pem', b.private);
  const encryptedKey = await write('enc-key.pem', encrypted.private);
  const worldReadable = await write('open.pem', a.cert + a.private, 0o644);

  const one = await loadTlsMaterial({ dataDir: dir, certFile: combined });
  assert.equal(one.source, 'configured');
  assert.equal(one.fingerprint256, certificateFingerprint(a.cert));
  assert.deepEqual(one.warnings, []);
  const two = await loadTlsMaterial({ dataDir: dir, certFile: certOnly, keyFile: keyOnly });
  assert.equal(two.fingerprint256, one.fingerprint256);
  const open = await loadTlsMaterial({ dataDir: dir, certFile: worldReadable });
  assert.match(open.warnings.join(), /can be read by other users/);

  const failures: [Parameters<typeof loadTlsMaterial>[0], RegExp][] = [
    [{ dataDir: dir, certFile: join(dir, 'missing.pem') }, /TLS_CERTFILE .*missing\.pem: file not found/],
    [{ dataDir: dir, certFile: certOnly }, /no private key in it; add the key to the file or set TLS_PRIVATE_KEYFILE/],
    [{ dataDir: dir, certFile: keyOnly }, /no certificate in it/],
    [{ dataDir: dir, certFile: certOnly, keyFile: otherKey }, /does not belong to the certificate/],
    [{ dataDir: dir, certFile: certOnly, keyFile: encryptedKey }, /encrypted/],
    [{ dataDir: dir, certFile: certOnly, keyFile: join(dir, 'nokey.pem') }, /TLS_PRIVATE_KEYFILE .*: file not found/],
  ];
  for (const [options, message] of failures) {
    await assert.rejects(loadTlsMaterial(options), (err: unknown) => {
      assert.ok(err instanceof TlsError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
});

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

test("Debian's Courier certificate (cert and key in one file) loads", { skip: !readable('/etc/courier/imapd.pem') && 'no readable /etc/courier/imapd.pem' }, async () => {
  const m = await loadTlsMaterial({ dataDir: root, certFile: '/etc/courier/imapd.pem' });
  assert.equal(m.source, 'configured');
  assert.match(m.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

// TLS 1.2 cipher suites (issue 9.6): by default only forward-secret AEAD suites (Mozilla's
// "intermediate" list: ECDHE with AES-GCM or ChaCha20-Poly1305); TLS 1.3 is unaffected, and
// TLS_CIPHER_LIST still decides when it is set. A real TLS server and client on loopback.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createServerContext, loadTlsMaterial, type TlsMaterial } from '../../server/net/index.js';

let root: string;
let material: TlsMaterial;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'imapd-ciphers-'));
  material = await loadTlsMaterial({ dataDir: root });
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** The suite a client offering only `ciphers` gets from a server with our context, or the error. */
async function negotiate(serverCiphers: string | null, client: tls.ConnectionOptions): Promise<string> {
  // Wrapped the way the listener wraps its sockets (implicit TLS and STARTTLS alike).
  const secureContext = createServerContext(material, { ciphers: serverCiphers });
  const server = net.createServer((raw) => {
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
    secure.on('error', () => raw.destroy());
    secure.on('secure', () => secure.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ...client }, () => {
        resolve(socket.getCipher().name);
        socket.destroy();
      });
      socket.on('error', (err) => resolve(`refused: ${err.message}`));
    });
  } finally {
    server.close();
  }
}

const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

test('by default TLS 1.2 refuses suites without forward secrecy or AEAD and accepts ECDHE-GCM and ChaCha20', async () => {
  for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-GCM-SHA256']) {
    assert.match(await negotiate(null, { ...tls12, ciphers: weak }), /^refused/, weak);
  }
  for (const good of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
    assert.equal(await negotiate(null, { ...tls12, ciphers: good }), good);
  }
});

test('TLS 1.3 suites are unaffected by the default', async () => {
  assert.equal(await negotiate(null, { minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }), 'TLS_CHACHA20_POLY1305_SHA256');
  assert.equal(await negotiate(null, { minVersion: 'TLSv1.3' }), 'TLS_AES_256_GCM_SHA384');
});

test('TLS_CIPHER_LIST still overrides the default', async () => {
  assert.equal(await negotiate('AES128-SHA', { ...tls12, ciphers: 'AES128-SHA' }), 'AES128-SHA');
  assert.match(await negotiate('AES128-SHA', { ...tls12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), /^refused/);
});

// A mail provider for the fetch tests: Dovecot (test/peers/dovecot-start.sh) on free loopback
// ports, serving one Maildir as user alice / secret over IMAP and, where dovecot-pop3d is
// unpacked, POP3; with TLS (a self-signed certificate made here) on request.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { deliver, emptyMaildir } from './maildir.js';
import { DOVECOT_IMAP, peerScript } from './peers.js';

export const DOVECOT_POP3 = ['/opt/peers/dovecot-pop3d/usr/lib/dovecot/pop3', '/usr/lib/dovecot/pop3'].find((p) => existsSync(p));

/** Why a Dovecot provider cannot run here, or false. */
export const providerSkip: string | false = !DOVECOT_IMAP || !existsSync('/usr/sbin/dovecot')
  ? 'Dovecot is not installed (dovecot-core, and dovecot-imapd unpacked); run `npm run peers`'
  : false;
export const pop3Skip: string | false = providerSkip || (!DOVECOT_POP3 ? "Dovecot's pop3 is not unpacked (/opt/peers/dovecot-pop3d); run `npm run peers`" : false);

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Provider {
  maildir: string;
  imapPort: number;
  imapsPort: number | null;
  pop3Port: number | null;
  pop3sPort: number | null;
  /** Put a message in the provider's folder ('' INBOX, '.Lists' a folder), readable by Dovecot's user. */
  deliver(message: string | Buffer, folder?: string): string;
  stop(): void;
}

export async function startProvider(dir: string, options: { pop3?: boolean; tls?: boolean } = {}): Promise<Provider> {
  const maildir = emptyMaildir(path.join(dir, 'provider', 'Maildir'));
  const state = path.join(dir, 'provider-state');
  fs.mkdirSync(state, { recursive: true });
  const env: Record<string, string> = { ...process.env as Record<string, string>, PEERS_STATE: state, DOVECOT_PORT: String(await freePort()) };
  let imapsPort: number | null = null;
  let pop3Port: number | null = null;
  let pop3sPort: number | null = null;
  if (options.pop3) env.DOVECOT_POP3_PORT = String((pop3Port = await freePort()));
  if (options.tls) {
    const cert = path.join(state, 'cert.pem');
    const key = path.join(state, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '2', '-keyout', key, '-out', cert], { stdio: 'pipe' });
    env.DOVECOT_SSL_CERT = cert;
    env.DOVECOT_SSL_KEY = key;
    env.DOVECOT_IMAPS_PORT = String((imapsPort = await freePort()));
    if (options.pop3) env.DOVECOT_POP3S_PORT = String((pop3sPort = await freePort()));
  }
  // Output to a file: Dovecot's master inherits the script's descriptors, so a pipe never closes.
  const log = path.join(state, 'start.log');
  const out = fs.openSync(log, 'w');
  try {
    execFileSync(peerScript('dovecot-start.sh'), [maildir], { env, stdio: ['ignore', out, out] });
  } catch (err) {
    throw new Error(`dovecot-start.sh failed: ${fs.readFileSync(log, 'utf8')}`, { cause: err });
  } finally {
    fs.closeSync(out);
  }
  const owner = fs.statSync(maildir);
  return {
    maildir,
    imapPort: Number(env.DOVECOT_PORT),
    imapsPort,
    pop3Port,
    pop3sPort,
    deliver(message, folder = '') {
      if (folder && !fs.existsSync(path.join(maildir, folder))) {
        emptyMaildir(path.join(maildir, folder));
        fs.writeFileSync(path.join(maildir, folder, 'maildirfolder'), '');
        execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path.join(maildir, folder)]);
      }
      const file = deliver(maildir, message, folder);
      fs.chownSync(file, owner.uid, owner.gid);
      return file;
    },
    stop() {
      execFileSync(peerScript('dovecot-stop.sh'), [], { env, stdio: 'ignore' });
    },
  };
}

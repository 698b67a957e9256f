// The setup server: the files mail programs set themselves up from (client-setup.ts), over
// plain HTTP on a port of its own, on the same addresses as the IMAP listeners (so a phone
// reaches it once "Let other devices connect" is on). A port of its own rather than the GUI
// server's: the GUI server listens on 127.0.0.1 only and wants its token or password for
// everything, while these files must be fetched by phones that have neither; keeping the two
// apart means no path of the GUI server is ever open without a credential.
//
// Paths: /.well-known/autoconfig/mail/config-v1.1.xml and /mail/config-v1.1.xml
// (?emailaddress=), /autodiscover/autodiscover.xml (Outlook POSTs its request; GET with
// ?user= too), /apple.mobileconfig?user=. Nothing secret is served: no passwords, and the
// same answer whether the account exists or not.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { autoconfigXml, autodiscoverXml, hasSecureEndpoint, mobileconfig, type SetupTarget } from './client-setup.js';

const MAX_BODY = 16 * 1024;
const MAX_NAME = 255;

export const SETUP_PATHS = {
  autoconfig: '/.well-known/autoconfig/mail/config-v1.1.xml',
  autoconfigShort: '/mail/config-v1.1.xml',
  autodiscover: '/autodiscover/autodiscover.xml',
  mobileconfig: '/apple.mobileconfig',
} as const;

/** The account a request is for, from what the mail program sent. */
export type TargetFor = (username: string) => SetupTarget | null;

/** A username as a mail program sent it: one line of printable text, not too long. */
export function cleanName(raw: string | null): string | null {
  if (raw === null) return null;
  const name = raw.trim();
  if (name.length === 0 || name.length > MAX_NAME || /[\0-\x1f\x7f]/.test(name)) return null;
  return name;
}

/** The EMailAddress of an Outlook autodiscover request, found without a regular expression. */
export function autodiscoverAddress(body: string): string | null {
  const open = body.indexOf('<EMailAddress>');
  if (open < 0) return null;
  const start = open + '<EMailAddress>'.length;
  const end = body.indexOf('</EMailAddress>', start);
  return end < 0 ? null : cleanName(body.slice(start, end));
}

export class SetupHttpServer {
  private server: http.Server | null = null;
  private portNow: number | null = null;
  private addressNow: string | null = null;

  constructor(private readonly targetFor: TargetFor) {}

  get port(): number | null {
    return this.portNow;
  }
  get address(): string | null {
    return this.addressNow;
  }

  /** Listen on this address (port 0: any free one); a port in use falls back to a free one when `fallback`. */
  async start(address: string, port: number, fallback = true): Promise<number> {
    await this.stop();
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 20_000;
    const listen = (p: number) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port: p }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    try {
      await listen(port);
    } catch (err) {
      if (!fallback || port === 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      await listen(0);
    }
    this.server = server;
    this.addressNow = address;
    this.portNow = (server.address() as AddressInfo).port;
    return this.portNow;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.portNow = null;
    this.addressNow = null;
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://setup.invalid');
    const path = url.pathname.toLowerCase();
    let name: string | null = null;
    let kind: 'autoconfig' | 'autodiscover' | 'mobileconfig' | null = null;
    if (path === SETUP_PATHS.autoconfig || path === SETUP_PATHS.autoconfigShort) {
      kind = 'autoconfig';
      name = cleanName(url.searchParams.get('emailaddress'));
    } else if (path === SETUP_PATHS.autodiscover) {
      kind = 'autodiscover';
      name = req.method === 'POST' ? autodiscoverAddress(await readBody(req)) : cleanName(url.searchParams.get('user'));
    } else if (path === SETUP_PATHS.mobileconfig) {
      kind = 'mobileconfig';
      name = cleanName(url.searchParams.get('user'));
    }
    if (kind === null) return this.text(res, 404, 'Not found. This port serves mail program settings only.');
    if (req.method !== 'GET' && req.method !== 'HEAD' && !(kind === 'autodiscover' && req.method === 'POST')) return this.text(res, 405, 'Use GET.');
    if (name === null) return this.text(res, 400, kind === 'autoconfig' ? 'Add ?emailaddress=<username>.' : 'Name the account (?user=<username>).');
    const target = this.targetFor(name);
    if (!target || !hasSecureEndpoint(target)) return this.text(res, 503, 'The IMAP server offers no TLS port right now.');
    const [type, body, file] =
      kind === 'autoconfig' ? ['application/xml; charset=utf-8', autoconfigXml(target), 'config-v1.1.xml']
      : kind === 'autodiscover' ? ['application/xml; charset=utf-8', autodiscoverXml(target), 'autodiscover.xml']
      : ['application/x-apple-aspen-config', mobileconfig(target), `${name.replace(/[^A-Za-z0-9.@_-]/g, '_')}.mobileconfig`];
    const data = Buffer.from(body);
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': data.length,
      'Content-Disposition': `${kind === 'mobileconfig' ? 'attachment' : 'inline'}; filename="${file}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  private text(res: http.ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(message + '\n');
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new Error('request too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

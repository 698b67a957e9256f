// The appliance API over HTTP, for the GUI in a browser (the headless appliance, or a
// desktop without Electron): JSON POST /api/<method> with the arguments as a JSON list,
// server-sent events on GET /api/events, and the renderer's static files.
//
// It listens on 127.0.0.1 only, and everything needs the random token printed at start:
// the address with ?token=... sets a cookie (HttpOnly, SameSite=Strict) and sends the
// browser on without the token in its address bar; programs may send the token in an
// X-Appliance-Token header instead. Against DNS rebinding the Host header must name
// 127.0.0.1 or localhost with our port; against cross-site requests an Origin, when sent
// (browsers always send one with POST), must be ours, and API calls must be JSON. A strict
// Content-Security-Policy lets the page load nothing but its own files.
//
// Once a GUI password is set (admin-auth.ts), /signin trades it for a session cookie that
// lasts across restarts, so that a bookmark keeps working and a browser on another computer
// (through `ssh -L`) can sign in without the token.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorEnvelope, isApiMethod, type ApiErrorCode, type ApplianceApi, type ApplianceEvent, type Envelope } from './api.js';
import type { AdminAuth } from './admin-auth.js';
import { invokeApi } from './validate.js';

export const TOKEN_COOKIE = 'imapd_ts_token';
export const TOKEN_HEADER = 'x-appliance-token';
export const SESSION_COOKIE = 'imapd_ts_session';
const MAX_SIGNIN_BODY = 8 * 1024;
/** Files the sign-in page itself needs; nothing in them is secret. */
const PUBLIC_FILES = new Set(['/styles.css', '/icon.png']);
const MAX_BODY = 4 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

const STATUS_OF: Record<ApiErrorCode, number> = {
  'invalid-argument': 400,
  'not-found': 404,
  exists: 409,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export interface ApplianceHttpOptions {
  api: ApplianceApi;
  /** Default 0: any free port. */
  port?: number;
  /** The renderer's built files (index.html, app.js, ...). Default: dist/renderer. */
  staticDir?: string;
  /** Default: 32 random bytes, hex. */
  token?: string;
  /** The GUI password; without it, only the token lets a browser in. */
  admin?: AdminAuth;
}

/** Where the built renderer is: dist/renderer beside dist/server (also when running from the sources). */
export function defaultStaticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../renderer'), resolve(here, '../../dist/renderer')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js'))) ?? candidates[1]!;
}

export class ApplianceHttpServer {
  readonly token: string;
  private readonly server: http.Server;
  private readonly staticDir: string;
  private readonly streams = new Set<http.ServerResponse>();
  private port = 0;

  constructor(private readonly options: ApplianceHttpOptions) {
    this.token = options.token ?? randomBytes(32).toString('hex');
    this.staticDir = resolve(options.staticDir ?? defaultStaticDir());
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.json(res, 500, errorEnvelope(err));
        else res.destroy();
      });
    });
    this.server.headersTimeout = 20_000;
    this.server.requestTimeout = 60_000;
  }

  /** Listen on 127.0.0.1; resolves with the address to open (token included). */
  async start(): Promise<{ url: string; port: number; token: string }> {
    await new Promise<void>((resolvePromise, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: this.options.port ?? 0 }, () => {
        this.server.off('error', reject);
        resolvePromise();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return { url: this.url(), port: this.port, token: this.token };
  }

  url(): string {
    return `http://127.0.0.1:${this.port}/?token=${this.token}`;
  }

  async stop(): Promise<void> {
    for (const res of this.streams) res.end();
    this.streams.clear();
    // close() waits for every connection to end, and one with a request under way (half sent,
    // or an event stream the browser opened again at once) may never: all are closed now.
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  }

  private allowedOrigins(): string[] {
    return [`http://127.0.0.1:${this.port}`, `http://localhost:${this.port}`];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends Host: evil.example.
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${this.port}` && host !== `localhost:${this.port}`) {
      this.text(res, 421, 'This address is not served here. Open the address the appliance printed at start.');
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowedOrigins().includes(origin)) {
      this.text(res, 403, 'Requests from other sites are refused.');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    const auth = this.authenticate(req, url);
    if (url.pathname === '/signin') {
      await this.signIn(req, res);
      return;
    }
    if (auth === null && req.method === 'GET' && PUBLIC_FILES.has(url.pathname)) {
      await this.file(url.pathname, req, res);
      return;
    }

    if (req.method === 'GET' && url.searchParams.has('token')) {
      if (auth !== 'query') {
        this.page(res, 401, 'Wrong token', 'This link has an old or wrong token. Open the address the appliance printed when it started.');
        return;
      }
      // Trade the token in the address for a cookie, and take it out of the address bar.
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': `${TOKEN_COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname + (url.search || ''),
      });
      res.end();
      return;
    }
    if (auth === null) {
      if (url.pathname.startsWith('/api/')) this.json(res, 401, { ok: false, error: { code: 'invalid-argument', message: 'the appliance token is missing or wrong' } });
      else if (this.options.admin?.isSet) {
        res.writeHead(303, { ...SECURITY_HEADERS, Location: '/signin' });
        res.end();
      } else this.page(res, 401, 'Token needed', 'Open the address the appliance printed when it started (it ends with ?token=...). Once you set a GUI password in the Overview, you can sign in with it instead.');
      return;
    }
    // A browser's cookie goes with any request to us; a call made with it must show it comes from our page.
    if (auth === 'cookie' && req.method === 'POST' && origin === undefined) {
      this.text(res, 403, 'Requests without an Origin are refused.');
      return;
    }

    if (url.pathname === '/api/events') {
      if (req.method !== 'GET') return this.text(res, 405, 'Use GET.');
      this.events(req, res);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return this.text(res, 405, 'Use POST.');
      await this.call(url.pathname.slice('/api/'.length), req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.text(res, 405, 'Use GET.');
    await this.file(url.pathname, req, res);
  }

  /** Which credential the request carries: 'query' (the ?token= link), 'cookie', 'header', or null. */
  private authenticate(req: http.IncomingMessage, url: URL): 'query' | 'cookie' | 'header' | null {
    const header = req.headers[TOKEN_HEADER];
    if (typeof header === 'string' && this.matches(header)) return 'header';
    const bearer = req.headers.authorization;
    if (bearer?.startsWith('Bearer ') && this.matches(bearer.slice(7))) return 'header';
    const query = url.searchParams.get('token');
    if (query !== null && this.matches(query)) return 'query';
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === TOKEN_COOKIE && this.matches(rest.join('='))) return 'cookie';
      if (name === SESSION_COOKIE && this.options.admin?.check(rest.join('='))) return 'cookie';
    }
    return null;
  }

  /** GET /signin: the form; POST /signin: the password traded for a session cookie. */
  private async signIn(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const admin = this.options.admin;
    if (!admin?.isSet) {
      this.page(res, 404, 'No GUI password yet', 'Open the address the appliance printed when it started (it ends with ?token=...), and set a GUI password in the Overview.');
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') return this.signInPage(res, 200, null);
    if (req.method !== 'POST') return this.text(res, 405, 'Use GET or POST.');
    // A browser always sends Origin with a form POST; ours only (checked in handle()).
    if (req.headers.origin === undefined) return this.text(res, 403, 'Requests without an Origin are refused.');
    let body: string;
    try {
      body = await readBody(req, MAX_SIGNIN_BODY);
    } catch {
      res.setHeader('Connection', 'close');
      return this.text(res, 413, 'Too large.');
    }
    const password = new URLSearchParams(body).get('password') ?? '';
    if (!(await admin.verify(password))) return this.signInPage(res, 401, 'Wrong password.');
    res.writeHead(303, {
      ...SECURITY_HEADERS,
      'Set-Cookie': `${SESSION_COOKIE}=${admin.issue()}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${30 * 86400}`,
      Location: '/',
    });
    res.end();
  }

  private signInPage(res: http.ServerResponse, status: number, error: string | null): void {
    // Its own policies: the one form on it posts to us, and with no-referrer the browser
    // would send that post with "Origin: null", which handle() refuses.
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY.replace("form-action 'none'", "form-action 'self'"),
      'Referrer-Policy': 'same-origin',
      'Content-Type': 'text/html; charset=utf-8',
    });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in - imapd-ts</title><link rel="stylesheet" href="/styles.css"></head>
<body><main class="signin"><form method="post" action="/signin" class="card" id="signin">
<h1>imapd-ts</h1><p>Sign in with the GUI password.</p>
<div class="field"><label for="password">GUI password</label><input id="password" name="password" type="password" autocomplete="current-password" required autofocus></div>
${error ? `<p class="field-error" role="alert">${error}</p>` : ''}<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form></main></body></html>
`);
  }

  private matches(candidate: string): boolean {
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private async call(method: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!isApiMethod(method)) {
      this.json(res, 404, { ok: false, error: { code: 'not-found', message: `no API method ${JSON.stringify(method.slice(0, 60))}` } });
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      this.json(res, 415, { ok: false, error: { code: 'invalid-argument', message: 'send the arguments as application/json' } });
      return;
    }
    let body: string;
    try {
      body = await readBody(req, MAX_BODY);
    } catch (err) {
      res.setHeader('Connection', 'close');
      this.json(res, 413, { ok: false, error: { code: 'invalid-argument', message: (err as Error).message } });
      res.on('finish', () => req.destroy());
      return;
    }
    let args: unknown;
    try {
      args = body.trim() === '' ? [] : JSON.parse(body);
    } catch {
      this.json(res, 400, { ok: false, error: { code: 'invalid-argument', message: 'the request body is not valid JSON' } });
      return;
    }
    const envelope = await invokeApi(this.options.api, method, args);
    this.json(res, envelope.ok ? 200 : STATUS_OF[envelope.error.code], envelope);
  }

  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    // Ended by stop() or gone with its socket, a stream is written to no more: an event sent
    // before its close event came in was written after the end, an error that killed the process.
    const write = (text: string) => {
      if (!res.writableEnded && !res.destroyed) res.write(text);
    };
    const unsubscribe = this.options.api.subscribe((event: ApplianceEvent) => write(`data: ${JSON.stringify(event)}\n\n`));
    const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(res);
    };
    this.streams.add(res);
    req.on('close', close);
    res.on('close', close);
    res.on('error', close); // a socket error: the browser has gone
  }

  private async file(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let relative: string;
    try {
      relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    } catch {
      return this.text(res, 400, 'Bad address.');
    }
    const full = resolve(this.staticDir, '.' + relative);
    const type = CONTENT_TYPES[extname(full)];
    if (!full.startsWith(this.staticDir + sep) || relative.includes('\0') || !type) return this.text(res, 404, 'Not found.');
    let data: Buffer;
    try {
      data = await fs.readFile(full);
    } catch {
      return this.text(res, 404, 'Not found.');
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': data.length });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length });
    res.end(data);
  }

  private text(res: http.ServerResponse, status: number, message: string): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(message + '\n');
  }

  private page(res: http.ServerResponse, status: number, title: string, message: string): void {
    const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><meta charset="utf-8"><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(message)}</p></html>\n`);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading; the caller answers 413 and closes the connection.
        req.removeAllListeners('data');
        req.pause();
        reject(new Error('the request is too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// The appliance API over HTTP with a real host and a real server on 127.0.0.1: the token
// (link, cookie, header), Host and Origin checks, JSON only, argument errors with their
// HTTP status, static files with a strict CSP, and the event stream.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ApplianceHost, ApplianceHttpServer, CONTENT_SECURITY_POLICY, TOKEN_COOKIE } from '../../server/appliance/index.js';
import { ROOT, tempDir, writeConfig } from '../helpers/appliance.js';
import path from 'node:path';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('appliance API over HTTP', () => {
  let data: string;
  let host: ApplianceHost;
  let gui: ApplianceHttpServer;
  let port: number;
  let token: string;

  function request(options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { Host: `127.0.0.1:${port}`, ...options.headers } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }
  /** An API call as a program makes it: token in a header, JSON body. */
  const call = (method: string, args: unknown, headers: Record<string, string> = {}) =>
    request({ method: 'POST', path: `/api/${method}`, headers: { 'Content-Type': 'application/json', 'X-Appliance-Token': token, ...headers }, body: JSON.stringify(args) });
  const json = (a: Answer) => JSON.parse(a.body) as { ok: boolean; result?: unknown; error?: { code: string; message: string; field?: string } };

  before(async () => {
    data = tempDir('http');
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20 });
    await host.start();
    assert.ok(fs.existsSync(path.join(ROOT, 'dist/renderer/index.html')), 'npm run build makes dist/renderer');
    gui = new ApplianceHttpServer({ api: host, port: 0 });
    ({ port, token } = await gui.start());
  });
  after(async () => {
    await gui.stop();
    await host.stop();
    fs.rmSync(data, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only, with a long random token in the printed address', () => {
    assert.match(gui.url(), new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[0-9a-f]{64}$`));
    assert.notEqual(new ApplianceHttpServer({ api: host }).token, token);
  });

  it('refuses everything without the token', async () => {
    const api = await request({ method: 'POST', path: '/api/getStatus', headers: { 'Content-Type': 'application/json' }, body: '[]' });
    assert.equal(api.status, 401);
    assert.equal(json(api).ok, false);
    const page = await request({ path: '/' });
    assert.equal(page.status, 401);
    assert.match(page.body, /Token needed/);
    assert.equal((await request({ path: '/app.js' })).status, 401);
    assert.equal((await request({ path: '/api/events' })).status, 401);
    assert.equal((await call('getStatus', [], { 'X-Appliance-Token': 'f'.repeat(64) })).status, 401);
    assert.equal((await request({ path: '/?token=' + 'f'.repeat(64) })).status, 401);
  });

  it('trades the token in the link for a strict cookie and drops it from the address', async () => {
    const first = await request({ path: `/?token=${token}` });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/');
    const cookie = first.headers['set-cookie']![0]!;
    assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/$`));
    const page = await request({ path: '/', headers: { Cookie: `${TOKEN_COOKIE}=${token}` } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="app.js">/);
    assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const script = await request({ path: '/app.js', headers: { Cookie: `${TOKEN_COOKIE}=${token}` } });
    assert.equal(script.status, 200);
    assert.match(script.headers['content-type']!, /^text\/javascript/);
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2Fpackage.json', '/app.js.map/../../../package.json', '/nothing.html']) {
      assert.equal((await request({ path: p, headers: { Cookie: `${TOKEN_COOKIE}=${token}` } })).status, 404, p);
    }
  });

  it('stops DNS rebinding (Host) and other sites (Origin)', async () => {
    const rebound = await call('getStatus', [], { Host: `evil.example:${port}` });
    assert.equal(rebound.status, 421);
    assert.equal((await call('getStatus', [], { Host: `127.0.0.1:${port + 1}` })).status, 421);
    assert.equal((await call('getStatus', [], { Host: `localhost:${port}` })).status, 200);
    const foreign = await call('getStatus', [], { Origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal((await call('getStatus', [], { Origin: `http://127.0.0.1:${port + 1}` })).status, 403);
    assert.equal((await call('getStatus', [], { Origin: `http://127.0.0.1:${port}` })).status, 200);
    // A browser's cookie alone is not enough for a POST: the Origin must be ours.
    const cookieOnly = { 'Content-Type': 'application/json', Cookie: `${TOKEN_COOKIE}=${token}` };
    assert.equal((await request({ method: 'POST', path: '/api/getStatus', headers: cookieOnly, body: '[]' })).status, 403);
    assert.equal((await request({ method: 'POST', path: '/api/getStatus', headers: { ...cookieOnly, Origin: `http://localhost:${port}` }, body: '[]' })).status, 200);
  });

  it('takes JSON only, and answers argument errors with their field', async () => {
    const form = await request({ method: 'POST', path: '/api/getStatus', headers: { 'X-Appliance-Token': token, 'Content-Type': 'text/plain' }, body: '[]' });
    assert.equal(form.status, 415);
    const broken = await request({ method: 'POST', path: '/api/getStatus', headers: { 'X-Appliance-Token': token, 'Content-Type': 'application/json' }, body: '[' });
    assert.equal(broken.status, 400);
    assert.equal((await call('getstatus', [])).status, 404);
    assert.equal((await call('constructor', [])).status, 404);
    assert.equal((await call('subscribe', [])).status, 404);
    assert.equal((await request({ path: '/api/getStatus', headers: { 'X-Appliance-Token': token } })).status, 405);

    const notList = await call('addAccount', { username: 'a', password: 'b' });
    assert.equal(notList.status, 400);
    const wrongType = await call('addAccount', [{ username: 42, password: 'x' }]);
    assert.equal(wrongType.status, 400);
    assert.equal(json(wrongType).error!.field, 'username');
    const extra = await call('addAccount', [{ username: 'a', password: 'x' }, 'more']);
    assert.equal(extra.status, 400);
    assert.match(json(extra).error!.message, /takes 1 argument/);
    const unknownField = await call('addAccount', [{ username: 'a', password: 'x', admin: true }]);
    assert.equal(unknownField.status, 400);
    assert.equal((await call('disconnectSession', ['1'])).status, 400);
    assert.equal((await call('removeAccount', ['nobody'])).status, 400);
    assert.equal((await call('removeAccount', ['nobody', true])).status, 404);
    // Too large a body: answered 413, or cut off while the client is still sending; never read to the end.
    const big = await request({ method: 'POST', path: '/api/importCourierConfig', headers: { 'X-Appliance-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify(['x'.repeat(5 * 1024 * 1024), 'imapd']) }).then(
      (a) => String(a.status),
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    assert.ok(['413', 'ECONNRESET', 'EPIPE'].includes(big), big);
    assert.equal((await call('getStatus', [])).status, 200, 'still serving');

    const added = await call('addAccount', [{ username: 'alice', password: 'pw-alice-1' }]);
    assert.equal(added.status, 200);
    assert.equal((json(added).result as { username: string }).username, 'alice');
    const twice = await call('addAccount', [{ username: 'alice', password: 'pw-alice-1' }]);
    assert.equal(twice.status, 409);
    assert.equal(json(twice).error!.code, 'exists');
    // Setting problems are an answer, not a failure.
    const check = await call('validateSettings', [{ PORT: 'x' }]);
    assert.equal(check.status, 200);
    assert.equal((json(check).result as { ok: boolean }).ok, false);
  });

  it('streams events', async () => {
    const events: { type: string; line?: { message: string } }[] = [];
    let res!: http.IncomingMessage;
    const req = http.get({ host: '127.0.0.1', port, path: '/api/events', headers: { Host: `127.0.0.1:${port}`, 'X-Appliance-Token': token } }, (r) => {
      res = r;
      r.setEncoding('utf8');
      let buffer = '';
      r.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data) events.push(JSON.parse(data.slice(6)));
        }
      });
    });
    req.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type']!, /^text\/event-stream/);
    await call('addAccount', [{ username: 'bob', password: 'pw-bob-12' }]);
    const deadline = Date.now() + 5000;
    while (!(events.some((e) => e.type === 'accounts') && events.some((e) => e.type === 'log' && /account added/.test(e.line!.message)))) {
      assert.ok(Date.now() < deadline, `events so far: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    req.destroy();
  });
});

// Signing in to the GUI with its password (for a bookmark that outlives the token, or a
// browser on another computer through ssh -L): the real HTTP server and host, the cookie
// it gives, and what stays refused.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ApplianceHost, ApplianceHttpServer } from '../../server/appliance/index.js';
import { SESSION_COOKIE } from '../../server/appliance/http.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('GUI password sign-in', () => {
  let data: string;
  let host: ApplianceHost;
  let gui: ApplianceHttpServer;
  let port: number;

  const request = (options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { Host: `localhost:${port}`, ...options.headers } },
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
  const signIn = (password: string, headers: Record<string, string> = { Origin: `http://localhost:${port}` }) =>
    request({ method: 'POST', path: '/signin', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ password }).toString() });

  before(async () => {
    data = tempDir('signin');
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    host = await ApplianceHost.open({ dataDir: data });
    await host.start();
    gui = new ApplianceHttpServer({ api: host, admin: host.admin });
    port = (await gui.start()).port;
  });
  after(async () => {
    await gui.stop();
    await host.stop();
    fs.rmSync(data, { recursive: true, force: true });
  });

  it('without a GUI password, only the token opens the GUI', async () => {
    const page = await request({ path: '/' });
    assert.equal(page.status, 401);
    assert.match(page.body, /set a GUI password/);
    assert.equal((await request({ path: '/signin' })).status, 404);
    assert.equal((await signIn('anything at all')).status, 404);
  });

  it('with one set, a browser is sent to sign in, and its cookie opens the API', async () => {
    await host.setAdminPassword('the GUI password');
    const root = await request({ path: '/' });
    assert.equal(root.status, 303);
    assert.equal(root.headers.location, '/signin');
    const form = await request({ path: '/signin' });
    assert.equal(form.status, 200);
    assert.match(form.body, /<form method="post" action="\/signin"/);
    assert.match(String(form.headers['content-security-policy']), /form-action 'self'/);
    // With no-referrer, Chromium posts the form with "Origin: null" (found by the e2e test).
    assert.equal(form.headers['referrer-policy'], 'same-origin');
    assert.doesNotMatch(String(form.headers['content-security-policy']), /script-src 'unsafe/);
    assert.equal((await request({ path: '/styles.css' })).status, 200, 'the page\'s style sheet is public');
    assert.equal((await request({ path: '/app.js' })).status, 303, 'the app is not');

    const wrong = await signIn('not the password');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /Wrong password/);
    assert.equal(wrong.headers['set-cookie'], undefined);
    assert.equal((await signIn('the GUI password', {})).status, 403, 'a form post without Origin');
    assert.equal((await signIn('the GUI password', { Origin: 'http://evil.example' })).status, 403);

    const ok = await signIn('the GUI password');
    assert.equal(ok.status, 303);
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    assert.ok(cookie.startsWith(`${SESSION_COOKIE}=`));
    assert.match(String(ok.headers['set-cookie']), /HttpOnly; SameSite=Strict; Path=\/; Max-Age=2592000/);
    const status = await request({ method: 'POST', path: '/api/getStatus', headers: { Cookie: cookie, Origin: `http://localhost:${port}`, 'Content-Type': 'application/json' }, body: '[]' });
    assert.equal(status.status, 200);
    assert.equal(JSON.parse(status.body).result.adminPassword, true);
    // The cookie stands for the password: a new password ends it.
    await host.setAdminPassword('a new GUI password');
    const after = await request({ method: 'POST', path: '/api/getStatus', headers: { Cookie: cookie, Origin: `http://localhost:${port}`, 'Content-Type': 'application/json' }, body: '[]' });
    assert.equal(after.status, 401);
  });
});

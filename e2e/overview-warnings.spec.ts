// The Overview's "Needs attention" list in the GUI, from real causes: a Courier setting this
// server does not use (TLS_PRIORITY, GnuTLS's priority string, in the imapd-ssl file) and a certificate (TLS_CERTFILE, made
// by openssl) that expires within 30 days; the sessions tile counting a live connection; and,
// with "Let other devices connect", whether the server is announced on the local network
// (this appliance announces with DNS-SD; the one of gui.spec.ts does not).
// Its own appliance, so that it can run alone.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { CHROMIUM } from '../playwright.config.js';
import { shot } from './helpers.js';
import { rawConnect, startAppliance, tempDir, writeConfig, type RunningAppliance } from '../test/helpers/appliance.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
test.skip(!fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}`);
test.skip(!hasOpenssl, 'openssl is not installed');

let data: string;
let appliance: RunningAppliance;

test.beforeAll(async () => {
  data = tempDir('e2e-warnings');
  const cert = path.join(data, 'short.pem');
  const key = path.join(data, 'short.key');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '10', '-subj', '/CN=localhost', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
  writeConfig(data, 'PORT=0\n', `SSLPORT=0\nTLS_PRIORITY=NORMAL\nTLS_CERTFILE=${cert}\nTLS_PRIVATE_KEYFILE=${key}\n`);
  appliance = await startAppliance(data, [], { announce: true });
});

test.afterAll(async () => {
  await appliance?.stop();
  fs.rmSync(data, { recursive: true, force: true });
});

test('the Overview says what needs attention: an unused setting and a certificate about to expire; sessions live', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(appliance.url);
  const warnings = page.locator('#overview-warnings');
  await expect(warnings.locator('li[data-kind="setting"]')).toContainText('TLS_PRIORITY');
  await expect(warnings.locator('li[data-kind="certificate"]')).toContainText(/expires in (9|10) days/);
  await expect(page.locator('#overview-certificate')).toContainText('from TLS_CERTFILE');
  await expect(page.locator('#overview-sessions')).toContainText('0 sessions');
  const c = await rawConnect(appliance.imapPort!);
  try {
    await expect(page.locator('#overview-sessions')).toContainText('1 session', { timeout: 15_000 });
  } finally {
    c.socket.destroy();
  }
  await expect(page.locator('#overview-sessions')).toContainText('0 sessions', { timeout: 15_000 });
  await shot(page, '16-overview-warnings');
  await expect(page.locator('#overview-announced')).toHaveCount(0);
  await context.close();
});

test('with other devices allowed, the Overview says the server is announced on the local network', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(appliance.url);
  await page.click('#overview-reach button:has-text("Let other devices connect")');
  await page.click('#network-card label.switch-row');
  await page.locator('.toast:has-text("Other devices can connect now")').waitFor();
  await page.click('nav button:has-text("Overview")');
  await expect(page.locator('#overview-reach .tile-value')).toHaveText('Other devices too');
  await expect(page.locator('#overview-announced')).toHaveText(/^Announced on the local network as "imapd-ts on .+" \(Bonjour\)$/);
  await shot(page, '17-overview-network');
  await page.click('nav button:has-text("Connect a client")');
  await page.click('#network-card label.switch-row');
  await page.locator('.toast:has-text("Only this computer can connect now")').waitFor();
  await context.close();
});

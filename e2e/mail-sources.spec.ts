// The Mail sources screen end to end: the headless appliance, a Dovecot provider on loopback
// (test/helpers/provider.ts), and Chromium. Test connection says what is wrong in plain words,
// then what is there; a source added fetches at once and then hears of new mail by IDLE, its
// count updated live; edited to remove fetched mail at the provider, Fetch now empties it;
// removed, its row goes.

import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM } from '../playwright.config.js';
import { shot } from './helpers.js';
import { SqliteAccountStore } from '../server/accounts/index.js';
import { startAppliance, tempDir, writeConfig, type RunningAppliance } from '../test/helpers/appliance.js';
import { simpleMessage, tempDir as peerDir } from '../test/helpers/maildir.js';
import { providerSkip, startProvider, type Provider } from '../test/helpers/provider.js';

test.describe.configure({ mode: 'serial' });
test.skip(!fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}`);
test.skip(Boolean(providerSkip), String(providerSkip));

let data: string;
/** The provider's side: Dovecot's user must reach it (the appliance's data directory is 0700). */
let providerDir: string;
let appliance: RunningAppliance;
let provider: Provider;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const inbox = () => fs.readdirSync(path.join(data, 'mail', 'alice', 'Maildir', 'cur')).length;
const providerCount = () => ['new', 'cur'].reduce((n, d) => n + fs.readdirSync(path.join(provider.maildir, d)).length, 0);

test.beforeAll(async ({ browser }) => {
  data = tempDir('e2e-sources');
  writeConfig(data, '# test\nPORT=0\n', '# test\nSSLPORT=0\n');
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'alice-password' });
  accounts.close();
  providerDir = peerDir('e2e-provider');
  provider = await startProvider(providerDir);
  provider.deliver(simpleMessage('first'));
  provider.deliver(simpleMessage('second'));
  appliance = await startAppliance(data);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('dialog', (d) => void d.accept());
});

test.afterAll(async () => {
  await context?.close();
  const code = await appliance?.stop();
  provider?.stop();
  expect(code).toBe(0);
  fs.rmSync(data, { recursive: true, force: true });
  fs.rmSync(providerDir, { recursive: true, force: true });
});

test('Test connection says what is wrong, then what is there', async () => {
  await page.goto(appliance.url);
  await page.click('nav button:has-text("Mail sources")');
  await page.waitForSelector('#source-list .empty');
  await page.selectOption('#source-form select[name="tls"]', 'none');
  expect(await page.inputValue('#source-form input[name="port"]')).toBe('143');
  await page.fill('#source-form input[name="host"]', '127.0.0.1');
  await page.fill('#source-form input[name="port"]', String(provider.imapPort));
  await page.fill('#source-form input[name="username"]', 'alice');
  await page.fill('#source-form input[name="password"]', 'wrong');
  await page.click('#source-test');
  await expect(page.locator('#source-test-result')).toHaveText(/Failed: The provider refused the user name or password/, { timeout: 20_000 });
  await page.fill('#source-form input[name="password"]', 'secret');
  await page.click('#source-test');
  await expect(page.locator('#source-test-result')).toHaveText('Connected: INBOX: 2 message(s).', { timeout: 20_000 });
});

test('a source added fetches at once, then new mail through IDLE, its count live', async () => {
  await page.click('#source-form button[type="submit"]');
  const row = page.locator('#source-table tr[data-source]');
  await expect(row.locator('.fetched')).toHaveText('2', { timeout: 20_000 });
  await expect(row.locator('.state')).toHaveText(/new mail arrives at once/);
  expect(inbox()).toBe(2);
  await page.waitForTimeout(1500);
  provider.deliver(simpleMessage('third'));
  await expect(row.locator('.fetched')).toHaveText('3', { timeout: 20_000 });
  expect(inbox()).toBe(3);
  expect(providerCount()).toBe(3);
  await shot(page, '15-mail-sources');
});

test('edited to remove fetched mail at the provider; Fetch now empties it; removed, its row goes', async () => {
  await page.click('#source-table button[data-edit]');
  await expect(page.locator('#source-form h3')).toHaveText(/Edit alice@127.0.0.1/);
  await page.selectOption('#source-form select[name="leave"]', '0');
  await page.click('#source-form button[type="submit"]');
  await page.locator('.toast:has-text("Saved")').waitFor();
  await page.click('#source-table button[data-fetch]');
  await expect.poll(providerCount, { timeout: 20_000 }).toBe(0);
  expect(inbox()).toBe(3);
  await page.click('#source-table button[data-remove]');
  await page.waitForSelector('#source-list .empty');
  expect(pageErrors).toEqual([]);
});

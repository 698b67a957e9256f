// The Mail sources screen end to end: the headless appliance, a Dovecot provider on loopback
// (test/helpers/provider.ts), and Chromium. Test connection says what is wrong in plain words,
// then what is there; a source added fetches at once and then hears of new mail by IDLE, its
// count updated live; edited to remove fetched mail at the provider, Fetch now empties it;
// removed, its row goes. A first fetch of 600 messages through a slow link (a throttling TCP
// proxy) shows a progress bar with counts that move; with a key file others may read, the
// appliance still opens, the screen says why in a banner, and adding a source is refused with
// the reason.

import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM } from '../playwright.config.js';
import { shot } from './helpers.js';
import { SqliteAccountStore } from '../server/accounts/index.js';
import { KEY_FILE } from '../server/fetch/secrets.js';
import { SCREENSHOTS, startAppliance, tempDir, writeConfig, type RunningAppliance } from '../test/helpers/appliance.js';
import { simpleMessage, tempDir as peerDir } from '../test/helpers/maildir.js';
import { providerSkip, startProvider, type Provider } from '../test/helpers/provider.js';
import { startProxy } from '../test/helpers/tcp-proxy.js';

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
const fill = async (port: number, password = 'secret') => {
  await page.selectOption('#source-form select[name="tls"]', 'none');
  await page.fill('#source-form input[name="host"]', '127.0.0.1');
  await page.fill('#source-form input[name="port"]', String(port));
  await page.fill('#source-form input[name="username"]', 'alice');
  await page.fill('#source-form input[name="password"]', password);
};
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
  // The list asked for after the add is answered while the fetch has not yet landed, and reaches
  // the page only after the fetch's events did (two connections, no order between them): the
  // older list must not hide the count those events brought.
  let held = false;
  let answered: () => void = () => undefined;
  const staleAnswered = new Promise<void>((resolve) => (answered = resolve));
  await page.route('**/api/listMailSources', async (route) => {
    if (held) return route.continue();
    held = true;
    const stale = await route.fetch();
    await expect.poll(() => (fs.existsSync(path.join(data, 'mail', 'alice', 'Maildir', 'cur')) ? inbox() : 0), { timeout: 20_000 }).toBe(2);
    await page.waitForTimeout(500);
    await route.fulfill({ response: stale });
    answered();
  });
  await page.click('#source-form button[type="submit"]');
  await staleAnswered;
  await page.unroute('**/api/listMailSources');
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

test('a first fetch of 600 messages over a slow link shows a progress bar with counts that move', async () => {
  await page.goto(appliance.url);
  await page.click('nav button:has-text("Mail sources")');
  await page.waitForSelector('#source-list .empty');
  const before = fs.existsSync(path.join(data, 'mail', 'alice', 'Maildir', 'cur')) ? inbox() : 0;
  for (let i = 0; i < 600; i++) provider.deliver(simpleMessage(`many ${i}`, `${'body '.repeat(300)}\r\n`));
  const total = providerCount(); // 600, and 2 more when this test runs alone
  // About 1 MB at 200 KB/s: the first batch of 250 takes some 2 s, the second as long.
  const proxy = await startProxy(provider.imapPort);
  try {
    proxy.throttle(20_000);
    await fill(proxy.port);
    await page.click('#source-form button[type="submit"]');
    const row = page.locator('#source-table tr[data-source]');
    const bar = row.locator('progress.source-progress');
    await expect(bar).toBeVisible({ timeout: 20_000 });
    await expect(bar).toHaveAttribute('max', String(total));
    await expect(row.locator('.state')).toContainText('INBOX');
    await expect(row.locator('.source-count')).toHaveText(`250 of ${total}`, { timeout: 20_000 });
    expect(await bar.evaluate((el) => (el as HTMLProgressElement).value)).toBe(250);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'mail-sources-progress.png'), fullPage: true });
    await expect(row.locator('.fetched')).toHaveText(String(total), { timeout: 30_000 });
    await expect(bar).toHaveCount(0);
    expect(inbox()).toBe(before + total);
    await page.click('#source-table button[data-remove]');
    await page.waitForSelector('#source-list .empty');
  } finally {
    await proxy.close();
  }
});

test('a key file others may read: the appliance opens, the screen says why, and adding a source is refused with the reason', async () => {
  expect(await appliance.stop()).toBe(0);
  fs.chmodSync(path.join(data, KEY_FILE), 0o644);
  appliance = await startAppliance(data);
  await page.goto(appliance.url);
  await page.click('nav button:has-text("Mail sources")');
  const banner = page.locator('#sources-problem');
  await expect(banner).toBeVisible();
  await expect(banner).toHaveText(/The passwords of mail sources cannot be read or stored: .*fetch\.key may be read by other users \(mode 644\); run chmod 600 on it/);
  await fill(provider.imapPort);
  await page.click('#source-form button[type="submit"]');
  await expect(page.locator('#source-form .field-error[data-for="form"]')).toHaveText(/fetch\.key may be read by other users/);
  await page.waitForSelector('#source-list .empty');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'mail-sources-key-problem.png'), fullPage: true });
  // Put right (chmod 600) and started again, the banner goes and a source can be added.
  expect(await appliance.stop()).toBe(0);
  fs.chmodSync(path.join(data, KEY_FILE), 0o600);
  appliance = await startAppliance(data);
  await page.goto(appliance.url);
  await page.click('nav button:has-text("Mail sources")');
  await page.waitForSelector('#source-list .empty');
  await expect(banner).toBeHidden();
  expect(pageErrors).toEqual([]);
});

// The Import screen end to end: the headless appliance and Chromium. A Maildir with folders
// and flags comes in with a summary; a big mbox file is cancelled in the middle and started
// again, going on where it was with nothing twice; a whole IMAP account at a Dovecot provider
// (test/helpers/provider.ts) is refused with a wrong password in plain words, then imported.
// The Overview shows where LMTP listens.

import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM } from '../playwright.config.js';
import { SqliteAccountStore } from '../server/accounts/index.js';
import { SCREENSHOTS, startAppliance, tempDir, writeConfig, type RunningAppliance } from '../test/helpers/appliance.js';
import { deliver, emptyMaildir, simpleMessage, tempDir as peerDir } from '../test/helpers/maildir.js';
import { providerSkip, startProvider, type Provider } from '../test/helpers/provider.js';

test.describe.configure({ mode: 'serial' });
test.skip(!fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}`);

const MBOX_MESSAGES = 6000;

let data: string;
let sources: string;
let appliance: RunningAppliance;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const folderCount = (folder: string) => ['cur', 'new'].reduce((n, d) => n + fs.readdirSync(path.join(data, 'mail', 'alice', 'Maildir', folder, d)).length, 0);

test.beforeAll(async ({ browser }) => {
  data = tempDir('e2e-import');
  writeConfig(data, '# test\nPORT=0\nLMTP_PORT=0\n', '# test\nSSLPORT=0\n');
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'alice-password' });
  accounts.close();
  sources = peerDir('e2e-import-sources');
  const maildir = emptyMaildir(path.join(sources, 'Maildir'));
  emptyMaildir(path.join(maildir, '.Lists.node'));
  for (let i = 0; i < 3; i++) deliver(maildir, simpleMessage(`inbox-${i}`));
  const listed = deliver(maildir, simpleMessage('list-0'), '.Lists.node');
  fs.renameSync(listed, path.join(maildir, '.Lists.node', 'cur', `${path.basename(listed)}:2,FS`));
  const mbox = [];
  for (let i = 0; i < MBOX_MESSAGES; i++) mbox.push(`From a@example.org Sat Dec  5 10:00:00 2026\nSubject: m${i}\n\n${'body line\n'.repeat(20)}`);
  fs.writeFileSync(path.join(sources, 'big.mbox'), mbox.join('\n'));
  appliance = await startAppliance(data);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

test.afterAll(async () => {
  await context?.close();
  const code = await appliance?.stop();
  expect(code).toBe(0);
  fs.rmSync(data, { recursive: true, force: true });
  fs.rmSync(sources, { recursive: true, force: true });
});

test('the Overview shows where LMTP delivery listens', async () => {
  await page.goto(appliance.url);
  await expect(page.locator('#overview-lmtp .tile-value')).toHaveText(/^127\.0\.0\.1 port [1-9]\d*$/, { timeout: 20_000 });
});

test('a Maildir comes in with its folders and a summary', async () => {
  await page.click('nav button:has-text("Import")');
  await page.selectOption('#import-form select[name="kind"]', 'maildir');
  await expect(page.locator('#import-form [data-field="format"]')).toBeHidden();
  await page.fill('#import-form input[name="path"]', 'relative/Maildir');
  await page.click('#import-start');
  await expect(page.locator('#import-form .field-error[data-for="path"]')).toHaveText(/whole path/);
  await page.fill('#import-form input[name="path"]', path.join(sources, 'Maildir'));
  await page.fill('#import-form input[name="folder"]', 'Old');
  await page.click('#import-start');
  const job = page.locator('#import-jobs [data-import]').first();
  await expect(job).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(job.locator('[data-summary]')).toHaveText('4 imported, 0 already there');
  expect(folderCount('.Old')).toBe(3);
  expect(fs.readdirSync(path.join(data, 'mail', 'alice', 'Maildir', '.Old.Lists.node', 'cur'))[0]).toMatch(/:2,FS$/);
});

test('a big mbox file: Cancel stops it, starting again goes on, nothing twice', async () => {
  await page.selectOption('#import-form select[name="kind"]', 'mbox');
  await page.fill('#import-form input[name="path"]', path.join(sources, 'big.mbox'));
  await page.fill('#import-form input[name="folder"]', 'Big');
  await page.click('#import-start');
  const job = page.locator('#import-jobs [data-import]').first();
  await expect(job.locator('.job-details')).toHaveText(/[1-9][\d,]* imported/, { timeout: 30_000 });
  await expect(job.locator('.job-details')).toHaveText(/left/);
  // Pressed while the progress moves on: the card is updated under the pointer, and the press
  // must still be a click on Cancel (a card drawn anew lost it: the job ran to its end).
  const details = (await job.locator('.job-details').textContent()) ?? '';
  const box = (await job.locator('button[data-cancel]').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await expect(job.locator('.job-details')).not.toHaveText(details);
  await page.mouse.up();
  await expect(job).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
  await expect(job.locator('button[data-cancel]')).toBeHidden();
  await expect(job.locator('[data-summary]')).toHaveText(/imported, 0 already there; stopped before the end/);
  const first = folderCount('.Big');
  expect(first).toBeGreaterThan(0);
  expect(first).toBeLessThan(MBOX_MESSAGES);
  await page.click('#import-start');
  const again = page.locator('#import-jobs [data-import]').first();
  await expect(again).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(again.locator('[data-summary]')).toHaveText(`${MBOX_MESSAGES - first} imported, ${first} already there`);
  expect(folderCount('.Big')).toBe(MBOX_MESSAGES);
});

test.describe('from an IMAP account', () => {
  test.skip(Boolean(providerSkip), String(providerSkip));
  let providerDir: string;
  let provider: Provider;
  test.beforeAll(async () => {
    providerDir = peerDir('e2e-import-provider');
    provider = await startProvider(providerDir);
    provider.deliver(simpleMessage('remote-1'));
    provider.deliver(simpleMessage('remote-2'), '.Work');
  });
  test.afterAll(() => {
    provider?.stop();
    fs.rmSync(providerDir, { recursive: true, force: true });
  });

  test('a wrong password is said in plain words; then every folder comes in', async () => {
    await page.selectOption('#import-form select[name="kind"]', 'imap');
    await page.selectOption('#import-form select[name="tls"]', 'none');
    await page.fill('#import-form input[name="host"]', '127.0.0.1');
    await page.fill('#import-form input[name="port"]', String(provider.imapPort));
    await page.fill('#import-form input[name="username"]', 'alice');
    await page.fill('#import-form input[name="password"]', 'wrong');
    await page.fill('#import-form input[name="folder"]', 'Remote');
    await page.click('#import-start');
    const failed = page.locator('#import-jobs [data-import]').first();
    await expect(failed).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });
    await expect(failed.locator('[data-summary]')).toHaveText(/refused the login of alice/);
    await page.fill('#import-form input[name="password"]', 'secret');
    await page.click('#import-start');
    const job = page.locator('#import-jobs [data-import]').first();
    await expect(job).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
    await expect(job.locator('[data-summary]')).toHaveText('2 imported, 0 already there');
    expect(folderCount('.Remote')).toBe(1);
    expect(folderCount('.Remote.Work')).toBe(1);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'import.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

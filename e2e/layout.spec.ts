// Layout at a small window (800x600): the tables of Accounts and Live sessions keep every
// row action reachable, and their cells line up (the `.actions` rule once made the actions
// cell a flex box, outside the table's layout: rows stepped down and the right border went).
// Every screen fits the window at both sizes (no sideways scrolling, no action cut off).
// Its own appliance, so that it can run alone.

import fs from 'node:fs';
import net from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM } from '../playwright.config.js';
import { checkFits } from './helpers.js';
import { rawConnect, startAppliance, tempDir, writeConfig, type RunningAppliance } from '../test/helpers/appliance.js';

test.skip(!fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}`);

let data: string;
let appliance: RunningAppliance;
const sockets: net.Socket[] = [];

test.beforeAll(async () => {
  data = tempDir('e2e-layout');
  writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
  appliance = await startAppliance(data);
  const call = (method: string, args: unknown[]) =>
    fetch(new URL(`/api/${method}`, appliance.url), { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Appliance-Token': appliance.token }, body: JSON.stringify(args) });
  for (const name of ['alice', 'bob-with-a-rather-long-name']) await call('addAccount', [{ username: name, password: 'long enough password' }]);
  // A quota makes a usage bar in the Size cell (it once stuck out of its card at 800 px).
  await call('setQuota', ['alice', { bytes: 50 * 1024 * 1024, messages: null }]);
});

test.afterAll(async () => {
  for (const s of sockets) s.destroy();
  await appliance?.stop();
  fs.rmSync(data, { recursive: true, force: true });
});

/** Every cell of each row spans the row's full height, and nothing sticks out of the window. */
async function checkTable(page: Page, rows: string, action: string): Promise<void> {
  const width = page.viewportSize()!.width;
  const boxes = await page.locator(rows).evaluateAll((trs) =>
    trs.map((tr) => {
      const r = tr.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, cells: [...tr.children].map((td) => { const c = td.getBoundingClientRect(); return { top: c.top, bottom: c.bottom, right: c.right, display: getComputedStyle(td).display }; }) };
    }),
  );
  expect(boxes.length).toBeGreaterThan(0);
  for (const row of boxes) {
    for (const cell of row.cells) {
      expect(cell.display === 'table-cell' || cell.display === 'block', `a cell displayed as ${cell.display}`).toBeTruthy();
      expect(cell.right, 'a cell sticks out of the window').toBeLessThanOrEqual(width + 0.5);
      if (cell.display === 'table-cell') {
        expect(Math.abs(cell.top - row.top), 'a cell stepped down from its row').toBeLessThan(1.5);
        expect(Math.abs(cell.bottom - row.bottom), 'a cell ends before its row').toBeLessThan(1.5);
      }
    }
  }
  // The row action itself, opened where it sits in a menu, is in the window and can be clicked.
  // Retried as a whole: live tables (sessions) are drawn again every few seconds, which
  // closes the menu and replaces the row under the test.
  await expect(async () => {
    const first = page.locator(rows).first();
    const menu = first.locator('details.row-menu:not([open]) > summary');
    if (await menu.count()) await menu.click();
    const button = first.locator(action);
    await expect(button).toBeVisible({ timeout: 1000 });
    const box = await button.boundingBox();
    expect(box, `${action} has no box`).not.toBeNull();
    expect(box!.x + box!.width, `${action} is cut off`).toBeLessThanOrEqual(width);
    await button.click({ trial: true, timeout: 1000 });
  }).toPass({ timeout: 15_000 });
}

test('tables fit and line up at 800x600', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  const page = await context.newPage();
  await page.goto(appliance.url);
  await page.click('nav button:has-text("Accounts")');
  await page.locator('tr[data-account="alice"]').waitFor();
  await checkTable(page, '#account-list tbody tr', 'button:has-text("Remove")');
  for (let i = 0; i < 2; i++) {
    const c = await rawConnect(appliance.imapPort!);
    sockets.push(c.socket);
  }
  await page.click('nav button:has-text("Live sessions")');
  await page.locator('#session-list tr[data-session]').first().waitFor();
  await checkTable(page, '#session-list tbody tr', 'button:has-text("Disconnect")');
  await context.close();
});

for (const [width, height] of [[800, 600], [1280, 800]] as const) {
  test(`no screen is wider than the window, nor cuts off an action, at ${width}x${height}`, async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    await page.goto(appliance.url);
    for (const screen of ['Overview', 'Accounts', 'Mail sources', 'Live sessions', 'Log', 'Settings', 'Connect a client']) {
      await page.click(`nav button:has-text("${screen}")`);
      await page.locator('section.screen:not([hidden]) :is(h2, h3)').first().waitFor();
      if (screen === 'Accounts') await page.locator('tr[data-account="alice"] .quota-bar').waitFor();
      if (screen === 'Settings') await page.evaluate(() => ((document.querySelector('#advanced-settings') as HTMLDetailsElement).open = true));
      await checkFits(page, screen);
    }
    await context.close();
  });
}

test('a log line at 800 px keeps time, level and account on one line, the sentence under them', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  const page = await context.newPage();
  await page.goto(appliance.url);
  await page.click('nav button:has-text("Log")');
  const line = page.locator('#log-lines .line').filter({ has: page.locator('.account:text-is("alice")') }).first();
  await line.waitFor();
  const box = async (part: string) => (await line.locator(part).boundingBox())!;
  const [time, level, account, message] = [await box('.time'), await box('.level'), await box('.account'), await box('.message')];
  expect(Math.abs(level.y - time.y)).toBeLessThan(2);
  expect(Math.abs(account.y - time.y)).toBeLessThan(2);
  expect(message.y).toBeGreaterThanOrEqual(time.y + time.height - 1);
  await context.close();
});

test('table cells line up at 1280x800 too', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(appliance.url);
  await page.click('nav button:has-text("Accounts")');
  await page.locator('tr[data-account="alice"]').waitFor();
  await checkTable(page, '#account-list tbody tr', 'button:has-text("Remove")');
  await context.close();
});

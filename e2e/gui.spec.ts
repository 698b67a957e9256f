// The appliance end to end, through its browser GUI only: the real headless appliance
// (dist/server/bin/appliance.js) on a fresh data directory, Debian's Chromium driven by
// @playwright/test (playwright.config.ts points it at /usr/bin/chromium: browser downloads are
// not possible here), Python's imaplib as the mail program, and plain sockets. The steps run in
// order on one page, as a person would use the GUI; every screen is saved as a screenshot in
// test-results/screenshots/, and a failing step leaves a trace and a screenshot in test-results/e2e/.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM } from '../playwright.config.js';
import { shot as shotBoth } from './helpers.js';
import { SCREENSHOTS, bigMaildir, pythonIdle, rawConnect, startAppliance, tempDir, writeConfig, type RunningAppliance } from '../test/helpers/appliance.js';
import { ImapTestClient } from '../test/helpers/imap-client.js';

test.describe.configure({ mode: 'serial' });
test.skip(!fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (npm run peers installs Debian's chromium)`);
test.skip(!hasPython(), 'python3 is not installed');

let data: string;
let appliance: RunningAppliance;
let context: BrowserContext;
let page: Page;
let imapPort: number;
const sockets: net.Socket[] = [];
const pageErrors: string[] = [];

/** The page at 1280x800 (name.png) and at 800x600 (name-800x600.png), whole pages; it must fit at 800 px. */
const shot = (name: string) => shotBoth(page, name);
/** The window at 1280x800 and at 800x600 with this row in view (name.png, name-800x600.png). */
const rowShot = async (name: string, row: string) => {
  for (const [w, h, suffix] of [[800, 600, '-800x600'], [1280, 800, '']] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.locator(row).scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, -150));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}${suffix}.png`) });
  }
};
/** Click Apply and wait for its own confirmation (earlier toasts are cleared first). */
const apply = async () => {
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await page.click('#apply-settings');
  await page.locator('.toast:has-text("Settings saved")').waitFor();
};
const open = async (tab: string) => {
  await page.click(`nav button:has-text("${tab}")`);
};
/**
 * Opens an account's row menu, clicks an item and waits for what it opens. The list may be drawn
 * again meanwhile (an accounts event after the last step): its menu then starts closed, and the
 * item's button is hidden in it, so the steps are tried again.
 */
const rowMenu = async (user: string, item: string, opened: string) => {
  await expect(async () => {
    if (await page.locator(opened).isVisible()) return;
    const menu = page.locator(`tr[data-account="${user}"] details.row-menu`);
    if (!(await menu.evaluate((d: HTMLDetailsElement) => d.open))) await menu.locator('> summary').click({ timeout: 2000 });
    await page.locator(`tr[data-account="${user}"] button:has-text("${item}")`).click({ timeout: 2000 });
    await page.locator(opened).waitFor({ timeout: 2000 });
  }).toPass({ timeout: 30_000 });
};

test.beforeAll(async ({ browser }) => {
  data = tempDir('e2e');
  // Any free ports, so that tests never collide; everything else from the defaults.
  writeConfig(data, '# test\nPORT=0\n', '# test\nSSLPORT=0\n');
  appliance = await startAppliance(data);
  expect(appliance.imapPort, `no IMAP port in: ${appliance.out.lines.join('\n')}`).toBeTruthy();
  imapPort = appliance.imapPort!;
  // One page for all steps (they build on each other); Playwright traces this context too
  // (trace: 'retain-on-failure' in playwright.config.ts).
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status === testInfo.expectedStatus) return;
  await page.screenshot({ path: testInfo.outputPath('failure.png'), fullPage: true }).catch(() => undefined);
});

test.afterAll(async () => {
  for (const s of sockets) s.destroy();
  await context?.close();
  const code = await appliance?.stop();
  expect(code, `the appliance should stop cleanly; stderr:\n${appliance?.err.lines.slice(-20).join('\n')}`).toBe(0);
  fs.rmSync(data, { recursive: true, force: true });
});

test('opens with the token on the Overview, drops the token from the address, and says what to do first', async () => {
  await page.goto(appliance.url);
  await page.waitForSelector('#first-steps:not([hidden])');
  expect(page.url()).not.toMatch(/token=/);
  const steps = await page.textContent('#first-steps');
  expect(steps).toMatch(/Add an account/);
  expect(await page.textContent('#status')).toMatch(/Running/);
  // The Overview is the first screen.
  expect(await page.getAttribute('#tab-overview', 'aria-selected')).toBe('true');
  await expect(page.locator('#overview-state')).toHaveText('Running');
  await expect(page.locator('#overview-reach')).toContainText('This computer only');
  await expect(page.locator('#overview-ports')).toContainText(`Port ${imapPort}: STARTTLS`);
  await expect(page.locator('#overview-ports')).toContainText('SSL/TLS');
  await expect(page.locator('#overview-fingerprint')).toHaveText(appliance.fingerprint!);
  await expect(page.locator('#overview-certificate')).toContainText(/valid until \d\d\/\d\d\/\d{4}/);
  await expect(page.locator('#overview-disk')).toContainText(/free/);
  await expect(page.locator('#overview-uptime')).toContainText(/Up for \d+ s/);
  await expect(page.locator('#overview-failed')).toContainText('Failed logins in the last day: 0');
  await shot('01-overview-first-start');
  await open('Accounts');
  await page.waitForSelector('#account-list .empty');
});

test('adds an account; its Maildir is created', async () => {
  await open('Accounts');
  await page.fill('#add-account input[name="username"]', 'alice');
  await page.fill('#add-account input[name="password"]', 'correct horse battery');
  await page.click('#add-account button[type="submit"]');
  await page.waitForSelector('tr[data-account="alice"]');
  const row = (await page.textContent('tr[data-account="alice"]'))!;
  expect(row).toMatch(/enabled/);
  const maildir = path.join(data, 'mail', 'alice', 'Maildir');
  expect(row.includes(maildir), row).toBeTruthy();
  for (const sub of ['cur', 'new', 'tmp']) expect(fs.statSync(path.join(maildir, sub)).isDirectory()).toBeTruthy();
  // A second account with the same name is refused, next to the field.
  await page.fill('#add-account input[name="username"]', 'ALICE');
  await page.fill('#add-account input[name="password"]', 'long enough password');
  await page.click('#add-account button[type="submit"]');
  await page.waitForSelector('#add-account .field-error[data-for="username"]:has-text("already exists")');
  // Spaces and short passwords are refused at their fields; Generate makes a long one, shown.
  await page.fill('#add-account input[name="username"]', 'carol smith');
  await page.waitForSelector('#add-account .field-error[data-for="username"]:has-text("cannot contain spaces")');
  await page.fill('#add-account input[name="username"]', 'carol');
  await page.fill('#add-account input[name="password"]', 'short');
  await page.click('#add-account button[type="submit"]');
  await page.waitForSelector('#add-account .field-error[data-for="password"]:has-text("at least 8 characters")');
  await page.click('#add-account button.generate-password');
  const generated = await page.inputValue('#add-account input[name="password"]');
  expect(generated).toMatch(/^[A-Za-z2-9]{16}$/);
  expect(await page.getAttribute('#add-account input[name="password"]', 'type')).toBe('text');
  await page.click('#add-account button.show-password');
  expect(await page.getAttribute('#add-account input[name="password"]', 'type')).toBe('password');
  // A Maildir location that does not exist: asked before it is created.
  const missing = path.join(data, 'elsewhere', 'carol');
  await page.fill('#add-account input[name="maildir"]', missing);
  await page.locator('#maildir-inspection:has-text("does not exist yet")').waitFor();
  await page.click('#add-account button[type="submit"]');
  await page.locator('#account-dialog[open] #create-maildir').waitFor();
  expect(fs.existsSync(missing), 'nothing made before the answer').toBeFalsy();
  await shot('02-accounts-create-maildir');
  await page.click('#create-maildir button[type="submit"]');
  await page.waitForSelector('tr[data-account="carol"]');
  expect(fs.statSync(path.join(missing, 'cur')).isDirectory()).toBeTruthy();
  // An existing Maildir: what is in it is said before saving.
  const existing = path.join(data, 'old', 'dave');
  bigMaildir(existing, 55, ['A', 'B', 'C']);
  await page.fill('#add-account input[name="maildir"]', existing);
  await page.locator('#maildir-inspection:has-text("55 messages in 4 folders")').waitFor();
  await page.fill('#add-account input[name="maildir"]', '');
  await page.fill('#add-account input[name="username"]', '');
  await page.fill('#add-account input[name="password"]', '');
  await shot('02-accounts');
});

test('shows a logged-in IDLE session live, and disconnecting it sends BYE', async () => {
  const client = pythonIdle(imapPort, 'alice', 'correct horse battery');
  try {
    await client.out.wait(/^CONT \+/, 15_000);
    await open('Live sessions');
    const row = page.locator('#session-list tr[data-session]').filter({ hasText: 'alice' });
    await row.locator('td.idle:has-text("IDLE")').waitFor({ timeout: 10_000 });
    expect((await row.locator('td.folder').textContent())?.trim()).toBe('INBOX');
    expect(await row.locator('td.state').textContent()).toMatch(/folder open/);
    await shot('03-live-sessions');
    // Pressed while another program connects: the list changes under the pointer, and the press
    // must still be a click on Disconnect (a list drawn anew lost it).
    const box = (await row.locator('button[data-disconnect]').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    const other = await rawConnect(imapPort);
    await expect(page.locator('#session-list tr[data-session]')).toHaveCount(2);
    await page.mouse.up();
    other.socket.destroy();
    await client.out.wait(/^LINE \* BYE /, 10_000);
    await client.out.wait(/^EOF/, 10_000);
    await page.locator('#session-list .empty').waitFor({ timeout: 10_000 });
  } finally {
    client.proc.kill();
  }
});

test('enforces a lower MAXPERIP at once after Apply', async () => {
  await open('Settings');
  const input = page.locator('#setting-MAXPERIP');
  await input.fill('2');
  await page.locator('#apply-bar').getByText('MAXPERIP: in force at once').waitFor();
  await apply();
  for (let i = 0; i < 2; i++) {
    const c = await rawConnect(imapPort);
    sockets.push(c.socket);
    expect(c.first).toMatch(/^\* OK/);
  }
  const third = await rawConnect(imapPort);
  sockets.push(third.socket);
  expect(third.first).toMatch(/^\* BYE Too many connections from your address/);
  for (const s of sockets.splice(0)) s.destroy();
});

test('explains a bad port number and a port in use, and applies nothing', async () => {
  await open('Settings');
  await page.locator('#setting-PORT').fill('99999');
  await page.locator('.field-error[data-for="PORT"]:has-text("out of range")').waitFor();
  expect(await page.locator('#apply-settings').isDisabled()).toBe(true);
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen({ port: 0, host: '127.0.0.1' }, () => r()));
  const taken = (blocker.address() as net.AddressInfo).port;
  try {
    await page.locator('#setting-PORT').fill(String(taken));
    await page.locator(`.field-error[data-for="PORT"]:has-text("port ${taken} is in use")`).waitFor();
    await page.locator('#setting-TLS_CERTFILE').fill('/nonexistent/cert.pem');
    await page.locator('.field-error[data-for="TLS_CERTFILE"]:has-text("not found")').waitFor();
    // Both problems at once, each at its setting.
    expect(await page.textContent('.field-error[data-for="PORT"]')).toMatch(new RegExp(`port ${taken} is in use`));
    expect(await page.textContent('#apply-bar')).toMatch(/Fix first: .*PORT/);
    await rowShot('04-settings-port-in-use', '[data-setting-row="PORT"]');
    await rowShot('04-settings-missing-certificate', '[data-setting-row="TLS_CERTFILE"]');
  } finally {
    blocker.close();
  }
  await page.click('#discard-settings');
  const file = fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8');
  expect(file).toMatch(/^PORT=0$/m);
  // The same port for both listeners: the error is on the field the user changed (PORT), not on SSLPORT.
  const free = await freePort();
  await page.locator('#setting-SSLPORT').fill(String(free));
  await apply();
  // The listeners restarted: PORT=0 took another free port.
  await expect(page.locator('#status')).toContainText(`TLS ${free}`);
  imapPort = Number(/ports (\d+)/.exec((await page.textContent('#status'))!)![1]);
  await page.locator('#setting-PORT').fill(String(free));
  await page.locator(`.field-error[data-for="PORT"]:has-text("port ${free} is also given for SSLPORT")`).waitFor();
  await expect(page.locator('.field-error[data-for="SSLPORT"]')).toHaveText('');
  await expect(page.locator('#setting-PORT')).toHaveClass(/invalid/);
  await rowShot('04-settings-same-port', '[data-setting-row="PORT"]');
  await page.click('#discard-settings');
});

test('saves settings in Courier format, keeping the file\'s comments', async () => {
  await open('Settings');
  await page.click('#advanced-settings > summary');
  await page.locator('#setting-IMAP_IDLE_TIMEOUT').fill('45');
  await page.locator('#setting-IMAP_TRASHFOLDERNAME').fill('Deleted Items');
  await page.locator('#apply-bar').getByText('for sessions that connect from now on').waitFor();
  await apply();
  const file = fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8');
  expect(file).toMatch(/^# test$/m);
  expect(file).toMatch(/^PORT=0$/m);
  expect(file).toMatch(/^MAXPERIP=2$/m);
  expect(file).toMatch(/^IMAP_IDLE_TIMEOUT=45$/m);
  expect(file).toMatch(/^IMAP_TRASHFOLDERNAME="Deleted Items"$/m);
  // The GUI shows where each value now comes from.
  await page.locator('[data-setting-row="IMAP_IDLE_TIMEOUT"] .hint:has-text("set in imapd line")').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, '05-settings.png') });
  await shot('05-settings-full');
});

test('shows settings in plain words: Basic first, switches, sizes, a search over all', async () => {
  await open('Settings');
  // Basic: plain label first, the Courier name second.
  const maxperip = page.locator('[data-group="basic"] [data-setting-row="MAXPERIP"]');
  await expect(maxperip.locator('label.plain-label')).toHaveText('Connections from one address');
  await expect(maxperip.locator('code.courier-name')).toHaveText('MAXPERIP');
  await expect(page.locator('[data-group="basic"] [data-setting-row="IMAP_MAXMSGSIZE"] .in-words')).toHaveText('= 64 MB');
  // "use default" only where the value is not the default: MAXPERIP=2 is set, PORT=0 too, IMAP_MAXLINE is not.
  await expect(maxperip.locator('button:has-text("use default")')).toHaveCount(1);
  await expect(page.locator('[data-setting-row="IMAP_MAXLINE"] button:has-text("use default")')).toHaveCount(0);
  // Newer settings have plain words and their group too (every one is checked in test/appliance/setting-labels.test.ts).
  await expect(page.locator('[data-group="tls"] [data-setting-row="TLS_VERIFYPEER"] label.plain-label')).toHaveText('Ask mail programs for a client certificate');
  await expect(page.locator('[data-group="operations"] legend')).toHaveText('Access, logs and processes');
  await expect(page.locator('[data-group="operations"] [data-setting-row="IMAPACCESSFILE"] code.courier-name')).toHaveText('IMAPACCESSFILE');
  await expect(page.locator('[data-group="folders"] [data-setting-row="OUTBOX"] label.plain-label')).toHaveText('Folder that sends mail (Outbox)');
  // On/off settings are switches that write Courier's values.
  const required = page.locator('#setting-IMAP_TLS_REQUIRED');
  expect(await required.getAttribute('type')).toBe('checkbox');
  await page.click('[data-setting-row="IMAP_TLS_REQUIRED"] label.switch-row');
  await page.locator('#apply-bar').getByText('IMAP_TLS_REQUIRED').first().waitFor();
  await page.click('#discard-settings');
  // Search: over labels, names and meanings, opening Advanced where the match is.
  await page.evaluate(() => ((document.querySelector('#advanced-settings') as HTMLDetailsElement).open = false));
  await page.fill('#settings-search', 'keywords');
  await expect(page.locator('[data-setting-row="IMAP_KEYWORDS"]')).toBeVisible();
  await expect(page.locator('[data-setting-row="MAXPERIP"]')).toBeHidden();
  expect(await page.locator('#advanced-settings').getAttribute('open')).not.toBeNull();
  await shot('05-settings-search');
  await page.fill('#settings-search', 'no such setting anywhere');
  await expect(page.locator('#settings-none')).toBeVisible();
  await page.fill('#settings-search', '');
  await expect(page.locator('[data-setting-row="MAXPERIP"]')).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('05-settings-basic');
});

test('tests the account store named in ACCOUNTS before it is saved: the accounts found, or why not', async () => {
  await open('Settings');
  await page.fill('#settings-search', 'ACCOUNTS');
  const row = page.locator('[data-setting-row="ACCOUNTS"]');
  await expect(row.locator('.applies')).toHaveText('applies at the next start');
  await row.locator('button[data-action="test-accounts"]').click();
  await expect(row.locator('[data-test-result="ACCOUNTS"]')).toHaveText(/^Connected to the SQLite file in the data directory: \d+ accounts?\.$/);
  // A server that is not there: the reason, and nothing saved.
  await page.locator('#setting-ACCOUNTS').fill('postgres://imapd:hidden@127.0.0.1:1/accounts');
  await page.locator('#apply-bar').getByText('ACCOUNTS: in force when the appliance starts again').waitFor();
  await row.locator('button[data-action="test-accounts"]').click();
  await expect(row.locator('[data-test-result="ACCOUNTS"]')).toHaveText(/ECONNREFUSED/);
  await expect(row.locator('[data-test-result="ACCOUNTS"]')).not.toContainText('hidden');
  await shot('05-settings-accounts-test');
  await page.click('#discard-settings');
  await page.fill('#settings-search', '');
  expect(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8')).not.toMatch(/^ACCOUNTS=/m);
});

test('shows the progress of indexing a large existing Maildir while the server keeps serving', async () => {
  const maildir = path.join(data, 'moved', 'bob');
  bigMaildir(maildir, 3000, ['Archive', 'Sent']);
  await open('Accounts');
  await page.fill('#add-account input[name="username"]', 'bob');
  await page.fill('#add-account input[name="password"]', 'bobs password');
  await page.fill('#add-account input[name="maildir"]', maildir);
  await page.click('#add-account button[type="submit"]');
  await page.locator('#jobs .job').waitFor({ timeout: 10_000 });
  // The server answers while the indexing runs.
  const c = await rawConnect(imapPort);
  expect(c.first).toMatch(/^\* OK/);
  c.socket.destroy();
  // A picture of the bar half way, if the machine is slow enough to catch it running.
  await page
    .waitForFunction(() => {
      const bar = document.querySelector<HTMLProgressElement>('#jobs .job.running progress');
      return bar !== null && bar.value > 0 && /about .* left/.test(document.querySelector('#jobs .job.running')?.textContent ?? '');
    }, null, { timeout: 20_000 })
    .catch(() => undefined);
  await shot('06-progress');
  await page.locator('#jobs .job.done').waitFor({ timeout: 60_000 });
  expect(await page.textContent('#jobs .job.done')).toMatch(/3,000 of 3,000 messages \(100%\).*3 of 3 folders/);
  await page.locator('tr[data-account="bob"] td.num:has-text("3,000")').waitFor({ timeout: 15_000 });
  expect(fs.existsSync(path.join(maildir, 'courierimapuiddb')), 'the UID database was written').toBeTruthy();
  expect(fs.existsSync(path.join(maildir, '.Archive', 'courierimapuiddb'))).toBeTruthy();
  await shot('07-accounts-usage');
});

test('shows the log live, filtered by account and level', async () => {
  await open('Log');
  await page.locator('#log-lines .line .account:text-is("bob")').first().waitFor();
  await page.fill('#log-account', 'alice');
  // Only alice's lines once the filter is in force, among them her login.
  await page.waitForFunction(() => {
    const accounts = [...document.querySelectorAll('#log-lines .line .account')].map((e) => e.textContent);
    return accounts.length > 0 && accounts.every((a) => a === 'alice');
  });
  await page.locator('#log-lines .line:has-text("alice logged in from 127.0.0.1")').first().waitFor();
  // Date and time on each line.
  expect(await page.locator('#log-lines .line .time').first().textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  await page.selectOption('#log-level', 'warn');
  await page.locator('#log-lines .empty, #log-lines .line.warn, #log-lines .line.error').first().waitFor();
  expect(await page.locator('#log-lines .line.info').count()).toBe(0);
  await page.selectOption('#log-level', 'info');
  await page.fill('#log-account', '');
  await page.locator('#log-lines .line .account:text-is("bob")').first().waitFor();
  // A live line: a failed login appears without reloading.
  const c = await rawConnect(imapPort);
  c.socket.write('a LOGIN alice wrong-password\r\n');
  await page.locator('#log-lines .line.warn:has-text("Failed login as alice from 127.0.0.1")').waitFor({ timeout: 15_000 });
  c.socket.destroy();
  // Settings changes as old -> new; search; download of what is shown.
  await page.locator('#log-lines .line').filter({ hasText: 'settings changed: MAXPERIP "4" -> "2"' }).first().waitFor();
  await page.fill('#log-search', 'failed login');
  await page.waitForFunction(() => {
    const lines = [...document.querySelectorAll('#log-lines .line .message')].map((e) => e.textContent ?? '');
    return lines.length > 0 && lines.every((l) => /failed login/i.test(l));
  });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#log-download')]);
  const saved = fs.readFileSync((await download.path())!, 'utf8');
  expect(saved).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WARN \[alice\] LOGIN FAILED user=alice ip=127\.0\.0\.1/m);
  expect(saved).not.toMatch(/ INFO /);
  await page.fill('#log-search', '');
  await shot('08-log');
});

test('tells how to connect a mail program, with the certificate fingerprint', async () => {
  await open('Connect a client');
  await page.locator('#fingerprint').waitFor();
  expect((await page.textContent('#fingerprint'))?.trim()).toBe(appliance.fingerprint);
  const ports = (await page.textContent('#connect-ports'))!;
  expect(ports).toMatch(new RegExp(`${imapPort}\\s*STARTTLS`));
  expect(ports).toMatch(/SSL\/TLS/);
  expect(await page.textContent('#certificate-advice')).toMatch(/self-signed/);
  expect(await page.textContent('#connect-hosts')).toMatch(/127\.0\.0\.1/);
  await shot('09-connect');
});

test('sets a quota on an account; its maildirsize carries it and the Size column shows it', async () => {
  await open('Accounts');
  await rowMenu('alice', 'Quota', '#account-dialog[open] #quota-form');
  await page.fill('#quota-form input[name="quotaBytes"]', 'lots');
  await page.click('#quota-form button[type="submit"]');
  await page.waitForSelector('#quota-form .field-error[data-for="quotaBytes"]:has-text("whole number")');
  await page.fill('#quota-form input[name="quotaBytes"]', '50');
  await page.fill('#quota-form input[name="quotaMessages"]', '1000');
  await shot('10-quota-dialog');
  await page.click('#quota-form button[type="submit"]');
  await page.locator('#account-dialog[open]').waitFor({ state: 'detached' });
  await page.locator('tr[data-account="alice"] .quota-of:has-text("of 50 MB")').waitFor();
  const sizeFile = path.join(data, 'mail', 'alice', 'Maildir', 'maildirsize');
  expect(fs.readFileSync(sizeFile, 'utf8')).toMatch(/^52428800S,1000C\n/);
});

test('shares alice\'s folder with bob in plain words; bob finds it under #shared over IMAP, until the share is removed', async () => {
  const alice = await imapLogin('alice', 'correct horse battery');
  const bob = await imapLogin('bob', 'bobs password');
  try {
    expect((await alice.command('CREATE INBOX.Projects')).tagged).toMatch(/^OK/);
    await open('Accounts');
    await rowMenu('alice', 'Share a folder', '#share-folder:focus');
    await expect(page.locator('#share-owner')).toHaveValue('alice');
    await page.selectOption('#share-folder', 'INBOX.Projects');
    await page.selectOption('#share-account', 'bob');
    await page.selectOption('#share-access', 'read-mark');
    await expect(page.locator('#share-access-meaning')).toContainText('mark messages read');
    await page.click('#share-form button[type="submit"]');
    const row = page.locator('tr[data-share="alice INBOX.Projects user=bob"]');
    await expect(row.locator('td.access')).toHaveText('Read and mark');
    await expect(row.locator('code.rights')).toHaveText('lrsw');
    await expect(row).toContainText('#shared.alice.Projects');
    await row.scrollIntoViewIfNeeded();
    await shot('10-sharing');
    // On disk: the folder's ACL as SETACL writes it; over IMAP: bob sees the folder with those rights.
    expect(fs.readFileSync(path.join(data, 'mail', 'alice', 'Maildir', '.Projects', 'courierimapacl'), 'utf8')).toMatch(/^user=bob lrsw$/m);
    const listed = await bob.command('LIST "" "#shared.*"');
    expect(listed.lines).toContain('* LIST (\\HasNoChildren) "." "#shared.alice.Projects"');
    expect((await bob.command('MYRIGHTS #shared.alice.Projects')).lines).toEqual(['* MYRIGHTS "#shared.alice.Projects" "lrsw"']);
    // Removed: gone from the list and from bob's view.
    await row.locator('button[data-unshare]').click();
    await row.waitFor({ state: 'detached' });
    await page.locator('#share-list .empty').waitFor();
    expect((await bob.command('LIST "" "#shared.*"')).lines.filter((l) => l.includes('Projects'))).toEqual([]);
  } finally {
    alice.close();
    bob.close();
  }
});

test('changes a password, a mail server and the sharable Maildirs in their dialogs; refusals show at their fields', async () => {
  await open('Accounts');
  const menu = async (item: string, form: string) => {
    await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
    // The list may be drawn again meanwhile (after the last dialog): its menu then starts closed.
    await expect(async () => {
      await page.locator('tr[data-account="alice"] details.row-menu').evaluate((d: HTMLDetailsElement) => void (d.open = true));
      await page.locator(`tr[data-account="alice"] button:has-text("${item}")`).click({ timeout: 2000 });
      await page.locator(`#account-dialog[open] ${form}`).waitFor({ timeout: 2000 });
    }).toPass({ timeout: 20_000 });
  };
  const closed = async (toast: string) => {
    await page.locator('#account-dialog[open]').waitFor({ state: 'detached' });
    await page.locator(`.toast:has-text("${toast}")`).waitFor();
  };

  await menu('Change password', 'form');
  // A short one the browser refuses itself (minlength).
  await page.fill('#account-dialog input[name="password"]', 'short');
  await page.click('#account-dialog button[type="submit"]');
  expect(await page.locator('#account-dialog input[name="password"]').evaluate((i: HTMLInputElement) => i.validity.tooShort)).toBe(true);
  await page.fill('#account-dialog input[name="password"]', 'a new horse battery');
  await page.click('#account-dialog button[type="submit"]');
  await closed('Password of alice changed');
  (await imapLogin('alice', 'a new horse battery')).close();

  await menu('Mail server', '#mailhost-form');
  await page.fill('#mailhost-form input[name="mailhost"]', 'two words');
  await page.click('#mailhost-form button[type="submit"]');
  await page.waitForSelector('#mailhost-form .field-error[data-for="mailhost"]:not(:empty)');
  await page.fill('#mailhost-form input[name="mailhost"]', 'mail2.example.com');
  await page.click('#mailhost-form button[type="submit"]');
  await closed('Mail of alice is on mail2.example.com');
  await menu('Mail server', '#mailhost-form');
  await page.fill('#mailhost-form input[name="mailhost"]', '');
  await page.click('#mailhost-form button[type="submit"]');
  await closed('Mail of alice is on this server');

  await menu('Sharable Maildirs', '#sharable-form');
  await page.selectOption('#sharable-form select[name="sharable-choice"]', 'group');
  await page.fill('#sharable-form input[name="sharable"]', '');
  await page.click('#sharable-form button[type="submit"]');
  await page.waitForSelector('#sharable-form .field-error[data-for="sharable"]:has-text("Name the group")');
  await page.selectOption('#sharable-form select[name="sharable-choice"]', 'list');
  await page.click('#sharable-form button[type="submit"]');
  await closed('alice sees the sharable Maildirs from the next login');
  await menu('Sharable Maildirs', '#sharable-form');
  expect(await page.inputValue('#sharable-form select[name="sharable-choice"]')).toBe('list');
  await page.selectOption('#sharable-form select[name="sharable-choice"]', 'none');
  await page.click('#sharable-form button[type="submit"]');
  await closed('alice sees no sharable Maildirs');
});

test('an Actions menu left open stays open while the account list is drawn again', async () => {
  await open('Accounts');
  const menu = page.locator('tr[data-account="alice"] details.row-menu');
  if (!(await menu.evaluate((d: HTMLDetailsElement) => d.open))) await menu.locator('> summary').click();
  expect(await menu.evaluate((d: HTMLDetailsElement) => d.open)).toBe(true);
  // Any change to the accounts redraws the list's cells (here one that changes nothing visible).
  await page.evaluate(() => ((document.querySelector('tr[data-account="alice"] td.name') as HTMLElement).dataset.drawn = 'before'));
  const answer = await page.evaluate(async () => (await fetch('/api/enableAccount', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(['alice']), credentials: 'same-origin' })).status);
  expect(answer).toBe(200);
  await page.waitForFunction(() => (document.querySelector('tr[data-account="alice"] td.name') as HTMLElement | null)?.dataset.drawn !== 'before', undefined, { timeout: 10_000 });
  expect(await menu.evaluate((d: HTMLDetailsElement) => d.open)).toBe(true);
  await menu.locator('> summary').click();
});

test('removes an account after confirmation and keeps its mail', async () => {
  await open('Accounts');
  await rowMenu('alice', 'Remove', '#account-dialog[open]');
  await shot('10-remove-dialog');
  await page.locator('#account-dialog button[type="submit"]').click();
  await page.locator('tr[data-account="alice"]').waitFor({ state: 'detached' });
  expect(fs.existsSync(path.join(data, 'mail', 'alice', 'Maildir', 'cur')), 'the mail is kept').toBeTruthy();
});

test('the Overview shows failed logins with their address, live', async () => {
  await open('Overview');
  await page.locator('#overview-failed tr[data-address="127.0.0.1"]').waitFor();
  const before = Number(/(\d+)$/.exec((await page.textContent('#overview-failed h3'))!.trim())![1]);
  const c = await rawConnect(imapPort);
  c.socket.write('a LOGIN mallory guess\r\n');
  await expect(page.locator('#overview-failed h3')).toHaveText(`Failed logins in the last day: ${before + 1}`, { timeout: 15_000 });
  await expect(page.locator('#overview-failed tr[data-address="127.0.0.1"]')).toContainText('mallory');
  c.socket.destroy();
  await expect(page.locator('#overview-mail')).toContainText('3,000 messages');
  await shot('11-overview');
});

test('lets other devices connect with one switch, with setup links and QR codes per account', async () => {
  await open('Connect a client');
  await page.locator('#network-card').waitFor();
  expect(await page.isChecked('#network-switch')).toBe(false);
  await page.locator('.setup-method[data-method="autoconfig"]').waitFor();
  await page.click('#network-card label.switch-row');
  await page.locator('.toast:has-text("Other devices can connect now")').waitFor();
  expect(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8')).toMatch(/^ADDRESS=0$/m);
  expect(fs.readFileSync(path.join(data, 'config', 'imapd-ssl'), 'utf8')).toMatch(/^SSLADDRESS=0$/m);
  await expect(page.locator('#network-switch')).toBeChecked();
  await expect(page.locator('#network-card')).toContainText('Away from home?');
  // This computer's name and its addresses on the network, to type into a phone.
  const lan = page.locator('#lan-addresses');
  await expect(lan).toContainText(os.hostname().split('.')[0]!);
  await expect(lan).toContainText(`${os.hostname().split('.')[0]!.toLowerCase()}.local`);
  for (const a of Object.values(os.networkInterfaces()).flat()) {
    if (a && a.family === 'IPv4' && !a.internal) await expect(lan).toContainText(a.address);
  }
  await expect(lan).not.toContainText('127.0.0.1');
  // Each way a mail program sets itself up: a QR code (an image that loaded) and a link.
  for (const id of ['mobileconfig', 'autoconfig', 'autodiscover']) {
    const method = page.locator(`.setup-method[data-method="${id}"]`);
    await expect(method.locator('a.setup-link')).toHaveAttribute('href', /\.local:\d+\//);
    await page.waitForFunction((sel) => (document.querySelector(sel) as HTMLImageElement | null)?.naturalWidth ?? 0 > 0, `.setup-method[data-method="${id}"] img.qr`);
    // What a phone's camera reads: the QR code, as drawn, holds the link (zbarimg decodes it where installed).
    if (hasZbar()) {
      const png = path.join(data, `qr-${id}.png`);
      await method.locator('img.qr').screenshot({ path: png });
      const read = spawnSync('zbarimg', ['--quiet', '--raw', png], { encoding: 'utf8' });
      expect(read.stdout.trim(), read.stderr).toBe(await method.locator('a.setup-link').getAttribute('href'));
    }
  }
  const link = new URL((await page.getAttribute('.setup-method[data-method="autoconfig"] a.setup-link', 'href'))!);
  expect(link.pathname).toBe('/.well-known/autoconfig/mail/config-v1.1.xml');
  const xml = await (await fetch(`http://127.0.0.1:${link.port}${link.pathname}${link.search}`)).text();
  expect(xml).toMatch(/<username>bob<\/username>/);
  await expect(page.locator('#guides details')).toHaveCount(4);
  await page.locator('#guides details[data-guide="apple"] summary').click();
  await shot('12-connect-network');
  // And back to this computer only.
  await page.click('#network-card label.switch-row');
  await page.locator('.toast:has-text("Only this computer can connect now")').waitFor();
  expect(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8')).toMatch(/^ADDRESS=127\.0\.0\.1$/m);
  await expect(page.locator('#network-switch')).not.toBeChecked();
});

test('stops and starts the server from the Overview', async () => {
  await open('Overview');
  const listening = Number(/Port (\d+): STARTTLS/.exec((await page.textContent('#overview-ports'))!)![1]);
  // Focused from the keyboard, Stop keeps the focus while the Overview is brought up to date.
  await page.focus('#server-stop');
  let updated = page.waitForResponse('**/api/getOverview');
  const first = await rawConnect(listening);
  await updated;
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50))); // the answer is drawn
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('server-stop');
  first.socket.destroy();
  // Pressed while the Overview is brought up to date (a program connects): the press must still
  // be a click on Stop (an Overview drawn anew under it lost it).
  const box = (await page.locator('#server-stop').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  updated = page.waitForResponse('**/api/getOverview');
  const other = await rawConnect(listening);
  await updated;
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50))); // the answer is drawn
  await page.mouse.up();
  other.socket.destroy();
  await expect(page.locator('#overview-state')).toHaveText('Stopped');
  await expect(page.locator('#status')).toHaveText(/stopped/);
  await shot('13-overview-stopped');
  await page.click('#server-start');
  await expect(page.locator('#overview-state')).toHaveText('Running');
  const port = Number(/Port (\d+): STARTTLS/.exec((await page.textContent('#overview-ports'))!)![1]);
  const c = await rawConnect(port);
  expect(c.first).toMatch(/^\* OK/);
  c.socket.destroy();
  imapPort = port;
});

test('a GUI password lets a new browser sign in without the token', async ({ browser }) => {
  await open('Overview');
  await page.fill('#admin-password', 'short');
  await page.click('#admin-password-form button[type="submit"]');
  await page.locator('#admin-password-form .field-error:has-text("at least 10 characters")').waitFor();
  await page.fill('#admin-password', 'the appliance password');
  await page.click('#admin-password-form button[type="submit"]');
  await expect(page.locator('#overview-gui-password')).toContainText('A GUI password is set');
  expect(fs.readFileSync(path.join(data, 'gui-password'), 'utf8')).toMatch(/^\$scrypt\$/);
  const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const p = await other.newPage();
    await p.goto(`http://127.0.0.1:${appliance.guiPort}/`);
    await p.locator('#signin').waitFor();
    expect(new URL(p.url()).pathname).toBe('/signin');
    await p.screenshot({ path: path.join(SCREENSHOTS, '14-signin.png') });
    await p.setViewportSize({ width: 800, height: 600 });
    await p.screenshot({ path: path.join(SCREENSHOTS, '14-signin-800x600.png') });
    await p.setViewportSize({ width: 1280, height: 800 });
    await p.fill('#password', 'wrong password here');
    await p.click('#signin button[type="submit"]');
    await p.locator('#signin:has-text("Wrong password")').waitFor();
    await p.fill('#password', 'the appliance password');
    await p.click('#signin button[type="submit"]');
    await expect(p.locator('#overview-state')).toHaveText('Running');
  } finally {
    await other.close();
  }
});

test('ran without errors in the page', () => {
  expect(pageErrors).toEqual([]);
});

/** An IMAP session logged in over a plain socket (LOGIN is allowed on loopback without TLS). */
async function imapLogin(user: string, password: string): Promise<ImapTestClient & { close(): void }> {
  const socket = net.connect({ host: '127.0.0.1', port: imapPort });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  const reply = await client.command(`LOGIN ${user} "${password}"`);
  expect(reply.tagged, `LOGIN ${user}`).toMatch(/^OK/);
  return Object.assign(client, { close: () => socket.destroy() });
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1' }, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function hasZbar(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, 'zbarimg')));
}

function hasPython(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, 'python3')));
}

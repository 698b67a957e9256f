// The appliance end to end, through its browser GUI only: the real headless appliance
// (dist/server/bin/appliance.js) on a fresh data directory, Debian's Chromium driven by
// playwright-core, Python's imaplib as the mail program, and plain sockets. Every screen
// is saved as a screenshot in test-results/screenshots/.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, SCREENSHOTS, bigMaildir, pythonIdle, rawConnect, startAppliance, tempDir, writeConfig, type RunningAppliance } from './helpers.js';

const hasChromium = fs.existsSync(CHROMIUM);
const hasPython = (() => {
  try {
    return fs.existsSync('/usr/bin/python3') || process.env.PATH!.split(':').some((d) => fs.existsSync(path.join(d, 'python3')));
  } catch {
    return false;
  }
})();
const skip = !hasChromium ? `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)` : !hasPython ? 'python3 is not installed' : false;

describe('appliance GUI end to end (Chromium)', { skip, timeout: 120_000 }, () => {
  let data: string;
  let profile: string;
  let appliance: RunningAppliance;
  let context: BrowserContext;
  let page: Page;
  let imapPort: number;
  const sockets: net.Socket[] = [];
  const pageErrors: string[] = [];

  const shot = async (name: string) => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
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

  before(async () => {
    data = tempDir('e2e');
    profile = tempDir('chromium');
    // Any free ports, so that tests never collide; everything else from the defaults.
    writeConfig(data, '# test\nPORT=0\n', '# test\nSSLPORT=0\n');
    appliance = await startAppliance(data);
    assert.ok(appliance.imapPort, `no IMAP port in: ${appliance.out.lines.join('\n')}`);
    imapPort = appliance.imapPort!;
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await context?.close();
    const code = await appliance?.stop();
    assert.equal(code, 0, `the appliance should stop cleanly; stderr:\n${appliance?.err.lines.slice(-20).join('\n')}`);
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  });

  it('opens with the token, drops it from the address, and says what to do first', async () => {
    await page.goto(appliance.url);
    await page.waitForSelector('#first-steps:not([hidden])');
    assert.doesNotMatch(page.url(), /token=/);
    const steps = await page.textContent('#first-steps');
    assert.match(steps!, /Add an account/);
    assert.match((await page.textContent('#status'))!, /Running/);
    await page.waitForSelector('#account-list .empty');
    await shot('01-first-start');
  });

  it('adds an account; its Maildir is created', async () => {
    await open('Accounts');
    await page.fill('#add-account input[name="username"]', 'alice');
    await page.fill('#add-account input[name="password"]', 'correct horse battery');
    await page.click('#add-account button[type="submit"]');
    await page.waitForSelector('tr[data-account="alice"]');
    const row = (await page.textContent('tr[data-account="alice"]'))!;
    assert.match(row, /enabled/);
    const maildir = path.join(data, 'mail', 'alice', 'Maildir');
    assert.ok(row.includes(maildir), row);
    for (const sub of ['cur', 'new', 'tmp']) assert.ok(fs.statSync(path.join(maildir, sub)).isDirectory());
    // A second account with the same name is refused, next to the field.
    await page.fill('#add-account input[name="username"]', 'ALICE');
    await page.fill('#add-account input[name="password"]', 'x');
    await page.click('#add-account button[type="submit"]');
    await page.waitForSelector('#add-account .field-error[data-for="username"]:has-text("already exists")');
    await page.fill('#add-account input[name="username"]', '');
    await page.fill('#add-account input[name="password"]', '');
    await shot('02-accounts');
  });

  it('shows a logged-in IDLE session live, and disconnecting it sends BYE', async () => {
    const client = pythonIdle(imapPort, 'alice', 'correct horse battery');
    try {
      await client.out.wait(/^CONT \+/, 15_000);
      await open('Live sessions');
      const row = page.locator('#session-list tr[data-session]').filter({ hasText: 'alice' });
      await row.locator('td.idle:has-text("IDLE")').waitFor({ timeout: 10_000 });
      assert.equal((await row.locator('td.folder').textContent())?.trim(), 'INBOX');
      assert.match((await row.locator('td.state').textContent())!, /folder open/);
      await shot('03-live-sessions');
      await row.locator('button[data-disconnect]').click();
      await client.out.wait(/^LINE \* BYE /, 10_000);
      await client.out.wait(/^EOF/, 10_000);
      await page.locator('#session-list .empty').waitFor({ timeout: 10_000 });
    } finally {
      client.proc.kill();
    }
  });

  it('enforces a lower MAXPERIP at once after Apply', async () => {
    await open('Settings');
    const input = page.locator('#setting-MAXPERIP');
    await input.fill('2');
    await page.locator('#apply-bar').getByText('MAXPERIP: in force at once').waitFor();
    await apply();
    for (let i = 0; i < 2; i++) {
      const c = await rawConnect(imapPort);
      sockets.push(c.socket);
      assert.match(c.first, /^\* OK/);
    }
    const third = await rawConnect(imapPort);
    sockets.push(third.socket);
    assert.match(third.first, /^\* BYE Too many connections from your address/);
    for (const s of sockets.splice(0)) s.destroy();
  });

  it('explains a bad port number and a port in use, and applies nothing', async () => {
    await open('Settings');
    await page.locator('#setting-PORT').fill('99999');
    await page.locator('.field-error[data-for="PORT"]:has-text("out of range")').waitFor();
    assert.equal(await page.locator('#apply-settings').isDisabled(), true);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ port: 0, host: '127.0.0.1' }, () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await page.locator('#setting-PORT').fill(String(taken));
      await page.locator(`.field-error[data-for="PORT"]:has-text("port ${taken} is in use")`).waitFor();
      await page.locator('#setting-TLS_CERTFILE').fill('/nonexistent/cert.pem');
      await page.locator('.field-error[data-for="TLS_CERTFILE"]:has-text("not found")').waitFor();
      // Both problems at once, each at its setting.
      assert.match((await page.textContent('.field-error[data-for="PORT"]'))!, new RegExp(`port ${taken} is in use`));
      assert.match((await page.textContent('#apply-bar'))!, /Fix first: .*PORT/);
      await page.locator('[data-setting-row="PORT"]').scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollBy(0, -200));
      await page.screenshot({ path: path.join(SCREENSHOTS, '04-settings-port-in-use.png') });
      await page.locator('[data-setting-row="TLS_CERTFILE"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(SCREENSHOTS, '04-settings-missing-certificate.png') });
    } finally {
      blocker.close();
    }
    await page.click('#discard-settings');
    const file = fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8');
    assert.match(file, /^PORT=0$/m, 'nothing was written');
  });

  it('saves settings in Courier format, keeping the file\'s comments', async () => {
    await open('Settings');
    await page.locator('#setting-IMAP_IDLE_TIMEOUT').fill('45');
    await page.locator('#setting-IMAP_TRASHFOLDERNAME').fill('Deleted Items');
    await page.locator('#apply-bar').getByText('for sessions that connect from now on').waitFor();
    await apply();
    const file = fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8');
    assert.match(file, /^# test$/m);
    assert.match(file, /^PORT=0$/m);
    assert.match(file, /^MAXPERIP=2$/m);
    assert.match(file, /^IMAP_IDLE_TIMEOUT=45$/m);
    assert.match(file, /^IMAP_TRASHFOLDERNAME="Deleted Items"$/m);
    // The GUI shows where each value now comes from.
    await page.locator('[data-setting-row="IMAP_IDLE_TIMEOUT"] .hint:has-text("set in imapd line")').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, '05-settings.png') });
    await shot('05-settings-full');
  });

  it('shows the progress of indexing a large existing Maildir while the server keeps serving', async () => {
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
    assert.match(c.first, /^\* OK/);
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
    assert.match((await page.textContent('#jobs .job.done'))!, /3,000 of 3,000 messages \(100%\).*3 of 3 folders/);
    await page.locator('tr[data-account="bob"] td.num:has-text("3,000")').waitFor({ timeout: 15_000 });
    assert.ok(fs.existsSync(path.join(maildir, 'courierimapuiddb')), 'the UID database was written');
    assert.ok(fs.existsSync(path.join(maildir, '.Archive', 'courierimapuiddb')));
    await shot('07-accounts-usage');
  });

  it('shows the log live, filtered by account and level', async () => {
    await open('Log');
    await page.locator('#log-lines .line .account:text-is("bob")').first().waitFor();
    await page.fill('#log-account', 'alice');
    // Only alice's lines once the filter is in force, among them her login.
    await page.waitForFunction(() => {
      const accounts = [...document.querySelectorAll('#log-lines .line .account')].map((e) => e.textContent);
      return accounts.length > 0 && accounts.every((a) => a === 'alice');
    });
    await page.locator('#log-lines .line:has-text("LOGIN")').first().waitFor();
    await page.selectOption('#log-level', 'warn');
    await page.locator('#log-lines .empty, #log-lines .line.warn, #log-lines .line.error').first().waitFor();
    assert.equal(await page.locator('#log-lines .line.info').count(), 0);
    await page.selectOption('#log-level', 'info');
    await page.fill('#log-account', '');
    await page.locator('#log-lines .line .account:text-is("bob")').first().waitFor();
    // A live line: a failed login appears without reloading.
    const c = await rawConnect(imapPort);
    c.socket.write('a LOGIN alice wrong-password\r\n');
    await page.locator('#log-lines .line.warn:has-text("LOGIN FAILED")').waitFor({ timeout: 15_000 });
    c.socket.destroy();
    await shot('08-log');
  });

  it('tells how to connect a mail program, with the certificate fingerprint', async () => {
    await open('Connect a client');
    await page.locator('#fingerprint').waitFor();
    assert.equal((await page.textContent('#fingerprint'))?.trim(), appliance.fingerprint);
    const ports = (await page.textContent('#connect-ports'))!;
    assert.match(ports, new RegExp(`${imapPort}\\s*STARTTLS`));
    assert.match(ports, /SSL\/TLS/);
    assert.match((await page.textContent('#certificate-advice'))!, /self-signed/);
    assert.match((await page.textContent('#connect-hosts'))!, /127\.0\.0\.1/);
    await shot('09-connect');
  });

  it('removes an account after confirmation and keeps its mail', async () => {
    await open('Accounts');
    await page.locator('tr[data-account="alice"] button:has-text("Remove")').click();
    await page.locator('#account-dialog[open]').waitFor();
    await shot('10-remove-dialog');
    await page.locator('#account-dialog button[type="submit"]').click();
    await page.locator('tr[data-account="alice"]').waitFor({ state: 'detached' });
    assert.ok(fs.existsSync(path.join(data, 'mail', 'alice', 'Maildir', 'cur')), 'the mail is kept');
  });

  it('ran without errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});

// The desktop app itself, launched with Playwright's Electron driver: the window comes up
// with the appliance running, the page has window.api and no Node, an account can be
// added through the GUI, and quitting stops the server. It needs the Electron binary
// (which cannot be downloaded on machines without internet, see toolchain notes) and,
// on Linux, a display: where either is missing the test is skipped and says why.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { _electron as electron } from 'playwright-core';
import { ROOT, SCREENSHOTS, tempDir, writeConfig } from '../helpers/appliance.js';

function electronBinary(): { path: string } | { skip: string } {
  let binary: unknown;
  try {
    binary = createRequire(import.meta.url)('electron');
  } catch {
    return { skip: 'the Electron desktop binary is not installed (it cannot be downloaded without internet access; `node node_modules/electron/install.js` fetches it where it can)' };
  }
  if (typeof binary !== 'string' || !fs.existsSync(binary)) return { skip: 'the electron package gives no binary' };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { skip: 'no display (DISPLAY is not set); run under xvfb-run to test the Electron window' };
  }
  return { path: binary };
}

const found = electronBinary();

describe('Electron app', () => {
  it('starts the appliance, shows the GUI with window.api only, and stops on quit', { skip: 'skip' in found ? found.skip : false, timeout: 60_000 }, async () => {
    const data = tempDir('electron');
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    const args = [path.join(ROOT, 'dist/electron/main.js'), `--data=${data}`];
    if (process.getuid?.() === 0) args.unshift('--no-sandbox'); // Chromium refuses to run as root otherwise
    const app = await electron.launch({ executablePath: (found as { path: string }).path, args, timeout: 30_000 });
    try {
      const page = await app.firstWindow();
      await page.locator('#status:has-text("Running")').waitFor({ timeout: 20_000 });
      assert.match(page.url(), /^app:\/\/gui\//);
      const isolation = await page.evaluate(() => ({
        api: typeof (window as unknown as { api?: { getStatus?: unknown } }).api?.getStatus,
        require: typeof (window as unknown as { require?: unknown }).require,
        process: typeof (window as unknown as { process?: unknown }).process,
      }));
      assert.deepEqual(isolation, { api: 'function', require: 'undefined', process: 'undefined' });
      // The renderer cannot reach the network: the API goes through IPC.
      const fetched = await page.evaluate(() => fetch('https://example.org/').then(() => 'loaded', (e: Error) => e.message));
      assert.notEqual(fetched, 'loaded');
      await page.click('nav button:has-text("Accounts")');
      await page.fill('#add-account input[name="username"]', 'alice');
      await page.fill('#add-account input[name="password"]', 'pw-alice');
      await page.click('#add-account button[type="submit"]');
      await page.locator('tr[data-account="alice"]').waitFor();
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'electron-accounts.png') });
      assert.ok(fs.existsSync(path.join(data, 'mail', 'alice', 'Maildir', 'cur')));
    } finally {
      await app.close();
    }
    const log = fs.readdirSync(data);
    assert.ok(log.includes('accounts.sqlite'));
    fs.rmSync(data, { recursive: true, force: true });
  });
});

#!/usr/bin/env node
// postinstall: fetch the Electron binary where that is possible. package.json's
// allowScripts keeps npm from running electron's own install script (it fails without
// internet and would fail the whole install); this runs it and only warns when it fails,
// so that the same `npm ci` gives the desktop app on a desktop with internet and still
// succeeds on a machine without (where `npm start` then runs the appliance headless).
// ELECTRON_SKIP_BINARY_DOWNLOAD=1 skips it.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const installer = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'electron', 'install.js');
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD || !existsSync(installer)) process.exit(0);
const run = spawnSync(process.execPath, [installer], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', timeout: 5 * 60_000 });
if (run.status !== 0) {
  const reason = (run.stderr || run.error?.message || 'unknown error').split('\n').find((l) => l.trim()) ?? 'unknown error';
  console.warn(`imapd-ts: the Electron binary could not be fetched (${reason.trim()}); npm start will run the appliance with its GUI in a browser.`);
}

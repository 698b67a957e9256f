#!/usr/bin/env node
// `npm start`: the desktop app in Electron where Electron is installed; otherwise, in one
// line, why not, and the headless appliance with the GUI in a browser instead.
// Arguments are passed on (e.g. npm start -- --data=/srv/mail).

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

// The plain reason, not Electron's own message: it advises deleting node_modules, which does not
// help where the binary cannot be downloaded (npm ci with ELECTRON_SKIP_BINARY_DOWNLOAD, or no internet).
const NOT_INSTALLED =
  'the Electron desktop binary is not installed; on a machine with internet access, ' +
  '`node node_modules/electron/install.js` fetches it';

let electronPath = null;
let why = '';
try {
  // The electron package's main export is the path of its binary; it throws when the binary is missing.
  electronPath = createRequire(import.meta.url)('electron');
  if (typeof electronPath !== 'string') throw new Error('no binary path');
} catch {
  why = NOT_INSTALLED;
  electronPath = null;
}

if (electronPath && !process.env.IMAPD_TS_HEADLESS) {
  const child = spawn(electronPath, [join(root, 'dist/electron/main.js'), ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  console.log(`Desktop app not started (${why || 'IMAPD_TS_HEADLESS is set'}); starting the headless appliance with the GUI in your browser instead.`);
  // Electron-style --data=DIR works here too.
  process.argv = [process.argv[0], join(root, 'dist/server/bin/appliance.js'), ...args.flatMap((a) => (a.startsWith('--data=') ? ['--data', a.slice(7)] : [a]))];
  await import(pathToFileURL(join(root, 'dist/server/bin/appliance.js')).href);
}

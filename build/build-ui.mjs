#!/usr/bin/env node
// Builds what the appliance's GUI needs, after `tsc -p tsconfig.json` has built the server:
//   dist/renderer/  the renderer bundled into one app.js (esbuild), with index.html and styles.css
//   dist/electron/  the main process (main.js, ES module, importing dist/server) and the
//                   preload bundled into one CommonJS file (sandboxed preloads cannot import)
// Type checking is done by `tsc -p electron/tsconfig.json` and `tsc -p renderer/tsconfig.json`.

import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = (...p) => join(root, 'dist', ...p);
mkdirSync(out('renderer'), { recursive: true });
mkdirSync(out('electron'), { recursive: true });

await Promise.all([
  build({
    entryPoints: [join(root, 'renderer/main.ts')],
    outfile: out('renderer/app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  }),
  build({
    entryPoints: [join(root, 'electron/preload.ts')],
    outfile: out('electron/preload.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: ['node20'],
    external: ['electron'],
    logLevel: 'warning',
  }),
  build({
    entryPoints: [join(root, 'electron/main.ts')],
    outfile: out('electron/main.js'),
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: ['node20'],
    sourcemap: true,
    logLevel: 'warning',
  }),
]);
for (const file of ['index.html', 'styles.css']) copyFileSync(join(root, 'renderer', file), out('renderer', file));
copyFileSync(join(root, 'build', 'icon.png'), out('renderer', 'icon.png'));

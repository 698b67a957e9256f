// imapd runs one process per connection: started as installed (through its #! line, as
// couriertcpd and npx start it), node gets the options that keep its memory small.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { IMAPD } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

test('imapd started through its #! line greets and runs node with a small young generation', async () => {
  const first = readFileSync(IMAPD, 'utf8').split('\n', 1)[0];
  assert.match(first, /^#!\/usr\/bin\/env -S node --max-semi-space-size=4$/);
  const [interpreter, ...options] = first.slice(2).split(' ');
  const dir = tempDir('imapd-shebang-');
  try {
    const root = emptyMaildir(dir);
    const child = spawn(interpreter, [...options, IMAPD, root], { stdio: ['pipe', 'pipe', 'pipe'] });
    const greeting = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
      child.once('error', reject);
    });
    assert.match(greeting, /^\* PREAUTH /);
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'latin1').split('\0');
    assert.ok(cmdline.includes('--max-semi-space-size=4'), cmdline.join(' '));
    child.stdin.end('a LOGOUT\r\n');
    await new Promise((resolve) => child.once('exit', resolve));
  } finally {
    removeTree(dir);
  }
});

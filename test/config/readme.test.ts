// The README's settings table is the one the settings schema generates, so the
// documentation cannot drift from what the code honours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { settingsTableMarkdown } from '../../server/config/index.js';
import { ROOT } from '../helpers/imap-client.js';

test('README lists exactly the settings the server honours, with their defaults', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const match = /<!-- settings-table:start -->\n([\s\S]*?)\n<!-- settings-table:end -->/.exec(readme);
  assert.ok(match, 'README has the settings-table markers');
  assert.equal(match[1].trim(), settingsTableMarkdown().trim(), 'regenerate the table: settingsTableMarkdown()');
});

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

// Issue 12: every setting of Debian's two files has a row with its status (honoured, ours,
// not built, ignored), so that a user moving from Courier finds each one accounted for.
const DEBIAN_FILES = ['/etc/courier/imapd', '/etc/courier/imapd-ssl'];

/** Each setting a Courier file sets or shows commented out, and each documented block
 * (##NAME) that shows no assignment at all (TLS_PRIORITY, TLS_TIMEOUT). */
function courierFileSettings(text: string): string[] {
  const names = new Set<string>();
  for (const block of text.split(/^(?=##NAME: )/m)) {
    const assigned = [...block.matchAll(/^#*\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    assigned.forEach((n) => names.add(n));
    const label = /^##NAME: ([A-Z][A-Z0-9_]*)/.exec(block)?.[1];
    if (label && assigned.length === 0) names.add(label);
  }
  return [...names];
}

test("every setting of Debian's imapd and imapd-ssl has a row in the table", { skip: DEBIAN_FILES.some((f) => !fs.existsSync(f)) && 'courier-imap is not installed (npm run peers)' }, () => {
  const table = settingsTableMarkdown();
  const rows = new Set([...table.matchAll(/^\| ([A-Z][A-Z0-9_]*)[ |]/gm)].map((m) => m[1]));
  const missing = DEBIAN_FILES.flatMap((f) => courierFileSettings(fs.readFileSync(f, 'utf8')).filter((n) => !rows.has(n)).map((n) => `${n} (${f})`));
  assert.deepEqual(missing, []);
  assert.ok(rows.has('TLS_PRIORITY') && rows.has('IMAPACCESSFILE') && rows.has('SMAP_CAPABILITY'));
});

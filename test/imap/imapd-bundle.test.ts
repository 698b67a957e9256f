// The built imapd, and imapd-deliver, are one file each (build/bundle-imapd.mjs): fewer module
// records at every start (once per connection; once per message an MTA pipes in).
// Its modules' own files stay beside it: worker threads and the full-text indexer start from
// them, found through `import.meta.url`, which the bundle rewrites to each module's own file.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IMAPD } from '../helpers/imap-client.js';

const bundle = readFileSync(IMAPD, 'utf8');
const bundles = { imapd: bundle, 'imapd-deliver': readFileSync(path.join(path.dirname(IMAPD), 'imapd-deliver.js'), 'utf8') };

for (const [name, text] of Object.entries(bundles)) {
  test(`the built ${name} imports none of our own modules: they are bundled into it`, () => {
    assert.doesNotMatch(text, /^import .* from ['"]\.\.?\//m);
    assert.match(text, /^import .* from ['"]node:[a-z]+['"]/m, 'node built-ins stay imports');
  });

  test(`the ${name} bundle is ASCII: V8 keeps its source one byte per character, not two`, () => {
    const wide = /[^\x00-\x7f]/.exec(text);
    assert.equal(wide, null, wide ? `${JSON.stringify(text.slice(wide.index - 40, wide.index + 10))}` : '');
  });
}

test("the bundle's import.meta.url is each module's own file, where its workers are found", () => {
  const rewritten = [...bundle.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((m) => m[1]!);
  for (const own of ['../maildir/parsepool.js', '../maildir/fts/fts-index.js', '../mime/charset.js', '../maildir/maildir-store.js']) {
    assert.ok(rewritten.includes(own), `${own} in ${rewritten.join(', ')}`);
  }
  const bin = path.dirname(IMAPD);
  for (const own of rewritten) assert.ok(existsSync(path.join(bin, own)), `${own} exists beside the bundle`);
  // What parsepool.ts and fts-index.ts start, relative to their own files.
  const worker = (own: string, file: string) => fileURLToPath(new URL(file, new URL(own, `file://${bin}/`)));
  assert.ok(existsSync(worker('../maildir/parsepool.js', './parseworker.js')));
  assert.ok(existsSync(worker('../maildir/fts/fts-index.js', './fts-worker.js')));
});

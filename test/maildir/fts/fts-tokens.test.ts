// What the index's writer stores for a message (fts-tokens.ts): its distinct trigrams under the
// ascii tokenizer answer every query as the whole text under FTS5's trigram tokenizer did
// (version 2), bar ASCII case, which can only add candidates.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { distinctTrigrams, distinctWords, TOKENIZE, wordNeedle } from '../../../server/maildir/fts/fts-tokens.js';
import { trigramQuery } from '../../../server/maildir/fts/fts-db.js';
import { foldForSearch } from '../../../server/imap/search/fold.js';
import { indexText } from '../../../server/mime/index-text.js';
import { parseStructure } from '../../../server/mime/parse.js';
import { randomMessage, randomNeedles, randomSource } from './helpers.js';

/** The trigrams (by code point) of a text without a control character, as a reference. */
function reference(text: string): Set<string> {
  const chars = [...text];
  const out = new Set<string>();
  // eslint-disable-next-line no-control-regex
  for (let i = 0; i + 3 <= chars.length; i++) if (!/[\x00-\x1f\x7f]/.test(chars[i] + chars[i + 1] + chars[i + 2])) out.add(chars[i] + chars[i + 1] + chars[i + 2]);
  return out;
}

const PIECES = ['a', 'b', 'ab', 'abc', ' ', '\n', '\t', '\0', '\x7f', 'é', 'e\u0301', '😀', '𝐳', '漢', '"', "'", ':', 'Z', '\ud800', '\udc00'];

test('the distinct trigrams of a text are its trigrams without a control character, each once', () => {
  const random = randomSource(77);
  for (let round = 0; round < 2000; round++) {
    let text = '';
    const length = random(40);
    for (let i = 0; i < length; i++) text += PIECES[random(PIECES.length)];
    const lines = distinctTrigrams(text);
    const got = lines === '' ? [] : lines.split('\n');
    assert.equal(new Set(got).size, got.length, `no trigram twice: ${JSON.stringify(text)}`);
    assert.deepEqual(new Set(got), reference(text), JSON.stringify(text));
  }
  // A text larger than the first table.
  const long = Array.from({ length: 40_000 }, (_, i) => String.fromCharCode(0x61 + (i % 26), 0x4e00 + ((i * 7919) % 5000))).join('');
  assert.deepEqual(new Set(distinctTrigrams(long).split('\n')), reference(long));
});

test('the words of text parts are runs of lower-case letters and digits, each a substring of a part', () => {
  const random = randomSource(78);
  const pieces = ['ab', 'abc', 'q9', 'Z', 'é', ' ', '\n', '-', 'x'.repeat(70), '0', 'zorbulate'];
  for (let round = 0; round < 1000; round++) {
    const texts = Array.from({ length: 1 + random(3) }, () => Array.from({ length: random(12) }, () => pieces[random(pieces.length)]).join(''));
    const lines = distinctWords(texts);
    const words = lines === '' ? [] : lines.split('\n');
    assert.equal(new Set(words).size, words.length);
    const expected = new Set<string>();
    for (const text of texts) for (const [run] of text.matchAll(/[a-z0-9]+/g)) if (run.length >= 3) expected.add(run.slice(0, 64));
    assert.deepEqual(new Set(words), expected, JSON.stringify(texts));
    for (const word of words) assert.ok(wordNeedle(word) && texts.some((t) => t.includes(word)));
  }
  assert.equal(wordNeedle('ab'), false);
  assert.equal(wordNeedle('Abc'), false);
  assert.equal(wordNeedle('a c'), false);
});

test('the index of distinct trigrams answers as the trigram tokenizer on the whole text (ASCII case aside)', () => {
  const random = randomSource(4711);
  const before = new Database(':memory:');
  const now = new Database(':memory:');
  before.exec("CREATE VIRTUAL TABLE text USING fts5(body, tokenize = 'trigram case_sensitive 1', detail = none, content = '', contentless_delete = 1)");
  now.exec(`CREATE VIRTUAL TABLE text USING fts5(body, tokenize = '${TOKENIZE.replace(/'/g, "''")}', detail = none, content = '', contentless_delete = 1)`);
  const texts: string[] = [];
  for (let rowid = 1; rowid <= 200; rowid++) {
    const raw = randomMessage(random);
    const text = indexText(raw, parseStructure(raw).body);
    texts.push(text);
    before.prepare('INSERT INTO text (rowid, body) VALUES (?, ?)').run(rowid, text.replace(/\0/g, ' '));
    now.prepare('INSERT INTO text (rowid, body) VALUES (?, ?)').run(rowid, distinctTrigrams(text));
  }
  let asked = 0;
  for (let i = 0; i < 1000; i++) {
    for (const needle of randomNeedles(random, texts[random(texts.length)], 1)) {
      const query = trigramQuery(foldForSearch(needle));
      if (query === null) continue;
      asked++;
      const old = before.prepare('SELECT rowid FROM text WHERE text MATCH ?').pluck().all(query) as number[];
      const found = now.prepare('SELECT rowid FROM text WHERE text MATCH ?').pluck().all(query) as number[];
      if (/[A-Z]/.test(query)) for (const rowid of old) assert.ok(found.includes(rowid), `${query}: ${rowid} kept`);
      else assert.deepEqual(found, old, query);
    }
  }
  assert.ok(asked > 300, `${asked} queries`);
  before.close();
  now.close();
});

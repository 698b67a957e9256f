// Case-insensitive ASCII search: the long-string path (no regular expression) finds what the
// expression finds, and neither matches a non-ASCII character to an ASCII letter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asciiFinder } from '../../server/mime/ascii-finder.js';

test('long strings are found case-insensitively where an expression could not be built', () => {
  const needle = 'Ab-.*'.repeat(10_000); // 50,000 characters: over V8's limit for an expression
  const text = `x\u212a${needle.toUpperCase()}y${needle.toLowerCase()}`;
  const finder = asciiFinder(needle);
  assert.equal(finder.find(text), 2);
  assert.equal(finder.find(text, 3), 3 + needle.length);
  assert.equal(finder.in(text.slice(3, 3 + needle.length) + 'z'.repeat(10)), false);
});

test('both paths agree, and the Kelvin sign is not a k', () => {
  for (const length of [3, 1001]) {
    const needle = 'k'.repeat(length - 1) + 'S';
    const finder = asciiFinder(needle);
    assert.equal(finder.find('\u212a'.repeat(length - 1) + 's'), -1);
    assert.equal(finder.find('\u212a' + 'K'.repeat(length - 1) + 's'), 1);
    assert.equal(finder.find('é'.repeat(5) + 'k'.repeat(length) + 'S', 6), 6);
    assert.equal(finder.in('k'.repeat(length - 1) + 'ſ'), false);
  }
});

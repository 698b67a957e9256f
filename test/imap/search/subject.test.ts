import assert from 'node:assert/strict';
import { test } from 'node:test';

import { baseSubject } from '../../../server/imap/search/subject.js';

// [input, base subject, reply-or-forward]; each case follows a step of RFC 5256 section 2.1.
const VECTORS: [string, string, boolean][] = [
  ['hello', 'hello', false],
  // (1) whitespace: tabs, continuations and runs become one space
  ['  hello \t  world  ', 'hello world', false],
  ['hello\r\n\tworld', 'hello world', false],
  // (3) subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":", case-insensitive, repeated
  ['Re: hello', 'hello', true],
  ['RE: Re: re: hello', 'hello', true],
  ['Re:Re:hello', 'hello', true],
  ['Fwd: hello', 'hello', true],
  ['FW: hello', 'hello', true],
  ['Re : hello', 'hello', true],
  ['Re[2]: hello', 'hello', true],
  ['Re [2]: hello', 'hello', true],
  ['Re: Fwd: Re[3]: hello', 'hello', true],
  // not a subj-refwd
  ['Ref: hello', 'Ref: hello', false],
  ['Fwd hello', 'Fwd hello', false],
  ['Reply: hello', 'Reply: hello', false],
  // subj-leader = *subj-blob subj-refwd: blobs before Re: go with it
  ['[PATCH] Re: hello', 'hello', true],
  ['[a] [b] Re: hello', 'hello', true],
  // (4) a leading blob goes only when something is left after it
  ['[PATCH] hello', 'hello', false],
  ['[PATCH 1/2]hello', 'hello', false],
  ['[PATCH]', '[PATCH]', false],
  ['[a] [b]', '[b]', false],
  ['[list] Re: [list] Re: hello', 'hello', true],
  // (2) subj-trailer = "(fwd)" / WSP, repeated
  ['hello (fwd)', 'hello', true],
  ['hello (FWD) (fwd)  ', 'hello', true],
  ['hello(fwd)', 'hello', true],
  // (6) [fwd: ...] around everything, then again from (2)
  ['[fwd: hello]', 'hello', true],
  ['[Fwd: Re: hello (fwd)]', 'hello', true],
  ['Re: [fwd: hello]', 'hello', true],
  ['[fwd: [PATCH] hello]', 'hello', true],
  ['[fwd: hello', '[fwd: hello', false],
  // empty results
  ['', '', false],
  ['Re: ', '', true],
  ['   ', '', false],
  // non-ASCII text survives unchanged (case is kept; comparison folds it)
  ['Re: Äpfel und Birnen', 'Äpfel und Birnen', true],
  ['AW: Grüße', 'AW: Grüße', false],
];

test('base subject extraction (RFC 5256 section 2.1)', () => {
  for (const [input, base, reply] of VECTORS) {
    assert.deepEqual(baseSubject(input), { base, isReplyOrForward: reply }, `subject ${JSON.stringify(input)}`);
  }
});

test('a hostile subject costs linear time: a long run of blobs, with and without a leader after it', () => {
  const started = performance.now();
  // 300 KB of "[a]": one blob per round of steps (3)-(4) was quadratic, about 20 s here.
  assert.deepEqual(baseSubject('[a]'.repeat(100_000) + 'x'), { base: 'x', isReplyOrForward: false });
  assert.deepEqual(baseSubject('[a]'.repeat(100_000)), { base: '[a]', isReplyOrForward: false });
  // The leader fails after the first run ("Re [a]" has no colon): only that run goes.
  const mixed = ('[a]'.repeat(50) + 'Re ').repeat(2_000) + 'x';
  assert.deepEqual(baseSubject(mixed), { base: mixed.slice(150), isReplyOrForward: false });
  // Trailers first, then the blobs and the leader before them.
  assert.deepEqual(baseSubject('[b] '.repeat(50_000) + 'Re: y' + '(fwd)'.repeat(50_000)), { base: 'y', isReplyOrForward: true });
  assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
});

// The LIST/LSUB pattern matcher against the regular expression it replaced, on patterns
// short enough for that expression to be harmless, and on the sizes that froze it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxPatternMatcher } from '../../server/imap/pattern.js';
import { seededRandom } from '../helpers/seeded.js';

/** The old implementation (issue 9), kept here as the reference semantics. */
function oldRegExp(pattern: string): RegExp {
  if (/^inbox(\.|$)/i.test(pattern)) pattern = 'INBOX' + pattern.slice(5);
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '%') source += '[^.]*';
    else source += ch.replace(/[\\^$.|?+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

const random = seededRandom;

function pick(rand: () => number, alphabet: string, max: number): string {
  let s = '';
  const n = Math.floor(rand() * (max + 1));
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

describe('mailbox pattern matcher', () => {
  it('agrees with the old expression on ordinary LIST patterns', () => {
    const names = ['INBOX', 'INBOX.Sent', 'INBOX.Archive', 'INBOX.Archive.2025', 'Sent', 'a.b.c', 'Caf&AOk-', 'x*y', 'p%q', 'a+b(c)'];
    const patterns = ['*', '%', 'INBOX', 'inbox', 'Inbox.*', 'INBOX.%', 'INBOX.%.%', 'INBOX.*.2025', '%.b.%', 'a.*', '*.c', 'Caf*', 'x*y', 'p%q', 'a+b(c)', 'INBOX.A%', '*2025', 'INBOXX', 'inbox.sent', ''];
    for (const p of patterns) {
      const re = oldRegExp(p);
      const m = mailboxPatternMatcher(p);
      for (const n of names) assert.equal(m(n), re.test(n), `${p} ~ ${n}`);
    }
  });

  it('agrees with the old expression on 20,000 random short patterns and names', () => {
    const rand = random(9);
    for (let i = 0; i < 20_000; i++) {
      const p = pick(rand, 'ab.%*', 7);
      const n = pick(rand, 'ab.', 9);
      assert.equal(mailboxPatternMatcher(p)(n), oldRegExp(p).test(n), `pattern ${JSON.stringify(p)} name ${JSON.stringify(n)}`);
    }
  });

  it('works across 32-bit word boundaries of its state set', () => {
    const name = 'ab'.repeat(40) + '.z';
    assert.equal(mailboxPatternMatcher('a%'.repeat(40) + '.z')(name), true);
    assert.equal(mailboxPatternMatcher('a%'.repeat(40) + 'z')(name), false);
    assert.equal(mailboxPatternMatcher('a*'.repeat(40) + 'z')(name), true);
    assert.equal(mailboxPatternMatcher('%b'.repeat(40) + '%.%')(name), true);
    assert.equal(mailboxPatternMatcher('%b'.repeat(41) + '%.%')(name), false);
  });

  it('matches hostile patterns over long names in linear time', () => {
    const name = 'INBOX.' + 'a'.repeat(200) + '.x';
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      assert.equal(mailboxPatternMatcher('INBOX.' + '%'.repeat(5000))(name), false);
      assert.equal(mailboxPatternMatcher('INBOX.' + '%a'.repeat(150) + '%.x')(name), true);
      assert.equal(mailboxPatternMatcher('INBOX.' + '*a%'.repeat(100) + 'y')(name), false);
      assert.equal(mailboxPatternMatcher('*' + 'a'.repeat(100_000))(name), false);
    }
    // The old expression needed minutes for one of these; 40 matches here take milliseconds.
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
  });
});

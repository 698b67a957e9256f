// The checker that the update tests and bench:stress rely on: it must catch each kind of
// violation, and accept a correct exchange.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UntaggedChecker } from '../helpers/untagged-checker.js';

const SELECT = ['* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old)', '* OK [PERMANENTFLAGS (\\Answered \\*)] Limited', '* 3 EXISTS', '* 0 RECENT'];

function selected(): UntaggedChecker {
  const check = new UntaggedChecker('t');
  check.feed('SELECT INBOX', SELECT);
  return check;
}

describe('UntaggedChecker', () => {
  it('accepts a correct exchange and keeps the numbering', () => {
    const check = selected();
    check.feed('NOOP', ['* 2 EXPUNGE', '* FLAGS (\\Seen $Old $New)', '* 3 EXISTS', '* 3 FETCH (FLAGS (\\Seen $New))']);
    check.feed('UID FETCH 1:* (UID FLAGS)', ['* 1 FETCH (UID 1 FLAGS ($old))', '* 2 FETCH (UID 3 FLAGS ())', '* 3 FETCH (UID 9 FLAGS (\\Seen $New))']);
    check.feed('SEARCH ALL', ['* SEARCH 1 2 3']);
    check.feed('UID SEARCH ALL', ['* SEARCH 1 3 9']);
    check.assertClean();
    assert.equal(check.count, 3);
    assert.deepEqual(check.uids, [1, 3, 9]);
  });

  it('catches numbers beyond EXISTS, EXPUNGE out of range or during FETCH, EXISTS that lowers the count', () => {
    const cases: [string, string[], RegExp][] = [
      ['APPEND INBOX', ['* 4 FETCH (FLAGS (\\Seen))', '* 4 EXISTS'], /4 FETCH with 3 messages/],
      ['NOOP', ['* 4 EXPUNGE'], /4 EXPUNGE with 3 messages/],
      ['NOOP', ['* 0 EXPUNGE'], /0 EXPUNGE with 3/],
      ['FETCH 1 FLAGS', ['* 1 EXPUNGE'], /EXPUNGE during FETCH/],
      ['STORE 1 +FLAGS (\\Seen)', ['* 1 EXPUNGE'], /EXPUNGE during STORE/],
      ['NOOP', ['* 2 EXISTS'], /lowers the count/],
      ['NOOP', ['* 5 RECENT'], /5 RECENT/],
      ['SEARCH ALL', ['* SEARCH 1 4'], /SEARCH result 4/],
    ];
    for (const [command, lines, expected] of cases) {
      const check = selected();
      check.feed(command, lines);
      assert.match(check.errors.join('\n'), expected, `${command}: ${lines.join(' | ')}`);
      assert.throws(() => check.assertClean());
    }
  });

  it('catches a keyword before the FLAGS that lists it, and UIDs that do not rise', () => {
    const keyword = selected();
    keyword.feed('STORE 1 +FLAGS ($Label3)', ['* 1 FETCH (FLAGS (\\Draft $Label3))', '* FLAGS (\\Draft $Label3)']);
    assert.match(keyword.errors.join('\n'), /keyword \$Label3 before a FLAGS/);
    const uids = selected();
    uids.feed('FETCH 1:3 UID', ['* 1 FETCH (UID 5)', '* 3 FETCH (UID 4)']);
    assert.match(uids.errors.join('\n'), /message 3 has UID 4, but message 1 has UID 5/);
    const changed = selected();
    changed.feed('FETCH 1 UID', ['* 1 FETCH (UID 5)']);
    changed.feed('FETCH 1 UID', ['* 1 FETCH (UID 6)']);
    assert.match(changed.errors.join('\n'), /message 1 was UID 5, now UID 6/);
    // After an EXPUNGE the numbers move: UID 6 at 1 is fine once message 1 (UID 5) is gone.
    changed.errors.length = 0;
    changed.feed('NOOP', ['* 1 EXPUNGE', '* 3 EXISTS']);
    changed.feed('FETCH 1 UID', ['* 1 FETCH (UID 7)']);
    changed.assertClean();
  });

  it('after STORE +FLAGS / -FLAGS, a FETCH of a stored message shows the change (one of several is enough)', () => {
    const stale = selected();
    stale.feed('STORE 2 +FLAGS (\\Flagged)', ['* 2 FETCH (FLAGS (\\Seen))']);
    assert.match(stale.errors.join('\n'), /message 2: FLAGS \(\\SEEN\) after \+FLAGS \(\\FLAGGED\)/);
    const kept = selected();
    kept.feed('UID STORE 1:* -FLAGS ($Old)', ['* 3 FETCH (UID 9 FLAGS ($Old))']);
    assert.match(kept.errors.join('\n'), /UID 9: FLAGS \(\$OLD\) after -FLAGS/);
    const good = selected();
    // The STORE's own answer, then another session's change to the same message (RFC 3501 7.4.2).
    good.feed('STORE 1:2 +FLAGS (\\Flagged $Old)', ['* 1 FETCH (FLAGS (\\Flagged $Old))', '* 2 FETCH (FLAGS (\\Flagged $Old))', '* 1 FETCH (FLAGS (\\Flagged))']);
    // No FETCH at all for a stored message (expunged by another session) is not this rule's business.
    good.feed('STORE 3 +FLAGS (\\Deleted)', []);
    good.feed('STORE 1 +FLAGS.SILENT (\\Seen)', ['* 1 FETCH (FLAGS (\\Flagged))']);
    good.assertClean();
  });

  it('QRESYNC: VANISHED lowers the count for messages the session knew, EXPUNGE is wrong then, EARLIER only where asked', () => {
    const check = new UntaggedChecker('q');
    check.feed('ENABLE QRESYNC', ['* ENABLED QRESYNC']);
    check.feed('SELECT INBOX', [...SELECT, '* OK [HIGHESTMODSEQ 20] ok']);
    check.feed('UID FETCH 1:* (FLAGS)', ['* 1 FETCH (UID 4 FLAGS () MODSEQ (3))', '* 2 FETCH (UID 6 FLAGS () MODSEQ (4))', '* 3 FETCH (UID 9 FLAGS () MODSEQ (5))']);
    check.feed('NOOP', ['* VANISHED 4,9', '* 2 EXISTS']);
    check.assertClean();
    assert.deepEqual(check.uids, [6, 0]);
    const cases: [string, string[], RegExp][] = [
      ['NOOP', ['* VANISHED 3'], /VANISHED 3: no such message/],
      ['NOOP', ['* 1 EXPUNGE'], /EXPUNGE after ENABLE QRESYNC/],
      ['FETCH 1 (FLAGS)', ['* VANISHED 6'], /VANISHED during FETCH/],
      ['NOOP', ['* VANISHED (EARLIER) 6'], /VANISHED \(EARLIER\) during NOOP/],
      ['NOOP', ['* 1 FETCH (FLAGS (\\Seen) MODSEQ (30))'], /without UID under QRESYNC/],
      ['NOOP', ['* 1 FETCH (UID 6 FLAGS (\\Seen))'], /without MODSEQ/],
      ['NOOP', ['* 1 FETCH (UID 6 FLAGS () MODSEQ (2))'], /MODSEQ 2 after 4/],
      ['NOOP', ['* 1 FETCH (UID 6 FLAGS (\\Seen) MODSEQ (4))'], /with one MODSEQ 4/],
    ];
    for (const [command, lines, expected] of cases) {
      const c = new UntaggedChecker('q');
      c.feed('ENABLE QRESYNC', ['* ENABLED QRESYNC']);
      c.feed('SELECT INBOX', [...SELECT.slice(0, 2), '* 2 EXISTS']);
      c.feed('UID FETCH 1:* (FLAGS)', ['* 1 FETCH (UID 6 FLAGS () MODSEQ (4))']);
      c.feed(command, lines);
      assert.match(c.errors.join('\n'), expected, `${command}: ${lines.join(' | ')}`);
    }
    const plain = selected();
    plain.feed('NOOP', ['* VANISHED 1']);
    assert.match(plain.errors.join('\n'), /VANISHED without ENABLE QRESYNC/);
  });

  it('IMAP4rev2: no RECENT, the UID in every unsolicited FETCH; kept searches follow ADDTO and REMOVEFROM', () => {
    const check = new UntaggedChecker('r');
    check.feed('ENABLE IMAP4rev2', ['* ENABLED IMAP4REV2']);
    check.feed('SELECT INBOX', SELECT.slice(0, 3));
    check.feed('NOOP', ['* 2 FETCH (UID 8 FLAGS (\\Seen))', '* 1 RECENT', '* 3 FETCH (FLAGS ())']);
    assert.match(check.errors.join('\n'), /RECENT under IMAP4rev2/);
    assert.match(check.errors.join('\n'), /3 FETCH without UID under IMAP4rev2/);
    const kept = selected();
    kept.feed('UID SEARCH RETURN (ALL UPDATE) KEYWORD $Old', ['* ESEARCH (TAG "t7") UID ALL 3:5'], 't7');
    kept.feed('NOOP', ['* ESEARCH (TAG "t7") UID ADDTO (0 9) REMOVEFROM (0 4)']);
    assert.deepEqual([...kept.kept('t7')!].sort((a, b) => a - b), [3, 5, 9]);
    kept.feed('NOOP', ['* ESEARCH (TAG "t8") ADDTO (0 7)']);
    kept.assertClean();
  });
});

// RFC 4314 section 4: each right taken from the owner of a folder, then the commands that
// need it, on our imapd and Courier's (IMAP_ACL=1, Debian's default) side by side, each on
// its own copy of one Maildir. The answers' status and what they show must be the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sideBySide, status } from '../helpers/side-by-side.js';
import { removeTree, standardMaildir, tempDir } from '../helpers/maildir.js';

/** What of the untagged answer is compared: the lines that show what a right allows. */
const SHOWN = /^\* (LIST|STATUS|ACL|MYRIGHTS|LISTRIGHTS|\d+ FETCH \(FLAGS)|\[(READ-ONLY|READ-WRITE|MYRIGHTS|PERMANENTFLAGS)/;

/** [what is tried, the commands: each case on fresh copies, INBOX.Sent's owner losing a right]. */
const CASES: [string, string[]][] = [
  ['-l', ['SETACL INBOX.Sent owner -l', 'LIST "" INBOX.Sent', 'LIST "" "INBOX.*"', 'LSUB "" "*"']],
  ['-r', ['SETACL INBOX.Sent owner -r', 'SELECT INBOX.Sent', 'EXAMINE INBOX.Sent', 'STATUS INBOX.Sent (MESSAGES)']],
  ['-s', ['SETACL INBOX.Sent owner -s', 'SELECT INBOX.Sent', 'FETCH 1 BODY[]', 'FETCH 1 FLAGS', 'STORE 1 +FLAGS (\\Seen)', 'STORE 1 -FLAGS (\\Seen)', 'FETCH 1 FLAGS']],
  ['-w', ['SETACL INBOX.Sent owner -w', 'SELECT INBOX.Sent', 'STORE 1 +FLAGS (\\Flagged)', 'STORE 1 +FLAGS ($Label1)', 'FETCH 1 FLAGS', 'STORE 1 +FLAGS (\\Seen \\Flagged)', 'STORE 1:2 -FLAGS (\\Seen \\Draft)', 'FETCH 1:3 FLAGS']],
  ['-t', ['SETACL INBOX.Sent owner -t', 'SELECT INBOX.Sent', 'STORE 1 +FLAGS (\\Deleted)', 'STORE 1 +FLAGS.SILENT (\\Deleted)', 'FETCH 1 FLAGS']],
  ['-e', ['SETACL INBOX.Sent owner -e', 'SELECT INBOX.Sent', 'STORE 1 +FLAGS (\\Deleted)', 'EXPUNGE', 'STATUS INBOX.Sent (MESSAGES)']],
  // FLAGS (...) replaces what the user may change; what he may not stays as it was.
  ['FLAGS without t', ['SELECT INBOX.Sent', 'STORE 2 +FLAGS (\\Deleted $Label1)', 'SETACL INBOX.Sent owner -t', 'STORE 1:3 FLAGS (\\Flagged)', 'FETCH 1:3 FLAGS']],
  ['FLAGS without s w', ['SELECT INBOX.Sent', 'STORE 2 +FLAGS ($Label1)', 'SETACL INBOX.Sent owner -sw', 'STORE 1:3 FLAGS (\\Deleted \\Answered)', 'FETCH 1:3 FLAGS']],
  ['-i', ['SETACL INBOX.Sent owner -i', 'APPEND INBOX.Sent {3+}\r\nabc', 'SELECT INBOX', 'COPY 1 INBOX.Sent', 'STATUS INBOX.Sent (MESSAGES)']],
  ['-x', ['SETACL INBOX.Sent owner -x', 'DELETE INBOX.Sent', 'RENAME INBOX.Sent INBOX.Moved', 'LIST "" "INBOX.*"']],
  ['-c', ['SETACL INBOX.Sent owner -c', 'CREATE INBOX.Sent.Sub', 'LIST "" "INBOX.Sent*"']],
  ['-a', ['SETACL INBOX.Sent owner -a', 'SETACL INBOX.Sent bob r', 'GETACL INBOX.Sent', 'LISTRIGHTS INBOX.Sent bob', 'DELETEACL INBOX.Sent owner']],
];

/** A line with its flag lists in one order, without the SPECIAL-USE attributes Courier lacks. */
function comparable(line: string): string {
  return line
    .replace(/ \\(Sent|Archive|Drafts|Junk|Trash)\b/g, '')
    .replace(/\(([^()]*)\)/g, (_, inner: string) => `(${inner.split(' ').filter(Boolean).sort().join(' ')})`);
}

test('each right taken from the owner refuses what RFC 4314 ties to it, as in Courier', { timeout: 120_000 }, async () => {
  const dir = tempDir('acl-rights');
  const base = path.join(dir, 'base');
  standardMaildir(base, 2);
  const differences: string[] = [];
  try {
    for (const [i, [what, commands]] of CASES.entries()) {
      const caseDir = path.join(dir, `case-${i}`);
      fs.mkdirSync(caseDir);
      const s = await sideBySide(base, caseDir);
      try {
        for (const command of [...commands, 'MYRIGHTS INBOX.Sent', 'GETACL INBOX.Sent', 'EXAMINE INBOX.Sent']) {
          const r = await s.both(command);
          assert.notEqual(status(r.ours), 'BAD', `${command}: ${r.ours.tagged}`);
          if (!r.courier) continue;
          // PERMANENTFLAGS only where a folder is opened: Courier also sends it after a STORE.
          const opens = /^(SELECT|EXAMINE) /.test(command);
          const shown = (lines: string[]) => lines.filter((l) => SHOWN.test(l) && (opens || !/PERMANENTFLAGS/.test(l))).map(comparable).sort();
          if (status(r.ours) !== status(r.courier)) differences.push(`${what}: ${command}: ours ${r.ours.tagged} / Courier ${r.courier.tagged}`);
          else if (JSON.stringify(shown(r.ours.lines)) !== JSON.stringify(shown(r.courier.lines)))
            differences.push(`${what}: ${command}: ours ${JSON.stringify(shown(r.ours.lines))} / Courier ${JSON.stringify(shown(r.courier.lines))}`);
        }
      } finally {
        await s.close();
      }
    }
    assert.deepEqual(differences, []);
  } finally {
    removeTree(dir);
  }
});

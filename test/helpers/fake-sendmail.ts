// A stand-in for sendmail (the Outbox's SENDMAIL, issue 12): a shell script that records each
// call's arguments and standard input in its own directory, and fails with a message on
// standard error while a file named "fail" is there (its text is the message).

import fs from 'node:fs';
import path from 'node:path';

export interface SendmailCall {
  argv: string[];
  stdin: Buffer;
}

export interface FakeSendmail {
  /** The script, for SENDMAIL. */
  program: string;
  /** The calls so far, in order. */
  calls(): SendmailCall[];
  /** From now on every call fails (exit 75) after writing `message` to standard error; null: succeed again. */
  failWith(message: string | null): void;
}

export function fakeSendmail(dir: string): FakeSendmail {
  fs.mkdirSync(dir, { recursive: true });
  const program = path.join(dir, 'sendmail.sh');
  // The calls of one server come one after another: a counter file numbers them.
  fs.writeFileSync(program, `#!/bin/sh
d='${dir}'
n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$d/count"
for a in "$@"; do printf '%s\\n' "$a"; done > "$d/$n.argv"
cat > "$d/$n.stdin"
if [ -f "$d/fail" ]; then cat "$d/fail" >&2; exit 75; fi
exit 0
`, { mode: 0o755 });
  return {
    program,
    calls() {
      const count = fs.existsSync(path.join(dir, 'count')) ? Number(fs.readFileSync(path.join(dir, 'count'), 'utf8')) : 0;
      const calls: SendmailCall[] = [];
      for (let n = 1; n <= count; n++) {
        const argv = fs.readFileSync(path.join(dir, `${n}.argv`), 'utf8').split('\n').slice(0, -1);
        calls.push({ argv, stdin: fs.readFileSync(path.join(dir, `${n}.stdin`)) });
      }
      return calls;
    },
    failWith(message) {
      if (message === null) fs.rmSync(path.join(dir, 'fail'), { force: true });
      else fs.writeFileSync(path.join(dir, 'fail'), `${message}\n`);
    },
  };
}

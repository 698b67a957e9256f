// Running SENDMAIL for the Outbox (./outbox.ts) as Courier's imapd does (imap/outbox.C,
// imapd_sendmsg): "$SENDMAIL -oi -t [-f sender]", the message on standard input with Unix line
// ends (Courier stores messages so and pipes the file), HEADERFROM's line first. Success is
// exit status 0; otherwise what the program wrote to standard output and error is the reason,
// with control characters turned into "/" and cut at 512 characters, as Courier reports it.

import { spawn } from 'node:child_process';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Courier keeps at most this much of sendmail's output for the error. */
const MAX_ERROR = 512;
/** A sendmail that hangs must not hold the command (and the session) for ever. */
export const SENDMAIL_TIMEOUT_MS = 5 * 60_000;

export interface SendmailRequest {
  program: string;
  /** For -f, and for the header; null: neither (Courier without AUTHADDR or AUTHENTICATED). */
  sender: string | null;
  /** HEADERFROM: the field name of the line that names the sender on the sent copy. */
  header: string | null;
  message: Readable;
  timeoutMs?: number;
}

/** CRLF to LF, also when a CR ends one piece and its LF starts the next. */
function unixLineEnds(): Transform {
  let heldCr = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let data = heldCr ? Buffer.concat([Buffer.from('\r'), chunk]) : chunk;
      heldCr = data.length > 0 && data[data.length - 1] === 13;
      if (heldCr) data = data.subarray(0, data.length - 1);
      const parts: Buffer[] = [];
      let start = 0;
      for (let i = data.indexOf('\r\n'); i >= 0; i = data.indexOf('\r\n', i + 2)) {
        parts.push(data.subarray(start, i));
        start = i + 1; // keep the LF
      }
      parts.push(data.subarray(start));
      done(null, parts.length === 1 ? parts[0] : Buffer.concat(parts));
    },
    flush(done) {
      done(null, heldCr ? Buffer.from('\r') : undefined);
    },
  });
}

/** Resolves with null once sendmail has accepted the message, else with the reason it was not sent. */
export function runSendmail(request: SendmailRequest): Promise<string | null> {
  const { program, sender, header } = request;
  const args = ['-oi', '-t', ...(sender ? ['-f', sender] : [])];
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(error);
    };
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_ERROR) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(`${program} did not finish within ${Math.ceil((request.timeoutMs ?? SENDMAIL_TIMEOUT_MS) / 1000)} s and was stopped`);
    }, request.timeoutMs ?? SENDMAIL_TIMEOUT_MS);
    child.on('error', (err) => finish(`${program}: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code === 0) return finish(null);
      const said = output.trimEnd().replace(/[\0-\x1f\x7f]/g, '/').slice(0, MAX_ERROR);
      if (said) return finish(said);
      finish(signal ? `${program} terminated with signal ${signal}` : `${program} exited with status ${code} without a message`);
    });
    if (header && sender) child.stdin.write(`${header}: ${sender}\n`);
    // A sendmail that exits without reading everything (EPIPE) is judged by its exit status.
    pipeline(request.message, unixLineEnds(), child.stdin).catch(() => undefined);
  });
}

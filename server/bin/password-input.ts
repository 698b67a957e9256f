// Reading a password in a command: from a terminal with echo off, or the first line of
// standard input when it is not a terminal; never from the command line, where other users
// could see it in the process list. `fail` makes the command's own error (message, exit code).

import { StringDecoder } from 'node:string_decoder';

export type FailWith = (message: string, exitCode: number) => Error;

/** Read all of standard input; the password is its first line without the line end. */
export async function passwordFromStdin(fail: FailWith): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw fail('standard input is too long for a password', 1);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw fail('the password on standard input must be a single line', 1);
  return text;
}

/** Ask on the terminal with echo off (raw mode), handling backspace, Ctrl-C and Ctrl-D. */
export function askHidden(prompt: string, fail: FailWith): Promise<string> {
  const stdin = process.stdin;
  // Echo goes off before the prompt appears, so that nothing typed after it is shown.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolvePassword, reject) => {
    const decoder = new StringDecoder('utf8');
    let value = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolvePassword(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of decoder.write(chunk)) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\x03') return finish(fail('cancelled', 130));
        if (ch === '\x04' && value === '') return finish(fail('cancelled', 130));
        if (ch === '\x7f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

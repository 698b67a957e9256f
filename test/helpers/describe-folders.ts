// What a server says of some folders' messages, comparable across servers: per folder, in
// sequence order, "subject [flags] internaldate" (flags in lower case and sorted, \Recent left
// out: it is the session's, not the message's).

import assert from 'node:assert/strict';
import type { ImapTestClient } from './imap-client.js';

export async function describeFolders(c: ImapTestClient, folders: readonly string[]): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const folder of folders) {
    assert.match((await c.command(`EXAMINE ${folder}`)).tagged, /^OK/, folder);
    const reply = await c.command('FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    result[folder] = reply.lines.filter((l) => / FETCH /.test(l)).map((l) => {
      const flags = /FLAGS \(([^)]*)\)/.exec(l)![1]!.split(' ').filter((f) => f && f !== '\\Recent').map((f) => f.toLowerCase()).sort();
      return `${/Subject: (\S+)/.exec(l)![1]} [${flags.join(' ')}] ${/INTERNALDATE "([^"]+)"/.exec(l)![1]}`;
    });
  }
  return result;
}

// Shared by the NOTIFY tests: reading what a session is told during IDLE.

import type { ImapTestClient } from '../../helpers/imap-client.js';

/** IDLE until `until` holds for the lines pushed so far (or `timeoutMs`: long, as a loaded machine is slow), then DONE; the pushed lines. */
export async function collectIdle(c: ImapTestClient, until: (lines: string[]) => boolean, timeoutMs = 15_000): Promise<string[]> {
  const tag = c.nextTag();
  c.send(`${tag} IDLE\r\n`);
  const first = (await c.readResponseLine()).toString('latin1');
  if (!first.startsWith('+')) throw new Error(`IDLE refused: ${first}`);
  const lines: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(lines) && Date.now() < deadline) {
    try {
      lines.push((await c.readResponseLine(Math.max(1, deadline - Date.now()))).toString('latin1'));
    } catch {
      break; // timed out
    }
  }
  c.send('DONE\r\n');
  const reply = await c.readUntilTagged(tag);
  if (!reply.tagged.startsWith('OK')) throw new Error(`IDLE ended with ${reply.tagged}`);
  return [...lines, ...reply.lines];
}

/** The untagged lines of a reply. */
export function unsolicited(lines: readonly string[]): string[] {
  return lines.filter((l) => l.startsWith('* '));
}

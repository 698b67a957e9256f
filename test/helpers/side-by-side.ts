// Run the same commands on our imapd and Courier's, each on its own copy of one Maildir,
// for differential tests of single behaviours (test/imap/courier-diff.test.ts compares
// a whole session; these compare one answer at a time).

import path from 'node:path';
import { spawnCourier, spawnImapd, type Reply, type SpawnedImapd } from './imap-client.js';
import { copyTree } from './maildir.js';
import { courierSkip } from './peers.js';

export interface SideBySide {
  ours: SpawnedImapd;
  /** null when Courier is not installed (courierSkip says why): our half still runs. */
  courier: SpawnedImapd | null;
  /** The same command on both, answered in parallel. */
  both(command: string): Promise<{ ours: Reply; courier: Reply | null }>;
  close(): Promise<void>;
}

/** Copies `base` to dir/ours and dir/courier and starts a PREAUTH server on each, with `env`
 * (Courier with `courierEnv` when given). */
export async function sideBySide(base: string, dir: string, env: Record<string, string> = {}, courierEnv = env): Promise<SideBySide> {
  const oursDir = path.join(dir, 'ours');
  const courierDir = path.join(dir, 'courier');
  copyTree(base, oursDir);
  copyTree(base, courierDir);
  const ours = spawnImapd(oursDir, env);
  const courier = courierSkip ? null : spawnCourier(courierDir, courierEnv);
  await Promise.all([ours.client.greeting, courier?.client.greeting]);
  return {
    ours,
    courier,
    async both(command) {
      const [a, b] = await Promise.all([ours.client.command(command), courier ? courier.client.command(command) : null]);
      return { ours: a, courier: b };
    },
    async close() {
      await Promise.all([ours.close(), courier?.close()]);
    },
  };
}

/** The status word of a tagged reply ("OK", "NO", "BAD"). */
export function status(reply: Reply): string {
  return reply.tagged.split(' ')[0];
}

// A Maildir's subscriptions (SUBSCRIBE, LSUB): courierimapsubscribed, full folder names one
// per line, as Courier keeps them.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { accountChange, ownAccountWork } from './account-watch.js';
import { errorCode, writeFileAtomic } from './fsutil.js';
import { folderMutex } from './lock.js';

export const SUBSCRIPTIONS_FILE = 'courierimapsubscribed';

/** The subscribed names, each once, in the file's order. */
export async function readSubscriptions(root: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(root, SUBSCRIPTIONS_FILE), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  return [...new Set(text.split('\n').filter((line) => line !== ''))];
}

/** Rewrites the file with what `edit` makes of the names, and tells of what changed (unless `tell` is false). */
export async function editSubscriptions(root: string, edit: (names: string[]) => string[], tell = true): Promise<void> {
  await folderMutex.run(path.join(root, SUBSCRIPTIONS_FILE), () => ownAccountWork(root, async () => {
    const before = await readSubscriptions(root);
    const after = [...new Set(edit(before))];
    if (after.length === before.length && after.every((name, i) => name === before[i])) return;
    const text = after.map((name) => `${name}\n`).join('');
    await writeFileAtomic(path.join(root, SUBSCRIPTIONS_FILE), text, path.join(root, 'tmp'));
    const kept = new Set(after);
    const had = new Set(before);
    for (const name of before) if (!kept.has(name)) accountChange(root, { kind: 'subscription', name, subscribed: false }, tell);
    for (const name of after) if (!had.has(name)) accountChange(root, { kind: 'subscription', name, subscribed: true }, tell);
  }));
}

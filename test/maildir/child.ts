// A second process for the concurrency tests: opens the Maildir given as argv[2] and
// runs the JSON command in argv[3], then prints a JSON result on stdout.
//   {"op":"append","folder":"INBOX","count":N}          -> {"uids":[...]}
//   {"op":"store","folder":"INBOX","uids":[..],"flags":[..]}
//   {"op":"expunge","folder":"INBOX","uids":[..]}
//   {"op":"claim","folder":"INBOX"}                      -> {"uids":[...]} (messages it got as recent, ascending)

import { openMaildirStore } from '../../server/maildir/index.js';

const [root, commandText] = process.argv.slice(2);
const command = JSON.parse(commandText) as { op: string; folder: string; count?: number; uids?: number[]; flags?: string[] };
const store = await openMaildirStore({ root, watch: false, idleRetentionMs: 1 });
let result: unknown = {};
if (command.op === 'append') {
  const uids: number[] = [];
  for (let i = 0; i < (command.count ?? 1); i++) {
    const body = Buffer.from(`Subject: child ${process.pid} ${i}\n\nfrom the child\n`);
    uids.push((await store.append(command.folder, body)).uid);
  }
  result = { uids };
} else {
  const folder = await store.openFolder(command.folder);
  if (command.op === 'store') await folder.storeFlags(command.uids ?? [], 'add', command.flags ?? []);
  else if (command.op === 'expunge') result = { uids: await folder.expunge(command.uids ?? []) };
  else if (command.op === 'claim') {
    const uids: number[] = [];
    folder.subscribe((change) => {
      if (change.kind === 'added' && change.recent) uids.push(...change.messages.map((m) => m.uid));
    });
    await folder.refresh();
    // and those its SELECT was told of as recent (a claim by another process it followed)
    uids.push(...((folder.snapshot() as { recent?: readonly number[] }).recent ?? []));
    result = { uids: [...new Set(uids)].sort((a, b) => a - b) };
  }
  folder.release();
}
await store.close();
process.stdout.write(JSON.stringify(result));

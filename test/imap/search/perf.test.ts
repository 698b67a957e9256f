// SEARCH FROM over 100,000 messages whose MessageMeta is in memory. The target is well under
// 100 ms; the assertion leaves room for a loaded CI machine, the measured median is printed.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MessageMeta } from '../../../server/mime/types.js';
import { search, type SearchAccessors, type SearchMessage } from '../../../server/imap/search/evaluate.js';
import { address, fakeMeta, info } from './helpers.js';

const N = 100_000;
const NAMES = ['Alice Example', 'Bob Builder', 'Carol Singer', 'Dave Grohl', 'Jörg Müller', 'Zoë Ærø'];

test('SEARCH FROM "name" over 100,000 cached metas', async (t) => {
  const metas = new Map<number, MessageMeta>();
  const messages: SearchMessage[] = [];
  for (let uid = 1; uid <= N; uid++) {
    metas.set(uid, fakeMeta({ from: [address(`user${uid}`, 'example.org', NAMES[uid % NAMES.length])], subject: `Message ${uid}` }));
    messages.push({ seq: uid, uid, info: info(uid, uid % 3 ? ['\\Seen'] : []), recent: false });
  }
  let rawReads = 0;
  const accessors: SearchAccessors = {
    cachedMeta: (uid) => metas.get(uid),
    meta: async (uid) => metas.get(uid)!,
    raw: async () => {
      rawReads++;
      return Buffer.alloc(0);
    },
  };

  const timings: number[] = [];
  let hits: number[] = [];
  for (let run = 0; run < 7; run++) {
    const start = performance.now();
    hits = await search(messages, { op: 'header', field: 'FROM', value: 'müller' }, accessors);
    timings.push(performance.now() - start);
  }
  timings.sort((a, b) => a - b);
  t.diagnostic(`FROM over ${N} metas: first ${timings[timings.length - 1].toFixed(1)} ms (slowest), median ${timings[3].toFixed(1)} ms, fastest ${timings[0].toFixed(1)} ms`);

  // "Jörg Müller" is NAMES[4]: every sixth message from 4 on
  const expected = messages.filter((m) => m.uid % NAMES.length === 4).map((m) => m.seq);
  assert.equal(expected.length, 16667);
  assert.deepEqual(hits, expected);
  assert.equal(rawReads, 0);
  // Speed is measured by npm run bench, not asserted here: a loaded CI machine would make it flaky.

  // without the synchronous cache every meta is awaited: slower, same answer
  const asyncOnly: SearchAccessors = { meta: accessors.meta, raw: accessors.raw };
  const start = performance.now();
  assert.deepEqual(await search(messages, { op: 'header', field: 'FROM', value: 'müller' }, asyncOnly), hits);
  t.diagnostic(`same search with only the async meta accessor: ${(performance.now() - start).toFixed(1)} ms`);
});

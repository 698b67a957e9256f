// The parse workers (server/maildir/parsepool.ts) give what the server thread gives: the same
// sizes, dates, ENVELOPE bytes, header data and structure, and the same cache records; and
// cache files of an older format are rebuilt, not misread.

import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { MessageData } from '../../server/backend/mailstore.js';
import { envelopeWire } from '../../server/wire/render.js';
import { MessageCache, STRUCTURE_CACHE_FILE, type CachedMessage } from '../../server/maildir/messagecache.js';
import { ParsePool, POOL_MIN_JOBS } from '../../server/maildir/parsepool.js';
import { parseHeaderMeta, parseMessage, parseStructure } from '../../server/mime/parse.js';
import { corpus } from '../mime/corpus.js';
import { tempMaildir, until } from './helpers.js';
import { encodeRecord } from '../../server/maildir/recordlog.js';

const pool = new ParsePool(1);
after(() => pool.close());

function cacheFor(dir: string, withPool: boolean, version = 'test-v1'): MessageCache {
  return new MessageCache(dir, {
    parseMessage, parseStructure, parseHeader: parseHeaderMeta, renderEnvelope: envelopeWire,
    version, memoryEntries: 100, pool: withPool ? pool : undefined,
  });
}

/** The same messages in two Maildirs: the test corpus, over and over until there are enough for the pool. */
function twoMaildirs(): { a: string; b: string; messages: () => CachedMessage[]; cleanup: () => void } {
  const one = tempMaildir();
  const two = tempMaildir();
  const entries = corpus();
  const names: string[] = [];
  for (let i = 0; names.length < Math.max(entries.length, POOL_MIN_JOBS * 3); i++) {
    const raw = entries[i % entries.length].raw;
    const name = `${1700000000 + i}.M${i}P1.test,S=${raw.length}:2,S`;
    for (const root of [one.root, two.root]) {
      writeFileSync(path.join(root, 'cur', name), raw);
      utimesSync(path.join(root, 'cur', name), 1700000000 + i, 1700000000 + i);
    }
    names.push(name);
  }
  return {
    a: one.root,
    b: two.root,
    messages: () => names.map((fileName, i) => ({ uid: i + 1, base: fileName.split(':')[0], fileName })),
    cleanup: () => {
      one.cleanup();
      two.cleanup();
    },
  };
}

function plain(data: MessageData | null): unknown {
  assert.ok(data);
  const h = data.header;
  return {
    size: data.size,
    internalDate: data.internalDate,
    envelope: data.envelope?.toString('latin1'),
    structure: data.structure,
    header: h && {
      envelope: h.envelope, references: h.references, sentDate: h.sentDate,
      decoded: { subject: h.decoded.subject, from: h.decoded.from, to: h.decoded.to, cc: h.decoded.cc, bcc: h.decoded.bcc },
    },
  };
}

test('worker-pool parse equals in-thread parse, for every request and from the caches afterwards', async () => {
  const dirs = twoMaildirs();
  try {
    await until(() => pool.usable, 10_000, 'parse worker ready');
    const requests = [
      { info: true, envelope: true },
      { structure: true },
      { info: true, header: true, structure: true },
    ];
    const pooled = cacheFor(dirs.a, true);
    const inThread = cacheFor(dirs.b, false);
    const first = await pooled.get(dirs.messages(), requests[0]);
    const expected = await inThread.get(dirs.messages(), requests[0]);
    assert.deepEqual(first.data.map(plain), expected.data.map(plain));
    assert.deepEqual(first.missing, []);
    assert.ok(pool.handled > POOL_MIN_JOBS, 'the workers did most of it');
    // The first pass also kept the structure and header data: now read from the caches.
    for (const request of requests.slice(1)) {
      assert.deepEqual((await pooled.get(dirs.messages(), request)).data.map(plain), (await inThread.get(dirs.messages(), request)).data.map(plain));
    }
    // Against the parser itself, in a new cache that reads the records from disk.
    pooled.close();
    const reread = cacheFor(dirs.a, false);
    const cached = await reread.get(dirs.messages(), { info: true, envelope: true, header: true, structure: true });
    dirs.messages().forEach((m, i) => {
      const parsed = parseMessage(readFileSync(path.join(dirs.a, 'cur', m.fileName)));
      const data = cached.data[i]!;
      assert.deepEqual(data.structure, parsed.body);
      assert.equal(data.size, parsed.size);
      assert.equal(data.envelope!.toString('latin1'), envelopeWire(parsed.envelope).toString('latin1'));
      assert.deepEqual(data.header!.envelope, parsed.envelope);
    });
    reread.close();
    inThread.close();
  } finally {
    dirs.cleanup();
  }
});

test('a file the pool cannot find is reported missing, as in the thread', async () => {
  const dirs = twoMaildirs();
  try {
    await until(() => pool.usable, 10_000, 'parse worker ready');
    const messages = dirs.messages();
    messages[3] = { ...messages[3], fileName: 'gone:2,' };
    const result = await cacheFor(dirs.a, true).get(messages, { info: true, envelope: true });
    assert.deepEqual(result.missing, [3]);
    assert.equal(result.data[3], null);
    assert.ok(result.data[4]?.envelope);
  } finally {
    dirs.cleanup();
  }
});

test('a structure cache of the older format is rebuilt, not misread', async () => {
  const dirs = twoMaildirs();
  try {
    const messages = dirs.messages().slice(0, 3);
    const file = path.join(dirs.a, STRUCTURE_CACHE_FILE);
    // Format 1 kept the BodyPart objects as JSON: a record that would decode to nonsense now.
    const payload = Buffer.from(JSON.stringify({ type: 'image', subtype: 'png' }));
    const record = encodeRecord(1, messages[0].base, payload);
    writeFileSync(file, Buffer.concat([Buffer.from('imapd-ts structure 1 test-v1\n'), record]));
    const cache = cacheFor(dirs.a, false);
    const result = await cache.get(messages, { structure: true });
    const parsed = parseMessage(readFileSync(path.join(dirs.a, 'cur', messages[0].fileName)));
    assert.deepEqual(result.data[0]!.structure, parsed.body);
    cache.close();
    assert.ok(readFileSync(file).subarray(0, 40).toString('latin1').startsWith('imapd-ts structure-3 1 test-v1\n'), 'rewritten in the new format');
    const again = cacheFor(dirs.a, false);
    assert.deepEqual((await again.get(messages, { structure: true })).data[0]!.structure, parsed.body);
    again.close();
  } finally {
    dirs.cleanup();
  }
});

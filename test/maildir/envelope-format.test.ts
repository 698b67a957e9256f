// The ENVELOPE bytes the store caches are made by the renderer it is given, and kept across
// processes under that renderer's version: another version makes them again.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { parseHeaderMeta } from '../../server/mime/parse.js';
import { ENVELOPE_WIRE_VERSION, envelopeWire } from '../../server/wire/render.js';
import { deliver, message, select, store, storeFixture, tempMaildir } from './helpers.js';

const fx = storeFixture();

async function envelopeOf(options: Parameters<typeof store>[1]): Promise<string> {
  fx.mail = await store(fx.md!.root, { watch: false, ...options });
  const inbox = await select(fx.mail, 'INBOX');
  const [data] = await inbox.messageData([inbox.snapshot().messages[0].uid], { envelope: true });
  inbox.release();
  await fx.mail.close();
  fx.mail = undefined;
  await sleep(30); // the idle folder state goes, its caches are written
  return data!.envelope!.toString('latin1');
}

test('the store caches ENVELOPE bytes of the renderer it is given, under that renderer\'s version', async () => {
  fx.md = tempMaildir();
  const raw = message('versioned');
  deliver(fx.md.root, '', raw, { dir: 'cur' });
  const wire = envelopeWire(parseHeaderMeta(raw, true)!.envelope).toString('latin1');
  assert.equal(await envelopeOf({}), wire, 'the default is server/wire\'s ENVELOPE');

  // Same version: the bytes come from the cache, not from this renderer.
  const other = { render: () => Buffer.from('(OTHER)'), version: ENVELOPE_WIRE_VERSION };
  assert.equal(await envelopeOf({ envelopeFormat: other }), wire);

  // Another version: made again by the renderer given.
  assert.equal(await envelopeOf({ envelopeFormat: { ...other, version: `${ENVELOPE_WIRE_VERSION}-other` } }), '(OTHER)');
});

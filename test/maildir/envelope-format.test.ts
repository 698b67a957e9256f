// The ENVELOPE bytes the store caches are made by the renderer it is given, and kept across
// processes under that renderer's version: another version makes them again.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, test } from 'node:test';
import type { MailStore } from '../../server/backend/mailstore.js';
import { parseHeaderMeta } from '../../server/mime/parse.js';
import { ENVELOPE_WIRE_VERSION, envelopeWire } from '../../server/wire/render.js';
import { deliver, message, select, store, tempMaildir, type TempMaildir } from './helpers.js';

let md: TempMaildir | undefined;
let mail: MailStore | undefined;

afterEach(async () => {
  await mail?.close();
  md?.cleanup();
});

async function envelopeOf(options: Parameters<typeof store>[1]): Promise<string> {
  mail = await store(md!.root, { watch: false, ...options });
  const inbox = await select(mail, 'INBOX');
  const [data] = await inbox.messageData([inbox.snapshot().messages[0].uid], { envelope: true });
  inbox.release();
  await mail.close();
  mail = undefined;
  await sleep(30); // the idle folder state goes, its caches are written
  return data!.envelope!.toString('latin1');
}

test('the store caches ENVELOPE bytes of the renderer it is given, under that renderer\'s version', async () => {
  md = tempMaildir();
  const raw = message('versioned');
  deliver(md.root, '', raw, { dir: 'cur' });
  const wire = envelopeWire(parseHeaderMeta(raw, true)!.envelope).toString('latin1');
  assert.equal(await envelopeOf({}), wire, 'the default is server/wire\'s ENVELOPE');

  // Same version: the bytes come from the cache, not from this renderer.
  const other = { render: () => Buffer.from('(OTHER)'), version: ENVELOPE_WIRE_VERSION };
  assert.equal(await envelopeOf({ envelopeFormat: other }), wire);

  // Another version: made again by the renderer given.
  assert.equal(await envelopeOf({ envelopeFormat: { ...other, version: `${ENVELOPE_WIRE_VERSION}-other` } }), '(OTHER)');
});

// The Maildir store caches ENVELOPE bytes under ENVELOPE_WIRE_VERSION, so that version must
// change whenever the bytes do: the bytes of a fixed set of envelopes (envelopes.json: the
// headers of both test corpora and awkward fields, frozen as parsed, so that a change to the
// MIME parser does not count) are hashed and compared with the hash recorded for the version.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/root.js';
import type { Envelope } from '../../server/mime/types.js';
import { ENVELOPE_WIRE_VERSION, envelopeWire } from '../../server/wire/render.js';

/** Bytes of envelopes.json as made by each ENVELOPE_WIRE_VERSION; add a line when you bump it. */
const RECORDED: Readonly<Record<string, string>> = {
  '1': '9ad133dda104996690bca14c6f042dcdaa15ba1f032a2b8b8117d3e620026b41',
};

test('ENVELOPE bytes of a fixed set of envelopes are those recorded for ENVELOPE_WIRE_VERSION', () => {
  const envelopes = JSON.parse(readFileSync(path.join(ROOT, 'test/wire/envelopes.json'), 'utf8')) as Envelope[];
  assert.ok(envelopes.length > 50);
  const hash = createHash('sha256');
  for (const envelope of envelopes) hash.update(envelopeWire(envelope)).update('\n');
  const digest = hash.digest('hex');
  const recorded = RECORDED[ENVELOPE_WIRE_VERSION];
  assert.ok(recorded !== undefined, `record ENVELOPE_WIRE_VERSION ${ENVELOPE_WIRE_VERSION} with '${digest}' in RECORDED`);
  assert.equal(
    digest,
    recorded,
    `the ENVELOPE bytes changed: bump ENVELOPE_WIRE_VERSION in server/wire/render.ts (the Maildir caches hold the old bytes) and record the new version with '${digest}' in RECORDED`,
  );
});

// Every setting the GUI shows has plain words and a group of its own: a setting added to
// the schema (server/config/settings.ts) without a label in renderer/screens/setting-labels.ts
// would show its Courier name twice, and one without a group in the appliance's table
// (configuration.ts) would land in "Network and limits" whatever it is about.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SETTINGS } from '../../server/config/index.js';
import { SETTING_GROUPS } from '../../server/appliance/api.js';
import { GROUP_OF } from '../../server/appliance/configuration.js';
import { APPLIANCE_FIXED_SETTINGS } from '../../server/appliance/defaults.js';
import { SETTING_LABELS } from '../../renderer/screens/setting-labels.js';

const shown = SETTINGS.filter((s) => !APPLIANCE_FIXED_SETTINGS.has(s.name));

describe('setting labels and groups', () => {
  it('gives every setting in the schema a plain label, not its Courier name', () => {
    const missing = shown.filter((s) => !SETTING_LABELS[s.name]).map((s) => s.name);
    assert.deepEqual(missing, [], `settings without a plain label in renderer/screens/setting-labels.ts: ${missing.join(', ')}`);
    for (const s of shown) {
      const label = SETTING_LABELS[s.name]!.label;
      assert.notEqual(label, s.name);
      assert.doesNotMatch(label, /^[A-Z0-9_]+$/, `${s.name}: "${label}" reads as a setting name`);
    }
  });

  it('puts every setting in a group that exists', () => {
    const ids = new Set(SETTING_GROUPS.map((g) => g.id));
    const missing = shown.filter((s) => !(s.name in GROUP_OF)).map((s) => s.name);
    assert.deepEqual(missing, [], `settings without a group in server/appliance/configuration.ts: ${missing.join(', ')}`);
    for (const s of shown) assert.ok(ids.has(GROUP_OF[s.name]!), `${s.name}: unknown group ${GROUP_OF[s.name]}`);
  });

  it('labels no setting that does not exist, and shows sizes and times in words', () => {
    const names = new Set(SETTINGS.map((s) => s.name));
    assert.deepEqual(Object.keys(SETTING_LABELS).filter((n) => !names.has(n)), []);
    for (const [name, l] of Object.entries(SETTING_LABELS)) {
      if (!l.unit) continue;
      assert.equal(SETTINGS.find((s) => s.name === name)!.kind, 'integer', `${name} has a unit but is not a number`);
    }
    assert.equal(SETTING_LABELS.IMAP_MAXMSGSIZE!.unit, 'bytes');
    assert.equal(SETTING_LABELS.LMTP_MAXMSGSIZE?.unit, 'bytes');
  });

  it('keeps Basic short: the few settings most people touch', () => {
    const basic = Object.entries(SETTING_LABELS).filter(([, l]) => l.basic).map(([n]) => n);
    assert.ok(basic.length >= 8 && basic.length <= 14, `${basic.length} Basic settings: ${basic.join(', ')}`);
  });
});

// CAPABILITY is computed from what the command modules declare (CommandSpec.capabilities) and
// from the settings. The expected lines below were recorded from the hand-kept list this
// replaced (server/config/session.ts SUPPORTED_WORDS and the server-added words of the former
// capabilities.ts), for each setting that changes the list and each connection state, with the
// Courier-parity changes of issue 12 (ID only when IMAP_ID_FIELDS is set; IMAP_DISABLETHREADSORT
// keeps SORT and THREAD announced and refuses the commands). One more change, deliberate: a listed
// word is announced as written, as Courier does, so "literal+" stays in lower case like "idle".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPORTED_WORDS, sessionSettingsFrom, settingsFromEnvironment, type SessionSettings } from '../../server/config/index.js';
import { capabilities, implementedWords } from '../../server/imap/capabilities.js';
import { COMMAND_SPECS } from '../../server/imap/commands/index.js';

const SETTINGS: Record<string, SessionSettings> = {
  default: sessionSettingsFrom(settingsFromEnvironment({}).settings),
  tlsRequired: sessionSettingsFrom(settingsFromEnvironment({ IMAP_TLS_REQUIRED: '1' }).settings),
  disableThreadSort: sessionSettingsFrom(settingsFromEnvironment({ IMAP_DISABLETHREADSORT: '1' }).settings),
  idFields: sessionSettingsFrom(settingsFromEnvironment({ IMAP_ID_FIELDS: '0' }).settings),
  // Courier's meaning: listed words are announced as written if implemented; others are dropped.
  odd: sessionSettingsFrom(
    settingsFromEnvironment({
      IMAP_CAPABILITY: 'IMAP4rev1 idle ACL literal+ XMAGICTRASH MOVE move STARTTLS',
      IMAP_CAPABILITY_TLS: 'IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5 SASL-IR',
    }).settings,
  ),
};

/** settings secure canStartTls authenticated | the CAPABILITY words. */
const RECORDED = [
  'default false false false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'default false false true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'default false true false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE STARTTLS ENABLE UTF8=ACCEPT',
  'default false true true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'default true false false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE AUTH=PLAIN ENABLE UTF8=ACCEPT',
  'default true false true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'default true true false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE AUTH=PLAIN ENABLE UTF8=ACCEPT',
  'default true true true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'tlsRequired false false false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE LOGINDISABLED',
  'tlsRequired false false true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'tlsRequired false true false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE STARTTLS LOGINDISABLED',
  'tlsRequired false true true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'tlsRequired true false false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE AUTH=PLAIN ENABLE UTF8=ACCEPT',
  'tlsRequired true false true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'tlsRequired true true false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE AUTH=PLAIN ENABLE UTF8=ACCEPT',
  'tlsRequired true true true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'disableThreadSort false false false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'disableThreadSort false false true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'disableThreadSort false true false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE STARTTLS ENABLE UTF8=ACCEPT',
  'disableThreadSort false true true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'disableThreadSort true false false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE AUTH=PLAIN ENABLE UTF8=ACCEPT',
  'disableThreadSort true false true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'disableThreadSort true true false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE AUTH=PLAIN ENABLE UTF8=ACCEPT',
  'disableThreadSort true true true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ENABLE UTF8=ACCEPT',
  'idFields false false false | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE SASL-IR LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ID ENABLE UTF8=ACCEPT',
  'idFields true true true | IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE MOVE UNSELECT LITERAL+ SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CREATE-SPECIAL-USE ID ENABLE UTF8=ACCEPT',
  'odd false false false | IMAP4rev1 idle literal+ MOVE STARTTLS ENABLE UTF8=ACCEPT',
  'odd false false true | IMAP4rev1 idle literal+ MOVE STARTTLS ENABLE UTF8=ACCEPT',
  'odd false true false | IMAP4rev1 idle literal+ MOVE STARTTLS ENABLE UTF8=ACCEPT',
  'odd false true true | IMAP4rev1 idle literal+ MOVE STARTTLS ENABLE UTF8=ACCEPT',
  'odd true false false | IMAP4rev1 AUTH=PLAIN SASL-IR ENABLE UTF8=ACCEPT',
  'odd true false true | IMAP4rev1 ENABLE UTF8=ACCEPT',
  'odd true true false | IMAP4rev1 AUTH=PLAIN SASL-IR ENABLE UTF8=ACCEPT',
  'odd true true true | IMAP4rev1 ENABLE UTF8=ACCEPT',
];

test('CAPABILITY is byte-identical to the former hand-kept list, for every setting and state that changes it', () => {
  for (const row of RECORDED) {
    const [head, words] = row.split(' | ');
    const [name, secure, canStartTls, authenticated] = head.split(' ');
    const got = capabilities({ settings: SETTINGS[name], secure: secure === 'true', canStartTls: canStartTls === 'true', authenticated: authenticated === 'true' });
    assert.equal(got.join(' '), words, head);
  }
});

test('a module taken out of the command table takes its capability words with it', () => {
  const ctx = { settings: SETTINGS.default, secure: true, canStartTls: false, authenticated: false };
  const full = capabilities(ctx);
  for (const word of ['MOVE', 'IDLE', 'THREAD=REFERENCES', 'AUTH=PLAIN', 'ENABLE']) assert.ok(full.includes(word), word);
  const without = (name: string) => COMMAND_SPECS.filter((s) => !s.names.includes(name));

  // MOVE and IDLE are listed in IMAP_CAPABILITY, but nothing implements them any more.
  assert.deepEqual(capabilities(ctx, without('MOVE')), full.filter((w) => w !== 'MOVE'));
  assert.deepEqual(capabilities(ctx, without('IDLE')), full.filter((w) => w !== 'IDLE'));
  // A module with several words drops them all; words the server adds by itself too.
  assert.deepEqual(capabilities(ctx, without('THREAD')), full.filter((w) => !w.startsWith('THREAD=')));
  assert.deepEqual(capabilities(ctx, without('AUTHENTICATE')), full.filter((w) => w !== 'AUTH=PLAIN' && w !== 'SASL-IR'));
  assert.deepEqual(capabilities(ctx, without('ENABLE')), full.filter((w) => w !== 'ENABLE' && w !== 'UTF8=ACCEPT'));
  const plain = { ...ctx, secure: false, canStartTls: true };
  assert.ok(capabilities(plain).includes('STARTTLS'));
  assert.ok(!capabilities(plain, without('STARTTLS')).includes('STARTTLS'));
});

test('every word the table declares is one the configuration accepts without a warning, and no other', () => {
  // config/ may not import the IMAP layer, so its warning about unimplemented words keeps its own
  // list (SUPPORTED_WORDS); this holds the two together.
  assert.deepEqual(implementedWords().map((w) => w.toUpperCase()).sort(), [...SUPPORTED_WORDS].sort());
});

// OUTBOX, SENDMAIL, HEADERFROM, OUTBOX_MULTIPLE_SEND and IMAPDEBUGFILE in the settings schema
// (issue 12): honoured now, checked at start, and no longer reported as ignored.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, COURIER_SETTINGS_NOT_HONOURED, notHonoured, sessionSettingsFrom, settingsFromDocuments, settingsFromEnvironment } from '../../server/config/index.js';

const load = (overrides: Record<string, string>) => settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, '/nonexistent', overrides).settings;

describe('the Outbox and IMAPDEBUGFILE settings', () => {
  it('are honoured, no longer listed as ignored', () => {
    for (const name of ['OUTBOX', 'SENDMAIL', 'HEADERFROM', 'OUTBOX_MULTIPLE_SEND', 'IMAPDEBUGFILE']) {
      assert.equal(COURIER_SETTINGS_NOT_HONOURED.has(name), false, name);
      assert.equal(notHonoured(name, 'x'), undefined, name);
    }
  });

  it('defaults: no Outbox, Debian\'s SENDMAIL and HEADERFROM, one message at a time, no protocol log', () => {
    const s = load({});
    assert.deepEqual([s.outbox, s.sendmail, s.headerFrom, s.outboxMultipleSend, s.debugFile], [null, '/usr/sbin/sendmail', 'X-IMAP-Sender', false, null]);
    assert.equal(sessionSettingsFrom(s).outbox, null);
    const set = load({ OUTBOX: '.Outbox', SENDMAIL: '/opt/bin/sendmail', OUTBOX_MULTIPLE_SEND: '1', HEADERFROM: '' });
    assert.deepEqual(sessionSettingsFrom(set).outbox, { folder: '.Outbox', sendmail: '/opt/bin/sendmail', headerFrom: null, multipleSend: true });
  });

  it('refuses at start what Courier would silently never match or what would break the header', () => {
    for (const [name, value, reason] of [
      ['OUTBOX', 'Outbox', /leading dot/],
      ['OUTBOX', '.Sent/Outbox', /no slashes/],
      ['OUTBOX', '.', /leading dot/],
      ['HEADERFROM', 'X-Sender: evil', /header field name/],
      ['IMAPDEBUGFILE', 'logs/imaplog.dat', /file name in the Maildir/],
      ['IMAPDEBUGFILE', '..', /file name in the Maildir/],
      ['OUTBOX_MULTIPLE_SEND', 'yes', /0 or 1/],
    ] as const) {
      assert.throws(() => load({ [name]: value }), (err: unknown) => err instanceof ConfigError && reason.test(err.message), `${name}=${value}`);
    }
    assert.equal(load({ IMAPDEBUGFILE: '/var/log/imapd/all.dat' }).debugFile, '/var/log/imapd/all.dat');
    assert.equal(load({ OUTBOX: '.Sent.Outbox' }).outbox, '.Sent.Outbox');
  });

  it('the stdio imapd reads them from the environment; an empty HEADERFROM there means no header, as in Courier', () => {
    const s = settingsFromEnvironment({ OUTBOX: '.Outbox', HEADERFROM: '', IMAPDEBUGFILE: 'imaplog.dat' }).settings;
    assert.deepEqual([s.outbox, s.headerFrom, s.debugFile], ['.Outbox', null, 'imaplog.dat']);
    assert.equal(settingsFromEnvironment({}).settings.headerFrom, 'X-IMAP-Sender');
  });
});

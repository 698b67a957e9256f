// The GUI's log in sentences (renderer/log-sentences.ts): the server's "MESSAGE key=value"
// lines, as formatLogMessage writes them, read back and said in words.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLogMessage } from '../../server/appliance/log.js';
import { logSentence, parseLogMessage } from '../../renderer/log-sentences.js';

describe('log sentences', () => {
  it('reads back the fields formatLogMessage writes, quoted ones included', () => {
    const text = formatLogMessage('LOGIN FAILED', { user: 'bob smith "x"', ip: '192.0.2.7', reason: 'bad-password', delayMs: 5000 });
    const parsed = parseLogMessage(text);
    assert.equal(parsed.message, 'LOGIN FAILED');
    assert.deepEqual([...parsed.fields], [['user', 'bob smith "x"'], ['ip', '192.0.2.7'], ['reason', 'bad-password'], ['delayMs', '5000']]);
  });

  it('says logins, failures, connections and ends in words', () => {
    assert.equal(logSentence(formatLogMessage('LOGIN', { user: 'alice', ip: '127.0.0.1' })), 'alice logged in from 127.0.0.1.');
    assert.equal(logSentence(formatLogMessage('LOGIN FAILED', { user: 'alice', ip: '::1', reason: 'bad-password' })), 'Failed login as alice from ::1 (bad password).');
    assert.equal(logSentence(formatLogMessage('connection', { conn: 3, listener: 'imaps', ip: '10.0.0.2', port: 5555 })), 'Connection 3 from 10.0.0.2 on the SSL/TLS port.');
    assert.equal(logSentence(formatLogMessage('disconnected', { conn: 3, ip: '10.0.0.2', user: 'alice', rcvd: 10 })), 'Connection 3 closed (alice).');
  });

  it('keeps other lines readable, and text without fields as it is', () => {
    assert.equal(logSentence(formatLogMessage('Maildir created', { user: 'bob', maildir: '/m/bob' })), 'Maildir created (user: bob, maildir: /m/bob)');
    assert.equal(logSentence('settings changed: MAXPERIP "4" -> "2"'), 'settings changed: MAXPERIP "4" -> "2"');
    assert.equal(logSentence('odd x= "unterminated'), 'odd x= "unterminated');
  });
});

// NOTIFY (RFC 5465) on the network server, two sessions of one account: the grammar and its
// refusals (BAD, NO [BADEVENT]), each kind of event group, STATUS for other mailboxes and LIST
// for name and subscription changes, the selected mailbox's events (fetch attributes, no flag
// changes without FlagChange), delivery during IDLE, NOTIFY NONE and [NOTIFICATIONOVERFLOW].

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ImapTestClient } from '../../helpers/imap-client.js';
import { simpleMessage } from '../../helpers/maildir.js';
import { startOneAccountServer, type OneAccountServer } from '../../helpers/network-server.js';
import { collectIdle, unsolicited } from './notify-helpers.js';

let server: OneAccountServer;
const sockets: net.Socket[] = [];

before(async () => {
  server = await startOneAccountServer('notify');
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await server.stop();
});

async function login(): Promise<ImapTestClient> {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  const c = new ImapTestClient(socket, socket);
  await c.greeting;
  assert.match((await c.command('LOGIN alice secret')).tagged, /^OK/);
  return c;
}

async function ok(c: ImapTestClient, command: string): Promise<string[]> {
  const reply = await c.command(command);
  assert.match(reply.tagged, /^OK/, `${command} -> ${reply.tagged}`);
  return reply.lines;
}

/** Lines with the values that differ from run to run (UIDVALIDITY, HIGHESTMODSEQ) replaced. */
function normalized(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/UIDVALIDITY \d+/, 'UIDVALIDITY v').replace(/HIGHESTMODSEQ \d+/, 'HIGHESTMODSEQ m'));
}

test('NOTIFY is announced and its grammar is checked', async () => {
  const socket = net.connect(server.port, '127.0.0.1');
  sockets.push(socket);
  const pre = new ImapTestClient(socket, socket);
  assert.match(await pre.greeting, / NOTIFY /);
  assert.match((await pre.command('NOTIFY NONE')).tagged, /^BAD /); // not before login
  const c = await login();
  const cases: [string, RegExp][] = [
    ['NOTIFY NONE', /^OK/],
    ['NOTIFY NONE extra', /^BAD /],
    ['NOTIFY', /^BAD /],
    ['NOTIFY BOGUS', /^BAD /],
    ['NOTIFY SET', /^BAD /],
    ['NOTIFY SET STATUS', /^BAD /],
    ['NOTIFY SET (selected (MessageNew))', /^BAD /],
    ['NOTIFY SET (selected (MessageExpunge))', /^BAD /],
    ['NOTIFY SET (personal (FlagChange))', /^BAD /],
    ['NOTIFY SET (personal (MessageNew (UID) MessageExpunge))', /^BAD /],
    ['NOTIFY SET (selected (MessageNew (UID BOGUS) MessageExpunge))', /^BAD /],
    ['NOTIFY SET (selected (MessageNew ()  MessageExpunge))', /^BAD /],
    ['NOTIFY SET (bogus (MessageNew MessageExpunge))', /^BAD /],
    ['NOTIFY SET (subtree (MailboxName))', /^BAD /],
    ['NOTIFY SET (mailboxes () (MailboxName))', /^BAD /],
    ['NOTIFY SET (personal)', /^BAD /],
    ['NOTIFY SET (personal ())', /^BAD /],
    ['NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))', /^BAD /],
    ['NOTIFY SET (personal NONE)', /^OK/],
    ['NOTIFY SET (selected NONE)', /^OK/],
    ['notify set (selected-delayed (messagenew messageexpunge flagchange))', /^OK/],
    ['NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)]) MessageExpunge))', /^OK/],
    ['NOTIFY SET (subtree INBOX (MailboxName)) (mailboxes (INBOX "INBOX.a b") (MessageNew MessageExpunge))', /^OK/],
    ['NOTIFY SET (inboxes (MessageNew MessageExpunge)) (subscribed (SubscriptionChange))', /^OK/],
    // Events this server does not offer: NO with every event it does (RFC 5465 5).
    ['NOTIFY SET (selected (MessageNew MessageExpunge AnnotationChange))', /^NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange\)\]/],
    ['NOTIFY SET (personal (MailboxMetadataChange))', /^NO \[BADEVENT \(/],
    ['NOTIFY SET (personal (ServerMetadataChange MailboxName))', /^NO \[BADEVENT \(/],
    ['NOTIFY SET (personal (SomeFutureEvent))', /^NO \[BADEVENT \(/],
  ];
  for (const [command, expected] of cases) assert.match((await c.command(command)).tagged, expected, command);
  // What one NOTIFY may watch is bounded.
  const names = Array.from({ length: 1001 }, (_, i) => `INBOX.n${i}`).join(' ');
  assert.match((await c.command(`NOTIFY SET (mailboxes (${names}) (MessageNew MessageExpunge))`)).tagged, /^NO \[NOTIFICATIONOVERFLOW\]/);
  const groups = Array.from({ length: 65 }, () => '(personal (MailboxName))').join(' ');
  assert.match((await c.command(`NOTIFY SET ${groups}`)).tagged, /^BAD /);
});

test('PERSONAL: LIST for names and subscriptions, STATUS for messages, after any command', async () => {
  const [a, b] = [await login(), await login()];
  await ok(b, 'NOTIFY SET (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))');
  await ok(a, 'CREATE INBOX.Foo');
  await ok(a, 'SUBSCRIBE INBOX.Foo');
  assert.match((await a.append('INBOX.Foo', simpleMessage('one'))).tagged, /^OK/);
  // A mailbox made since NOTIFY SET: its first STATUS tells its UIDVALIDITY (as Dovecot).
  assert.deepEqual(normalized(await ok(b, 'NOOP')), [
    '* LIST () "." "INBOX.Foo"',
    '* LIST (\\Subscribed) "." "INBOX.Foo"',
    '* STATUS "INBOX.Foo" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY v UNSEEN 1)',
  ]);
  // Nothing twice.
  assert.deepEqual(await ok(b, 'NOOP'), []);
  // A flag change that changes UNSEEN: STATUS with UNSEEN; one that does not: nothing without CONDSTORE.
  await ok(a, 'SELECT INBOX.Foo');
  await ok(a, 'STORE 1 +FLAGS (\\Seen)');
  await ok(a, 'UNSELECT');
  assert.deepEqual(await ok(b, 'NOOP'), ['* STATUS "INBOX.Foo" (UNSEEN 0)']);
  await ok(a, 'SELECT INBOX.Foo');
  await ok(a, 'STORE 1 +FLAGS (\\Flagged)');
  await ok(a, 'STORE 1 +FLAGS (\\Deleted)');
  await ok(a, 'EXPUNGE');
  await ok(a, 'UNSELECT');
  assert.deepEqual(await ok(b, 'NOOP'), ['* STATUS "INBOX.Foo" (MESSAGES 0 UIDNEXT 2 UNSEEN 0)']);
  await ok(a, 'RENAME INBOX.Foo INBOX.Bar');
  await ok(a, 'UNSUBSCRIBE INBOX.Bar');
  await ok(a, 'DELETE INBOX.Bar');
  assert.deepEqual(await ok(b, 'NOOP'), [
    '* LIST () "." "INBOX.Bar" ("OLDNAME" ("INBOX.Foo"))',
    '* LIST () "." "INBOX.Bar"',
    '* LIST (\\NonExistent) "." "INBOX.Bar"',
  ]);
  // After another command than NOOP too, before its tagged answer.
  await ok(a, 'CREATE INBOX.Baz');
  const list = await b.command('LIST "" INBOX.Baz');
  assert.deepEqual(list.lines, ['* LIST (\\HasNoChildren) "." "INBOX.Baz"', '* LIST () "." "INBOX.Baz"']);
  await ok(a, 'DELETE INBOX.Baz');
  await ok(b, 'NOTIFY NONE');
  await ok(a, 'CREATE INBOX.Quiet');
  assert.deepEqual(await ok(b, 'NOOP'), []);
  await ok(a, 'DELETE INBOX.Quiet');
});

test('SUBTREE, MAILBOXES, SUBSCRIBED and NOTIFY SET STATUS name their mailboxes only', async () => {
  const [a, b] = [await login(), await login()];
  for (const name of ['INBOX.L', 'INBOX.L.x', 'INBOX.M', 'INBOX.S']) await ok(a, `CREATE ${name}`);
  await ok(a, 'SUBSCRIBE INBOX.S');
  const status = await ok(b, 'NOTIFY SET STATUS (subtree INBOX.L (MessageNew MessageExpunge)) (mailboxes INBOX.M (MessageNew MessageExpunge FlagChange)) (subscribed (MessageNew MessageExpunge))');
  assert.deepEqual(normalized(status).sort(), [
    '* STATUS "INBOX.L" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0 HIGHESTMODSEQ m)',
    '* STATUS "INBOX.L.x" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0 HIGHESTMODSEQ m)',
    '* STATUS "INBOX.M" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0 HIGHESTMODSEQ m)',
    '* STATUS "INBOX.S" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0 HIGHESTMODSEQ m)',
  ]);
  for (const name of ['INBOX', 'INBOX.L.x', 'INBOX.M', 'INBOX.S']) assert.match((await a.append(name, simpleMessage(name))).tagged, /^OK/);
  // SET STATUS with FlagChange asked for HIGHESTMODSEQ: CONDSTORE is on for the session (as Dovecot).
  assert.deepEqual(normalized(await ok(b, 'NOOP')).sort(), [
    '* STATUS "INBOX.L.x" (MESSAGES 1 UIDNEXT 2 UNSEEN 1 HIGHESTMODSEQ m)',
    '* STATUS "INBOX.M" (MESSAGES 1 UIDNEXT 2 UNSEEN 1 HIGHESTMODSEQ m)',
    '* STATUS "INBOX.S" (MESSAGES 1 UIDNEXT 2 UNSEEN 1 HIGHESTMODSEQ m)',
  ]);
  // No MailboxName asked for: no LIST.
  await ok(a, 'CREATE INBOX.L.y');
  assert.deepEqual(await ok(b, 'NOOP'), []);
  for (const name of ['INBOX.L.y', 'INBOX.L.x', 'INBOX.L', 'INBOX.M', 'INBOX.S']) await ok(a, `DELETE ${name}`);
  await ok(b, 'NOTIFY NONE');
});

test('the selected mailbox: fetch attributes for new messages, flag changes only with FlagChange, none as STATUS', async () => {
  const [a, b] = [await login(), await login()];
  await ok(a, 'CREATE INBOX.Sel');
  await ok(b, 'SELECT INBOX.Sel');
  await ok(b, 'NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)]) MessageExpunge)) (personal (MessageNew MessageExpunge FlagChange))');
  assert.match((await a.append('INBOX.Sel', simpleMessage('pushed'))).tagged, /^OK/);
  const lines = await collectIdle(b, (got) => got.some((l) => l.includes('FETCH')));
  assert.deepEqual(lines.filter((l) => !l.startsWith('* 0 RECENT') && !/RECENT/.test(l)), [
    '* 1 EXISTS',
    '* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: pushed\r\n\r\n)',
  ]);
  // Not \Seen by the notification (BODY.PEEK).
  assert.doesNotMatch((await b.command('FETCH 1 FLAGS')).lines[0], /Seen/);
  // Without FlagChange for SELECTED, another session's flag change is not shown.
  await ok(a, 'SELECT INBOX.Sel');
  await ok(a, 'STORE 1 +FLAGS (\\Flagged)');
  assert.deepEqual(await ok(b, 'NOOP'), []);
  // With it, it is.
  await ok(b, 'NOTIFY SET (selected (MessageNew MessageExpunge FlagChange))');
  await ok(a, 'STORE 1 +FLAGS (\\Answered)');
  assert.deepEqual(await ok(b, 'NOOP'), ['* 1 FETCH (FLAGS (\\Answered \\Flagged \\Recent))']);
  // SELECTED: an expunge is told even after a FETCH by sequence number (the client goes by UID).
  await ok(a, 'STORE 1 +FLAGS (\\Deleted)');
  await ok(a, 'EXPUNGE');
  const fetch = await b.command('FETCH 1 UID');
  assert.ok(fetch.lines.includes('* 1 EXPUNGE'), fetch.lines.join('\n'));
  await ok(a, 'UNSELECT');
  await ok(b, 'UNSELECT');
  await ok(a, 'DELETE INBOX.Sel');
});

test('IDLE pushes notifications in the authenticated state', async () => {
  const [a, b] = [await login(), await login()];
  await ok(b, 'NOTIFY SET (mailboxes INBOX.Idle (MessageNew MessageExpunge MailboxName))');
  const idle = collectIdle(b, (got) => got.some((l) => l.startsWith('* STATUS')));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await ok(a, 'CREATE INBOX.Idle');
  assert.match((await a.append('INBOX.Idle', simpleMessage('idle'))).tagged, /^OK/);
  assert.deepEqual(normalized(await idle), ['* LIST () "." "INBOX.Idle"', '* STATUS "INBOX.Idle" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY v UNSEEN 1)']);
  await ok(a, 'DELETE INBOX.Idle');
  await ok(b, 'NOTIFY NONE');
});

test('too many notifications: [NOTIFICATIONOVERFLOW], then NOTIFY is off', async () => {
  const [a, b] = [await login(), await login()];
  await ok(b, 'NOTIFY SET (personal (MailboxName))');
  // 1001 folder events while B runs no command: pipelined CREATEs.
  const tags: string[] = [];
  let text = '';
  for (let i = 0; i <= 1000; i++) {
    const tag = a.nextTag();
    tags.push(tag);
    text += `${tag} CREATE INBOX.o${i}\r\n`;
  }
  a.send(text);
  for (const tag of tags) assert.match((await a.readUntilTagged(tag, 60_000)).tagged, /^OK/);
  const lines = await ok(b, 'NOOP');
  assert.deepEqual(unsolicited(lines).filter((l) => !l.startsWith('* LIST')), ['* OK [NOTIFICATIONOVERFLOW] Too many notifications: NOTIFY is now NONE']);
  await ok(a, 'CREATE INBOX.after');
  assert.deepEqual(await ok(b, 'NOOP'), []);
});

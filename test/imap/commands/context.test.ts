// A command module runs against SessionContext alone: no socket, no Session, no command loop.
// The context here is a small implementation over a real temporary Maildir, as a test of a
// single command would use.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { StagedMessage, MailStore } from '../../../server/backend/mailstore.js';
import { sessionSettingsFrom, settingsFromEnvironment } from '../../../server/config/index.js';
import { capabilities } from '../../../server/imap/capabilities.js';
import { COMMANDS } from '../../../server/imap/commands/index.js';
import { Args } from '../../../server/imap/commands/args.js';
import type { CommandResult, SessionContext, SessionNotifier } from '../../../server/imap/commands/types.js';
import type { Logger, Transport } from '../../../server/imap/contracts.js';
import { toStoreName, toWireName } from '../../../server/imap/names.js';
import { parseCommand } from '../../../server/imap/protocol/parser.js';
import type { ImapValue } from '../../../server/imap/protocol/types.js';
import { SelectedMailbox } from '../../../server/imap/selected.js';
import { openMaildirStore } from '../../../server/maildir/index.js';
import { untagged } from '../../../server/wire/writer.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';

const quiet: Logger = { log: () => undefined };

/** Logged in on a store; what the commands write is collected in `output`. */
class BareSession implements SessionContext {
  readonly settings = sessionSettingsFrom(settingsFromEnvironment({}).settings);
  readonly logger = quiet;
  readonly transport: Transport = { input: new PassThrough(), output: new PassThrough(), remoteAddress: 'test', secure: true, close: () => undefined };
  readonly user = 'tester';
  selected: SelectedMailbox | null = null;
  readonly enabled = new Set<string>();
  notifier: SessionNotifier | null = null;
  output = '';

  constructor(readonly store: MailStore) {}

  private get names() {
    return { prefix: this.settings.namespacePrefix, utf8: this.enabled.has('UTF8=ACCEPT') };
  }
  storeName(wire: string): string {
    return toStoreName(wire, this.names);
  }
  wireName(store: string): string {
    return toWireName(store, this.names);
  }
  capabilities(): string[] {
    return capabilities({ settings: this.settings, secure: true, canStartTls: false, authenticated: true });
  }
  offers(word: string): boolean {
    return this.capabilities().some((w) => w.toUpperCase() === word);
  }
  enableCondstore(): void {
    if (this.offers('CONDSTORE')) this.enabled.add('CONDSTORE');
  }
  setNotifier(notifier: SessionNotifier | null): void {
    this.notifier?.stop();
    this.notifier = notifier;
  }
  later(task: () => Promise<void>): void {
    void task();
  }
  loggedIn(): void {
    throw new Error('already logged in');
  }
  unauthenticate(): void {
    throw new Error('this bare session stays logged in');
  }
  async select(name: string, readOnly: boolean): Promise<SelectedMailbox> {
    this.unselect();
    const folder = await this.store.openFolder(name, { readOnly });
    const view = new SelectedMailbox(folder, readOnly, () => undefined);
    await folder.refresh();
    view.absorbPending();
    this.selected = view;
    return view;
  }
  unselect(): void {
    this.selected?.close();
    this.selected = null;
  }
  async expungeMessages(uids: number[]): Promise<void> {
    await this.selected!.folder.expunge(uids);
  }
  async stagedLiteral(): Promise<StagedMessage | null> {
    return null;
  }
  idling = false;
  setIdling(idling: boolean): void {
    this.idling = idling;
  }
  async logout(): Promise<void> {
    this.unselect();
  }
  async startTls(): Promise<void> {}
  compress(): void {}
  async relayTo(): Promise<void> {}
  write(data: Buffer, done?: () => void): void {
    this.output += data.toString('utf8');
    done?.();
  }
  untagged(values: ImapValue[]): void {
    this.write(untagged(values, { utf8: this.enabled.has('UTF8=ACCEPT') }));
  }
  continuation(text: string): void {
    this.write(Buffer.from(`+ ${text}\r\n`));
  }
  async readLine(): Promise<Buffer | null> {
    return null;
  }
  announceKeywords(): void {}

  /** One command line through the command table; returns the tagged result and what was written. */
  async run(line: string): Promise<{ result: CommandResult; output: string }> {
    const command = parseCommand({ lines: [Buffer.from(line)], literals: [] });
    const spec = COMMANDS.get(command.name);
    assert.ok(spec, `no module for ${command.name}`);
    this.output = '';
    const result = await spec.handler({ session: this, command, args: new Args(command.args), tag: command.tag, uid: command.name.startsWith('UID ') });
    return { result, output: this.output };
  }
}

test('STATUS, LIST and STORE run on a SessionContext over a temporary Maildir, without a socket or a Session', async () => {
  const root = emptyMaildir(tempDir('command-context'));
  const store = await openMaildirStore({ root, watch: false });
  try {
    for (let i = 1; i <= 3; i++) deliver(root, simpleMessage(`message ${i}`));
    await store.createFolder('INBOX.Sent');
    const session = new BareSession(store);

    const status = await session.run('a STATUS INBOX (MESSAGES UNSEEN UIDNEXT)');
    assert.equal(status.result.status, 'OK');
    assert.equal(status.output, '* STATUS "INBOX" (MESSAGES 3 UNSEEN 3 UIDNEXT 4)\r\n');

    const list = await session.run('b LIST "" "*"');
    assert.equal(list.result.status, 'OK');
    // INBOX holds unseen mail: \Marked, as Courier lists it.
    assert.deepEqual(list.output.split('\r\n').filter(Boolean), [
      '* LIST (\\Marked \\HasChildren) "." "INBOX"',
      '* LIST (\\HasNoChildren \\Sent) "." "INBOX.Sent"',
    ]);

    await session.select('INBOX', false);
    const stored = await session.run('c STORE 2 +FLAGS (\\Seen)');
    assert.equal(stored.result.status, 'OK');
    assert.equal(stored.output, '* 2 FETCH (FLAGS (\\Seen \\Recent))\r\n');
    // The flag reached the Maildir: one file in cur/ carries the S info flag.
    const seen = readdirSync(path.join(root, 'cur')).filter((f) => /:2,[A-Z]*S/.test(f));
    assert.equal(seen.length, 1);

    // Unselected, STATUS reads the folder from the store: the change is there.
    session.unselect();
    const status2 = await session.run('d STATUS INBOX (UNSEEN)');
    assert.equal(status2.output, '* STATUS "INBOX" (UNSEEN 2)\r\n');
  } finally {
    await store.close();
    removeTree(root);
  }
});

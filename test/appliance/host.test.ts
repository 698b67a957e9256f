// The appliance host through its API, in process: first start on an empty data
// directory, settings applied with the least disturbance, Courier files in and out,
// accounts, the log, argument checks in the host itself, and a clean stop with an APPEND
// in flight. Real files, real sockets, real IMAP sessions.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiError, ApplianceHost, invokeApi, type AccountView, type ApiMethod, type ApplianceEvent } from '../../server/appliance/index.js';
import { ImapTestClient } from '../helpers/imap-client.js';
import { bigMaildir, tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A started host on any free ports. */
async function started(options: { imapd?: string; ssl?: string } = {}): Promise<{ host: ApplianceHost; data: string; port: number; sslPort: number | undefined }> {
  const data = tempDir('host');
  dirs.push(data);
  writeConfig(data, `# a comment to keep\nPORT=0\n${options.imapd ?? ''}`, `SSLPORT=0\n${options.ssl ?? ''}`);
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
  hosts.push(host);
  const status = await host.start();
  assert.equal(status.state, 'running', status.problem ?? '');
  return {
    host,
    data,
    port: status.listeners.find((l) => l.kind === 'imap')!.port,
    sslPort: status.listeners.find((l) => l.kind === 'imaps')?.port,
  };
}

async function connect(port: number): Promise<{ client: ImapTestClient; socket: net.Socket }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = new ImapTestClient(socket, socket);
  return { client, socket };
}

async function rejects(promise: Promise<unknown>, code: string, field?: string): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.field, field, err.message);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('appliance host', () => {
  it('makes working defaults on a fresh data directory', async () => {
    const data = path.join(tempDir('fresh'), 'deeper', 'data');
    dirs.push(path.dirname(path.dirname(data)));
    const host = await ApplianceHost.open({ dataDir: data });
    hosts.push(host);
    const imapd = fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8');
    const ssl = fs.readFileSync(path.join(data, 'config', 'imapd-ssl'), 'utf8');
    assert.match(imapd, /^##NAME: MAXPERIP:0$/m);
    assert.match(imapd, /^PORT=1143$/m);
    assert.match(imapd, /^ADDRESS=127\.0\.0\.1$/m);
    assert.match(ssl, /^SSLPORT=1993$/m);
    assert.match(ssl, /^#TLS_CERTFILE=$/m);
    assert.doesNotMatch(imapd, /IMAPD_DATADIR/);
    assert.ok(fs.existsSync(path.join(data, 'accounts.sqlite')));
    const settings = await host.getSettings();
    const byName = new Map(settings.settings.map((s) => [s.name, s]));
    assert.equal(byName.get('PORT')!.value, '1143');
    assert.equal(byName.get('SSLPORT')!.value, '1993');
    assert.equal(byName.get('SSLADDRESS')!.reference, '$ADDRESS');
    assert.equal(byName.get('SSLADDRESS')!.value, '127.0.0.1');
    assert.equal(byName.get('MAXPERIP')!.applies, 'live');
    assert.equal(byName.get('PORT')!.applies, 'listeners');
    assert.equal(byName.has('IMAPD_DATADIR'), false);
    for (const group of ['network', 'capabilities', 'idle', 'tls', 'folders']) assert.ok(settings.settings.some((s) => s.group === group), group);
    const status = await host.getStatus();
    assert.equal(status.accounts, 0);
    assert.match(status.firstSteps[0]!, /Add an account/);
    // A second open keeps the files as they are.
    await host.stop();
    const again = await ApplianceHost.open({ dataDir: data });
    hosts.push(again);
    assert.equal(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), imapd);
  });

  it('starts with a self-signed certificate and tells the fingerprint', async () => {
    const { host, data } = await started();
    const status = await host.getStatus();
    assert.ok(status.tls);
    assert.match(status.tls.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.ok(fs.existsSync(path.join(data, 'tls', 'cert.pem')));
    const info = await host.connectionInfo();
    assert.equal(info.fingerprint256, status.tls.fingerprint256);
    assert.equal(info.localOnly, true);
    assert.deepEqual(info.endpoints.map((e) => e.security).sort(), ['SSL/TLS', 'STARTTLS']);
    assert.match(info.certificateAdvice, new RegExp(status.tls.fingerprint256));
  });

  it('applies MAXPERIP at once and keeps the sessions', async () => {
    const { host, port, data } = await started();
    await host.addAccount({ username: 'alice', password: 'pw-alice' });
    const a = await connect(port);
    await a.client.greeting;
    assert.match((await a.client.command('LOGIN alice pw-alice')).tagged, /^OK/);
    const result = await host.applySettings({ MAXPERIP: '1' });
    assert.equal(result.applied, true, JSON.stringify(result));
    assert.equal(result.restartedListeners, false);
    assert.equal(result.sessionsEnded, 0);
    // The logged-in session goes on; a second connection from the address is refused.
    assert.match((await a.client.command('NOOP')).tagged, /^OK/);
    const b = await connect(port);
    assert.match(await b.client.greeting, /^\* BYE Too many connections from your address/);
    b.socket.destroy();
    a.socket.destroy();
    assert.match(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), /^# a comment to keep\nPORT=0\n[\s\S]*MAXPERIP=1$/m);
  });

  it('restarts only the listeners for a listener change, telling connected sessions', async () => {
    const { host, port } = await started();
    const events: ApplianceEvent[] = [];
    host.subscribe((e) => events.push(e));
    const a = await connect(port);
    await a.client.greeting;
    const check = await host.validateSettings({ IMAPDSSLSTART: 'NO' });
    assert.equal(check.ok, true);
    assert.match(check.effects.join(' '), /listeners restart: 1 connected session is told to reconnect/);
    const result = await host.applySettings({ IMAPDSSLSTART: 'NO' });
    assert.equal(result.restartedListeners, true);
    assert.equal(result.sessionsEnded, 1);
    assert.match((await a.client.readResponseLine()).toString(), /^\* BYE Server settings changed/);
    const status = await host.getStatus();
    assert.deepEqual(status.listeners.map((l) => l.kind), ['imap']);
    assert.ok(events.some((e) => e.type === 'settings'));
    // Protocol settings only affect new sessions: no restart.
    const later = await host.applySettings({ IMAP_IDLE_TIMEOUT: '30', IMAP_TRASHFOLDERNAME: 'Bin' });
    assert.equal(later.restartedListeners, false);
    assert.match(later.effects.join(' '), /IMAP_IDLE_TIMEOUT, IMAP_TRASHFOLDERNAME: for sessions that connect from now on/);
    // Back to the default: the line goes from the file.
    const reset = await host.applySettings({ IMAP_TRASHFOLDERNAME: null });
    assert.equal(reset.applied, true);
    assert.equal((await host.getSettings()).settings.find((s) => s.name === 'IMAP_TRASHFOLDERNAME')!.source, 'default');
    a.socket.destroy();
  });

  it('reports every bad value with its setting, and a port in use', async () => {
    const { host, data } = await started();
    const before = fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ port: 0, host: '127.0.0.1' }, () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const result = await host.applySettings({ MAXPERIP: 'many', PORT: String(taken), TLS_CERTFILE: '/no/such/cert.pem', NOT_A_SETTING: '1', IMAPD_DATADIR: '/x' });
      assert.equal(result.applied, false);
      const bySetting = new Map(result.errors.map((e) => [e.setting, e.message]));
      assert.match(bySetting.get('MAXPERIP')!, /expected a whole number/);
      assert.match(bySetting.get('PORT')!, new RegExp(`port ${taken} is in use`));
      assert.match(bySetting.get('TLS_CERTFILE')!, /not found/);
      assert.match(bySetting.get('NOT_A_SETTING')!, /not a setting/);
      assert.match(bySetting.get('IMAPD_DATADIR')!, /cannot be changed here/);
    } finally {
      blocker.close();
    }
    const same = await host.validateSettings({ PORT: '1', SSLPORT: '1' });
    assert.ok(same.errors.some((e) => e.setting === 'SSLPORT' && /also given for PORT/.test(e.message)), JSON.stringify(same));
    assert.equal(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), before, 'nothing written');
  });

  it('imports and exports Courier files, keeping what it does not use', async () => {
    const { host, data } = await started();
    const courier = [
      '##NAME: MAXDAEMONS:0',
      '# Courier\'s own comment',
      'MAXDAEMONS=7',
      'PORT=0',
      'IMAP_ACL=0',
      'PIDFILE=/var/run/courier/imapd.pid',
      'IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"',
      '',
    ].join('\n');
    const result = await host.importCourierConfig(courier, 'imapd');
    assert.equal(result.applied, true, JSON.stringify(result));
    assert.equal(await host.exportCourierConfig('imapd'), courier);
    assert.equal(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), courier);
    assert.equal((await host.getSettings()).settings.find((s) => s.name === 'MAXDAEMONS')!.value, '7');
    // Broken files are refused with the line, and change nothing.
    const broken = await host.importCourierConfig('PORT=0\nMAXPERIP=$(rm -rf /)\n', 'imapd');
    assert.equal(broken.applied, false);
    assert.match(broken.errors[0]!.message, /imapd:2: MAXPERIP: command substitution/);
    const bad = await host.importCourierConfig('PORT=0\nMAXPERIP=lots\n', 'imapd');
    assert.equal(bad.applied, false);
    assert.equal(bad.errors[0]!.setting, 'MAXPERIP');
    assert.equal(await host.exportCourierConfig('imapd'), courier);
  });

  it('comes up with a broken configuration, and lets it be fixed without losing the file', async () => {
    const data = tempDir('broken');
    dirs.push(data);
    writeConfig(data, '# keep me\nPORT=0\nMAXPERIP=lots\n', 'SSLPORT=0\n');
    const host = await ApplianceHost.open({ dataDir: data });
    hosts.push(host);
    const status = await host.start();
    assert.equal(status.state, 'error');
    assert.match(status.problem!, /imapd:3: MAXPERIP: expected a whole number/);
    assert.deepEqual(status.listeners, []);
    assert.equal((await host.getSettings()).settings.find((x) => x.name === 'MAXPERIP')!.value, 'lots');
    const fixed = await host.applySettings({ MAXPERIP: '3' });
    assert.equal(fixed.applied, true, JSON.stringify(fixed));
    assert.equal((await host.getStatus()).state, 'running');
    assert.equal(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), '# keep me\nPORT=0\nMAXPERIP=3\n');

    // A file that cannot be read at all is not rewritten; an import replaces it.
    await host.stop();
    const unreadable = 'PORT=0\nMAXPERIP=`reboot`\n';
    fs.writeFileSync(path.join(data, 'config', 'imapd'), unreadable);
    const again = await ApplianceHost.open({ dataDir: data });
    hosts.push(again);
    assert.equal((await again.start()).state, 'error');
    await rejects(again.applySettings({ MAXDAEMONS: '10' }), 'conflict', 'imapd');
    assert.equal(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), unreadable);
    const imported = await again.importCourierConfig('PORT=0\nMAXPERIP=5\n', 'imapd');
    assert.equal(imported.applied, true, JSON.stringify(imported));
    assert.equal((await again.getStatus()).state, 'running');
  });

  it('manages accounts: Maildir created, bad locations refused, mail kept or deleted on removal', async () => {
    const { host, data, port } = await started();
    const alice = await host.addAccount({ username: 'alice', password: 'pw-a' });
    assert.equal(alice.maildir, path.join(data, 'mail', 'alice', 'Maildir'));
    assert.ok(fs.statSync(path.join(alice.maildir, 'new')).isDirectory());
    assert.deepEqual(alice.usage && { m: alice.usage.messages, b: alice.usage.bytes }, { m: 0, b: 0 });
    await rejects(host.addAccount({ username: 'Alice', password: 'x' }), 'exists', 'username');
    await rejects(host.addAccount({ username: 'rel', password: 'x', maildir: 'relative/Maildir' }), 'invalid-argument', 'maildir');
    const notMaildir = path.join(data, 'stuff');
    fs.mkdirSync(notMaildir);
    fs.writeFileSync(path.join(notMaildir, 'photo.jpg'), 'x');
    await rejects(host.addAccount({ username: 'carol', password: 'x', maildir: notMaildir }), 'invalid-argument', 'maildir');
    assert.equal((await host.listAccounts()).length, 1, 'nothing half-made');
    const elsewhere = path.join(data, 'elsewhere', 'Maildir');
    const dave = await host.addAccount({ username: 'dave', password: 'pw-d', maildir: elsewhere });
    assert.equal(dave.maildir, elsewhere);
    assert.ok(fs.existsSync(path.join(elsewhere, 'cur')));

    // Disabling ends the account's sessions; the password change takes effect.
    const s = await connect(port);
    await s.client.greeting;
    assert.match((await s.client.command('LOGIN alice pw-a')).tagged, /^OK/);
    await host.disableAccount('alice');
    assert.match((await s.client.readResponseLine()).toString(), /^\* BYE Your account has been disabled/);
    s.socket.destroy();
    assert.equal((await host.listAccounts()).find((a) => a.username === 'alice')!.enabled, false);
    await host.enableAccount('ALICE');
    await host.setPassword('alice', 'new-pw');
    const t = await connect(port);
    await t.client.greeting;
    assert.match((await t.client.command('LOGIN alice pw-a')).tagged, /^NO/);
    assert.match((await t.client.command('LOGIN alice new-pw')).tagged, /^OK/);
    t.socket.destroy();

    await host.removeAccount('alice', true);
    assert.ok(fs.existsSync(alice.maildir), 'mail kept');
    await host.removeAccount('dave', false);
    assert.equal(fs.existsSync(elsewhere), false, 'mail deleted');
    assert.deepEqual(await host.listAccounts(), []);
    await rejects(host.removeAccount('dave', true), 'not-found', 'username');
    await rejects(host.setPassword('nobody', 'x'), 'not-found', 'username');
  });

  it('indexes an existing Maildir with progress events', async () => {
    const { host, data } = await started();
    const maildir = path.join(data, 'old', 'Maildir');
    bigMaildir(maildir, 120, ['Sent']);
    const progress: number[] = [];
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    host.subscribe((e) => {
      if (e.type !== 'progress') return;
      progress.push(e.job.done);
      if (e.job.state !== 'running') finished();
    });
    const account = await host.addAccount({ username: 'mover', password: 'pw', maildir });
    assert.equal(account.usage?.messages, 120);
    await done;
    const status = await host.getStatus();
    const job = status.jobs.find((j) => j.account === 'mover')!;
    assert.equal(job.state, 'done', job.message ?? '');
    assert.equal(job.total, 120);
    assert.equal(job.done, 120);
    assert.equal(job.foldersTotal, 2);
    assert.ok(progress.length >= 2 && progress.at(-1) === 120, progress.join(','));
    assert.ok(fs.existsSync(path.join(maildir, 'courierimapuiddb')));
    assert.ok(fs.existsSync(path.join(maildir, '.Sent', 'courierimapuiddb')));
    // Asked again: the index exists, the job runs through quickly and finds the same.
    const again = await host.indexAccount('mover');
    assert.equal(again.state, 'running');
    await rejects(host.indexAccount('nobody'), 'not-found');
  });

  it('fills the full-text index of a Maildir moved in, as a job with progress', async () => {
    const { host, data } = await started();
    const maildir = path.join(data, 'old', 'Maildir');
    bigMaildir(maildir, 120, ['Sent']);
    const progress: number[] = [];
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    host.subscribe((e) => {
      if (e.type !== 'progress' || e.job.kind !== 'fts') return;
      progress.push(e.job.done);
      if (e.job.state !== 'running') finished();
    });
    await host.addAccount({ username: 'mover', password: 'pw', maildir });
    await done;
    const job = (await host.getStatus()).jobs.find((j) => j.kind === 'fts')!;
    assert.equal(job.state, 'done', job.message ?? '');
    assert.equal(job.total, 120);
    assert.equal(job.done, 120);
    assert.equal(job.foldersDone, 2);
    assert.ok(progress.length >= 2 && progress.at(-1) === 120, progress.join(','));
    assert.ok(fs.existsSync(path.join(maildir, 'imapd-ts.fts')));
    assert.ok(fs.existsSync(path.join(maildir, '.Sent', 'imapd-ts.fts')));
  });

  it('keeps a filterable log', async () => {
    const { host, port } = await started();
    await host.addAccount({ username: 'alice', password: 'pw-a' });
    const s = await connect(port);
    await s.client.greeting;
    await s.client.command('LOGIN alice wrong');
    await s.client.command('LOGIN alice pw-a');
    s.socket.destroy();
    const all = await host.getLog();
    assert.ok(all.some((l) => /listening/.test(l.message)));
    const alices = await host.getLog({ account: 'ALICE' });
    assert.ok(alices.length >= 3 && alices.every((l) => l.account === 'alice'), JSON.stringify(alices));
    const warnings = await host.getLog({ level: 'warn' });
    assert.ok(warnings.some((l) => /LOGIN FAILED/.test(l.message)));
    assert.ok(warnings.every((l) => l.level === 'warn' || l.level === 'error'));
    assert.equal((await host.getLog({ limit: 2 })).length, 2);
    const last = all.at(-1)!.seq;
    assert.deepEqual(await host.getLog({ after: last + 1000 }), []);
    assert.ok(!JSON.stringify(all).includes('pw-a'), 'passwords never reach the log');
  });

  it('checks every argument of a call from outside once, in invokeApi (both transports use it)', async () => {
    const { host } = await started();
    const refused = async (method: ApiMethod, args: unknown[], field?: string) => {
      const envelope = await invokeApi(host, method, args);
      assert.equal(envelope.ok, false, `${method} ${JSON.stringify(args).slice(0, 60)} was accepted`);
      if (envelope.ok) return;
      assert.equal(envelope.error.code, 'invalid-argument', envelope.error.message);
      if (field !== undefined) assert.equal(envelope.error.field, field, envelope.error.message);
    };
    await refused('addAccount', [{ username: 5, password: 'x' }], 'username');
    await refused('addAccount', [{ username: 'a', password: 'x', isAdmin: true }]);
    await refused('addAccount', ['alice']);
    await refused('setPassword', ['alice']);
    await refused('removeAccount', ['alice', 'yes'], 'keepMail');
    await refused('disconnectSession', [-1], 'id');
    await refused('disconnectSession', ['1'], 'id');
    await refused('applySettings', [{ MAXPERIP: 3 }], 'MAXPERIP');
    await refused('applySettings', [{ PORT: '1\nIMAPDSTART=NO' }], 'PORT');
    await refused('applySettings', [['PORT']]);
    await refused('getLog', [{ level: 'loud' }], 'level');
    await refused('exportCourierConfig', ['../../etc/passwd'], 'which');
    await refused('importCourierConfig', ['x'.repeat(1024 * 1024 + 1), 'imapd'], 'text');
    await refused('importCourierConfig', ['x', 'imapd.conf'], 'which');
    // Account passwords have a minimum length at the API, not only in the GUI's form.
    await refused('addAccount', [{ username: 'short', password: 'seven77' }], 'password');
    await refused('setPassword', ['alice', 'abc'], 'password');
    await refused('addAccount', [{ username: 'q', password: 'long enough', quota: { bytes: -1, messages: null } }], 'quotaBytes');
    await refused('setQuota', ['alice', { bytes: 1.5, messages: null }], 'quotaBytes');
    await refused('setQuota', ['alice', { bytes: null, messages: 0 }], 'quotaMessages');
    await refused('setQuota', ['alice', { gigabytes: 1 }]);
    assert.deepEqual(await invokeApi(host, 'disconnectSession', [999]), { ok: true, result: false });
  });

  it('sets, changes and removes an account\'s quota in its maildirsize, which APPEND then obeys', async () => {
    const { host, port } = await started();
    const made = await invokeApi(host, 'addAccount', [{ username: 'alice', password: 'pw-alice-1', quota: { bytes: 2000, messages: null } }]);
    assert.ok(made.ok, JSON.stringify(made));
    const account = (await host.listAccounts()).find((a) => a.username === 'alice')!;
    assert.equal(account.quotaBytes, 2000);
    const sizeFile = path.join(account.maildir, 'maildirsize');
    assert.match(fs.readFileSync(sizeFile, 'utf8'), /^2000S\n/);
    const s = await connect(port);
    await s.client.greeting;
    assert.match((await s.client.command('LOGIN alice pw-alice-1')).tagged, /^OK/);
    const big = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(3000)}\r\n`);
    assert.match((await s.client.append('INBOX', big)).tagged, /^NO .*OVERQUOTA|^NO \[OVERQUOTA\]/);
    const raised = await invokeApi(host, 'setQuota', ['alice', { bytes: 1_000_000, messages: 10 }]);
    assert.ok(raised.ok && (raised.result as AccountView).quotaBytes === 1_000_000 && (raised.result as AccountView).quotaMessages === 10, JSON.stringify(raised));
    assert.match(fs.readFileSync(sizeFile, 'utf8'), /^1000000S,10C\n/);
    assert.match((await s.client.append('INBOX', big)).tagged, /^OK/);
    const removed = await invokeApi(host, 'setQuota', ['alice', null]);
    assert.ok(removed.ok && (removed.result as AccountView).quotaBytes === null && (removed.result as AccountView).quotaMessages === null);
    assert.equal(fs.existsSync(sizeFile), false);
    s.socket.destroy();
    assert.ok((await host.getLog({ account: 'alice' })).some((l) => /quota 1 MB and 10 messages -> none/.test(l.message)));
    await rejects(host.setQuota('nobody', null), 'not-found', 'username');
  });

  it('sets and clears an account\'s mail host (IMAP_PROXY), refusing a malformed one', async () => {
    const { host } = await started();
    await host.addAccount({ username: 'alice', password: 'pw-alice-1' });
    const set = await invokeApi(host, 'setMailhost', ['alice', 'mail2.example.com:143']);
    assert.ok(set.ok && (set.result as AccountView).mailhost === 'mail2.example.com:143', JSON.stringify(set));
    assert.equal((await host.listAccounts()).find((a) => a.username === 'alice')!.mailhost, 'mail2.example.com:143');
    const refusedHost = await invokeApi(host, 'setMailhost', ['alice', 'two words']);
    assert.ok(!refusedHost.ok && refusedHost.error.field === 'mailhost', JSON.stringify(refusedHost));
    const wrongType = await invokeApi(host, 'setMailhost', ['alice', 143]);
    assert.ok(!wrongType.ok && wrongType.error.field === 'mailhost', JSON.stringify(wrongType));
    const cleared = await invokeApi(host, 'setMailhost', ['alice', null]);
    assert.ok(cleared.ok && (cleared.result as AccountView).mailhost === null);
    assert.ok((await host.getLog({ account: 'alice' })).some((l) => /mail host mail2\.example\.com:143 -> \(this server\)/.test(l.message)));
    await rejects(host.setMailhost('nobody', null), 'not-found', 'username');
  });

  it('gives an account the sharable Maildirs of <data>/config/maildirshared (shared.), read-only; others see none', async () => {
    const { host, data, port } = await started();
    const team = path.join(data, 'sharable', 'team');
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(team, '.Team', sub), { recursive: true });
    fs.writeFileSync(path.join(team, '.Team', 'cur', '1700000000.M1P1.host,S=30:2,'), 'Subject: team\r\n\r\nhello team\r\n');
    fs.writeFileSync(path.join(data, 'config', 'maildirshared'), `team ${team}\n`);
    await host.addAccount({ username: 'alice', password: 'pw-alice-1' });
    await host.addAccount({ username: 'bob', password: 'pw-bob-1' });
    const set = await invokeApi(host, 'setSharable', ['alice', '']);
    assert.ok(set.ok && (set.result as AccountView).sharable === '', JSON.stringify(set));
    const refusedGroup = await invokeApi(host, 'setSharable', ['alice', '../etc']);
    assert.ok(!refusedGroup.ok && refusedGroup.error.field === 'sharable', JSON.stringify(refusedGroup));
    const wrongType = await invokeApi(host, 'setSharable', ['alice', 1]);
    assert.ok(!wrongType.ok && wrongType.error.field === 'sharable', JSON.stringify(wrongType));
    for (const [user, password, sees] of [['alice', 'pw-alice-1', true], ['bob', 'pw-bob-1', false]] as const) {
      const s = await connect(port);
      await s.client.greeting;
      assert.match((await s.client.command(`LOGIN ${user} ${password}`)).tagged, /^OK/);
      const ns = (await s.client.command('NAMESPACE')).lines.join('');
      assert.equal(ns.includes('("shared." ".")'), sees, ns);
      const select = await s.client.command('SELECT shared.team.Team');
      assert.match(select.tagged, sees ? /^OK \[READ-WRITE\]/ : /^NO/, `${user}: ${select.tagged}`);
      if (sees) assert.match((await s.client.command('APPEND shared.team.Team {5+}\r\nhello')).tagged, /^NO/);
      s.socket.destroy();
    }
    assert.deepEqual(fs.readdirSync(path.join(team, '.Team', 'cur')), ['1700000000.M1P1.host,S=30:2,']);
    assert.equal((await invokeApi(host, 'setSharable', ['alice', null])).ok, true);
    assert.ok((await host.getLog({ account: 'alice' })).some((l) => /sharable Maildirs \(the list\) -> \(none\)/.test(l.message)));
    await rejects(host.setSharable('nobody', null), 'not-found', 'username');
  });

  it('stops cleanly: an APPEND still arriving is refused and leaves no file', async () => {
    const { host, port } = await started();
    const account = await host.addAccount({ username: 'alice', password: 'pw-a' });
    const s = await connect(port);
    await s.client.greeting;
    assert.match((await s.client.command('LOGIN alice pw-a')).tagged, /^OK/);
    const whole = Buffer.from('Subject: complete\r\n\r\nstored before the stop\r\n');
    assert.match((await s.client.append('INBOX', whole)).tagged, /^OK/);
    s.client.send(`t99 APPEND INBOX {5000}\r\n`);
    assert.match((await s.client.readResponseLine()).toString(), /^\+/);
    s.client.send(Buffer.alloc(2000, 'x'));
    await new Promise((r) => setTimeout(r, 100));
    await host.stop();
    const rest = await s.client.readResponseLine().then((b) => b.toString(), () => '');
    assert.match(rest, /^\* BYE Server shutting down/);
    s.socket.destroy();
    const files = (sub: string) => fs.readdirSync(path.join(account.maildir, sub)).filter((f) => !f.startsWith('.'));
    const stored = [...files('cur'), ...files('new')];
    assert.equal(stored.length, 1, stored.join(','));
    assert.equal(fs.readFileSync(path.join(account.maildir, fs.existsSync(path.join(account.maildir, 'new', stored[0]!)) ? 'new' : 'cur', stored[0]!), 'utf8'), whole.toString());
    assert.deepEqual(files('tmp'), []);
    assert.equal((await host.getStatus().catch(() => null))?.state ?? 'stopped', 'stopped');
  });
});

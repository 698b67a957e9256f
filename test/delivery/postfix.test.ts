// A real MTA in front of the real server: Debian's Postfix (a private instance, see
// test/helpers/postfix.ts) delivers local mail over LMTP (mailbox_transport) to imapd-server,
// whose IDLE client is told of the message; an unknown user bounces with 550 5.1.1.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { ImapTestClient, ROOT } from '../helpers/imap-client.js';
import { removeTree, tempDir } from '../helpers/maildir.js';
import { postfixSkip, startPostfix, type PrivatePostfix } from '../helpers/postfix.js';

const SERVER = path.join(ROOT, 'dist/server/bin/imapd-server.js');

describe('Postfix delivering over LMTP to imapd-server', { skip: postfixSkip }, () => {
  let dir: string;
  let server: ChildProcess;
  let imapPort: number;
  let lmtpPort: number;
  let postfix: PrivatePostfix;

  before(async () => {
    dir = tempDir('postfix');
    const data = path.join(dir, 'data');
    const config = path.join(dir, 'config');
    fs.mkdirSync(config);
    fs.writeFileSync(path.join(config, 'imapd'), 'PORT=0\nIMAPDSTART=YES\nLMTP_PORT=0\n');
    fs.writeFileSync(path.join(config, 'imapd-ssl'), 'IMAPDSSLSTART=NO\nIMAPDSTARTTLS=NO\n');
    const accounts = SqliteAccountStore.open(data);
    await accounts.add({ username: 'alice', password: 'alice-password' });
    await accounts.addAddress('alice', 'alice@example.org');
    accounts.close();
    server = spawn(process.execPath, [SERVER, '--config', config, '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stderr!.on('data', () => undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`imapd-server did not start: ${out}`)), 20_000);
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const imap = /listening on 127\.0\.0\.1:(\d+) \(IMAP without TLS\)/.exec(out);
        const lmtp = /listening on 127\.0\.0\.1:(\d+) \(LMTP delivery\)/.exec(out);
        if (imap && lmtp) {
          imapPort = Number(imap[1]);
          lmtpPort = Number(lmtp[1]);
          clearTimeout(timer);
          resolve();
        }
      });
      server.on('exit', (code) => reject(new Error(`imapd-server exited with ${code}: ${out}`)));
    });
    postfix = await startPostfix(path.join(dir, 'postfix'), `lmtp:inet:127.0.0.1:${lmtpPort}`);
  });

  after(async () => {
    await postfix?.stop();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    removeTree(dir);
  });

  it('sendmail to a local user: Postfix hands it over by LMTP, the IDLE client sees it', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: imapPort });
    const client = new ImapTestClient(socket, socket);
    try {
      await client.greeting;
      assert.match((await client.command('LOGIN alice alice-password')).tagged, /^OK/);
      assert.match((await client.command('SELECT INBOX')).lines.join('\n'), /^\* 0 EXISTS/m);
      client.send('i1 IDLE\r\n');
      assert.match((await client.readResponseLine()).toString(), /^\+ /);
      const body = 'Subject: through Postfix\n\nDelivered by Postfix over LMTP.\n';
      assert.equal(await postfix.sendmail('sender@example.org', [`alice@${postfix.hostname}`], Buffer.from(body)), 0);
      assert.equal((await client.readResponseLine(30_000)).toString(), '* 1 EXISTS');
      client.send('DONE\r\n');
      await client.readUntilTagged('i1');
      const fetched = await client.command('FETCH 1 BODY.PEEK[HEADER.FIELDS (RETURN-PATH DELIVERED-TO SUBJECT)]');
      const text = fetched.lines.join('\n');
      assert.match(text, /Return-Path: <sender@example\.org>/);
      assert.match(text, new RegExp(`Delivered-To: alice@${postfix.hostname.replace(/\./g, '\\.')}`));
      assert.match(text, /Subject: through Postfix/);
      const log = await postfix.waitForLog(/status=sent \(250 2\.\d\.\d Saved for alice/);
      assert.match(log, new RegExp(`relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${lmtpPort}`));
    } finally {
      socket.destroy();
    }
  });

  it('an unknown user bounces: Postfix logs 550 5.1.1 from our LMTP', async () => {
    assert.equal(await postfix.sendmail('sender@example.org', [`nobody@${postfix.hostname}`], Buffer.from('Subject: lost\n\nnobody here\n')), 0);
    const log = await postfix.waitForLog(/to=<nobody@[^>]+>.*status=bounced/);
    assert.match(log, /to=<nobody@[^>]+>.*said: 550 5\.1\.1 No such user here/);
  });
});

// LMTP in the appliance: started with the IMAP listeners from LMTP_SOCKET, delivering to an
// account added through the API (a pipelined client), and stopped and started again by a
// settings change without restarting the IMAP listeners.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, it } from 'node:test';
import { ApplianceHost } from '../../server/appliance/index.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Send the commands in one write (PIPELINING), then the message after 354; every reply line read. */
async function pipelined(socketPath: string, commands: string[], message: string): Promise<string[]> {
  const socket = net.connect(socketPath);
  const lines: string[] = [];
  let buffer = '';
  let sentData = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(lines)}`)), 10_000);
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        lines.push(line);
        if (lines.length === 1) socket.write(commands.map((c) => c + '\r\n').join(''));
        if (line.startsWith('354') && !sentData) {
          sentData = true;
          socket.write(message + '.\r\nQUIT\r\n');
        }
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(lines);
    });
  });
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('the appliance delivers over LMTP_SOCKET, and a settings change restarts only LMTP', async () => {
  const data = tempDir('lmtp-appliance');
  dirs.push(data);
  const socketPath = path.join(data, 'lmtp.sock');
  writeConfig(data, `PORT=0\nLMTP_SOCKET=${socketPath}\n`, 'SSLPORT=0\n');
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
  hosts.push(host);
  assert.equal((await host.start()).state, 'running');
  assert.ok(fs.statSync(socketPath).isSocket());
  await host.addAccount({ username: 'alice', password: 'alice-password' });

  const replies = await pipelined(socketPath, ['LHLO client.test', 'MAIL FROM:<s@example.org>', 'RCPT TO:<alice@home.test>', 'RCPT TO:<nobody@home.test>', 'DATA'],
    'Subject: via the appliance\r\n\r\nHello.\r\n');
  // Reply code and enhanced status code (RFC 2034) of each last reply line.
  const codes = replies.filter((l) => !/^\d{3}-/.test(l)).map((l) => /^\d{3}( \d\.\d{1,3}\.\d{1,3})?/.exec(l)![0]);
  assert.deepEqual(codes, ['220', '250', '250 2.1.0', '250 2.1.5', '550 5.1.1', '354', '250 2.6.0', '221 2.0.0'], replies.join('\n'));
  assert.ok(replies.includes('250-PIPELINING'), replies.join('\n'));
  const cur = path.join(data, 'mail', 'alice', 'Maildir', 'cur');
  const [file] = fs.readdirSync(cur);
  assert.equal(fs.readFileSync(path.join(cur, file!), 'latin1'), 'Return-Path: <s@example.org>\r\nDelivered-To: alice@home.test\r\nSubject: via the appliance\r\n\r\nHello.\r\n');

  const off = await host.applySettings({ LMTP_SOCKET: null });
  assert.ok(off.applied, JSON.stringify(off));
  assert.equal(off.restartedListeners, false);
  await waitFor(() => !fs.existsSync(socketPath), 'the LMTP socket to go');
  const on = await host.applySettings({ LMTP_SOCKET: socketPath });
  assert.ok(on.applied && !on.restartedListeners);
  await waitFor(() => fs.existsSync(socketPath), 'the LMTP socket to come back');
  const again = await pipelined(socketPath, ['LHLO client.test', 'MAIL FROM:<>', 'RCPT TO:<ALICE@elsewhere.test>', 'DATA'], 'Subject: again\r\n\r\nx\r\n');
  assert.ok(again.some((l) => l.startsWith('250 2.6.0 Saved for alice')), again.join('\n'));
  assert.equal(fs.readdirSync(cur).length, 2);
});

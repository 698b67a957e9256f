// Our imapd as the last command of Courier's daisy chain:
// couriertcpd -> imaplogin -> imapd ./Maildir (Debian's courier-imap, test/peers/courier-start.sh).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { IMAPD, ImapTestClient, PEERS } from '../helpers/imap-client.js';
import { courierSkip, removeTree, standardMaildir, tempDir } from '../helpers/maildir.js';

const skip = courierSkip
  ? courierSkip
  : process.getuid?.() !== 0
    ? 'courier-start.sh needs root (it edits /etc/courier/userdb)'
    : false;

it('serves a login made by Courier imaplogin (drop-in for Courier imapd)', { skip, timeout: 60_000 }, async () => {
  const dir = tempDir('imaplogin');
  const md = standardMaildir(path.join(dir, 'Maildir'), 5);
  // imaplogin execs its last argument with a clean environment: a wrapper finds node, and
  // offers ID (IMAP_ID_FIELDS), by which the test tells our imapd from Courier's.
  const wrapper = path.join(dir, 'our-imapd');
  fs.writeFileSync(wrapper, `#!/bin/sh\nIMAP_ID_FIELDS=0 exec "${process.execPath}" "${IMAPD}" "$@"\n`, { mode: 0o755 });
  const port = await freePort();
  execFileSync(path.join(PEERS, 'courier-start.sh'), [md], {
    env: { ...process.env, IMAPD_BIN: wrapper, COURIER_PORT: String(port) },
    stdio: 'pipe',
  });
  const socket = net.connect(port, '127.0.0.1');
  try {
    const client = new ImapTestClient(socket, socket);
    assert.match(await client.greeting, /^\* OK .*Courier-IMAP/);
    const login = await client.command('LOGIN alice secret');
    // The tagged LOGIN answer is written by our imapd, which then owns the connection.
    assert.equal(login.tagged, 'OK LOGIN Ok.');
    // Our imapd takes IMAP_CAPABILITY from the environment imaplogin passes on, as Courier's
    // does, so tell the servers apart by ID (set for ours in the wrapper, not for Courier).
    const id = await client.command('ID NIL');
    assert.deepEqual(id.lines, ['* ID ("name" "imapd-ts")']);
    const select = await client.command('SELECT INBOX');
    assert.ok(select.lines.includes('* 5 EXISTS'), select.lines.join('\n'));
    await client.command('LOGOUT');
  } finally {
    socket.destroy();
    execFileSync(path.join(PEERS, 'courier-stop.sh'), { stdio: 'pipe' });
    removeTree(dir);
  }
});

/** A port nothing listens on right now (couriertcpd needs a number; the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

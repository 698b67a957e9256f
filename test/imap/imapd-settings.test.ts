// The stdio imapd reads its settings from the environment, as Courier's imapd does, and
// checks them with the same schema as imapd-server's files: a value the schema refuses
// stops it with exit code 1 and a message naming the variable, before any greeting.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IMAPD, spawnCourier, spawnImapd } from '../helpers/imap-client.js';
import { courierSkip } from '../helpers/peers.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

let dir: string;
let md: string;
before(() => {
  dir = tempDir('imapd-settings');
  md = emptyMaildir(path.join(dir, 'Maildir'));
});
after(() => removeTree(dir));

describe('imapd refuses settings the schema refuses', () => {
  for (const [name, value, reason] of [
    ['IMAP_MAXLINE', '0', /0 is out of range \(1024 to 16777216\)/],
    ['IMAP_ENHANCEDIDLE', 'yes', /expected 0 or 1, got "yes"/],
    ['IMAP_IDLE_TIMEOUT', '99999', /99999 is out of range \(1 to 3600\)/],
  ] as const) {
    it(`${name}=${value}: exit code 1, the variable named, no greeting`, async () => {
      const imapd = spawnImapd(md, { [name]: value });
      let greeted = false;
      imapd.client.greeting.then(() => (greeted = true), () => undefined);
      const code = await Promise.race([imapd.exited, sleep(5000, undefined, { ref: false }).then(() => 'still running')]);
      await imapd.close();
      assert.equal(code, 1);
      assert.match(imapd.stderr(), new RegExp(`^imapd: bad setting: environment: ${name}: `));
      assert.match(imapd.stderr(), reason);
      assert.equal(greeted, false);
    });
  }
});

/** Debian's /etc/courier/imapd and imapd-ssl (courier-imap 5), as their start script exports them. */
const COURIER_ENVIRONMENT: Record<string, string> = {
  ADDRESS: '0', PORT: '143', MAXDAEMONS: '40', MAXPERIP: '20', PIDFILE: '/run/courier/imapd.pid',
  TCPDOPTS: '-nodnslookup -noidentlookup', IMAPACCESSFILE: '/etc/courier/imapaccess', LOGGEROPTS: '-name=imapd',
  IMAP_CAPABILITY: 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE',
  IMAP_KEYWORDS: '1', IMAP_ACL: '1', IMAP_PROXY: '0', IMAP_PROXY_FOREIGN: '0', IMAP_IDLE_TIMEOUT: '60',
  IMAP_MAILBOX_SANITY_CHECK: '1',
  IMAP_CAPABILITY_TLS: 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN',
  IMAP_DISABLETHREADSORT: '0', IMAP_CHECK_ALL_FOLDERS: '0', IMAP_OBSOLETE_CLIENT: '0', IMAP_UMASK: '022',
  IMAP_ULIMITD: '131072', IMAP_USELOCKS: '1', IMAP_SHAREDINDEXFILE: '/etc/courier/shared/index', IMAP_ENHANCEDIDLE: '0',
  IMAP_TRASHFOLDERNAME: 'Trash', IMAP_EMPTYTRASH: 'Trash:7', IMAP_MOVE_EXPUNGE_TO_TRASH: '0', SENDMAIL: '/usr/sbin/sendmail',
  HEADERFROM: 'X-IMAP-Sender', IMAPDSTART: 'YES', MAILDIRPATH: 'Maildir',
  SSLPORT: '993', SSLADDRESS: '0', IMAPDSSLSTART: 'YES', IMAPDSTARTTLS: 'YES', IMAP_TLS_REQUIRED: '0',
  COURIERTLS: '/usr/bin/couriertls', TLS_STARTTLS_PROTOCOL: '', TLS_CERTFILE: '/nonexistent/imapd.pem',
  TLS_DHPARAMS: '/etc/courier/dhparams.pem', TLS_VERIFYPEER: 'NONE', TLS_CACHESIZE: '524288',
  // Set by imaplogin for the session it starts.
  AUTHENTICATED: 'alice', IMAPLOGINTAG: 'a1', TCPREMOTEIP: '192.0.2.7',
};

describe('imapd started as Courier starts it', () => {
  it('takes the environment of Courier\'s files: their capabilities, IDLE mode; listener settings are not its business', async () => {
    const imapd = spawnImapd(md, COURIER_ENVIRONMENT);
    try {
      assert.equal(await imapd.client.greeting, 'a1 OK LOGIN Ok.');
      const caps = await imapd.client.command('CAPABILITY');
      // As Debian's Courier announces them with IMAP_ACL=1: ACL ACL2=UNION before ENABLE.
      assert.equal(caps.lines[0], '* CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION ENABLE UTF8=ACCEPT');
      imapd.client.send('i1 IDLE\r\n');
      // IMAP_ENHANCEDIDLE=0: Courier's plain "+ idling", not the ENHANCED continuation.
      assert.doesNotMatch((await imapd.client.readResponseLine()).toString(), /ENHANCED/i);
      imapd.client.send('DONE\r\n');
      assert.match((await imapd.client.readResponseLine()).toString(), /^i1 OK/);
    } finally {
      await imapd.close();
    }
    assert.doesNotMatch(imapd.stderr(), /bad setting/);
  });

  it('announces what Courier\'s imapd announces under this machine\'s Courier files (ACL ACL2=UNION with IMAP_ACL=1)', { skip: courierSkip || (!existsSync('/etc/courier/imapd') && 'no /etc/courier/imapd here') }, async () => {
    const ours = spawnImapd(md, COURIER_ENVIRONMENT);
    const courier = spawnCourier(md);
    try {
      await Promise.all([ours.client.greeting, courier.client.greeting]);
      const [a, b] = await Promise.all([ours.client.command('CAPABILITY'), courier.client.command('CAPABILITY')]);
      assert.equal(a.lines[0], b.lines[0]);
      assert.match(b.lines[0], / ACL ACL2=UNION /);
    } finally {
      await Promise.all([ours.close(), courier.close()]);
    }
  });

  it('an empty variable counts as unset; an empty IMAP_NAMESPACE_PREFIX puts folders at the top level', async () => {
    const imapd = spawnImapd(md, { IMAP_TRASHFOLDERNAME: '', IMAP_CAPABILITY: '', IMAP_NAMESPACE_PREFIX: '' });
    try {
      await imapd.client.greeting;
      const ns = await imapd.client.command('NAMESPACE');
      assert.match(ns.lines[0], /^\* NAMESPACE \(\(""/);
    } finally {
      await imapd.close();
    }
  });

  const files = ['/etc/courier/imapd', '/etc/courier/imapd-ssl'];
  it('starts under this machine\'s Courier configuration, exported as its start script does', { skip: files.some((f) => !existsSync(f)) && 'no /etc/courier/imapd here (Courier-IMAP is not installed; run npm run peers)' }, async () => {
    // The shell reads the files as Courier's init script does ("set -a; . file").
    const child = spawn('/bin/sh', ['-c', `set -a; . ${files[0]}; . ${files[1]}; set +a; exec "$0" "$1" "$2"`, process.execPath, IMAPD, md], {
      env: { PATH: process.env.PATH ?? '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end('a LOGOUT\r\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    assert.match(out, /^\* PREAUTH /);
    assert.match(out, /a OK LOGOUT/);
  });
});

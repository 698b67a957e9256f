// Symlinks in the Maildir (issue 9, item 3): a folder directory that is a symlink, or whose
// cur/ new/ tmp/ is one, lies outside the Maildir and does not exist for any command; a
// message file that is a symlink is not served. Each command is driven through the real
// imapd on stdio, and the Maildir outside must not change by a single file.

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { removeTree, simpleMessage, standardMaildir, tempDir } from '../helpers/maildir.js';

/** Every file and directory below `root`, with sizes, as one sorted list. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = fs.lstatSync(full);
      out.push(`${path.relative(root, full)} ${stat.isDirectory() ? 'dir' : stat.size}`);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out;
}

function count(dir: string): number {
  return fs.readdirSync(path.join(dir, 'cur')).length + fs.readdirSync(path.join(dir, 'new')).length;
}

const EVIL = ['INBOX.evilmd', 'INBOX.halfcur', 'INBOX.halftmp', 'INBOX.halfkw'];

interface Setup {
  dir: string;
  md: string;
  outside: string;
  before: string[];
  imapd: SpawnedImapd;
}

/**
 * A Maildir with 4 INBOX messages and `.evilmd` a symlink to another Maildir; `.halfcur`
 * a real folder whose cur/ is a symlink, `.halftmp` one whose tmp/ is, `.halfkw` one whose
 * keyword directory is.
 */
async function setUp(): Promise<Setup> {
  const dir = tempDir('symlink');
  const md = standardMaildir(path.join(dir, 'Maildir'), 4);
  const outside = standardMaildir(path.join(dir, 'outside'), 2);
  fs.symlinkSync(outside, path.join(md, '.evilmd'));
  fs.mkdirSync(path.join(md, '.halfcur', 'new'), { recursive: true });
  fs.mkdirSync(path.join(md, '.halfcur', 'tmp'));
  fs.symlinkSync(path.join(outside, 'cur'), path.join(md, '.halfcur', 'cur'));
  fs.mkdirSync(path.join(md, '.halftmp', 'cur'), { recursive: true });
  fs.mkdirSync(path.join(md, '.halftmp', 'new'));
  fs.symlinkSync(path.join(outside, 'tmp'), path.join(md, '.halftmp', 'tmp'));
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(md, '.halfkw', sub), { recursive: true });
  fs.symlinkSync(path.join(outside, '.Sent'), path.join(md, '.halfkw', 'courierimapkeywords'));
  const before = tree(outside);
  const imapd = spawnImapd(md);
  await imapd.client.greeting;
  return { dir, md, outside, before, imapd };
}

describe('a folder that is a symlink out of the Maildir', () => {
  // A fresh Maildir for each command: one command's damage must not show up as another's.
  let s: Setup;
  beforeEach(async () => {
    s = await setUp();
  });
  afterEach(async () => {
    await s.imapd.close();
    removeTree(s.dir);
  });

  const unchanged = (): void => {
    assert.deepEqual(tree(s.outside), s.before, 'the Maildir outside is untouched');
    assert.equal(count(s.md), 4, 'INBOX keeps its messages');
  };

  it('LIST does not show it', async () => {
    const r = await s.imapd.client.command('LIST "" *');
    assert.match(r.tagged, /^OK/);
    assert.ok(r.lines.some((l) => /"INBOX\.Sent"|INBOX\.Sent/.test(l)), r.lines.join('\n'));
    for (const name of EVIL.map((name) => name.slice(6))) assert.ok(!r.lines.some((l) => l.includes(name)), `${name}: ${r.lines.join('\n')}`);
    unchanged();
  });

  it('SELECT and EXAMINE answer NO', async () => {
    for (const name of EVIL) {
      assert.match((await s.imapd.client.command(`SELECT ${name}`)).tagged, /^NO/, name);
      assert.match((await s.imapd.client.command(`EXAMINE ${name}`)).tagged, /^NO/, name);
    }
    unchanged();
  });

  it('STATUS answers NO', async () => {
    for (const name of EVIL) {
      assert.match((await s.imapd.client.command(`STATUS ${name} (MESSAGES UIDNEXT)`)).tagged, /^NO/, name);
    }
    unchanged();
  });

  it('APPEND answers NO [TRYCREATE]', async () => {
    for (const name of EVIL) {
      assert.match((await s.imapd.client.append(name, simpleMessage('appended'))).tagged, /^NO \[TRYCREATE\]/, name);
    }
    unchanged();
  });

  it('COPY and UID COPY answer NO [TRYCREATE] and write nothing there', async () => {
    assert.match((await s.imapd.client.command('SELECT INBOX')).tagged, /^OK/);
    for (const name of EVIL) {
      assert.match((await s.imapd.client.command(`COPY 1 ${name}`)).tagged, /^NO \[TRYCREATE\]/, name);
      assert.match((await s.imapd.client.command('STORE 1 +FLAGS ($label1)')).tagged, /^OK/);
      assert.match((await s.imapd.client.command(`UID COPY 1:* ${name}`)).tagged, /^NO \[TRYCREATE\]/, name);
    }
    unchanged();
  });

  it('MOVE and UID MOVE answer NO [TRYCREATE] and expunge nothing', async () => {
    assert.match((await s.imapd.client.command('SELECT INBOX')).tagged, /^OK/);
    for (const name of EVIL) {
      const r = await s.imapd.client.command(`MOVE 2 ${name}`);
      assert.match(r.tagged, /^NO \[TRYCREATE\]/, name);
      assert.ok(!r.lines.some((l) => /EXPUNGE/.test(l)), r.lines.join('\n'));
      assert.match((await s.imapd.client.command(`UID MOVE 1:* ${name}`)).tagged, /^NO \[TRYCREATE\]/, name);
    }
    const r = await s.imapd.client.command('SELECT INBOX');
    assert.ok(r.lines.includes('* 4 EXISTS'), r.lines.join('\n'));
    unchanged();
  });

  it('CREATE over the link does not create inside its target', async () => {
    for (const name of EVIL) {
      assert.match((await s.imapd.client.command(`CREATE ${name}`)).tagged, /^NO/, name);
    }
    assert.ok(fs.lstatSync(path.join(s.md, '.evilmd')).isSymbolicLink());
    assert.ok(!fs.existsSync(path.join(s.outside, 'maildirfolder')));
    unchanged();
  });

  it('DELETE answers NO and leaves link and target alone', async () => {
    for (const name of EVIL) {
      assert.match((await s.imapd.client.command(`DELETE ${name}`)).tagged, /^NO/, name);
    }
    assert.ok(fs.lstatSync(path.join(s.md, '.evilmd')).isSymbolicLink());
    assert.ok(fs.lstatSync(path.join(s.md, '.halfcur', 'cur')).isSymbolicLink());
    unchanged();
  });

  it('RENAME neither moves the link nor renames a folder onto it', async () => {
    for (const name of EVIL) {
      assert.match((await s.imapd.client.command(`RENAME ${name} INBOX.renamed`)).tagged, /^NO/, name);
      assert.match((await s.imapd.client.command(`RENAME INBOX.Sent ${name}`)).tagged, /^NO/, name);
    }
    assert.ok(fs.lstatSync(path.join(s.md, '.evilmd')).isSymbolicLink());
    assert.ok(!fs.existsSync(path.join(s.md, '.renamed')));
    assert.ok(fs.lstatSync(path.join(s.md, '.Sent')).isDirectory());
    unchanged();
  });

  it('SUBSCRIBE writes only the subscription file', async () => {
    assert.match((await s.imapd.client.command('SUBSCRIBE INBOX.evilmd')).tagged, /^OK/);
    assert.match((await s.imapd.client.command('UNSUBSCRIBE INBOX.evilmd')).tagged, /^OK/);
    unchanged();
  });

  it('the same commands still work on a real folder', async () => {
    assert.match((await s.imapd.client.command('SELECT INBOX')).tagged, /^OK/);
    assert.match((await s.imapd.client.command('COPY 1 INBOX.Sent')).tagged, /^OK/);
    assert.match((await s.imapd.client.command('CREATE INBOX.fresh')).tagged, /^OK/);
    assert.match((await s.imapd.client.command('MOVE 1 INBOX.fresh')).tagged, /^OK/);
    assert.match((await s.imapd.client.command('RENAME INBOX.fresh INBOX.fresher')).tagged, /^OK/);
    assert.match((await s.imapd.client.command('STATUS INBOX.fresher (MESSAGES)')).lines.join(''), /MESSAGES 1/);
    assert.match((await s.imapd.client.command('DELETE INBOX.fresher')).tagged, /^OK/);
    assert.deepEqual(tree(s.outside), s.before);
  });
});

describe('a message file that is a symlink', () => {
  it('is not served by FETCH, nor copied as its target', async () => {
    const dir = tempDir('symlink');
    const md = standardMaildir(path.join(dir, 'Maildir'), 2);
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, 'Subject: stolen\r\n\r\nTOPSECRET-CONTENT\r\n');
    fs.symlinkSync(secret, path.join(md, 'cur', '1800000000.M1P1.testhost,S=40:2,'));
    const imapd = spawnImapd(md);
    try {
      await imapd.client.greeting;
      const select = await imapd.client.command('SELECT INBOX');
      assert.match(select.tagged, /^OK/);
      const fetch = await imapd.client.command('FETCH 1:* (BODY.PEEK[] RFC822.SIZE ENVELOPE BODYSTRUCTURE)');
      assert.doesNotMatch(fetch.raw.toString('latin1'), /TOPSECRET|stolen/);
      const search = await imapd.client.command('SEARCH BODY TOPSECRET');
      assert.match(search.tagged, /^OK/);
      assert.ok(search.lines.includes('* SEARCH'), search.lines.join('\n'));
      await imapd.client.command('COPY 1:* INBOX.Sent');
      for (const file of fs.readdirSync(path.join(md, '.Sent', 'cur'))) {
        const full = path.join(md, '.Sent', 'cur', file);
        if (fs.lstatSync(full).isFile()) assert.doesNotMatch(fs.readFileSync(full, 'latin1'), /TOPSECRET/);
      }
      assert.match((await imapd.client.command('NOOP')).tagged, /^OK/);
      assert.match(fs.readFileSync(secret, 'latin1'), /TOPSECRET/, 'the target is left alone');
    } finally {
      await imapd.close();
      removeTree(dir);
    }
  });
});

describe("INBOX's own cur/ as a symlink", () => {
  it('is no Maildir: imapd refuses to start and writes nothing there', async () => {
    const dir = tempDir('symlink');
    const md = standardMaildir(path.join(dir, 'Maildir'), 2);
    const outside = standardMaildir(path.join(dir, 'outside'), 2);
    fs.rmSync(path.join(md, 'cur'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'cur'), path.join(md, 'cur'));
    const before = tree(outside);
    const imapd = spawnImapd(md);
    try {
      // Bounded: a server that starts on such a Maildir would otherwise keep the test waiting.
      const code = await Promise.race([imapd.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 5000).unref())]);
      assert.ok(code !== 0 && code !== 'still running', `exit: ${code}`);
      assert.match(imapd.stderr(), /not a Maildir/);
      assert.deepEqual(tree(outside), before);
    } finally {
      await imapd.close();
      removeTree(dir);
    }
  });
});

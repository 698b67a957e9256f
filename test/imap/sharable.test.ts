// Courier's sharable Maildirs ("shared.NAME.FOLDER", server/maildir/sharable.ts): the same
// setup made twice with Courier's own maildirmake (-S, -s write/read -f, --add), one driven
// through Courier's imapd and one through ours, then compared answer by answer and on disk.
// Then the symlink rules: links are followed only below shared-folders/, only to the folder
// the sharable list names; everything else stays refused (as test/imap/symlink.test.ts).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { IMAPD, ImapTestClient, PEERS, spawnCourier, spawnImapd, type Reply } from '../helpers/imap-client.js';
import { courierSkip } from '../helpers/peers.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

const MAILDIRMAKE = '/usr/bin/maildirmake';
const skip = courierSkip || (fs.existsSync(MAILDIRMAKE) ? false : 'Courier maildirmake is not installed');

function message(subject: string): string {
  return `Subject: ${subject}\r\n\r\nbody of ${subject}\r\n`;
}

/** A sharable Maildir (Team writable, News read-only by maildirmake's modes) and a user's Maildir that lists it as "team". */
function build(dir: string): { user: string; shared: string } {
  const shared = path.join(dir, 'shared');
  const user = path.join(dir, 'user');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(MAILDIRMAKE, ['-S', shared]);
  execFileSync(MAILDIRMAKE, ['-s', 'write', '-f', 'Team', shared]);
  execFileSync(MAILDIRMAKE, ['-s', 'read', '-f', 'News', shared]);
  execFileSync(MAILDIRMAKE, [user]);
  execFileSync(MAILDIRMAKE, ['--add', `team=${shared}`, user]);
  // Fixed names: both sides see the same messages in the same order.
  for (const [i, subject] of ['one', 'two', 'three'].entries()) {
    const text = message(subject);
    fs.writeFileSync(path.join(shared, '.Team', 'new', `170000000${i}.M${i}P1.host,S=${text.length}`), text);
  }
  const news = message('news');
  fs.writeFileSync(path.join(shared, '.News', 'cur', `1700000100.M9P1.host,S=${news.length}:2,`), news);
  return { user, shared };
}

/** FETCH lines as "seq flags" with the flags sorted (the two servers order FETCH items differently). */
function fetchFlags(r: Reply): string[] {
  return r.lines
    .map((l) => /^\* (\d+) FETCH \(.*FLAGS \(([^)]*)\)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2].split(' ').filter(Boolean).sort().join(' ')}`);
}

/** The private folders below shared-folders/: directories, and links with their values (the base directory as "~"). */
function privateTree(user: string, base: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(user, full);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) out.push(`${rel} -> ${fs.readlinkSync(full).replace(base, '~')}`);
      else if (stat.isDirectory()) {
        if (name === 'courierimapkeywords') continue; // Courier's, made when it opens a folder
        out.push(`${rel}/`);
        walk(full);
      }
      // Files (UID databases, caches, shared-timestamp) are each server's own.
    }
  };
  walk(path.join(user, 'shared-folders'));
  return out;
}

/** A command and what of its answer must match Courier's besides the status word. */
type Step = [string, ((r: Reply) => unknown) | null];

const lines = (re: RegExp) => (r: Reply) => r.lines.filter((l) => re.test(l)).sort();

const SCRIPT: Step[] = [
  ['NAMESPACE', lines(/^\* NAMESPACE/)],
  ['LIST "" "*"', lines(/shared/)],
  ['LIST "" "shared.%"', lines(/^\* LIST/)],
  ['LIST "" "shared.team.%"', lines(/^\* LIST/)],
  ['SUBSCRIBE shared.team.Team', null],
  // (SUBSCRIBE shared.team.Nothing: Courier answers OK and leaves a dangling link; we refuse a
  // folder that does not exist, which RFC 3501 6.3.6 allows, and make no link.)
  ['SELECT shared.team.Team', lines(/EXISTS|RECENT/)],
  ['FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])', (r) => r.lines.filter((l) => l.startsWith('Subject:'))],
  ['STORE 1 +FLAGS (\\Flagged)', fetchFlags],
  ['STORE 2 +FLAGS (\\Deleted)', fetchFlags],
  ['FETCH 1:* (FLAGS)', fetchFlags],
  ['EXPUNGE', lines(/EXPUNGE$/)],
  ['FETCH 1:* FLAGS', fetchFlags],
  ['STATUS shared.team.News (MESSAGES UNSEEN)', lines(/^\* STATUS/)],
  ['SELECT shared.nobody.Team', null],
  // (SELECT shared.team.Missing: Courier subscribes and opens an empty READ-ONLY folder; a
  // folder that does not exist answers NO here, as RFC 3501 6.3.1 has it.)
  ['SELECT shared.team.Team', lines(/EXISTS/)],
];

describe('sharable Maildirs ("shared.") beside Courier', { skip }, () => {
  it('list, subscribe, per-user flags, expunge and unsubscribe as Courier does, on disk too', async () => {
    const dir = tempDir('sharable');
    try {
      const ours = build(path.join(dir, 'ours'));
      const theirs = build(path.join(dir, 'courier'));
      const o = spawnImapd(ours.user, { IMAPD_MAILDIRSHARED: '' });
      const c = spawnCourier(theirs.user);
      try {
        await o.client.greeting;
        await c.client.greeting;
        for (const [command, compare] of SCRIPT) {
          const a = await o.client.command(command);
          const b = await c.client.command(command);
          const word = (r: Reply) => r.tagged.split(' ')[0];
          assert.equal(word(a), word(b), `${command}: ours ${a.tagged} / Courier ${b.tagged}`);
          if (compare) assert.deepEqual(compare(a), compare(b), command);
        }
        // The private folders and their links, as Courier makes them (STATUS subscribed to News too).
        assert.deepEqual(privateTree(ours.user, path.join(dir, 'ours')), privateTree(theirs.user, path.join(dir, 'courier')));
        // EXPUNGE removed the real message (writable here) on both sides.
        assert.deepEqual(fs.readdirSync(path.join(ours.shared, '.Team', 'cur')).sort(), fs.readdirSync(path.join(theirs.shared, '.Team', 'cur')).sort());
        for (const step of ['UNSUBSCRIBE shared.team.Team', 'UNSUBSCRIBE shared.team.News']) {
          assert.equal((await o.client.command(step)).tagged.split(' ')[0], (await c.client.command(step)).tagged.split(' ')[0], step);
        }
        assert.deepEqual(privateTree(ours.user, path.join(dir, 'ours')), privateTree(theirs.user, path.join(dir, 'courier')));
        assert.ok(!fs.existsSync(path.join(ours.user, 'shared-folders', 'team')));
        assert.equal(fs.readdirSync(path.join(ours.shared, '.Team', 'cur')).length, 2, 'unsubscribing removes links, never messages');
      } finally {
        await o.close();
        await c.close();
      }
    } finally {
      removeTree(dir);
    }
  });
});

const NOBODY = 65534;
const SETPRIV = '/usr/bin/setpriv';
const skipAsNobody = skip || (process.getuid?.() !== 0 ? 'needs root, to run both servers as nobody' : fs.existsSync(SETPRIV) ? false : 'setpriv is missing');

/** A PREAUTH server run as nobody (setpriv), so that a folder of root's is read-only for it (Courier's shared_isrw is access(W_OK)). */
function spawnAsNobody(args: string[], env: Record<string, string>) {
  const child = spawn(SETPRIV, [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const client = new ImapTestClient(child.stdout, child.stdin);
  return {
    client,
    async close() {
      if (child.exitCode === null) {
        await client.command('LOGOUT', 3000).catch(() => undefined);
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

const READ_ONLY_SCRIPT: Step[] = [
  ['SELECT shared.team.News', lines(/EXISTS|READ-ONLY|PERMANENTFLAGS/)],
  ['FETCH 1:* (FLAGS)', fetchFlags],
  ['STORE 1 +FLAGS (\\Deleted)', null],
  ['EXPUNGE', null],
  ['APPEND shared.team.News {5+}\r\nhello', null],
  ['FETCH 1 BODY[]', (r) => r.lines.filter((l) => l.startsWith('Subject:'))],
  ['FETCH 1 (FLAGS)', fetchFlags],
  ['COPY 1 INBOX', null],
];

describe('a sharable folder this user may not write, beside Courier', { skip: skipAsNobody }, () => {
  it('is READ-ONLY: no flag changes, no EXPUNGE, no APPEND; the real folder is left alone', async () => {
    const dir = tempDir('sharable-ro');
    try {
      fs.chmodSync(dir, 0o755);
      const sides = [build(path.join(dir, 'ours')), build(path.join(dir, 'courier'))];
      for (const side of sides) {
        fs.chmodSync(path.dirname(side.user), 0o755);
        execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, side.user]);
        // News is maildirmake -s read: root's, readable by all; its messages too.
        for (const f of fs.readdirSync(path.join(side.shared, '.News', 'cur'))) fs.chmodSync(path.join(side.shared, '.News', 'cur', f), 0o644);
      }
      const before = sides.map((s) => fs.readdirSync(path.join(s.shared, '.News', 'cur')));
      const o = spawnAsNobody([process.execPath, IMAPD, sides[0].user], { IMAPD_MAILDIRSHARED: '' });
      const c = spawnAsNobody([path.join(PEERS, 'courier-preauth.sh'), sides[1].user], {});
      try {
        await o.client.greeting;
        await c.client.greeting;
        for (const [command, compare] of READ_ONLY_SCRIPT) {
          const a = await o.client.command(command);
          const b = await c.client.command(command);
          const word = (r: Reply) => r.tagged.split(' ')[0];
          assert.equal(word(a), word(b), `${command}: ours ${a.tagged} / Courier ${b.tagged}`);
          if (compare) assert.deepEqual(compare(a), compare(b), command);
        }
      } finally {
        await o.close();
        await c.close();
      }
      assert.deepEqual(sides.map((s) => fs.readdirSync(path.join(s.shared, '.News', 'cur'))), before);
      assert.deepEqual(privateTree(sides[0].user, path.join(dir, 'ours')), privateTree(sides[1].user, path.join(dir, 'courier')));
    } finally {
      removeTree(dir);
    }
  });
});

describe('a selected sharable folder', () => {
  it('reports a delivery into the real folder during IDLE, and an expunge there at NOOP', async () => {
    const dir = tempDir('sharable-idle');
    try {
      const shared = emptyMaildir(path.join(dir, 'shared'));
      emptyMaildir(path.join(shared, '.Team'));
      deliver(shared, message('first'), '.Team');
      const user = emptyMaildir(path.join(dir, 'user'));
      fs.writeFileSync(path.join(user, 'shared-maildirs'), `team ${shared}\n`);
      // With the virtual shared folders too ("#shared.", an empty index): the two stores in front of each other.
      const index = path.join(dir, 'index');
      fs.writeFileSync(index, '');
      const imapd = spawnImapd(user, { IMAPD_MAILDIRSHARED: '', IMAP_SHAREDINDEXFILE: index });
      try {
        await imapd.client.greeting;
        // Not subscribed before: SELECT subscribes, and the folder is writable here.
        const select = await imapd.client.command('SELECT shared.team.Team');
        assert.ok(select.lines.includes('* 1 EXISTS'), select.lines.join('\n'));
        assert.match(select.tagged, /^OK \[READ-WRITE\]/);
        const tag = imapd.client.nextTag();
        imapd.client.send(`${tag} IDLE\r\n`);
        assert.match((await imapd.client.readResponseLine()).toString(), /^\+/);
        deliver(shared, message('second'), '.Team');
        assert.equal((await imapd.client.readResponseLine(5000)).toString().trim(), '* 2 EXISTS');
        imapd.client.send('DONE\r\n');
        assert.match((await imapd.client.readUntilTagged(tag)).tagged, /^OK/);
        // Another user (or program) removes a message from the real folder: its link goes at the next look.
        const cur = path.join(shared, '.Team', 'cur');
        fs.unlinkSync(path.join(cur, fs.readdirSync(cur).sort()[0]));
        const noop = await imapd.client.command('NOOP');
        assert.ok(noop.lines.includes('* 1 EXPUNGE'), noop.lines.join('\n'));
        const fetched = await imapd.client.command('FETCH 1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]');
        assert.match(fetched.raw.toString(), /Subject: second/);
        assert.doesNotMatch(fetched.raw.toString(), /Subject: first/);
      } finally {
        await imapd.close();
      }
    } finally {
      removeTree(dir);
    }
  });
});

describe('sharable Maildirs keep every other symlink refused', () => {
  /** A user's Maildir listing one sharable Maildir, subscribed to its Team folder through our imapd. */
  async function setUp(dir: string) {
    const shared = emptyMaildir(path.join(dir, 'shared'));
    emptyMaildir(path.join(shared, '.Team'));
    fs.writeFileSync(path.join(shared, '.Team', 'cur', '1700000000.M1P1.host,S=30:2,'), message('team one'));
    const user = emptyMaildir(path.join(dir, 'user'));
    fs.writeFileSync(path.join(user, 'shared-maildirs'), `team\t${shared}\n`);
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, 'Subject: stolen\r\n\r\nTOPSECRET-CONTENT\r\n');
    const outside = emptyMaildir(path.join(dir, 'outside'));
    fs.writeFileSync(path.join(outside, 'cur', '1700000001.M1P1.host,S=40:2,'), 'Subject: outside\r\n\r\nOUTSIDE-CONTENT\r\n');
    return { shared, user, secret, outside };
  }

  it('a message link to a file outside the real folder is not served', async () => {
    const dir = tempDir('sharable-link');
    try {
      const { user, secret } = await setUp(dir);
      const imapd = spawnImapd(user, { IMAPD_MAILDIRSHARED: '' });
      try {
        await imapd.client.greeting;
        assert.match((await imapd.client.command('SUBSCRIBE shared.team.Team')).tagged, /^OK/);
        // A link of the user's own making in the private cur/, and one to a file in the real folder's parent.
        const cur = path.join(user, 'shared-folders', 'team', 'Team', 'cur');
        fs.symlinkSync(secret, path.join(cur, '1700000009.M9P9.host,S=40:2,'));
        const select = await imapd.client.command('SELECT shared.team.Team');
        assert.match(select.tagged, /^OK/);
        const fetch = await imapd.client.command('FETCH 1:* (BODY.PEEK[] RFC822.SIZE)');
        const raw = fetch.raw.toString('latin1');
        assert.match(raw, /team one/, 'the real message is served');
        assert.doesNotMatch(raw, /TOPSECRET|stolen/);
        assert.match((await imapd.client.command('COPY 1:* INBOX')).tagged, /^(OK|NO)/);
        for (const file of fs.readdirSync(path.join(user, 'cur'))) {
          const full = path.join(user, 'cur', file);
          assert.ok(fs.lstatSync(full).isFile(), `${file}: a copy is a file, never a link`);
          assert.doesNotMatch(fs.readFileSync(full, 'latin1'), /TOPSECRET/);
        }
      } finally {
        await imapd.close();
      }
    } finally {
      removeTree(dir);
    }
  });

  it('a private folder whose shared link points anywhere but the listed folder does not exist', async () => {
    const dir = tempDir('sharable-link');
    try {
      const { user, outside, shared } = await setUp(dir);
      const privateDir = path.join(user, 'shared-folders', 'team', 'Team');
      for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(privateDir, sub), { recursive: true });
      fs.symlinkSync(outside, path.join(privateDir, 'shared'));
      // And a subscription to a Maildir that is in no list.
      const stray = path.join(user, 'shared-folders', 'stray', 'Box');
      for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(stray, sub), { recursive: true });
      fs.symlinkSync(outside, path.join(stray, 'shared'));
      const before = fs.readdirSync(path.join(outside, 'cur'));
      const imapd = spawnImapd(user, { IMAPD_MAILDIRSHARED: '' });
      try {
        await imapd.client.greeting;
        for (const name of ['shared.team.Team', 'shared.stray.Box']) {
          assert.match((await imapd.client.command(`SELECT ${name}`)).tagged, /^NO/, name);
          assert.match((await imapd.client.command(`STATUS ${name} (MESSAGES)`)).tagged, /^NO/, name);
        }
        // APPEND goes to the folder the list names, never through the private folder's link.
        assert.match((await imapd.client.command('APPEND shared.stray.Box {5+}\r\nhello')).tagged, /^NO/);
        assert.match((await imapd.client.command('APPEND shared.team.Team {5+}\r\nhello')).tagged, /^OK/);
        assert.equal(fs.readdirSync(path.join(shared, '.Team', 'cur')).length, 2);
        assert.deepEqual(fs.readdirSync(path.join(outside, 'cur')), before);
        assert.deepEqual(fs.readdirSync(path.join(privateDir, 'cur')), [], 'no links were made to the outside');
        assert.ok(fs.lstatSync(path.join(privateDir, 'shared')).isSymbolicLink(), 'left as it was');
      } finally {
        await imapd.close();
      }
    } finally {
      removeTree(dir);
    }
  });

  it('list entries that are relative, dotted or symlinked folders give no folders', async () => {
    const dir = tempDir('sharable-link');
    try {
      const { user, shared, outside } = await setUp(dir);
      fs.symlinkSync(outside, path.join(shared, '.Evil'));
      fs.appendFileSync(path.join(user, 'shared-maildirs'), `rel\t../outside\ndot.ted\t${shared}\n# comment\n`);
      const imapd = spawnImapd(user, { IMAPD_MAILDIRSHARED: '' });
      try {
        await imapd.client.greeting;
        const list = await imapd.client.command('LIST "" "shared*"');
        assert.deepEqual(list.lines.filter((l) => l.includes('shared.')).map((l) => l.replace(/^.* "\." /, '')).sort(), ['"shared.team"', '"shared.team.Team"']);
        for (const name of ['shared.team.Evil', 'shared.rel.Team', 'shared.dot.ted.Team']) {
          assert.match((await imapd.client.command(`SELECT ${name}`)).tagged, /^NO/, name);
          assert.match((await imapd.client.command(`SUBSCRIBE ${name}`)).tagged, /^NO/, name);
        }
        assert.ok(!fs.existsSync(path.join(user, 'shared-folders')), 'nothing subscribed');
      } finally {
        await imapd.close();
      }
    } finally {
      removeTree(dir);
    }
  });
});

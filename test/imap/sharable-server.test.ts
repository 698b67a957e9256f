// Courier's sharable Maildirs ("shared.NAME.FOLDER") on imapd-server: accounts of one uid, so
// an account sees them only when its "sharable" option names a list, read-only for everyone
// with flags of its own (server/accounts/sharable-access.ts). Two accounts over the network
// server; no account reaches another's Maildir through "shared." (symlinks, "..", its own
// shared-maildirs); a delivery into the sharable Maildir reaches IDLE; and the same steps
// beside Courier's imapd, on the wire and on disk.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { pathsOverlap, withoutFenced } from '../../server/maildir/sharable.js';
import { networkSession, type CheckedSession } from '../helpers/checked-client.js';
import { spawnCourier, type Reply } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { startNetworkServer } from '../helpers/network-server.js';
import { courierSkip } from '../helpers/peers.js';

const MAILDIRMAKE = '/usr/bin/maildirmake';

function message(subject: string): string {
  return `Subject: ${subject}\r\n\r\nbody of ${subject}\r\n`;
}

/** A sharable Maildir with folder Team holding three messages of fixed names. */
function sharableMaildir(dir: string): string {
  const shared = emptyMaildir(dir);
  emptyMaildir(path.join(shared, '.Team'));
  for (const [i, subject] of ['one', 'two', 'three'].entries()) {
    const text = message(subject);
    fs.writeFileSync(path.join(shared, '.Team', 'cur', `170000000${i}.M${i}P1.host,S=${text.length}:2,`), text);
  }
  return shared;
}

interface Setup {
  dir: string;
  shared: string;
  maildirs: Record<'alice' | 'bob' | 'carol', string>;
  listFile: string;
  sessions: Record<'alice' | 'bob' | 'carol', CheckedSession>;
  close(): Promise<void>;
}

/**
 * alice and bob are given the list (option ""), carol none. bob's Maildir has a folder
 * .Private with a secret; `prepare` may change the files before the server starts.
 */
async function setUp(prefix: string, options: { sharedFolders?: boolean; prepare?: (s: Omit<Setup, 'sessions' | 'close'>) => void } = {}): Promise<Setup> {
  const dir = tempDir(prefix);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const shared = sharableMaildir(path.join(dir, 'sharable', 'team'));
  const maildirs = {
    alice: emptyMaildir(path.join(dir, 'mail', 'alice')),
    bob: emptyMaildir(path.join(dir, 'mail', 'bob')),
    carol: emptyMaildir(path.join(dir, 'mail', 'carol')),
  };
  emptyMaildir(path.join(maildirs.bob, '.Private'));
  fs.writeFileSync(path.join(maildirs.bob, '.Private', 'cur', '1700000500.M1P1.host,S=40:2,'), 'Subject: secret\r\n\r\nBOB-SECRET-CONTENT\r\n');
  const listFile = path.join(dir, 'config', 'maildirshared');
  fs.mkdirSync(path.dirname(listFile));
  fs.writeFileSync(listFile, `# the sharable Maildirs\nteam\t${shared}\n`);
  options.prepare?.({ dir, shared, maildirs, listFile });
  const accounts = SqliteAccountStore.open(data);
  for (const [name, maildir] of Object.entries(maildirs)) await accounts.add({ username: name, password: 'secret', maildir });
  await accounts.setSharable('alice', '');
  await accounts.setSharable('bob', '');
  const { server, port } = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100, sharedFolders: options.sharedFolders ?? false, maildirShared: listFile });
  const sessions = {
    alice: await networkSession('alice', port, 'alice', 'secret'),
    bob: await networkSession('bob', port, 'bob', 'secret'),
    carol: await networkSession('carol', port, 'carol', 'secret'),
  };
  return {
    dir, shared, maildirs, listFile, sessions,
    async close() {
      for (const s of Object.values(sessions)) await s.close();
      await server.stop();
      await accounts.close();
      removeTree(dir);
    },
  };
}

async function ok(session: CheckedSession, command: string): Promise<Reply> {
  const reply = await session.command(command);
  assert.match(reply.tagged, /^OK/, `${session.name}: ${command}: ${reply.tagged}`);
  return reply;
}

async function refused(session: CheckedSession, command: string): Promise<Reply> {
  const reply = await session.command(command);
  assert.match(reply.tagged, /^NO/, `${session.name}: ${command}: ${reply.tagged}`);
  return reply;
}

/** "seq flags" per FETCH line, flags sorted. */
function fetchFlags(r: Reply): string[] {
  return r.lines
    .map((l) => /^\* (\d+) FETCH \(.*FLAGS \(([^)]*)\)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]!.split(' ').filter(Boolean).sort().join(' ')}`);
}

const listed = (r: Reply) => r.lines.filter((l) => l.startsWith('* LIST')).map((l) => l.replace(/^.* "\." /, '')).sort();

describe('sharable Maildirs ("shared.") on imapd-server', () => {
  it('NAMESPACE announces "shared." only to an account given a list', async () => {
    for (const sharedFolders of [false, true]) {
      const t = await setUp('sharable-ns', { sharedFolders });
      try {
        const hash = sharedFolders ? '("#shared." ".")' : '';
        assert.deepEqual((await ok(t.sessions.alice, 'NAMESPACE')).lines, [`* NAMESPACE (("INBOX." ".")) NIL (${hash}("shared." "."))`]);
        assert.deepEqual((await ok(t.sessions.carol, 'NAMESPACE')).lines, [`* NAMESPACE (("INBOX." ".")) NIL ${sharedFolders ? `(${hash})` : 'NIL'}`]);
      } finally {
        await t.close();
      }
    }
  });

  it('two accounts read one sharable folder with flags of their own; nothing in it can be changed; a third sees nothing', async () => {
    const t = await setUp('sharable-two', { sharedFolders: true });
    const { alice, bob, carol } = t.sessions;
    const realCur = path.join(t.shared, '.Team', 'cur');
    const before = fs.readdirSync(realCur).sort();
    try {
      assert.deepEqual(listed(await ok(alice, 'LIST "" "shared.*"')), ['"shared.team"', '"shared.team.Team"']);
      assert.deepEqual(listed(await ok(carol, 'LIST "" "*"')).filter((l) => l.includes('shared')), []);
      await refused(carol, 'SELECT shared.team.Team');
      await refused(carol, 'STATUS shared.team.Team (MESSAGES)');
      await refused(carol, 'SUBSCRIBE shared.team.Team');

      const select = await ok(alice, 'SELECT shared.team.Team');
      assert.ok(select.lines.includes('* 3 EXISTS'), select.lines.join('\n'));
      assert.match(select.tagged, /^OK \[READ-WRITE\]/, 'this account\'s own flags may be kept');
      const subjects = await ok(alice, 'FETCH 1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]');
      assert.deepEqual(subjects.raw.toString().match(/Subject: \w+/g), ['Subject: one', 'Subject: two', 'Subject: three']);
      await ok(alice, 'STORE 1 +FLAGS.SILENT (\\Flagged $Label1)');
      await ok(bob, 'SELECT shared.team.Team');
      await ok(bob, 'STORE 2 +FLAGS.SILENT (\\Seen)');
      assert.deepEqual(fetchFlags(await ok(alice, 'FETCH 1:* (FLAGS)')), ['1 $Label1 \\Flagged \\Recent', '2 \\Recent', '3 \\Recent']);
      // \Recent too is each account's own (its private folder's).
      assert.deepEqual(fetchFlags(await ok(bob, 'FETCH 1:* (FLAGS)')), ['1 \\Recent', '2 \\Recent \\Seen', '3 \\Recent']);

      // Read-only for everyone: rights "lrsw", no \Deleted, EXPUNGE, APPEND, MOVE out or COPY in.
      const rights = await ok(alice, 'MYRIGHTS shared.team.Team');
      assert.deepEqual(rights.lines, ['* MYRIGHTS "shared.team.Team" "lrsw"']);
      // A flag the rights do not allow is left as it was, and the STORE answers OK, as Courier's (RFC 4314 section 4 allows either).
      await ok(alice, 'STORE 1 +FLAGS (\\Deleted)');
      assert.deepEqual(fetchFlags(await ok(alice, 'FETCH 1 (FLAGS)')), ['1 $Label1 \\Flagged \\Recent']);
      await refused(alice, 'EXPUNGE');
      await refused(alice, 'APPEND shared.team.Team {5+}\r\nhello');
      await refused(alice, 'MOVE 1 INBOX');
      await ok(alice, 'COPY 3 INBOX');
      await ok(alice, 'SELECT INBOX');
      await refused(alice, 'COPY 1 shared.team.Team');
      await refused(alice, 'RENAME shared.team.Team INBOX.Mine');
      await refused(alice, 'CREATE shared.team.New');

      // The real folder is as it was; the copy in alice's INBOX is a file of her own.
      assert.deepEqual(fs.readdirSync(realCur).sort(), before);
      const copies = fs.readdirSync(path.join(t.maildirs.alice, 'cur'));
      assert.equal(copies.length, 1);
      assert.ok(fs.lstatSync(path.join(t.maildirs.alice, 'cur', copies[0]!)).isFile());
      assert.match(fs.readFileSync(path.join(t.maildirs.alice, 'cur', copies[0]!), 'latin1'), /Subject: three/);
      // Each account's flags are in its own shared-folders/, as Courier keeps them.
      const links = (user: string) => fs.readdirSync(path.join(t.maildirs[user as 'alice'], 'shared-folders', 'team', 'Team', 'cur')).map((n) => n.replace(/^.*:2,/, '')).sort();
      assert.deepEqual(links('alice'), ['', '', 'F']);
      assert.deepEqual(links('bob'), ['', '', 'S']);
      assert.ok(!fs.existsSync(path.join(t.maildirs.carol, 'shared-folders')));
    } finally {
      await t.close();
    }
  });

  it('a delivery into the sharable Maildir reaches both accounts\' IDLE', async () => {
    const t = await setUp('sharable-idle');
    const { alice, bob } = t.sessions;
    try {
      await ok(alice, 'SELECT shared.team.Team');
      await ok(bob, 'EXAMINE shared.team.Team');
      const [a, b] = await Promise.all([
        alice.idle(1200),
        bob.idle(1200),
        (async () => {
          await new Promise((r) => setTimeout(r, 300));
          deliver(t.shared, message('four'), '.Team');
        })(),
      ]);
      assert.ok(a.lines.includes('* 4 EXISTS'), a.lines.join('\n'));
      assert.ok(b.lines.includes('* 4 EXISTS'), b.lines.join('\n'));
      const fetched = await ok(bob, 'FETCH 4 BODY.PEEK[HEADER.FIELDS (SUBJECT)]');
      assert.match(fetched.raw.toString(), /Subject: four/);
    } finally {
      await t.close();
    }
  });

  it('no account reaches another account\'s Maildir through "shared.": its own shared-maildirs, symlinks, ".." and list entries are refused', async () => {
    const t = await setUp('sharable-fence', {
      prepare({ dir, maildirs, listFile }) {
        // alice names bob's Maildir in her own list, as `maildirmake --add` would.
        fs.writeFileSync(path.join(maildirs.alice, 'shared-maildirs'), `bob\t${maildirs.bob}\n`);
        // The system list names it through a symlink and through "..".
        const link = path.join(dir, 'sharable', 'innocent');
        fs.symlinkSync(maildirs.bob, link);
        fs.appendFileSync(listFile, `evil\t${link}\ndots\t${path.join(dir, 'sharable')}/../mail/bob\nhome\t${path.join(dir, 'mail')}\n`);
        // And a private folder of alice's whose "shared" link points into bob's Maildir.
        const stray = path.join(maildirs.alice, 'shared-folders', 'team', 'Stolen');
        for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(stray, sub), { recursive: true });
        fs.symlinkSync(path.join(maildirs.bob, '.Private'), path.join(stray, 'shared'));
      },
    });
    const { alice } = t.sessions;
    const bobFiles = () => execFileSync('find', [t.maildirs.bob, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter((f) => !f.includes('imapd-ts.') && f !== '').sort();
    const beforeBob = bobFiles();
    try {
      assert.deepEqual(listed(await ok(alice, 'LIST "" "shared.*"')), ['"shared.team"', '"shared.team.Team"']);
      const names = [
        'shared.bob.Private', 'shared.evil.Private', 'shared.dots.Private', 'shared.home.bob', 'shared.team.Stolen',
        '"shared.team.Team/../../../mail/bob/.Private"', '"shared.team/../../mail/bob.Private"', 'shared.team...Private',
      ];
      for (const name of names) {
        for (const command of ['SELECT', 'EXAMINE', 'STATUS', 'SUBSCRIBE']) {
          const reply = await alice.command(`${command} ${name}${command === 'STATUS' ? ' (MESSAGES)' : ''}`);
          assert.match(reply.tagged, /^(NO|BAD)/, `${command} ${name}: ${reply.tagged}`);
        }
        await refused(alice, `APPEND ${name} {5+}\r\nhello`);
      }
      const everything = await ok(alice, 'LIST "" "*"');
      assert.doesNotMatch(everything.raw.toString(), /Private|bob|evil|dots/);
      assert.deepEqual(bobFiles(), beforeBob, 'nothing of bob\'s was touched');
      assert.deepEqual(fs.readdirSync(path.join(t.maildirs.alice, 'shared-folders')).sort(), ['team']);
      assert.deepEqual(fs.readdirSync(path.join(t.maildirs.alice, 'shared-folders', 'team', 'Stolen', 'cur')), [], 'no links were made into bob\'s Maildir');
    } finally {
      await t.close();
    }
  });

  it('withoutFenced leaves out entries that are, lie in or hold an account\'s Maildir', () => {
    const dir = tempDir('sharable-fenced');
    try {
      const team = emptyMaildir(path.join(dir, 'sharable', 'team'));
      const bob = emptyMaildir(path.join(dir, 'mail', 'bob'));
      fs.symlinkSync(bob, path.join(dir, 'sharable', 'link'));
      const list = [
        { name: 'team', path: team },
        { name: 'bob', path: bob },
        { name: 'link', path: path.join(dir, 'sharable', 'link') },
        { name: 'inside', path: path.join(bob, '.') },
        { name: 'holds', path: path.join(dir, 'mail') },
        { name: 'missing', path: path.join(dir, 'nowhere') },
      ];
      assert.deepEqual(withoutFenced(list, [fs.realpathSync(bob)]).map((e) => e.name), ['team']);
      assert.equal(pathsOverlap('/a/bc', '/a/b'), false);
      assert.equal(pathsOverlap('/a/b/c', '/a/b'), true);
    } finally {
      removeTree(dir);
    }
  });
});

// Beside Courier: the same sharable Maildir (maildirmake -S, -s write -f Team, -s read -f News),
// listed for a user with `maildirmake --add` on Courier's side and with the account option and
// IMAPD_MAILDIRSHARED on ours; the same commands answer alike, and leave the same links on disk.
const skip = courierSkip || (fs.existsSync(MAILDIRMAKE) ? false : 'Courier maildirmake is not installed');

type Step = [string, ((r: Reply) => unknown) | null];
const lines = (re: RegExp) => (r: Reply) => r.lines.filter((l) => re.test(l)).sort();
const SCRIPT: Step[] = [
  ['LIST "" "shared.%"', lines(/^\* LIST/)],
  ['LIST "" "shared.team.%"', lines(/^\* LIST/)],
  ['SELECT shared.team.Team', lines(/EXISTS|RECENT|READ-WRITE/)],
  ['FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])', (r) => r.lines.filter((l) => l.startsWith('Subject:'))],
  ['STORE 1 +FLAGS (\\Flagged)', fetchFlags],
  ['STORE 2 +FLAGS (\\Seen $Label1)', fetchFlags],
  ['FETCH 1:* (FLAGS)', fetchFlags],
  ['STATUS shared.team.News (MESSAGES UNSEEN)', lines(/^\* STATUS/)],
  // The subscribed names (Courier also lists the \Noselect parent and CHILDREN attributes in
  // LSUB, as it does for every folder; ours answers LSUB as RFC 3501 does, for every folder too).
  ['LSUB "" "shared.*"', (r) => r.lines.filter((l) => l.startsWith('* LSUB') && !l.includes('\\Noselect')).map((l) => l.replace(/^.* "\." /, '')).sort()],
  ['SELECT shared.nobody.Team', null],
  ['SELECT shared.team.Team', lines(/EXISTS/)],
  ['FETCH 1:* (FLAGS)', fetchFlags],
];

/** The private folders below shared-folders/: directories, and links with their values (the base directory as "~"). */
function privateTree(user: string, base: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) out.push(`${path.relative(user, full)} -> ${fs.readlinkSync(full).replace(base, '~')}`);
      else if (stat.isDirectory() && name !== 'courierimapkeywords') {
        out.push(`${path.relative(user, full)}/`);
        walk(full);
      }
    }
  };
  walk(path.join(user, 'shared-folders'));
  return out;
}

describe('sharable Maildirs on imapd-server beside Courier\'s imapd', { skip }, () => {
  it('answer alike and leave the same links', async () => {
    const dir = tempDir('sharable-server-courier');
    try {
      const build = (base: string) => {
        const shared = path.join(base, 'shared');
        fs.mkdirSync(base, { recursive: true });
        execFileSync(MAILDIRMAKE, ['-S', shared]);
        execFileSync(MAILDIRMAKE, ['-s', 'write', '-f', 'Team', shared]);
        execFileSync(MAILDIRMAKE, ['-s', 'read', '-f', 'News', shared]);
        for (const [i, subject] of ['one', 'two', 'three'].entries()) {
          const text = message(subject);
          fs.writeFileSync(path.join(shared, '.Team', 'new', `170000000${i}.M${i}P1.host,S=${text.length}`), text);
        }
        const news = message('news');
        fs.writeFileSync(path.join(shared, '.News', 'cur', `1700000100.M9P1.host,S=${news.length}:2,`), news);
        return shared;
      };
      const oursBase = path.join(dir, 'ours');
      const theirsBase = path.join(dir, 'courier');
      const oursShared = build(oursBase);
      build(theirsBase);
      const theirUser = path.join(theirsBase, 'user');
      execFileSync(MAILDIRMAKE, [theirUser]);
      execFileSync(MAILDIRMAKE, ['--add', `team=${path.join(theirsBase, 'shared')}`, theirUser]);
      const ourUser = path.join(oursBase, 'user');
      execFileSync(MAILDIRMAKE, [ourUser]);
      const listFile = path.join(dir, 'maildirshared');
      fs.writeFileSync(listFile, `team\t${oursShared}\n`);
      const data = path.join(dir, 'data');
      fs.mkdirSync(data);
      const accounts = SqliteAccountStore.open(data);
      await accounts.add({ username: 'alice', password: 'secret', maildir: ourUser });
      await accounts.setSharable('alice', '');
      const { server, port } = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100, maildirShared: listFile });
      const o = await networkSession('ours', port, 'alice', 'secret');
      const c = spawnCourier(theirUser);
      try {
        await c.client.greeting;
        for (const [command, compare] of SCRIPT) {
          const a = await o.command(command);
          const b = await c.client.command(command);
          const word = (r: Reply) => r.tagged.split(' ')[0];
          assert.equal(word(a), word(b), `${command}: ours ${a.tagged} / Courier ${b.tagged}`);
          if (compare) assert.deepEqual(compare(a), compare(b), command);
        }
        assert.deepEqual(privateTree(ourUser, oursBase), privateTree(theirUser, theirsBase));
      } finally {
        await o.close();
        await c.close();
        await server.stop();
        await accounts.close();
      }
    } finally {
      removeTree(dir);
    }
  });
});

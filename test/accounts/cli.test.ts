import { verifiedAccount } from '../../server/accounts/index.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';
import { SqliteAccountStore } from '../../server/accounts/index.js';

const repo = ROOT;
// The built command, as the other CLI tests run theirs (npm test builds first): no tsx start-up per run.
const cli = join(repo, 'dist/server/bin/imapd-accounts.js');
let data: string;

before(async () => {
  data = await fs.mkdtemp(join(tmpdir(), 'imapd-cli-'));
});
after(async () => {
  await fs.rm(data, { recursive: true, force: true });
});

function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function verify(user: string, password: string): Promise<boolean> {
  const store = SqliteAccountStore.open(data);
  try {
    return (await verifiedAccount(store, user, password)) !== null;
  } finally {
    store.close();
  }
}

test('add, passwd, disable, enable, list, remove with passwords from stdin', async () => {
  let r = await run(['--data', data, 'add', 'alice', '--quota', '500M', '--quota-messages', '1000'], 's3cret pass\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /added alice/);
  assert.equal(await verify('alice', 's3cret pass'), true);

  r = await run(['--data', data, 'add', 'Alice'], 'other\n');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists/);

  r = await run(['--data', data, 'passwd', 'alice', '--password-stdin'], 'new one\r\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await verify('alice', 's3cret pass'), false);
  assert.equal(await verify('alice', 'new one'), true);

  const maildir = join(data, 'elsewhere', 'Maildir');
  r = await run(['--data', data, 'add', 'bob', '--maildir', maildir, '--disabled'], 'pw');
  assert.equal(r.code, 0, r.stderr);

  r = await run(['--data', data, 'list']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^USER\s+ENABLED\s+QUOTA\s+MESSAGES\s+LAST LOGIN\s+MAILDIR$/);
  assert.match(lines[1]!, /^alice\s+yes\s+500M\s+1000\s+never\s+/);
  assert.match(lines[2]!, new RegExp(`^bob\\s+no\\s+-\\s+-\\s+never\\s+${maildir}$`));

  r = await run(['--data', data, 'enable', 'bob']);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['--data', data, 'disable', 'ALICE']);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['--data', data, 'list', '--json']);
  const listed = JSON.parse(r.stdout) as { username: string; enabled: boolean; quotaBytes: number | null }[];
  assert.deepEqual(listed.map((a) => [a.username, a.enabled, a.quotaBytes]), [['alice', false, 500 * 1024 * 1024], ['bob', true, null]]);
  assert.equal(r.stdout.includes('password'), false);

  r = await run(['--data', data, 'remove', 'bob']);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['--data', data, 'remove', 'bob']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no account "bob"/);
});

test('mistakes give clear messages and non-zero exits', async () => {
  const cases: [string[], string, number, RegExp][] = [
    [['add', 'x'], 'pw', 2, /--data DIR is required/],
    [['--data', data, 'frobnicate'], '', 2, /unknown command "frobnicate"/],
    [['--data', data, 'add'], '', 2, /add needs a user name/],
    [['--data', data, 'add', 'x', '--quota', 'lots'], 'pw', 2, /--quota: expected a number of bytes/],
    [['--data', data, 'add', 'x', '--bogus'], 'pw', 2, /Unknown option '--bogus'/],
    [['--data', data, 'add', 'x'], 'two\nlines\n', 1, /single line/],
    [['--data', data, 'add', 'x'], '', 1, /must not be empty/],
    [['--data', data, 'add', 'bad\tname'], 'pw', 1, /control characters/],
    [['--data', data, 'passwd', 'nobody'], 'pw', 1, /no account "nobody"/],
  ];
  for (const [args, stdin, code, message] of cases) {
    const r = await run(args, stdin);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('on a terminal the password is asked twice and never echoed', { skip: spawnSync('python3', ['-c', 'import pty']).status !== 0 && 'python3 pty not available' }, async () => {
  // python's pty module gives the CLI a real terminal; we type into it and read the screen.
  const script = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def read_until(marker, limit=30):
    global out
    end = time.time() + limit
    while marker not in out and time.time() < end:
        try:
            out += os.read(fd, 1024)
        except OSError:
            break
read_until(b'New password: ')
os.write(fd, b'typed-secret\\r')
read_until(b'Retype new password: ')
os.write(fd, b'typed-secret\\r')
read_until(b'added')
try:
    while True:
        chunk = os.read(fd, 1024)
        if not chunk: break
        out += chunk
except OSError:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;
  const r = spawnSync('python3', ['-c', script, process.execPath, cli, '--data', data, 'add', 'carol'], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /New password: /);
  assert.match(r.stdout, /added carol/);
  assert.equal(r.stdout.includes('typed-secret'), false);
  assert.equal(await verify('carol', 'typed-secret'), true);
});

test('address add, list and remove', async () => {
  let r = await run(['--data', data, 'add', 'erin'], 'erin-pass\n');
  assert.equal(r.code, 0, r.stderr);
  r = await run(['--data', data, 'address', 'add', 'erin', 'erin@example.org']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /erin@example\.org now delivers to erin/);
  r = await run(['--data', data, 'address', 'add', 'erin', 'Erin.Jones@example.org']);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['--data', data, 'address', 'list', 'erin']);
  assert.equal(r.stdout, 'Erin.Jones@example.org\nerin@example.org\n');
  r = await run(['--data', data, 'address', 'add', 'erin', 'not an address']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /local-part@domain|must not contain/);
  r = await run(['--data', data, 'address', 'remove', 'erin', 'erin@example.org']);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['--data', data, 'address', 'remove', 'erin', 'erin@example.org']);
  assert.equal(r.code, 1);
  r = await run(['--data', data, 'address', 'list', 'erin']);
  assert.equal(r.stdout, 'Erin.Jones@example.org\n');
  r = await run(['--data', data, 'address', 'frob', 'erin']);
  assert.equal(r.code, 2);
});

test('shared-index prints Courier\'s shared index of the enabled accounts', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'imapd-cli-shared-'));
  try {
    let r = await run(['--data', dir, 'add', 'carol'], 'pw\n');
    assert.equal(r.code, 0, r.stderr);
    r = await run(['--data', dir, 'add', 'dave', '--maildir', join(dir, 'd', 'Maildir')], 'pw\n');
    assert.equal(r.code, 0, r.stderr);
    r = await run(['--data', dir, 'add', 'erin', '--disabled'], 'pw\n');
    assert.equal(r.code, 0, r.stderr);
    r = await run(['--data', dir, 'shared-index']);
    assert.equal(r.code, 0, r.stderr);
    const uid = process.getuid?.() || 1;
    const gid = process.getgid?.() || 1;
    const carol = await homeOf(dir, 'carol');
    // name, uid, gid, home, Maildir (maildirnewshared.C); a disabled account is left out.
    assert.equal(r.stdout, `carol\t${uid}\t${gid}\t${carol}\t${join(carol, 'Maildir')}\n`
      + `dave\t${uid}\t${gid}\t${await homeOf(dir, 'dave')}\t${join(dir, 'd', 'Maildir')}\n`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

async function homeOf(dir: string, user: string): Promise<string> {
  const store = SqliteAccountStore.open(dir);
  try {
    return (await store.get(user))!.home;
  } finally {
    store.close();
  }
}

test('mailhost: shown, set (checked) and cleared', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'imapd-cli-mailhost-'));
  try {
    assert.equal((await run(['--data', dir, 'add', 'frank', '--password-stdin'], 'pw-frank\n')).code, 0);
    assert.equal((await run(['--data', dir, 'mailhost', 'frank'])).stdout, '-\n');
    const set = await run(['--data', dir, 'mailhost', 'frank', 'mail2.example.com:143']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'frank: mail on mail2.example.com:143\n');
    assert.equal((await run(['--data', dir, 'mailhost', 'frank'])).stdout, 'mail2.example.com:143\n');
    const bad = await run(['--data', dir, 'mailhost', 'frank', 'no such host']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expected a host name or address/);
    assert.equal((await run(['--data', dir, 'mailhost', 'frank', '-'])).stdout, 'frank: mail on this server\n');
    assert.equal((await run(['--data', dir, 'mailhost', 'frank'])).stdout, '-\n');
    assert.notEqual((await run(['--data', dir, 'mailhost', 'nobody', 'x'])).code, 0);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('sharable: shown, set to on, a group or off, and checked', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'imapd-cli-sharable-'));
  try {
    assert.equal((await run(['--data', dir, 'add', 'gus', '--password-stdin'], 'pw-gus\n')).code, 0);
    assert.equal((await run(['--data', dir, 'sharable', 'gus'])).stdout, 'off\n');
    assert.equal((await run(['--data', dir, 'sharable', 'gus', 'on'])).stdout, 'gus: sharable Maildirs on\n');
    assert.equal((await run(['--data', dir, 'sharable', 'gus', 'group=-family'])).stdout, 'gus: sharable Maildirs group=-family\n');
    assert.equal((await run(['--data', dir, 'sharable', 'gus'])).stdout, 'group=-family\n');
    const bad = await run(['--data', dir, 'sharable', 'gus', 'group=../x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /only letters, digits/);
    assert.equal((await run(['--data', dir, 'sharable', 'gus', 'maybe'])).code, 2);
    assert.equal((await run(['--data', dir, 'sharable', 'gus', 'off'])).stdout, 'gus: sharable Maildirs off\n');
    assert.notEqual((await run(['--data', dir, 'sharable', 'nobody', 'on'])).code, 0);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

// Dot-locks across hosts (issue 17: Maildirs on NFS served by several servers). NFS can answer a
// link() with an error although the link was made (the reply was lost and the retried request
// finds the name taken), so the scratch file's link count decides, as open(2) advises and
// Dovecot's nfs_safe_link does; a lock's age is read on the file server's clock (the mtime of a
// scratch file written just now), not this host's; a holder touches its lock so that a long hold
// is not broken as stale; and tmp/ scratch names carry the host, so that a host does not remove
// another's file in progress because no process of that number runs here.

import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { sibling } from '../helpers/root.js';
import { acquireDotLock, COURIER_LOCK, lockFs } from '../../server/maildir/lock.js';
import { isDeadScratch, scratchName } from '../../server/maildir/fsutil.js';

const lockModule = sibling(import.meta.url, '../../server/maildir/lock');
const saved = { ...lockFs };
let tmp: string;
let lockPath: string;

beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'imapd-nfslock-'));
  lockPath = path.join(tmp, COURIER_LOCK);
});

afterEach(() => {
  Object.assign(lockFs, saved);
  rmSync(tmp, { recursive: true, force: true });
});

/** link() as NFS may answer it: the link is made, then the call fails with `code`. */
function lyingLink(code: string): (existing: string, newPath: string) => void {
  return (existing, newPath) => {
    saved.link(existing, newPath);
    throw Object.assign(new Error(`${code}: link '${existing}' -> '${newPath}'`), { code });
  };
}

for (const code of ['EIO', 'EEXIST']) {
  test(`link() failing with ${code} after making the link: the link count makes the lock ours, at once`, async () => {
    lockFs.link = lyingLink(code);
    const started = Date.now();
    const release = await acquireDotLock(tmp, COURIER_LOCK, { timeoutMs: 2000 });
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    assert.equal(readFileSync(lockPath, 'utf8'), `${process.pid}:${hostname()}`);
    assert.deepEqual(readdirSync(tmp), [COURIER_LOCK], 'the scratch file is gone');
    await release();
    assert.deepEqual(readdirSync(tmp), []);
  });
}

test("a lock another host holds is not taken (link count 1) and no scratch file stays", async () => {
  writeFileSync(lockPath, '4242:other-host.example');
  await assert.rejects(acquireDotLock(tmp, COURIER_LOCK, { timeoutMs: 300 }), /locked by another process/);
  assert.deepEqual(readdirSync(tmp), [COURIER_LOCK]);
  assert.equal(readFileSync(lockPath, 'utf8'), '4242:other-host.example');
});

test("this host's clock 10 minutes ahead of the file server's: another host's fresh lock is not broken", async () => {
  writeFileSync(lockPath, '4242:other-host.example');
  const realNow = Date.now;
  Date.now = () => realNow() + 600_000;
  try {
    await assert.rejects(acquireDotLock(tmp, COURIER_LOCK, { timeoutMs: 300 }), /locked by another process/);
  } finally {
    Date.now = realNow;
  }
  assert.equal(readFileSync(lockPath, 'utf8'), '4242:other-host.example');
});

test("another host's lock older than the stale age on the file server's clock is broken", async () => {
  lockFs.staleAfterMs = 1000;
  writeFileSync(lockPath, '4242:other-host.example');
  const past = (Date.now() - 5000) / 1000;
  utimesSync(lockPath, past, past);
  const release = await acquireDotLock(tmp, COURIER_LOCK, { timeoutMs: 2000 });
  assert.equal(readFileSync(lockPath, 'utf8'), `${process.pid}:${hostname()}`);
  await release();
});

test('a holder keeps its lock fresh: a hold longer than the stale age is not broken', async () => {
  lockFs.staleAfterMs = 1000;
  // Another process holds the lock for 2.5 s, touching it every 200 ms.
  const holder = spawn(process.execPath, [...lockModule.nodeArgs, '--input-type=module', '-e', `
    const { acquireDotLock, lockFs } = await import(${JSON.stringify(lockModule.file)});
    lockFs.refreshMs = 200;
    const release = await acquireDotLock(${JSON.stringify(tmp)}, 'courier.lock');
    process.stdout.write('held\\n');
    await new Promise((r) => setTimeout(r, 2500));
    await release();
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
  await assert.rejects(acquireDotLock(tmp, COURIER_LOCK, { timeoutMs: 1800 }), /locked by another process/);
  assert.ok(Date.now() - statSync(lockPath).mtimeMs < 1000, 'touched within the stale age');
  assert.equal(await exited, 0);
  assert.deepEqual(readdirSync(tmp), []);
});

test("tmp/ scratch names carry the host: another host's file is not removed for want of its pid here", () => {
  const name = scratchName('imapdts');
  assert.match(name, /^\d+\.imapdts\.P\d+Q\d+R[0-9a-f]+\.H[\w-]+$/);
  const dead = spawnSync(process.execPath, ['-e', 'process.kill(process.pid, "SIGKILL")']).pid!;
  const here = name.slice(name.lastIndexOf('.H'));
  const stamp = Math.floor(Date.now() / 1000);
  assert.equal(isDeadScratch(`${stamp}.imapdts.P${dead}Q7R0a1b2c3d${here}`), true, 'a dead process of this host');
  assert.equal(isDeadScratch(`${stamp}.imapdts.P${dead}Q7R0a1b2c3d.Hother-host_example`), false, 'another host decides');
  assert.equal(isDeadScratch(`${stamp}.imapdts.P${dead}Q7R0a1b2c3d`), true, 'names of earlier versions: this host');
});

test('four processes meeting a stale lock at once: one breaks it, and then they hold it one at a time', async () => {
  writeFileSync(lockPath, '4242:other-host.example');
  const past = (Date.now() - 600_000) / 1000;
  utimesSync(lockPath, past, past);
  // Each holds the lock 30 times; while holding, it creates `inside` exclusively: a second holder would fail to.
  const inside = path.join(tmp, 'inside');
  const child = () => new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, [...lockModule.nodeArgs, '--input-type=module', '-e', `
      import { openSync, closeSync, unlinkSync } from 'node:fs';
      const { acquireDotLock } = await import(${JSON.stringify(lockModule.file)});
      let overlaps = 0;
      for (let i = 0; i < 30; i++) {
        const release = await acquireDotLock(${JSON.stringify(tmp)}, 'courier.lock');
        try { closeSync(openSync(${JSON.stringify(inside)}, 'wx')); } catch { overlaps++; }
        await new Promise((r) => setTimeout(r, 2));
        try { unlinkSync(${JSON.stringify(inside)}); } catch {}
        await release();
      }
      process.stdout.write(String(overlaps));
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
  assert.deepEqual(await Promise.all([child(), child(), child(), child()]), ['0', '0', '0', '0']);
  assert.deepEqual(readdirSync(tmp), []);
});

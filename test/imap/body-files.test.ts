// Whole messages as a real imapd process sends them (dist/, PREAUTH over pipes, as the bench
// runs it): the literal is the file's bytes with bare LF made CRLF and NUL made 0x80, whatever
// the ",S=" of its name says, in every size class the FETCH path treats apart (small ones
// packed into output blocks, one larger than half a block, one larger than a conversion
// chunk), partial fetches, \Seen, and a file another program removed after the SELECT.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { crlfReference } from '../helpers/crlf-reference.js';

/** RFC 3501's bytes, made the slow and obvious way. */
/** Deterministic text with LF, CRLF, lone CR and NUL line ends, `size` bytes or a little more. */
function mixed(size: number, seed: number): Buffer {
  const ends = ['\n', '\r\n', '\n', '\r', '\n\0', '\n\n', '\r\n\r\n'];
  let x = seed;
  let text = `Subject: mixed ${seed}\nFrom: a@example.org\r\nTo: b@example.org\n\n`;
  while (text.length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    text += 'word '.repeat(1 + ((x >>> 8) % 15)) + ends[(x >>> 16) % ends.length];
  }
  return Buffer.from(text, 'latin1');
}

/** Literals of the FETCH responses in `raw` (the bytes a reply carried), by UID. */
function literals(raw: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 0;
  for (;;) {
    const start = raw.indexOf('* ', at, 'latin1');
    if (start < 0) return out;
    const eol = raw.indexOf('\r\n', start, 'latin1');
    const line = raw.toString('latin1', start, eol);
    const m = /UID (\d+) .*\{(\d+)\}$/.exec(line);
    if (!m) {
      at = eol + 2;
      continue;
    }
    const n = Number(m[2]);
    out.set(Number(m[1]), raw.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n;
  }
}

describe('whole messages from the files', () => {
  let dir: string;
  let root: string;
  let imapd: SpawnedImapd;
  /** Content by UID (files are put in cur/ in UID order). */
  const contents: Buffer[] = [];
  const names: string[] = [];

  before(async () => {
    dir = tempDir('body-files');
    root = emptyMaildir(path.join(dir, 'Maildir'));
    const sizes = [40, 700, 3000, 16_000, 16_000, 40_000, 150_000, 300_000, 1_300_000];
    for (let i = 0; i < 40; i++) contents.push(mixed(sizes[i % sizes.length] + i, i + 1));
    contents.push(Buffer.from('Subject: empty lines\n\n\n\n', 'latin1'));
    contents.push(Buffer.from('Subject: already CRLF\r\n\r\nline\r\n', 'latin1'));
    contents.push(Buffer.from('\nstarts with LF\n', 'latin1'));
    contents.forEach((content, i) => {
      // Names as Maildir++ writers make them; some of them wrong about the size.
      const size = i === 3 ? 10 : i === 4 ? content.length + 1 : i === 5 ? content.length * 3 : i === 6 ? 0 : content.length;
      const name = `${1700000000 + i}.M${i}P1.testhost,S=${size}:2,${i === 7 ? 'S' : ''}`;
      names.push(name);
      fs.writeFileSync(path.join(root, 'cur', name), content);
    });
    // One without a size in its name.
    contents.push(mixed(5000, 99));
    names.push(`${1700000100}.M99P1.testhost:2,`);
    fs.writeFileSync(path.join(root, 'cur', names[names.length - 1]), contents[contents.length - 1]);
    imapd = spawnImapd(root, { IMAP_FTS_INDEX: '0' });
    await imapd.client.greeting;
    const select = await imapd.client.command('SELECT INBOX');
    assert.match(select.tagged, /^OK/);
  });

  after(async () => {
    await imapd.close();
    removeTree(dir);
  });

  it('sends every file converted, in one FETCH and one by one, ",S=" right or wrong', async () => {
    const all = await imapd.client.command('UID FETCH 1:* (BODY.PEEK[])', 120_000);
    assert.match(all.tagged, /^OK/);
    const got = literals(all.raw);
    assert.equal(got.size, contents.length);
    contents.forEach((content, i) => assert.ok(got.get(i + 1)!.equals(crlfReference(content)), `UID ${i + 1} (${names[i]})`));
    for (const uid of [1, 4, 5, 6, 7, contents.length - 2, contents.length]) {
      const one = await imapd.client.command(`UID FETCH ${uid} (BODY.PEEK[])`);
      assert.ok(literals(one.raw).get(uid)!.equals(crlfReference(contents[uid - 1])), `UID ${uid} alone`);
    }
  });

  it('cuts partial fetches out of the converted bytes', async () => {
    for (const [uid, origin, count] of [[1, 0, 10], [1, 5, 1_000_000], [4, 7, 30], [9, 600_000, 123_456], [9, 10_000_000, 5]] as const) {
      const reply = await imapd.client.command(`UID FETCH ${uid} (BODY.PEEK[]<${origin}.${count}>)`);
      const whole = crlfReference(contents[uid - 1]);
      const want = whole.subarray(Math.min(origin, whole.length), Math.min(whole.length, origin + count));
      assert.ok(literals(reply.raw).get(uid)!.equals(want), `UID ${uid} <${origin}.${count}>`);
      assert.match(reply.lines[0], new RegExp(`BODY\\[\\]<${origin}> \\{`));
    }
  });

  it('BODY.PEEK[] leaves \\Seen alone, BODY[] sets it and says so', async () => {
    const peek = await imapd.client.command('UID FETCH 2 (BODY.PEEK[])');
    assert.doesNotMatch(peek.lines.join('\n'), /FLAGS/);
    const read = await imapd.client.command('UID FETCH 2 (BODY[])');
    assert.match(read.lines.join('\n'), /FLAGS \(\\Seen \\Recent\)\)$/); // cur/ files new to the server are \Recent
    assert.ok(literals(read.raw).get(2)!.equals(crlfReference(contents[1])));
    const again = await imapd.client.command('UID FETCH 8 (BODY[])'); // \Seen already
    assert.doesNotMatch(again.lines.join('\n'), /FLAGS/);
  });

  it('a file another program removed after the SELECT: the others are sent, then NO [EXPUNGEISSUED]', async () => {
    fs.unlinkSync(path.join(root, 'cur', names[2]));
    const reply = await imapd.client.command('UID FETCH 1:5 (BODY.PEEK[])');
    assert.match(reply.tagged, /^NO \[EXPUNGEISSUED\]/);
    const got = literals(reply.raw);
    assert.deepEqual([...got.keys()], [1, 2, 4, 5]);
    for (const uid of got.keys()) assert.ok(got.get(uid)!.equals(crlfReference(contents[uid - 1])), `UID ${uid}`);
  });
});

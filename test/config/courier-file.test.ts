import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseCourierConfig } from '../../server/config/index.js';

const DEBIAN_FILES = ['/etc/courier/imapd', '/etc/courier/imapd-ssl'];
const haveDebianFiles = DEBIAN_FILES.every((f) => existsSync(f));

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'imapd-config-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Lines of a text, each with its terminator, for comparing files line by line. */
const lines = (text: string) => text.split(/(?<=\n)/);

describe("Debian's real files", { skip: !haveDebianFiles && 'courier-imap is not installed' }, () => {
  test('parse and serialize give back every byte', async () => {
    for (const file of DEBIAN_FILES) {
      const copy = join(dir, 'roundtrip-' + file.split('/').pop());
      await fs.copyFile(file, copy);
      const original = await fs.readFile(copy, 'utf8');
      const doc = parseCourierConfig(original, copy);
      assert.equal(doc.serialize(), original);
      assert.equal(doc.syntaxWarnings.length, 0);
      assert.ok(doc.assignments().length > 10);
    }
  });

  test('values, ##NAME blocks and $VAR references are read as Courier does', () => {
    const doc = parseCourierConfig(readFileSync('/etc/courier/imapd', 'utf8'), 'imapd');
    const env = new Map<string, string>();
    const values = doc.evaluate(env);
    assert.equal(values.get('MAXPERIP')?.value, '20');
    assert.equal(values.get('IMAP_CAPABILITY')?.value, 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE');
    assert.equal(values.get('IMAP_CAPABILITY_TLS')?.value, values.get('IMAP_CAPABILITY')?.value + ' AUTH=PLAIN');
    assert.equal(values.get('TCPDOPTS')?.value, '-nodnslookup -noidentlookup');
    const line = values.get('MAXPERIP')!.line;
    assert.equal(readFileSync('/etc/courier/imapd', 'utf8').split('\n')[line - 1], 'MAXPERIP=20');
    const maxperip = doc.lastAssignment('MAXPERIP')!;
    assert.equal(maxperip.block, 'MAXPERIP');
    assert.equal(doc.lastAssignment('IMAP_KEYWORDS')!.block, 'KEYWORDS_CAPABILITY');
  });

  test('changing values rewrites only those lines; the rest stays byte for byte', async () => {
    const path = join(dir, 'imapd');
    await fs.copyFile('/etc/courier/imapd', path);
    await fs.chmod(path, 0o640);
    const original = await fs.readFile(path, 'utf8');
    const doc = parseCourierConfig(original, path);
    doc.setValue('MAXPERIP', '4');
    doc.setValue('IMAP_CAPABILITY', 'IMAP4rev1 IDLE MOVE');
    doc.setValue('IMAP_TRASHFOLDERNAME', 'Deleted Items');
    await doc.writeFile(path);

    const written = await fs.readFile(path, 'utf8');
    const a = lines(original);
    const b = lines(written);
    assert.equal(a.length, b.length);
    const changed = a.map((l, i) => [l, b[i]] as const).filter(([x, y]) => x !== y);
    assert.deepEqual(changed.map(([, y]) => y), [
      'MAXPERIP=4\n',
      'IMAP_CAPABILITY="IMAP4rev1 IDLE MOVE"\n',
      'IMAP_TRASHFOLDERNAME="Deleted Items"\n',
    ]);
    // The reference in IMAP_CAPABILITY_TLS now follows the new value.
    assert.equal(parseCourierConfig(written, path).getValue('IMAP_CAPABILITY_TLS'), 'IMAP4rev1 IDLE MOVE AUTH=PLAIN');
    // Written through a temporary file: mode kept, nothing left behind.
    assert.equal((await fs.stat(path)).mode & 0o777, 0o640);
    assert.deepEqual((await fs.readdir(dir)).filter((n) => n.includes('.tmp')), []);
  });

  test('a new setting goes into its documentation block; nothing else moves', async () => {
    const original = readFileSync('/etc/courier/imapd-ssl', 'utf8');
    const doc = parseCourierConfig(original, 'imapd-ssl');
    doc.setValue('TLS_PRIVATE_KEYFILE', '/srv/key.pem');
    const written = doc.serialize();
    const a = lines(original);
    const b = lines(written);
    assert.equal(b.length, a.length + 1);
    const at = b.indexOf('TLS_PRIVATE_KEYFILE=/srv/key.pem\n');
    assert.ok(at > 0);
    // Right after the commented-out example at the end of the TLS_PRIVATE_KEYFILE block.
    assert.equal(b[at - 1], '#TLS_PRIVATE_KEYFILE=/etc/courier/imapd_private_key.pem\n');
    assert.deepEqual([...b.slice(0, at), ...b.slice(at + 1)], a);
    assert.equal(parseCourierConfig(written, 'x').getValue('TLS_PRIVATE_KEYFILE'), '/srv/key.pem');
  });
});

describe('the shell subset', () => {
  test('quotes, escapes, references, continuations and trailing comments', () => {
    const text = [
      'A=plain',
      'B="double \\"quoted\\" \\$HOME \\\\ $A"',
      "C='single $A \"x\"'",
      'D=${A}-$B_x-$A.',
      'E=one\\',
      'two',
      'F="multi \\',
      'line"   # a comment',
      '  G=indented',
      'H=',
      "I=it\\'s",
      'J="$UNDEFINED"',
      'K=a"b c"\'d\'',
    ].join('\n') + '\n';
    const doc = parseCourierConfig(text, 't');
    const v = doc.evaluate();
    assert.equal(v.get('A')?.value, 'plain');
    assert.equal(v.get('B')?.value, 'double "quoted" $HOME \\ plain');
    assert.equal(v.get('C')?.value, 'single $A "x"');
    assert.equal(v.get('D')?.value, 'plain--plain.');
    assert.equal(v.get('E')?.value, 'onetwo');
    assert.equal(v.get('F')?.value, 'multi line');
    assert.equal(v.get('F')?.line, 7);
    assert.equal(v.get('G')?.value, 'indented');
    assert.equal(v.get('G')?.line, 9);
    assert.equal(v.get('H')?.value, '');
    assert.equal(v.get('I')?.value, "it's");
    assert.equal(v.get('J')?.value, '');
    assert.equal(v.get('K')?.value, 'ab cd');
    assert.equal(doc.serialize(), text);
  });

  test('rewritten values keep their quoting style and read back exactly', () => {
    const text = "A=x\nB=\"y\"\nC='z'   # keep me\n  D=w\n";
    const doc = parseCourierConfig(text, 't');
    const tricky = 'a "b" $c \\d `e`';
    doc.setValue('A', 'simple');
    doc.setValue('B', tricky);
    doc.setValue('C', 'has space');
    doc.setValue('D', "it's");
    assert.equal(doc.serialize(), `A=simple\nB="a \\"b\\" \\$c \\\\d \\\`e\\\`"\nC='has space'   # keep me\n  D="it's"\n`);
    const back = parseCourierConfig(doc.serialize(), 't').evaluate();
    assert.equal(back.get('B')?.value, tricky);
    assert.equal(back.get('C')?.value, 'has space');
    assert.equal(back.get('D')?.value, "it's");
    assert.throws(() => doc.setValue('A', 'two\nlines'), /line breaks/);
  });

  test('CRLF files and files without a final newline survive edits', () => {
    const text = '# c\r\nA=1\r\nB=2';
    const doc = parseCourierConfig(text, 't');
    assert.equal(doc.serialize(), text);
    doc.setValue('A', '10');
    doc.setValue('NEW', 'v');
    assert.equal(doc.serialize(), '# c\r\nA=10\r\nB=2\r\n\r\nNEW=v\r\n');
  });

  test('removeValue drops the lines of a setting', () => {
    const doc = parseCourierConfig('A=1\n# x\nA=2\nB=3\n', 't');
    assert.equal(doc.removeValue('A'), 2);
    assert.equal(doc.serialize(), '# x\nB=3\n');
    assert.equal(doc.lastAssignment('B')?.line, 2);
  });

  test('shell we do not understand is an error naming file, line and setting', () => {
    const cases: [string, number, string, RegExp][] = [
      ['A=1\nB=$(hostname)\n', 2, 'B', /command substitution/],
      ['A=1\n\nC="open\n', 3, 'C', /closing double quote/],
      ["D='open\n", 1, 'D', /closing single quote/],
      ['E=1 F=2\n', 1, 'E', /unexpected text/],
      ['G=${H:-x}\n', 1, 'G', /\$\{NAME\}/],
      ['I=a;b\n', 1, 'I', /not supported/],
    ];
    for (const [text, line, setting, reason] of cases) {
      assert.throws(
        () => parseCourierConfig(text, '/etc/x/imapd'),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.equal(err.file, '/etc/x/imapd');
          assert.equal(err.line, line);
          assert.equal(err.setting, setting);
          assert.match(err.reason, reason);
          assert.match(err.message, new RegExp(`^/etc/x/imapd:${line}: ${setting}: `));
          return true;
        },
      );
    }
  });

  test('lines that are neither settings nor comments are kept and reported', () => {
    const text = 'A=1\nexport A\n';
    const doc = parseCourierConfig(text, 't');
    assert.equal(doc.serialize(), text);
    assert.equal(doc.syntaxWarnings.length, 1);
    assert.equal(doc.syntaxWarnings[0]!.line, 2);
  });
});

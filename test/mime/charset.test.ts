// The fast charset decoders (server/mime/charset.ts) against iconv-lite, which decoded every
// charset before: for every name they take, every single byte, every byte pair, every EUC-JP
// three-byte sequence, GB18030 four-byte sequences and random byte strings (invalid ones
// included), the fast decoder either gives iconv-lite's string or declines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { FAST_DECODERS } from '../../server/mime/charset.js';
import { seededRandom } from '../helpers/seeded.js';

/** The fast names grouped by the iconv-lite codec they stand for. */
function groups(): Map<unknown, string[]> {
  const byCodec = new Map<unknown, string[]>();
  for (const key of FAST_DECODERS.keys()) {
    assert.ok(iconv.encodingExists(key), `iconv-lite knows ${key}`);
    const codec = iconv.getCodec(key);
    byCodec.set(codec, [...(byCodec.get(codec) ?? []), key]);
  }
  return byCodec;
}

const rng = seededRandom;

const PHRASES = ['Grüße aus München', 'Привет, мир', 'Отчёт за квартал', 'Καλημέρα κόσμε', 'שלום עולם', 'مرحبا بالعالم',
  'Zdeněk Dvořák, Łódź', 'Ólafur Þórsson', 'İstanbul’da buluşalım', 'Tiếng Việt', '€uro “quotes” – dash…', 'Ärger über Œuvre',
  '山田 太郎', 'こんにちは、世界。カタカナ', '会議の議事録を送ります', '王小明 你好，世界！', '季度报告和预算', '中文測試 繁體字',
  '안녕하세요 세계', '회의 일정 안내'];

interface Tally { fast: number; declined: number; wrong: string[] }

function compare(name: string, inputs: Iterable<Buffer>, tally: Tally): void {
  const fast = FAST_DECODERS.get(name)!;
  for (const bytes of inputs) {
    const got = fast(bytes);
    if (got === undefined) {
      tally.declined++;
      continue;
    }
    tally.fast++;
    const want = iconv.decode(bytes, name);
    if (got !== want && tally.wrong.length < 10) tally.wrong.push(`${bytes.toString('hex')}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  }
}

function* singles(): Generator<Buffer> {
  for (let a = 0; a < 256; a++) yield Buffer.from([a]);
}
function* pairs(): Generator<Buffer> {
  for (let a = 0x80; a < 256; a++) for (let b = 0; b < 256; b++) yield Buffer.from([a, b]);
}
function* eucJpTriples(): Generator<Buffer> {
  for (let a = 0xa1; a < 0xff; a++) for (let b = 0xa1; b < 0xff; b++) yield Buffer.from([0x8f, a, b]);
}
function* gbFourBytes(random: () => number, n: number): Generator<Buffer> {
  for (let i = 0; i < n; i++) {
    yield Buffer.from([0x81 + Math.floor(random() * 126), 0x30 + Math.floor(random() * 10), 0x81 + Math.floor(random() * 126), 0x30 + Math.floor(random() * 10)]);
  }
}
/** Strings of the charset's own characters (iconv-lite's decoding of random valid-looking bytes, encoded back), with random bytes mixed in. */
function* mixed(name: string, random: () => number, n: number, clean: Buffer[]): Generator<Buffer> {
  for (let i = 0; i < n; i++) {
    const raw = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 40) }, () => (random() < 0.4 ? 0x20 + Math.floor(random() * 95) : 0x80 + Math.floor(random() * 128))));
    const text = iconv.encode(iconv.decode(raw, name).replace(/\ufffd/g, '?'), name);
    clean.push(text);
    yield text;
    if (random() < 0.3) {
      const broken = Buffer.from(text);
      if (broken.length) broken[Math.floor(random() * broken.length)] = Math.floor(random() * 256);
      yield broken;
    }
  }
}

describe('fast charset decoders give iconv-lite\'s result or decline', () => {
  for (const [, names] of groups()) {
    test(names.join(', '), () => {
      const random = rng(0x5eed + names[0]!.length);
      const tally: Tally = { fast: 0, declined: 0, wrong: [] };
      const name = names[0]!;
      compare(name, singles(), tally);
      compare(name, pairs(), tally);
      if (name === 'eucjp') compare(name, eucJpTriples(), tally);
      if (/gb|936|chinese/.test(names.join())) compare(name, gbFourBytes(random, 20_000), tally);
      const clean: Buffer[] = [];
      compare(name, mixed(name, random, 3000, clean), tally);
      // every name of this iconv-lite codec has the decoder just compared
      for (const alias of names) assert.equal(FAST_DECODERS.get(alias), FAST_DECODERS.get(name), alias);
      assert.deepEqual(tally.wrong, [], `${name}: ${tally.fast} fast, ${tally.declined} declined`);
      // the point of it all: everyday text in the charset takes the fast path
      // (in a CJK charset, phrases in its own language: its Latin, Cyrillic and other scripts are
      // rarer, and ICU's tables differ there, as in the characters GB18030 has in four bytes)
      const own = /^(932|eucjp)$/.test(name) ? /[\u3040-\u30ff]|山田/ : /^(936|gbk|gb18030|big5|950)$/.test(name) ? /^[^\u3040-\u30ff\uac00-\ud7a3]*[\u4e00-\u9fff]/ : name === '949' ? /[\uac00-\ud7a3]/ : /./;
      const texts = PHRASES.filter((p) => own.test(p)).map((p) => iconv.encode(p, name)).filter((b) => /[^\x00-\x7f]/.test(b.toString('latin1')) && !iconv.decode(b, name).includes('?'));
      assert.ok(texts.length > 0, name);
      for (const t of texts) assert.equal(FAST_DECODERS.get(name)!(t), iconv.decode(t, name), `${name}: ${t.toString('hex')} decoded without iconv-lite`);
    });
  }
});

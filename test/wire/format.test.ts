// ENVELOPE and BODY/BODYSTRUCTURE formatters, checked as wire bytes through the real writer.
// The expected strings were checked against Dovecot 2.3 (see dovecot.test.ts for the
// documented differences: here the size 434 / 17 lines of the attached message).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodyStructureValue } from '../../server/wire/bodystructure.js';
import { envelopeValue } from '../../server/wire/envelope.js';
import { serialize } from '../../server/wire/writer.js';
import { parseMessage } from '../../server/mime/parse.js';
import type { BodyPart } from '../../server/mime/types.js';
import { corpus } from '../mime/corpus.js';

const byName = new Map(corpus().map((e) => [e.name, e.raw]));
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');
const wire = (v: Parameters<typeof serialize>[0]): string => serialize(v).toString('latin1');
const meta = (name: string) => parseMessage(byName.get(name)!);

describe('BODYSTRUCTURE and BODY', () => {
  test('nested multiparts with an attached message, extension data', () => {
    const m = meta('nested-multipart');
    assert.equal(
      wire(bodyStructureValue(m.body, true)),
      '((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 18 0 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 11 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)' +
        '("image" "png" ("name" "dot.png") "<dot@example.org>" NIL "base64" 96 NIL ("inline" ("filename" "dot.png")) NIL NIL)' +
        '("message" "rfc822" NIL NIL NIL "7bit" 434 ("Sun, 01 Mar 2026 12:00:00 +0000" "=?utf-8?B?Vm9yd8OkcnRzIOKAkyBpbm5lcg==?=" (("Inner Sender" NIL "inner" "example.net")) (("Inner Sender" NIL "inner" "example.net")) (("Inner Sender" NIL "inner" "example.net")) ((NIL NIL "Group" NIL)(NIL NIL "a" "example.com")(NIL NIL "b" "example.com")(NIL NIL NIL NIL)) NIL NIL NIL "<inner@example.net>") ' +
        '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL)("application" "octet-stream" NIL NIL NIL "base64" 16 NIL NIL NIL NIL) "mixed" ("boundary" "deep") NIL NIL NIL) 17 NIL NIL NIL NIL) ' +
        '"mixed" ("boundary" "outer") NIL NIL NIL)',
    );
    assert.equal(
      wire(bodyStructureValue(m.body, false)),
      '((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 18 0)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 11 0) "alternative")' +
        '("image" "png" ("name" "dot.png") "<dot@example.org>" NIL "base64" 96)' +
        '("message" "rfc822" NIL NIL NIL "7bit" 434 ("Sun, 01 Mar 2026 12:00:00 +0000" "=?utf-8?B?Vm9yd8OkcnRzIOKAkyBpbm5lcg==?=" (("Inner Sender" NIL "inner" "example.net")) (("Inner Sender" NIL "inner" "example.net")) (("Inner Sender" NIL "inner" "example.net")) ((NIL NIL "Group" NIL)(NIL NIL "a" "example.com")(NIL NIL "b" "example.com")(NIL NIL NIL NIL)) NIL NIL NIL "<inner@example.net>") ' +
        '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 11 0)("application" "octet-stream" NIL NIL NIL "base64" 16) "mixed") 17) "mixed")',
    );
  });

  test('extension fields: md5, disposition, language list, location; description as written', () => {
    assert.equal(
      wire(bodyStructureValue(meta('extension-fields').body, true)),
      '(("text" "plain" ("charset" "utf-8") "<part1@example.org>" "the   first part" "7bit" 3 0 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" NIL) ("fr") "part1.txt")' +
        '("application" "pdf" ("name" "x.pdf") NIL NIL "7bit" 4 NIL ("attachment" ("filename" "x.pdf" "size" "3")) NIL NIL) ' +
        '"mixed" ("boundary" "ext") NIL ("en" "de-CH") "http://example.org/whole")',
    );
  });

  test('lower-case tokens; parameter values as written', () => {
    assert.equal(
      wire(bodyStructureValue(meta('uppercase-tokens').body, true)),
      '(("text" "html" ("charset" "UTF-8") NIL NIL "quoted-printable" 8 0 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" "UP") NIL NIL NIL)',
    );
  });

  test('defaults: charset us-ascii for text, a multipart without parts gets one empty text part', () => {
    assert.equal(wire(bodyStructureValue(parseMessage(bin('\r\nx')).body, false)), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0)');
    assert.equal(
      wire(bodyStructureValue(meta('no-boundary-param').body, true)),
      '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)',
    );
  });

  test('message/global is body-type-basic (RFC 3501 grammar); message/rfc822 always has envelope, body, lines', () => {
    assert.equal(
      wire(bodyStructureValue(meta('message-global').body, false)),
      '(("message" "global" NIL NIL NIL "7bit" 30) "mixed")',
    );
    const bare: BodyPart = {
      type: 'message', subtype: 'rfc822', params: [], id: null, description: null, encoding: '7bit', size: 5, lines: 1,
      md5: null, disposition: null, language: null, location: null, headerStart: 0, bodyStart: 0, bodyEnd: 5,
    };
    assert.equal(
      wire(bodyStructureValue(bare, false)),
      '("message" "rfc822" NIL NIL NIL "7bit" 5 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) 1)',
    );
  });

  test('RFC 2231 parameters keep the extended form', () => {
    assert.equal(
      wire(bodyStructureValue(meta('rfc2231-params').body, true)),
      '(("application" "octet-stream" ("name*" "utf-8\'\'caf%C3%A9%20%E2%82%AC.txt") NIL NIL "7bit" 4 NIL ("attachment" ("filename" "long file name.txt")) NIL NIL)' +
        '("text" "plain" ("charset" "us-ascii" "format" "flowed" "q" "a \\"quoted\\" \\\\ value") NIL NIL "7bit" 4 0 NIL ("inline" ("filename*" "iso-8859-1\'fr\'r%E9sum%E9.txt")) NIL NIL) "mixed" ("boundary" "p") NIL NIL NIL)',
    );
  });
});

describe('ENVELOPE', () => {
  test('addresses: quoted names, comments, routes, groups, missing parts', () => {
    assert.equal(
      wire(envelopeValue(meta('addresses').envelope)),
      '(NIL "addresses" (("Doe, John" NIL "john" "example.org")) (("John Doe" NIL "john" "MISSING_DOMAIN")) (("Mary Smith" "@route1,@route2" "mary" "example.net")) ' +
        '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ' +
        '((NIL NIL "team" NIL)(NIL NIL "a" "example.com")("B" NIL "b" "example.com")(NIL NIL NIL NIL)("Carl C" NIL "c" "example.com")(NIL NIL "d" "example.com")) ' +
        '(("Joe Q. Public" NIL "john.q.public" "example.com")(NIL NIL "x" "[192.0.2.1]")("weird@name" NIL "w" "example.com")(NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) ' +
        '"<p1@example.org> <p2@example.org>" "<addr@example.org> (comment)")',
    );
  });

  test('8-bit header bytes go out unchanged (as literals) with UTF8=ACCEPT, NUL as U+FFFD, a lone CR as a space', () => {
    const env = wire(envelopeValue(meta('8bit-headers').envelope, true));
    assert.ok(env.startsWith('(NIL {17}\r\n' + Buffer.from('Grüße raw UTF-8').toString('latin1') + ' '), env);
    assert.ok(env.includes('{3}\r\n\xe9t\xe9 NIL "e" "example.org"'), env);
    const nul = serialize(envelopeValue(meta('lone-cr-and-nul').envelope));
    assert.ok(nul.includes(Buffer.from('nul\ufffdbyte and cr')), nul.toString('latin1'));
  });

  test('without UTF8=ACCEPT, raw UTF-8 words become encoded-words (as Courier sends them); other 8-bit bytes stay', () => {
    const env = wire(envelopeValue(meta('8bit-headers').envelope));
    assert.ok(env.startsWith('(NIL "=?utf-8?B?R3LDvMOfZQ==?= raw UTF-8" (("=?utf-8?B?SsO8cmdlbiBNw7xsbGVy?=" NIL "j" "example.org"))'), env);
    assert.ok(env.includes('{3}\r\n\xe9t\xe9 NIL "e" "example.org"'), env);
  });

  test('missing fields are NIL, empty ones ""', () => {
    assert.equal(wire(envelopeValue(meta('missing-headers').envelope)), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
    assert.equal(wire(envelopeValue(meta('empty-fields').envelope)), '("" "" NIL NIL NIL NIL NIL NIL NIL "")');
  });
});

// An unfriendly MIME corpus, generated (deterministic). Each entry may list the known
// differences to Dovecot that the differential test must find there (see dovecot.test.ts).

import iconv from 'iconv-lite';

export interface CorpusEntry {
  name: string;
  raw: Buffer;
  /** Per-message known differences to Dovecot (names of normalisations in dovecot.test.ts). */
  known?: string[];
}

export const crlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');
export const lf = (s: string): string => s.replace(/\r\n/g, '\n');
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');
const utf = (s: string): Buffer => Buffer.from(s, 'utf8');

/** RFC 2047 B encoded-word of `text` in `charset`. */
export function bWord(charset: string, text: string): string {
  return `=?${charset}?B?${iconv.encode(text, charset).toString('base64')}?=`;
}

/** RFC 2047 Q encoded-word of `text` in `charset`. */
export function qWord(charset: string, text: string): string {
  let out = '';
  for (const b of iconv.encode(text, charset)) {
    if (b === 32) out += '_';
    else if (b > 32 && b < 127 && b !== 61 && b !== 63 && b !== 95) out += String.fromCharCode(b);
    else out += '=' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return `=?${charset}?Q?${out}?=`;
}

/** "こんにちは" in ISO-2022-JP (iconv-lite cannot encode it). */
export const ISO2022JP_HELLO = '=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=';

function base64Lines(data: Buffer): string {
  return data.toString('base64').replace(/.{76}/g, '$&\n');
}

/** A message with a base64 attachment of about `bytes` decoded bytes, CRLF line ends. */
export function bigMessage(bytes: number): Buffer {
  const payload = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) payload[i] = (i * 31 + (i >> 8)) & 0xff;
  const head = crlf(`From: Big Sender <big@example.org>
To: someone@example.com
Subject: big attachment
Date: Mon, 02 Mar 2026 09:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="big-boundary"

--big-boundary
Content-Type: text/plain; charset=utf-8

See the attachment.
--big-boundary
Content-Type: application/octet-stream; name="big.bin"
Content-Disposition: attachment; filename="big.bin"
Content-Transfer-Encoding: base64

`);
  return Buffer.concat([bin(head), bin(base64Lines(payload).replace(/\n/g, '\r\n')), bin('\r\n--big-boundary--\r\n')]);
}

/** A typical ~5 KB message (multipart/alternative, a few Received lines). */
export function typicalMessage(): Buffer {
  const para = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.\n';
  return bin(crlf(`Return-Path: <alice@example.org>
Received: from mx1.example.org (mx1.example.org [192.0.2.1])
\tby mail.example.com with ESMTPS id 4AB12C3D4E
\tfor <bob@example.com>; Mon, 02 Mar 2026 09:00:01 +0100 (CET)
Received: from [10.0.0.5] (unknown [198.51.100.7])
\tby mx1.example.org (Postfix) with ESMTPSA id 1234567890
\tfor <bob@example.com>; Mon, 02 Mar 2026 09:00:00 +0100 (CET)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail;
\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789
Message-ID: <typical-1@example.org>
In-Reply-To: <typical-0@example.org>
References: <typical-a@example.org> <typical-0@example.org>
Date: Mon, 02 Mar 2026 09:00:00 +0100
From: "Alice Example" <alice@example.org>
To: Bob <bob@example.com>, "Doe, John" <john@example.net>
Cc: team@example.com
Subject: ${qWord('utf-8', 'Re: Café meeting notes')}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="=_alt_typical"

--=_alt_typical
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

${para.repeat(18)}
--=_alt_typical
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><body>${'<p>' + para.trim() + '</p>\n'}${('<p>' + para.trim() + '</p>\n').repeat(14)}</body></html>
--=_alt_typical--
`));
}

export function corpus(): CorpusEntry[] {
  const list: CorpusEntry[] = [];
  const add = (name: string, raw: Buffer | string, known?: string[]): void => {
    list.push({ name, raw: typeof raw === 'string' ? bin(raw) : raw, known });
  };

  add('simple-crlf', crlf(`From: Alice <alice@example.org>
To: bob@example.com
Subject: Simple
Date: Mon, 02 Mar 2026 09:00:00 +0100
Message-ID: <simple@example.org>

Hello Bob.
Second line.
`));

  add('simple-bare-lf', lf(`From: Alice <alice@example.org>
To: bob@example.com
Subject: Bare LF
Date: Mon, 2 Mar 2026 09:00 +0100

Line one.
Line two.
`));

  add('mixed-line-ends', 'From: a@example.org\r\nSubject: mixed\nTo: b@example.org\r\n\nbody one\r\nbody two\nbody three\r\n');

  add('folded-headers', crlf(`From: "A very long display name that is folded"
 <folded@example.org>
To: one@example.com,
\ttwo@example.com,
  "Three, Person" <three@example.com>
Subject: This subject is
 folded over
\tthree lines
Date: Mon, 02 Mar 2026
 09:00:00 +0100
Message-ID:
 <folded@example.org>

Body.
`));

  add('missing-headers', crlf(`X-Only: nothing useful

Body without any envelope header.
`));

  add('duplicate-headers', crlf(`From: first@example.org
From: second@example.org
Subject: First subject
Subject: Second subject
To: a@example.com
To: b@example.com
Message-ID: <first@example.org>
Message-ID: <second@example.org>

Body.
`), ['duplicate-headers']);

  add('header-only-no-newline', 'Subject: header only\r\nFrom: a@example.org');
  add('header-only-trailing-crlf', 'Subject: header only\r\nFrom: a@example.org\r\n', ['header-fields-blank-line']);
  add('header-and-blank-line', 'Subject: empty body\r\nFrom: a@example.org\r\n\r\n');
  add('no-header', '\r\nJust a body, the message starts with an empty line.\r\n');
  add('empty-message', '', ['header-fields-blank-line']);

  add('nested-multipart', crlf(`From: Nested <nested@example.org>
To: "Doe, Jane" <jane@example.com>
Subject: Nested multiparts
Date: Mon, 02 Mar 2026 09:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

Preamble text.
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait.
--inner
Content-Type: text/html; charset=utf-8

<p>Caf\u00e9</p>
--inner--
--outer
Content-Type: image/png; name="dot.png"
Content-Transfer-Encoding: base64
Content-Disposition: inline; filename="dot.png"
Content-ID: <dot@example.org>

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--outer
Content-Type: message/rfc822

From: Inner Sender <inner@example.net>
To: Group: a@example.com, b@example.com;
Subject: ${bWord('utf-8', 'Vorwärts – inner')}
Date: Sun, 01 Mar 2026 12:00:00 +0000
Message-ID: <inner@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="deep"

--deep
Content-Type: text/plain

Inner text.
--deep
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAECAwQFBgcICQ==
--deep--
--outer--
Epilogue text.
`), ['epilogue-crlf']);

  add('rfc822-simple', crlf(`From: Forwarder <fwd@example.org>
To: x@example.com
Subject: Fwd: hello
Content-Type: multipart/mixed; boundary=fwd

--fwd
Content-Type: text/plain

See below.
--fwd
Content-Type: message/rfc822
Content-Description: forwarded message

From: Original <orig@example.com>
Reply-To: Replies <replies@example.com>
Sender: Secretary <sec@example.com>
To: undisclosed-recipients:;
Cc: team: a@example.com, "B, Person" <b@example.com>;, c@example.com
Subject: Original subject
Date: Sat, 28 Feb 2026 23:59:59 -0800
In-Reply-To: <parent@example.com>
Message-ID: <orig@example.com>

Original body.
--fwd--
`));

  add('toplevel-rfc822', crlf(`From: outer@example.org
Subject: outer
Content-Type: message/rfc822

From: inner@example.org
Subject: inner
Content-Type: text/plain; charset=iso-8859-1

inner body
`));

  add('unterminated-multipart', crlf(`Subject: no closing boundary
Content-Type: multipart/mixed; boundary="open"

--open
Content-Type: text/plain

first
--open
Content-Type: text/plain

second, and the data just ends`));

  add('prefix-boundaries', crlf(`Subject: boundary prefixes
Content-Type: multipart/mixed; boundary="abc"

--abc
Content-Type: multipart/alternative; boundary="abc-inner"

--abc-inner
Content-Type: text/plain

inner one
--abc-inner
Content-Type: text/plain

inner two
--abc-inner--
--abc
Content-Type: text/plain

a line that starts like a delimiter:
--abcdef is a delimiter of "abc" (RFC 2046 5.1.1 compares only the beginning)
after it
--abc--
`), ['epilogue-crlf']);

  add('same-boundary-nested', crlf(`Subject: same boundary twice
Content-Type: multipart/mixed; boundary="same"

--same
Content-Type: multipart/alternative; boundary="same"

--same
Content-Type: text/plain

x
--same--
--same
Content-Type: text/plain

y
--same--
`), ['epilogue-crlf']);

  add('preamble-epilogue-whitespace', crlf(`Subject: padding
Content-Type: multipart/mixed; boundary=pad

preamble line 1
preamble line 2
--pad   \t
Content-Type: text/plain

padded delimiter
--pad--   
epilogue 1
epilogue 2
`));

  add('empty-parts', crlf(`Subject: empty parts
Content-Type: multipart/mixed; boundary=e

--e
--e
Content-Type: text/plain

--e
Content-Type: text/plain
--e--
`));

  add('8bit-body', Buffer.concat([bin(crlf(`From: a@example.org
Subject: 8-bit
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

`)), utf('Grüße aus Köln – ½ €\r\nZweite Zeile\r\n'), bin('latin1 bytes: \xe9\xe8\r\n')]));

  add('8bit-headers', Buffer.concat([bin('From: '), utf('Jürgen Müller'), bin(' <j@example.org>\r\nSubject: '), utf('Grüße raw UTF-8'), bin('\r\nTo: \xe9t\xe9 <e@example.org>\r\n\r\nbody\r\n')]));

  add('encoded-words', crlf(`From: ${qWord('iso-8859-1', 'José Núñez')} <jose@example.org>
To: ${bWord('koi8-r', 'Иван')} <ivan@example.ru>, ${ISO2022JP_HELLO} <taro@example.jp>
Cc: ${qWord('windows-1252', '€uro “Quote”')} <euro@example.com>
Subject: ${bWord('utf-8', 'Ünïcödé ✓')} ${qWord('iso-8859-1', 'café')} ${qWord('koi8-r', 'Привет')} ${ISO2022JP_HELLO}
Date: Mon, 02 Mar 2026 09:00:00 +0100

body
`));

  add('rfc2231-params', crlf(`Subject: RFC 2231
Content-Type: multipart/mixed; boundary=p

--p
Content-Type: application/octet-stream;
 name*0*=utf-8''caf%C3%A9%20;
 name*1*=%E2%82%AC.txt
Content-Disposition: attachment;
 filename*0="long file ";
 filename*1="name.txt"

data
--p
Content-Type: text/plain; charset="us-ascii"; format=flowed; q="a \\"quoted\\" \\\\ value"
Content-Disposition: inline; filename*=iso-8859-1'fr'r%E9sum%E9.txt

text
--p--
`));

  add('digest', crlf(`Subject: digest
Content-Type: multipart/digest; boundary=d

--d

From: one@example.org
Subject: first in digest

one
--d
Content-Type: text/plain

explicit text part in a digest
--d

From: two@example.org
Subject: second in digest

two
--d--
`));

  add('addresses', crlf(`From: "Doe, John" <john@example.org>
Sender: john (John Doe)
Reply-To: Mary Smith <@route1,@route2:mary@example.net>
To: undisclosed-recipients:;
Cc: team: a@example.com, "B" <b@example.com>;, c@example.com (Carl C), <d@example.com>
Bcc: Joe Q. Public <john.q.public@example.com>, x@[192.0.2.1], "weird@name" <w@example.com>, <>
Subject: addresses
Message-ID: <addr@example.org> (comment)
In-Reply-To: <p1@example.org> <p2@example.org>

body
`));

  add('address-garbage', crlf(`From: <<broken>>
To: a@b@c, "unterminated <u@example.com>
Cc: group-without-end: g@example.com
Subject: garbage

body
`), ['garbage-addresses']);

  add('no-boundary-param', crlf(`Subject: multipart without boundary
Content-Type: multipart/mixed

--x
Content-Type: text/plain

x
--x--
`));

  add('boundary-never-found', crlf(`Subject: multipart with no delimiter
Content-Type: multipart/mixed; boundary=nothere

just text
`));

  add('base64-rfc822', crlf(`Subject: encoded message
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogeAoKYm9keQo=
`));

  add('message-global', crlf(`Subject: global
Content-Type: multipart/mixed; boundary=g

--g
Content-Type: message/global

Subject: inner global

inner
--g--
`));

  add('invalid-content-type', crlf(`Subject: bad type
Content-Type: garbage
Content-Language: en

x
`), ['invalid-content-type']);

  add('extension-fields', crlf(`Subject: extension data
Content-Type: multipart/mixed; boundary=ext
Content-Language: en, de-CH
Content-Location: http://example.org/whole

--ext
Content-Type: text/plain; charset=utf-8
Content-ID: <part1@example.org>
Content-Description: the   first part
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Language: fr
Content-Location: part1.txt
Content-Disposition: inline

one
--ext
Content-Type: application/pdf; name="x.pdf"
Content-Disposition: attachment; filename="x.pdf"; size=3

%PDF
--ext--
`));

  add('uppercase-tokens', crlf(`Subject: upper case
Content-Type: MULTIPART/Mixed; BOUNDARY="UP"

--UP
Content-Type: TEXT/HTML; CHARSET=UTF-8
Content-Transfer-Encoding: QUOTED-PRINTABLE
Content-Disposition: INLINE

<b>x</b>
--UP--
`), ['case']);

  add('part-header-cut-by-boundary', crlf(`Subject: header cut
Content-Type: multipart/mixed; boundary=cut

--cut
Content-Type: text/plain
--cut
Content-Type: text/plain

ok
--cut--
`));

  add('lone-cr-and-nul', Buffer.concat([bin('Subject: nul\x00byte and\rcr\r\nFrom: a@example.org\r\n\r\nbody with\rlone CR and NUL \x00 byte\r\n')]));

  add('empty-fields', crlf(`Subject:
From:
Sender:
Message-ID:
Date:

x
`));

  add('long-header', crlf(`Subject: ${'long '.repeat(400)}
To: ${Array.from({ length: 60 }, (_, i) => `user${i}@example.com`).join(', ')}

x
`));

  add('deep-nesting', (() => {
    let s = 'Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n';
    const depth = 25;
    for (let i = 0; i < depth; i++) s += `--b${i}\r\nContent-Type: multipart/mixed; boundary=b${i + 1}\r\n\r\n`;
    s += `--b${depth}\r\nContent-Type: text/plain\r\n\r\nbottom\r\n--b${depth}--\r\n`;
    for (let i = depth - 1; i >= 0; i--) s += `--b${i}--\r\n`;
    return s;
  })(), ['epilogue-crlf']);

  add('rfc822-in-rfc822', crlf(`Subject: level 0
Content-Type: message/rfc822

Subject: level 1
Content-Type: message/rfc822

Subject: level 2
Content-Type: multipart/alternative; boundary=l2

--l2
Content-Type: text/plain

level 2 text
--l2--
`));

  add('dates', crlf(`Date: 2 Mar 26 9:00 EST
Subject: obsolete date

x
`));

  add('bare-lf-multipart', lf(`Subject: LF multipart
Content-Type: multipart/mixed; boundary=lf

--lf
Content-Type: text/plain

one
two
--lf
Content-Type: message/rfc822

Subject: inner LF

inner
--lf--
`));

  return list;
}

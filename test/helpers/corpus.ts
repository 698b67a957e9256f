// An unfriendly corpus for protocol tests: nested multiparts, message/rfc822 parts,
// encoded-word headers in several charsets, missing headers, 8-bit bodies, bare LF
// line ends, group addresses, broken multiparts. Deterministic content.

import fs from 'node:fs';
import path from 'node:path';

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

export interface CorpusMessage {
  name: string;
  data: Buffer;
  flags: string;
}

export function corpus(): CorpusMessage[] {
  const list: CorpusMessage[] = [];
  // Stored with LF line ends, as delivery agents on Unix write Maildir files; one message
  // below is stored with CRLF.
  const add = (name: string, text: string | Buffer, flags = '', lineEnds: 'crlf' | 'lf' = 'lf') => {
    const data = typeof text === 'string' ? Buffer.from(lineEnds === 'crlf' ? crlf(text) : text.replace(/\r\n/g, '\n'), 'utf8') : text;
    list.push({ name, data, flags });
  };

  add('nested-multipart', `From: Nested Sender <nested@example.org>
To: "Doe, Jane" <jane@example.com>, bob@example.com
Subject: Nested multiparts
Date: Mon, 02 Mar 2026 09:00:00 +0100
Message-ID: <nested@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

Preamble text.
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait, searchable-nested-word.
--inner
Content-Type: text/html; charset=utf-8

<p>Caf\u00e9</p>
--inner--
--outer
Content-Type: image/png; name="dot.png"
Content-Transfer-Encoding: base64
Content-Disposition: inline; filename="dot.png"
Content-ID: <dot@example.org>
Content-Description: A tiny dot

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==
--outer--
Epilogue.
`, 'S');

  add('rfc822-attachment', `From: forwarder@example.org
To: someone@example.com
Subject: Fwd: the original
Date: Tue, 03 Mar 2026 10:00:00 +0000
Message-ID: <fwd@example.org>
In-Reply-To: <nested@example.org>
References: <nested@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd"

--fwd
Content-Type: text/plain

See below.
--fwd
Content-Type: message/rfc822

From: Original Author <orig@example.net>
To: list@example.net
Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=
Date: Sun, 01 Mar 2026 08:00:00 -0500
Message-ID: <orig@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="in"

--in
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

Inner text.
--in--
--fwd--
`, 'RS');

  add('encoded-words', `From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.de>
To: =?KOI8-R?B?8NLJ18XU?= <privet@example.ru>
Cc: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= <nihon@example.jp>
Subject: =?Windows-1252?Q?=93Quoted=94_and_=80uro?= =?UTF-8?Q?_=E2=9C=93?=
Date: Wed, 04 Mar 2026 11:30:00 +0200
Message-ID: <encoded@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

w5xiZXJncsO2w59lIGltIEJhc2U2NC1Uw6p4dCwgZmluZG1lLWJhc2U2NC4K
`);

  add('missing-headers', `Subject: only a subject

No From, no Date, no Message-ID, no MIME headers at all.
`);

  add('no-body', `From: empty@example.org
Subject: header only
Date: Thu, 05 Mar 2026 12:00:00 +0000
`);

  add('eight-bit', `From: "Zo\u00eb" <zoe@example.org>
To: undisclosed-recipients:;
Subject: Raw 8-bit \u00fcmlauts in the header
Date: Fri, 06 Mar 2026 13:00:00 +0000
Message-ID: <eightbit@example.org>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Stra\u00dfe, na\u00efve, \u65e5\u672c\u8a9e, 8bit-body-word.
`, 'F');

  add('bare-lf', `From: unix@example.org
To: team: alice@example.com, bob@example.com;, carol@example.com
Subject: Bare LF line ends
Date: Sat, 07 Mar 2026 14:00:00 +0000
Message-ID: <barelf@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=plainboundary

--plainboundary
Content-Type: text/plain; charset=us-ascii

line one
line two
--plainboundary
Content-Type: text/enriched

<bold>rich</bold>
--plainboundary--
`, 'S', 'lf');

  add('broken-multipart', `From: broken@example.org
Subject: Multipart without its closing boundary
Date: Sun, 08 Mar 2026 15:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-closed"

--never-closed
Content-Type: text/plain

first part
--never-closed
Content-Type: application/octet-stream; name*0="long-"; name*1="name.bin"
Content-Transfer-Encoding: base64

AAECAwQFBgcICQ==
`);

  add('rfc2231', `From: params@example.org
Subject: RFC 2231 parameters
Date: Mon, 09 Mar 2026 16:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="p"

--p
Content-Type: text/plain; charset="us-ascii"; format=flowed

Body.
--p
Content-Type: application/pdf; name*=utf-8''r%C3%A9sum%C3%A9.pdf
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf
Content-Language: en, de
Content-Location: http://example.org/resume.pdf

JVBERi0xLjQK
--p--
`, 'D');

  add('digest', `From: digest@example.org
Subject: A digest
Date: Tue, 10 Mar 2026 17:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/digest; boundary="d"

--d

From: one@example.org
Subject: digest part one

One.
--d

From: two@example.org
Subject: digest part two

Two.
--d--
`);

  add('stored-crlf', `From: windows@example.org
Subject: Stored with CRLF line ends
Date: Thu, 12 Mar 2026 18:30:00 +0000
Message-ID: <crlf@example.org>
Content-Type: text/plain; charset=us-ascii

Every line of this file ends in CR LF.
`, '', 'crlf');

  add('reply-thread', `From: Nested Sender <nested@example.org>
Subject: Re: Nested multiparts
Date: Wed, 11 Mar 2026 18:00:00 +0000
Message-ID: <reply2@example.org>
In-Reply-To: <fwd@example.org>
References: <nested@example.org> <fwd@example.org>

A reply in the thread.
`, 'S');

  return list;
}

/** A message with a large base64 attachment (size in bytes of the decoded attachment). */
export function bigMessage(bytes: number): Buffer {
  const payload = Buffer.alloc(bytes, 0x5a).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    crlf(`From: big@example.org
To: you@example.com
Subject: A big attachment
Date: Thu, 12 Mar 2026 19:00:00 +0000
Message-ID: <big@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="big"

--big
Content-Type: text/plain

The attachment follows.
--big
Content-Type: application/octet-stream; name="big.bin"
Content-Transfer-Encoding: base64

`) + payload + '\r\n--big--\r\n',
  );
}

/** Put the corpus into a Maildir's cur/ (names with S= sizes, flags in the suffix). */
export function writeCorpus(maildir: string, messages: CorpusMessage[], startTime = 1772400000): void {
  messages.forEach((m, i) => {
    const t = startTime + i * 60;
    const base = `${t}.M${i}P4242V0000000000000801I${String(i).padStart(16, '0')}.corpus,S=${m.data.length}`;
    const file = path.join(maildir, 'cur', `${base}:2,${m.flags}`);
    fs.writeFileSync(file, m.data);
    fs.utimesSync(file, t, t);
  });
}

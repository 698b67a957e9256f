// A small mailbox for SORT / THREAD comparisons with Courier and Dovecot: reply chains,
// missing and duplicate Message-IDs, reference loops, subjects with Re:/Fwd:/[blob]
// decorations and encoded-words, missing Date: headers, odd time zones and addresses.
// Message n (1-based) carries "X-Seq: n" so that server sequence numbers can be mapped back.

export interface CorpusMessage {
  /** Header lines without X-Seq (added here) and without the body. */
  headers: string[];
  body?: string;
  /** INTERNALDATE (file mtime), ms since epoch. */
  internalDate: number;
}

const T0 = Date.UTC(2024, 4, 1, 12);
const HOUR = 3600000;

function date(hoursAfterT0: number, zone = '+0000'): string {
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMs = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60000;
  const local = new Date(T0 + hoursAfterT0 * HOUR + offsetMs);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[local.getUTCDay()]}, ${local.getUTCDate()} ${months[local.getUTCMonth()]} ${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${zone}`;
}

/** m(hours, headers): a message sent `hours` after T0 and received one hour later. */
function m(hours: number, headers: string[], extra: Partial<CorpusMessage> = {}): CorpusMessage {
  return { headers: [`Date: ${date(hours)}`, ...headers], internalDate: T0 + (hours + 1) * HOUR, ...extra };
}

export const CORPUS: CorpusMessage[] = [
  /* 1 */ m(0, ['From: Alice Example <alice@example.org>', 'To: Bob <bob@example.com>', 'Subject: Project plan', 'Message-ID: <a@x>']),
  /* 2 */ m(2, ['From: bob@example.com', 'To: alice@example.org', 'Cc: Team <team@example.com>', 'Subject: Re: Project plan', 'Message-ID: <b@x>', 'References: <a@x>']),
  /* 3 */ m(4, ['From: "Carol Q." <carol@example.net>', 'To: bob@example.com', 'Subject: RE: Re: Project plan', 'Message-ID: <c@x>', 'References: <a@x> <b@x>']),
  /* 4 */ m(1, ['From: Dave <dave@example.org>', 'To: x@example.org', 'Subject: Lost parent', 'Message-ID: <d@x>', 'References: <gone@x>']),
  /* 5 */ m(3, ['From: Erin <erin@example.org>', 'To: y@example.org', 'Subject: Re: Lost parent', 'Message-ID: <e@x>', 'In-Reply-To: <gone@x>']),
  /* 6 */ m(5, ['From: Frank <frank@example.org>', 'To: z@example.org', 'Subject: No id at all']),
  /* 7 */ m(6, ['From: Grace <grace@example.org>', 'To: a@example.org', 'Subject: Duplicate of the first id', 'Message-ID: <a@x>']),
  /* 8 */ m(7, ['From: Heidi <heidi@example.org>', 'To: b@example.org', 'Subject: Re: Project plan', 'Message-ID: <h@x>', 'In-Reply-To: <c@x> <b@x>']),
  /* 9 */ m(8, ['From: Ivan <ivan@example.org>', 'To: c@example.org', 'Subject: Loop one', 'Message-ID: <l1@x>', 'References: <l2@x>']),
  /* 10 */ m(9, ['From: Judy <judy@example.org>', 'To: d@example.org', 'Subject: Loop two', 'Message-ID: <l2@x>', 'References: <l1@x>']),
  /* 11 */ m(10, ['From: Mallory <mallory@example.org>', 'To: e@example.org', 'Subject: Re: project PLAN', 'Message-ID: <k@x>']),
  /* 12 */ m(11, ['From: Niaj <niaj@example.org>', 'To: f@example.org', 'Subject: Weekly', 'Message-ID: <w1@x>']),
  /* 13 */ m(12, ['From: Olivia <olivia@example.org>', 'To: g@example.org', 'Subject: [list] Re: Weekly', 'Message-ID: <w2@x>']),
  /* 14 */ m(13, ['From: Peggy <peggy@example.org>', 'To: h@example.org', 'Subject: Fwd: weekly (fwd)', 'Message-ID: <w3@x>']),
  /* 15 */ m(14, ['From: Rupert <rupert@example.org>', 'To: i@example.org', 'Subject: weekly', 'Message-ID: <w4@x>']),
  /* 16 */ m(15, ['From: Sybil <sybil@example.org>', 'To: j@example.org', 'Subject: ', 'Message-ID: <s1@x>']),
  /* 17 */ m(16, ['From: Trent <trent@example.org>', 'To: k@example.org', 'Subject: Re:', 'Message-ID: <s2@x>']),
  /* 18 */ m(17, ['From: Victor <victor@example.org>', 'To: l@example.org', 'Subject: =?UTF-8?B?w4RwZmVs?=', 'Message-ID: <u1@x>']),
  /* 19 */ m(18, ['From: Walter <walter@example.org>', 'To: m@example.org', 'Subject: Re: =?ISO-8859-1?Q?=C4pfel?=', 'Message-ID: <u2@x>']),
  /* 20 */ { headers: ['From: nodate@example.org', 'To: n@example.org', 'Subject: No date header', 'Message-ID: <n1@x>'], internalDate: T0 - 5 * HOUR },
  /* 21 */ m(19, ['From: Zed <zed@example.org>', 'To: undisclosed-recipients:;', 'Subject: Far east', 'Message-ID: <z1@x>'], { internalDate: T0 }),
  /* 22 */ { headers: [`Date: ${date(19, '+1400')}`, 'From: Yolanda <yolanda@example.org>', 'To: o@example.org', 'Subject: Kiribati', 'Message-ID: <z2@x>'], internalDate: T0 + 19 * HOUR },
  /* 23 */ { headers: [`Date: ${date(19, '-1200')}`, 'To: p@example.org', 'Subject: Baker Island, no From', 'Message-ID: <z3@x>'], internalDate: T0 + 19 * HOUR },
  /* 24 */ m(20, ['From: Project Bot <bot@example.org>', 'To: alice@example.org', 'Subject: [PATCH 2/3] Re: [fwd: Project plan]', 'Message-ID: <p1@x>', 'References: <a@x> <missing@x>']),
  /* 25 */ m(21, ['From: =?ISO-8859-1?Q?=C5sa?= <asa@example.org>', 'To: =?UTF-8?Q?=C3=98ystein?= <oystein@example.org>', 'Cc: bob@example.com', 'Subject: [fwd: Weekly]', 'Message-ID: <w5@x>']),
  /* 26 */ m(22, ['From: ALICE@example.org', 'To: Bob <BOB@example.com>', 'Subject: Same second A', 'Message-ID: <t1@x>', 'References: <b@x> <a@x>']),
  /* 27 */ m(22, ['From: alice@example.org', 'To: bob@example.com', 'Subject: Same second B', 'Message-ID: <t2@x>', 'References: <t1@x>']),
  /* 28 */ m(23, ['From: _under@example.org', 'To: q@example.org', 'Subject: _underscore', 'Message-ID: <v1@x>', 'References: <nothere1@x> <nothere2@x>']),
  /* 29 */ m(24, ['From: mike@example.org', 'To: r@example.org', 'Subject: Chained to a missing middle', 'Message-ID: <v2@x>', 'References: <nothere1@x> <nothere2@x>']),
  /* 30 */ m(25, ['From: nobody', 'To: s@example.org', 'Subject: Re: Chained to a missing middle', 'Message-ID: <v3@x>', 'References: <nothere1@x>']),
];

/** The raw message n (1-based), with LF line ends as a Maildir holds it. */
export function corpusRaw(n: number): Buffer {
  const message = CORPUS[n - 1];
  const lines = [...message.headers, `X-Seq: ${n}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '', message.body ?? `Body of message ${n}.`, ''];
  return Buffer.from(lines.join('\n'), 'latin1');
}

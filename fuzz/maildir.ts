// The Maildir the fuzzer starts from: a dozen INBOX messages of the shapes the parser
// and SEARCH must handle (plain, multipart/alternative, mixed with an attachment and a
// message/rfc822 part, encoded subjects), some flagged, two in new/, and subfolders.

import fs from 'node:fs';
import path from 'node:path';

const NAMES = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi'];
const SUBJECTS = ['Quarterly report', 'Lunch on Friday?', 'Re: build failure', 'Invoice #4711', 'Holiday photos', 'Meeting notes', 'Fwd: contract draft', 'Ünïcödé subject'];
const FLAGS = ['', 'S', 'RS', 'FS', 'S', 'DS'];
const BASE = 1_700_000_000;

function message(i: number): string {
  const date = new Date((BASE + i * 3600) * 1000).toUTCString().replace('GMT', '+0000');
  const from = NAMES[i % 8];
  const to = NAMES[(i + 3) % 8];
  let subject = `${SUBJECTS[i % 8]} #${i}`;
  if (i % 8 === 7) subject = `=?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`;
  const head = [
    `Message-ID: <msg${i}@example.org>`,
    ...(i > 1 ? [`In-Reply-To: <msg${i - 1}@example.org>`, `References: <msg${i - 1}@example.org>`] : []),
    `Date: ${date}`,
    `From: "${from} Example" <${from.toLowerCase()}@example.org>`,
    `To: ${to} <${to.toLowerCase()}@example.com>`,
    ...(i % 3 === 0 ? ['Cc: team@example.com, "Doe, John" <john.doe@example.net>'] : []),
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
  ];
  let body: string;
  switch (i % 4) {
    case 2:
      head.push(`Content-Type: multipart/alternative; boundary="alt-${i}"`);
      body = `--alt-${i}\nContent-Type: text/plain; charset=us-ascii\n\nPlain part ${i}.\n\n--alt-${i}\nContent-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n<p style=3D"color:red">HTML ${i}</p>\n\n--alt-${i}--\n`;
      break;
    case 3:
      head.push(`Content-Type: multipart/mixed; boundary="mix-${i}"`);
      body =
        `--mix-${i}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nSee attached ${i}. Caf=C3=A9.\n\n` +
        `--mix-${i}\nContent-Type: application/pdf; name="r-${i}.pdf"\nContent-Disposition: attachment; filename="r-${i}.pdf"\nContent-Transfer-Encoding: base64\n\n` +
        `${Buffer.alloc(300 + i * 37, 'A').toString('base64').replace(/.{76}/g, '$&\n')}\n` +
        `--mix-${i}\nContent-Type: message/rfc822\n\nFrom: inner@example.net\nSubject: Inner ${i}\nDate: ${date}\n\nInner body.\n\n--mix-${i}--\n`;
      break;
    default:
      head.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
      body = `Hello ${to},\n\nThis is test message number ${i}.\n${'Line of the body, some filler text.\n'.repeat((i % 7) + 2)}\nRegards,\n${from}\n`;
  }
  return `${head.join('\n')}\n\n${body}`;
}

function put(dir: string, i: number, fresh: boolean): void {
  const text = message(i);
  const size = Buffer.byteLength(text);
  const base = `${BASE + i * 3600}.M${i}P1000.fuzzhost,S=${size}`;
  const file = fresh ? path.join(dir, 'new', base) : path.join(dir, 'cur', `${base}:2,${FLAGS[i % 6]}`);
  fs.writeFileSync(file, text);
  const t = new Date((BASE + i * 3600) * 1000);
  fs.utimesSync(file, t, t);
}

/** Write the seed Maildir at `root` (which must not exist yet). */
export function makeSeedMaildir(root: string, count = 12): void {
  for (const folder of ['', '.Sent', '.Archive', '.Archive.2025', '.Caf&AOk-']) {
    const dir = path.join(root, folder);
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    if (folder) fs.writeFileSync(path.join(dir, 'maildirfolder'), '');
  }
  for (let i = 1; i <= count; i++) put(root, i, i > count - 2);
  for (const i of [101, 102, 103]) put(path.join(root, '.Sent'), i, false);
  for (const i of [201, 202]) put(path.join(root, '.Archive.2025'), i, false);
  fs.writeFileSync(path.join(root, 'courierimapsubscribed'), 'INBOX\nINBOX.Sent\nINBOX.Archive\n');
}

/** Number of message files under a Maildir (to notice a mailbox that COPY keeps doubling). */
export function countMessages(root: string): number {
  let n = 0;
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name === 'cur' || e.name === 'new') {
        try {
          n += fs.readdirSync(path.join(dir, e.name)).length;
        } catch {
          /* removed meanwhile */
        }
      } else if (depth === 0 && e.name.startsWith('.')) walk(path.join(dir, e.name), 1);
    }
  };
  walk(root, 0);
  return n;
}

/**
 * The other account's Maildir (net: the account fuzz2; stdio: a virtual shared folder owner
 * in IMAP_SHAREDINDEXFILE and the sharable Maildir "pub"): folders whose ACL lets anyone read
 * and write, so that #shared.fuzz2.* and shared.pub.* are really opened, written and expunged.
 */
export function makeOtherMaildir(root: string): void {
  for (const folder of ['', '.Public', '.Public.sub']) {
    const dir = path.join(root, folder);
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    if (folder) fs.writeFileSync(path.join(dir, 'maildirfolder'), '');
    fs.writeFileSync(path.join(dir, 'courierimapacl'), 'owner aceilrstwx\nanyone aceilrstwx\n');
  }
  for (const i of [301, 302, 303]) put(root, i, false);
  for (const i of [311, 312, 313, 314]) put(path.join(root, '.Public'), i, i === 314);
  put(path.join(root, '.Public.sub'), 321, false);
}

/**
 * What may not be found once every session is over: a file in any tmp/ (a message written
 * there is renamed or removed; Courier's dot-lock is removed after use) of the Maildir, its
 * folders and its sharable-folder copies (shared-folders/NAME/FOLDER/tmp), and a message in
 * cur/ or new/ whose size is not the S=size of its name (half written).
 */
export function strayFiles(root: string): string[] {
  const out: string[] = [];
  const tmpOf = (dir: string) => {
    try {
      for (const name of fs.readdirSync(path.join(dir, 'tmp'))) out.push(path.relative(root, path.join(dir, 'tmp', name)));
    } catch {
      /* no tmp/ */
    }
    for (const sub of ['cur', 'new']) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(dir, sub));
      } catch {
        continue;
      }
      for (const name of names) {
        const m = /,S=(\d+)/.exec(name);
        if (!m) continue;
        try {
          const size = fs.statSync(path.join(dir, sub, name)).size;
          if (size !== Number(m[1])) out.push(`${path.relative(root, path.join(dir, sub, name))} (${size} bytes, not ${m[1]})`);
        } catch {
          /* removed meanwhile, or a dangling link of a sharable folder */
        }
      }
    }
  };
  const list = (dir: string) => {
    try {
      return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
    } catch {
      return [];
    }
  };
  tmpOf(root);
  for (const e of list(root)) if (e.name.startsWith('.')) tmpOf(path.join(root, e.name));
  for (const owner of list(path.join(root, 'shared-folders'))) {
    for (const f of list(path.join(root, 'shared-folders', owner.name))) tmpOf(path.join(root, 'shared-folders', owner.name, f.name));
  }
  return out;
}

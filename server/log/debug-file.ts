// IMAPDEBUGFILE: a per-account record of the protocol, as Courier's imapd writes it (imap/
// imaptoken.C "READ: ...", imapwrite.C "WRITE: ..."): a session that logs in while the file
// exists in the account's Maildir appends what it receives and sends. Courier writes each
// token it reads; we write each command line as received, which names the same things. As in
// Courier, literal data is never written (an APPEND's message, a password sent as a literal),
// and the record begins after login, so LOGIN and AUTHENTICATE are not in it; a LOGIN or
// AUTHENTICATE line received later keeps only its tag and name.
//
// Bounded, because a client decides how much it sends: each entry is cut at ENTRY_MAX octets
// (responses carry whole messages; the commands and the start of the answers are what a
// protocol log is read for), and the file never grows past `maxBytes`: the entry that would
// come within NOTE_ROOM of it is replaced by one line saying so, and the session writes no
// more. Several sessions of one account share the file (O_APPEND, whole entries), so the size
// is looked at before each entry.
//
// The file is only ever opened, never created, and not through a symbolic link (O_NOFOLLOW):
// the Maildir belongs to the account's user, the server writes as itself, and a link must not
// let a user make it append to another account's files. Anything but a regular file is refused.

import { closeSync, constants as fsConstants, fstatSync, openSync, writeSync } from 'node:fs';

/** Longest entry written, in octets (the rest is counted, not written). */
export const ENTRY_MAX = 1024;

export interface DebugFile {
  read(line: Buffer): void;
  wrote(data: Buffer): void;
  close(): void;
}

/** Kept free at the end of the file for the line that says the limit is reached. */
const NOTE_ROOM = 200;

const FLAGS = fsConstants.O_WRONLY | fsConstants.O_APPEND | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/** Control characters other than tab, CR and LF are shown as "?" (a terminal reading the file obeys them). */
function printable(data: Buffer): Buffer {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f) out[i] = 0x3f;
  }
  return out;
}

function cut(data: Buffer): Buffer {
  if (data.length <= ENTRY_MAX) return printable(data);
  return Buffer.concat([printable(data.subarray(0, ENTRY_MAX)), Buffer.from(`[... ${data.length - ENTRY_MAX} more octets not recorded]\n`)]);
}

/** "a LOGIN user password" keeps only "a LOGIN": a command line that may hold a password. */
function withoutSecrets(line: Buffer): Buffer {
  const m = /^(\S+ (?:LOGIN|AUTHENTICATE))(?: |$)/i.exec(line.subarray(0, 200).toString('latin1'));
  return m ? Buffer.from(`${m[1]} [arguments not recorded]`, 'latin1') : line;
}

/**
 * Opens `file` for appending when it exists (a regular file, not through a symbolic link);
 * null otherwise. `intro` is written first, to tell the sessions in the file apart.
 */
export function openDebugFile(file: string, options: { maxBytes: number; intro?: string }): DebugFile | null {
  let fd: number;
  try {
    fd = openSync(file, FLAGS);
  } catch {
    return null; // absent (the usual case), a symbolic link, a FIFO without reader, no permission
  }
  try {
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      return null;
    }
  } catch {
    closeSync(fd);
    return null;
  }
  let open = true;
  const stop = () => {
    if (!open) return;
    open = false;
    try {
      closeSync(fd);
    } catch {
      /* already gone */
    }
  };
  const append = (entry: Buffer) => {
    if (!open) return;
    try {
      const size = fstatSync(fd).size;
      if (size + entry.length <= options.maxBytes - NOTE_ROOM) {
        writeSync(fd, entry);
        return;
      }
      // The room kept at the end holds this session's line saying why it stops.
      const note = `INFO: IMAPDEBUGFILE reached its limit of ${options.maxBytes} bytes; nothing more is recorded until it is emptied\n`;
      if (size + note.length <= options.maxBytes) writeSync(fd, note);
      stop();
    } catch {
      stop(); // disk full, file system gone: the session goes on without its record
    }
  };
  const record: DebugFile = {
    read(line: Buffer) {
      append(Buffer.concat([Buffer.from('READ: '), cut(withoutSecrets(line)), Buffer.from('\n')]));
    },
    wrote(data: Buffer) {
      const text = cut(data);
      const end = text.length > 0 && text[text.length - 1] === 10 ? [] : [Buffer.from('\n')];
      append(Buffer.concat([Buffer.from('WRITE: '), text, ...end]));
    },
    close: stop,
  };
  if (options.intro) append(Buffer.from(`INFO: ${options.intro}\n`));
  return record;
}

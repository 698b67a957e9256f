// What the command reader reads off a command line's ends: the literal announced at its end
// ({n}, {n+}, ~{n}), and the tag and command name at its start (to name it in errors).

const LITERAL_AT_END = /(~?)\{(\d+)(\+?)\}$/;

export interface Announcement {
  size: number;
  nonSync: boolean;
  binary: boolean;
}

/** The literal announced at the end of a line (or of its last bytes), or null. */
export function findAnnouncement(tail: string): Announcement | null {
  const m = LITERAL_AT_END.exec(tail);
  if (!m) return null;
  const size = m[2].length > 15 ? Number.MAX_SAFE_INTEGER : Number(m[2]);
  return { size, nonSync: m[3] === '+', binary: m[1] === '~' };
}

/** Tag and command name from the first bytes of a command line (best effort, for errors). */
export function peekTagAndName(head: Buffer): { tag: string | null; name: string | null } {
  const text = head.toString('latin1');
  const words = text.split(' ');
  const tag = /^[\x21-\x7e]+$/.test(words[0]) && !/[(){%*"\\+]/.test(words[0]) ? words[0] : null;
  if (tag === null) return { tag: null, name: null };
  const isWord = (w: string | undefined): w is string => w !== undefined && /^[A-Za-z][A-Za-z0-9.-]*$/.test(w);
  let name: string | null = isWord(words[1]) ? words[1].toUpperCase() : null;
  if (name === 'UID' && isWord(words[2])) name = `UID ${words[2].toUpperCase()}`;
  return { tag, name };
}

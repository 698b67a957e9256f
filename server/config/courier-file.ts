// Courier's configuration files (/etc/courier/imapd, imapd-ssl) as an editable document.
//
// The files are shell fragments that Courier's start script sources: NAME=value lines,
// '#' comments, "double" and 'single' quotes, backslash continuations, and $NAME /
// ${NAME} references to settings defined earlier (IMAP_CAPABILITY_TLS="$IMAP_CAPABILITY
// AUTH=PLAIN"). Debian's copies carry "##NAME: X:n" documentation blocks that sysconftool
// uses when upgrading; we keep them untouched.
//
// The document keeps every line's original bytes. setValue() rewrites only the line of the
// setting that changed (keeping its quoting style, indentation and trailing comment), so a
// file written back differs from the original only where a value changed. We accept the
// subset of shell that such files use and refuse the rest (command substitution, ${X:-y},
// several assignments on one line) with a ConfigError, rather than guess what a shell
// would do.

import { ConfigError, type ConfigWarning } from './errors.js';
import { writeFileAtomic } from './atomic-write.js';

export type Quoting = 'none' | 'double' | 'single' | 'mixed';
export type ValuePart = { text: string } | { variable: string };

export interface AssignmentEntry {
  kind: 'assignment';
  /** Exact original text, including the line terminator(s) of every physical line. */
  raw: string;
  /** 1-based number of the first physical line. */
  line: number;
  name: string;
  /** Whitespace before the name. */
  indent: string;
  /** The value as written (quotes and escapes included). */
  valueText: string;
  /** Whitespace and comment after the value, without the line end. */
  trailer: string;
  /** Line terminator of the last physical line: "\n", "\r\n", or "" at the end of the file. */
  eol: string;
  parts: ValuePart[];
  quoting: Quoting;
  /** The "##NAME:" documentation block the line sits in. */
  block?: string;
}

export interface OtherEntry {
  /** blank line, comment (including ##NAME: headers), or a line we did not understand. */
  kind: 'blank' | 'comment' | 'other';
  raw: string;
  line: number;
  block?: string;
}

export type ConfigEntry = AssignmentEntry | OtherEntry;

export interface EvaluatedValue {
  value: string;
  file: string;
  line: number;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGNMENT_START_RE = /^([ \t]*)([A-Za-z_][A-Za-z0-9_]*)=/;
const BLOCK_RE = /^##NAME:\s*([A-Za-z0-9_]+)\s*:/;
/** Characters that need no quoting in an unquoted shell word. */
const BARE_VALUE_RE = /^[A-Za-z0-9_.,:/@%+=-]*$/;

export function parseCourierConfig(text: string, fileName: string): CourierConfig {
  return CourierConfig.parse(text, fileName);
}

export class CourierConfig {
  private entries_: ConfigEntry[];
  /** Lines that were kept but not understood (reported as warnings by the loader). */
  readonly syntaxWarnings: ConfigWarning[];

  private constructor(
    readonly fileName: string,
    entries: ConfigEntry[],
    warnings: ConfigWarning[],
    private readonly newline: string,
  ) {
    this.entries_ = entries;
    this.syntaxWarnings = warnings;
  }

  static parse(text: string, fileName: string): CourierConfig {
    const entries: ConfigEntry[] = [];
    const warnings: ConfigWarning[] = [];
    let pos = 0;
    let line = 1;
    let block: string | undefined;
    while (pos < text.length) {
      const lineEnd = endOfLine(text, pos);
      const firstLine = text.slice(pos, lineEnd.contentEnd);
      const start = ASSIGNMENT_START_RE.exec(firstLine);
      let entry: ConfigEntry;
      if (start) {
        entry = scanAssignment(text, pos, start[1]!, start[2]!, line, fileName);
        if (block !== undefined) entry.block = block;
      } else {
        const raw = text.slice(pos, lineEnd.next);
        const trimmed = firstLine.trim();
        const kind = trimmed === '' ? 'blank' : trimmed.startsWith('#') ? 'comment' : 'other';
        const header = BLOCK_RE.exec(trimmed);
        if (header) block = header[1];
        entry = { kind, raw, line };
        if (block !== undefined) entry.block = block;
        if (kind === 'other') {
          warnings.push({
            kind: 'syntax',
            file: fileName,
            line,
            message: `line not understood, left as it is: ${JSON.stringify(trimmed.slice(0, 80))}`,
          });
        }
      }
      entries.push(entry);
      line += countNewlines(entry.raw);
      pos += entry.raw.length;
    }
    const crlf = (text.match(/\r\n/g) ?? []).length;
    const lf = (text.match(/\n/g) ?? []).length;
    return new CourierConfig(fileName, entries, warnings, crlf > lf / 2 ? '\r\n' : '\n');
  }

  get entries(): readonly ConfigEntry[] {
    return this.entries_;
  }

  assignments(): AssignmentEntry[] {
    return this.entries_.filter((e): e is AssignmentEntry => e.kind === 'assignment');
  }

  has(name: string): boolean {
    return this.lastAssignment(name) !== undefined;
  }

  /** The effective (last) assignment of a name, or undefined. */
  lastAssignment(name: string): AssignmentEntry | undefined {
    for (let i = this.entries_.length - 1; i >= 0; i--) {
      const e = this.entries_[i]!;
      if (e.kind === 'assignment' && e.name === name) return e;
    }
    return undefined;
  }

  /**
   * Evaluate every assignment in file order, as the shell would: each one sees the values
   * in `env` (earlier files, defaults) and this file's earlier lines. Undefined
   * references expand to "". `env` is updated in place; the returned map holds only the
   * names this file sets, with where they were set.
   */
  evaluate(env: Map<string, string> = new Map()): Map<string, EvaluatedValue> {
    const result = new Map<string, EvaluatedValue>();
    for (const e of this.entries_) {
      if (e.kind !== 'assignment') continue;
      const value = expandParts(e.parts, env);
      env.set(e.name, value);
      result.set(e.name, { value, file: this.fileName, line: e.line });
    }
    return result;
  }

  /** The value of a setting as this file alone defines it (references resolved within the file and `env`). */
  getValue(name: string, env: Map<string, string> = new Map()): string | undefined {
    return this.evaluate(new Map(env)).get(name)?.value;
  }

  /**
   * Set a setting to a literal value. An existing line is rewritten in place, keeping its
   * quoting style where the value allows it; a new setting goes after its "##NAME:"
   * documentation block (or the block holding a commented-out example of it), or at the end.
   */
  setValue(name: string, value: string): void {
    if (!NAME_RE.test(name)) throw new Error(`not a setting name: ${JSON.stringify(name)}`);
    if (/[\0\r\n]/.test(value)) throw new Error(`${name}: a value cannot contain line breaks or NUL`);
    const existing = this.lastAssignment(name);
    if (existing) {
      if (expandParts(existing.parts, new Map()) === value && !existing.parts.some((p) => 'variable' in p)) return;
      const { text, quoting } = encodeValue(value, existing.quoting);
      existing.valueText = text;
      existing.quoting = quoting;
      existing.parts = [{ text: value }];
      existing.raw = existing.indent + name + '=' + text + existing.trailer + existing.eol;
    } else {
      const { text, quoting } = encodeValue(value, 'none');
      const entry: AssignmentEntry = {
        kind: 'assignment',
        raw: `${name}=${text}${this.newline}`,
        line: 0,
        name,
        indent: '',
        valueText: text,
        trailer: '',
        eol: this.newline,
        parts: [{ text: value }],
        quoting,
      };
      this.insertNew(entry);
    }
    this.renumber();
  }

  /** Remove every assignment of a name (the setting then takes its default). Returns how many lines went. */
  removeValue(name: string): number {
    const before = this.entries_.length;
    this.entries_ = this.entries_.filter((e) => !(e.kind === 'assignment' && e.name === name));
    this.renumber();
    return before - this.entries_.length;
  }

  serialize(): string {
    return this.entries_.map((e) => e.raw).join('');
  }

  /** Write the document to `path` through a temporary file and a rename. */
  async writeFile(path: string): Promise<void> {
    await writeFileAtomic(path, this.serialize());
  }

  private insertNew(entry: AssignmentEntry): void {
    const name = entry.name;
    // The block documenting this name, else a block with a commented-out example of it.
    const example = new RegExp(`^[ \\t]*#[ \\t]*${name}=`);
    let block = this.entries_.find((e) => e.block === name)?.block;
    if (block === undefined) {
      block = this.entries_.find((e) => e.kind === 'comment' && e.block !== undefined && example.test(e.raw))?.block;
    }
    if (block === undefined) {
      this.ensureFinalNewline();
      const tail = this.entries_[this.entries_.length - 1];
      if (tail && tail.kind !== 'blank') this.entries_.push({ kind: 'blank', raw: this.newline, line: 0 });
      this.entries_.push(entry);
      return;
    }
    entry.block = block;
    let lastInBlock = -1;
    for (let i = 0; i < this.entries_.length; i++) {
      const e = this.entries_[i]!;
      if (e.block === block && e.kind !== 'blank') lastInBlock = i;
    }
    const previous = this.entries_[lastInBlock]!;
    if (!previous.raw.endsWith('\n')) previous.raw += this.newline;
    if (previous.kind === 'assignment' && previous.eol === '') previous.eol = this.newline;
    this.entries_.splice(lastInBlock + 1, 0, entry);
  }

  private ensureFinalNewline(): void {
    const last = this.entries_[this.entries_.length - 1];
    if (!last || last.raw.endsWith('\n')) return;
    last.raw += this.newline;
    if (last.kind === 'assignment') last.eol = this.newline;
  }

  private renumber(): void {
    let line = 1;
    for (const e of this.entries_) {
      e.line = line;
      line += countNewlines(e.raw);
    }
  }
}

function expandParts(parts: readonly ValuePart[], env: ReadonlyMap<string, string>): string {
  return parts.map((p) => ('text' in p ? p.text : (env.get(p.variable) ?? ''))).join('');
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** End of the physical line at `pos`: where its content ends and where the next line starts. */
function endOfLine(text: string, pos: number): { contentEnd: number; next: number } {
  const nl = text.indexOf('\n', pos);
  if (nl === -1) return { contentEnd: text.length, next: text.length };
  return { contentEnd: nl > pos && text[nl - 1] === '\r' ? nl - 1 : nl, next: nl + 1 };
}

/** Write a value so that the shell (and our parser) reads back exactly `value`. */
export function encodeValue(value: string, preferred: Quoting): { text: string; quoting: Quoting } {
  if (preferred === 'none' && BARE_VALUE_RE.test(value)) return { text: value, quoting: 'none' };
  if (preferred === 'single' && !value.includes("'")) return { text: `'${value}'`, quoting: 'single' };
  return { text: `"${value.replace(/[\\"$`]/g, '\\$&')}"`, quoting: 'double' };
}

function scanAssignment(
  text: string,
  lineStart: number,
  indent: string,
  name: string,
  line: number,
  fileName: string,
): AssignmentEntry {
  const fail = (reason: string): never => {
    throw new ConfigError(fileName, line, name, reason);
  };
  const valueStart = lineStart + indent.length + name.length + 1;
  let pos = valueStart;
  const parts: ValuePart[] = [];
  let literal = '';
  let bare = false;
  let singles = 0;
  let doubles = 0;
  const flush = () => {
    if (literal !== '') parts.push({ text: literal });
    literal = '';
  };
  // A "$" expansion at text[pos]; returns the new position.
  const expansion = (at: number): number => {
    const next = text[at + 1];
    if (next === '{') {
      const close = text.indexOf('}', at + 2);
      const inner = close === -1 ? '' : text.slice(at + 2, close);
      if (close === -1 || !NAME_RE.test(inner)) fail('only ${NAME} references are supported, not other ${...} forms');
      flush();
      parts.push({ variable: inner });
      return close + 1;
    }
    if (next === '(') fail('command substitution $(...) is not supported');
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(at + 1, at + 256));
    if (!m) {
      literal += '$';
      return at + 1;
    }
    flush();
    parts.push({ variable: m[0] });
    return at + 1 + m[0].length;
  };

  for (;;) {
    const c = text[pos];
    if (c === undefined || c === '\n' || (c === '\r' && text[pos + 1] === '\n') || c === ' ' || c === '\t') break;
    if (c === '\\') {
      const next = text[pos + 1];
      if (next === '\n') pos += 2;
      else if (next === '\r' && text[pos + 2] === '\n') pos += 3;
      else if (next === undefined) {
        literal += '\\';
        pos += 1;
        bare = true;
      } else {
        literal += next;
        pos += 2;
        bare = true;
      }
    } else if (c === "'") {
      const close = text.indexOf("'", pos + 1);
      if (close === -1) fail('missing closing single quote');
      literal += text.slice(pos + 1, close);
      pos = close + 1;
      singles++;
    } else if (c === '"') {
      doubles++;
      pos++;
      for (;;) {
        const d = text[pos];
        if (d === undefined) fail('missing closing double quote');
        if (d === '"') {
          pos++;
          break;
        }
        if (d === '\\') {
          const next = text[pos + 1];
          if (next !== undefined && '$`"\\'.includes(next)) {
            literal += next;
            pos += 2;
          } else if (next === '\n') pos += 2;
          else if (next === '\r' && text[pos + 2] === '\n') pos += 3;
          else {
            literal += '\\';
            pos++;
          }
        } else if (d === '$') {
          pos = expansion(pos);
        } else if (d === '`') {
          fail('command substitution `...` is not supported');
        } else {
          literal += d;
          pos++;
        }
      }
    } else if (c === '$') {
      pos = expansion(pos);
      bare = true;
    } else if (c === '`') {
      fail('command substitution `...` is not supported');
    } else if (';&|<>()'.includes(c)) {
      fail(`shell syntax ${JSON.stringify(c)} is not supported in a value (quote the value)`);
    } else {
      literal += c;
      pos++;
      bare = true;
    }
  }
  flush();
  const valueEnd = pos;
  const end = endOfLine(text, pos);
  const trailer = text.slice(valueEnd, end.contentEnd);
  const rest = trailer.trimStart();
  if (rest !== '' && !rest.startsWith('#')) {
    fail(`unexpected text after the value: ${JSON.stringify(rest.slice(0, 40))} (quote values that contain spaces)`);
  }
  const quoting: Quoting =
    singles + doubles === 0 ? 'none'
    : bare || singles + doubles > 1 ? 'mixed'
    : doubles === 1 ? 'double'
    : 'single';
  return {
    kind: 'assignment',
    raw: text.slice(lineStart, end.next),
    line,
    name,
    indent,
    valueText: text.slice(valueStart, valueEnd),
    trailer,
    eol: text.slice(end.contentEnd, end.next),
    parts: parts.length ? parts : [],
    quoting,
  };
}

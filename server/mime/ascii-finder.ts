// Case-insensitive search for a string of printable ASCII, in text whose non-ASCII characters
// match nothing of it (as bytes would not: the Kelvin sign is not a k here). A regular
// expression of the escaped string is fast (V8 searches a literal with Boyer-Moore), but one
// over about 32,000 characters cannot be built at all ("Regular expression too large": SEARCH
// SUBJECT with a 50 KB string answered NO [SERVERBUG]), so long strings are looked for in an
// ASCII-lower-cased copy instead.

/** Longest string searched with a regular expression. */
const LONGEST_EXPRESSION = 1000;

export interface AsciiFinder {
  /** Index of the first occurrence at or after `from`, or -1. */
  find(text: string, from?: number): number;
  /** Whether the text contains the string. */
  in(text: string): boolean;
}

/** ASCII letters lower-cased, every other character kept: indices stay the same. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

export function asciiFinder(needle: string): AsciiFinder {
  if (needle.length <= LONGEST_EXPRESSION) {
    const expression = new RegExp(needle.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'gi');
    const find = (text: string, from = 0): number => {
      expression.lastIndex = from;
      const match = expression.exec(text);
      return match ? match.index : -1;
    };
    return { find, in: (text) => find(text) >= 0 };
  }
  const lower = asciiLower(needle);
  const find = (text: string, from = 0): number => asciiLower(text).indexOf(lower, from);
  return { find, in: (text) => find(text) >= 0 };
}

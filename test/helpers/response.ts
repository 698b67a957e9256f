// Parse one IMAP response line (literals inlined as "{n}\r\n<data>", as ImapTestClient
// returns them) into a tree, for comparing two servers' answers structurally.

export type Node = string | null | Node[];

export function parseResponse(line: string): Node[] {
  let i = 0;
  const items: Node[] = [];
  const stack: Node[][] = [items];
  while (i < line.length) {
    const ch = line[i];
    if (ch === ' ') {
      i++;
    } else if (ch === '(') {
      const list: Node[] = [];
      stack[stack.length - 1].push(list);
      stack.push(list);
      i++;
    } else if (ch === ')') {
      stack.pop();
      i++;
    } else if (ch === '"') {
      let s = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') i++;
        s += line[i++];
      }
      i++;
      stack[stack.length - 1].push(s);
    } else if (ch === '{') {
      const close = line.indexOf('}', i);
      const n = Number(line.slice(i + 1, close).replace('+', ''));
      const start = close + 3;
      stack[stack.length - 1].push(line.slice(start, start + n));
      i = start + n;
    } else {
      let j = i;
      // Atoms; BODY[...] keeps its brackets (which may hold spaces and parentheses).
      while (j < line.length && !' ()'.includes(line[j])) {
        if (line[j] === '[') {
          const close = line.indexOf(']', j);
          j = close < 0 ? line.length : close + 1;
        } else j++;
      }
      const atom = line.slice(i, j);
      stack[stack.length - 1].push(atom === 'NIL' ? null : atom);
      i = j;
    }
  }
  return items;
}

/** The attribute list of "* n FETCH (...)" as a name -> value map. */
export function fetchAttributes(line: string): Map<string, Node> {
  const nodes = parseResponse(line);
  const list = nodes[3] as Node[];
  const out = new Map<string, Node>();
  for (let k = 0; k + 1 < list.length; k += 2) out.set(String(list[k]).toUpperCase(), list[k + 1]);
  return out;
}

/** Lower-case every string in a tree (IMAP strings in BODYSTRUCTURE are case-insensitive). */
export function lowerTree(node: Node): Node {
  if (Array.isArray(node)) return node.map(lowerTree);
  return typeof node === 'string' ? node.toLowerCase() : node;
}

// Log lines in sentences: the server writes "LOGIN user=alice ip=192.0.2.7" (the headless
// command's stderr keeps that form, for grep); the GUI says "alice logged in from
// 192.0.2.7". Lines it has no sentence for are shown with their fields as "key: value".

/** The message and its key=value fields (values may be JSON-quoted), read left to right. */
export function parseLogMessage(text: string): { message: string; fields: Map<string, string> } {
  const fields = new Map<string, string>();
  // The fields begin at the first " key=" (keys are lower-case words).
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ' ' && keyAt(text, i + 1) > 0) {
      start = i;
      break;
    }
  }
  if (start < 0) return { message: text, fields };
  const message = text.slice(0, start);
  let i = start;
  while (i < text.length) {
    if (text[i] !== ' ') return { message: text, fields: new Map() };
    const keyEnd = keyAt(text, i + 1);
    if (keyEnd <= 0) return { message: text, fields: new Map() };
    const key = text.slice(i + 1, keyEnd);
    i = keyEnd + 1;
    let value: string;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        return { message: text, fields: new Map() };
      }
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ' ') j++;
      value = text.slice(i, j);
      i = j;
    }
    fields.set(key, value);
  }
  return { message, fields };
}

/** Index just past "key" when `text` has "key=" at `at`, else -1. */
function keyAt(text: string, at: number): number {
  let j = at;
  while (j < text.length && /[a-zA-Z0-9_]/.test(text[j]!)) j++;
  return j > at && text[j] === '=' ? j : -1;
}

export function logSentence(text: string): string {
  const { message, fields } = parseLogMessage(text);
  const f = (k: string) => fields.get(k) ?? '?';
  switch (message) {
    case 'LOGIN':
      return `${f('user')} logged in from ${f('ip')}.`;
    case 'LOGIN FAILED':
      return `Failed login as ${f('user')} from ${f('ip')} (${f('reason').replace(/-/g, ' ')}).`;
    case 'connection':
      return `Connection ${f('conn')} from ${f('ip')} on the ${f('listener') === 'imaps' ? 'SSL/TLS' : 'IMAP'} port.`;
    case 'disconnected':
      return `Connection ${f('conn')} closed${fields.has('user') ? ` (${f('user')})` : ''}.`;
    case 'connection refused':
      return `Connection from ${f('ip')} refused: ${f('reason')}.`;
  }
  if (fields.size === 0) return text;
  return `${message} (${[...fields].map(([k, v]) => `${k}: ${v}`).join(', ')})`;
}

// One line of the log as text: the message and its fields ("LOGIN user=alice ip=127.0.0.1"),
// the same for the headless commands' standard error and the appliance's log view.

export type LogFields = Record<string, string | number | boolean | undefined>;

const MAX_MESSAGE = 2000;

export function formatLogMessage(message: string, fields: LogFields | undefined): string {
  const extra = fields
    ? Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${typeof v === 'string' && (v === '' || /[\s"=]/.test(v)) ? JSON.stringify(v) : String(v)}`)
        .join('')
    : '';
  // Client input can reach a field (a username): no control characters, no line breaks.
  const text = (message + extra).replace(/[\0-\x08\x0b-\x1f\x7f]/g, '?');
  return text.length > MAX_MESSAGE ? text.slice(0, MAX_MESSAGE) + '...' : text;
}

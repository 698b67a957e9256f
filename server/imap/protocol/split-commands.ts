// Commands out of a complete byte string, for tests and tools: the command reader (reader.ts)
// accepting every literal.

import { CommandReader, type CommandInput } from './reader.js';

/**
 * Split a complete byte string into commands, accepting every literal (no limits to speak
 * of). For tests and tools: `parseCommand(splitCommands(Buffer.from('a NOOP\r\n'))[0])`.
 */
export function splitCommands(data: Buffer, limits?: { maxLineLength?: number; maxLiteralSize?: number }): CommandInput[] {
  const out: CommandInput[] = [];
  const reader = new CommandReader({
    maxLineLength: limits?.maxLineLength ?? 1 << 30,
    maxLiteralSize: limits?.maxLiteralSize ?? 1 << 30,
    onLiteral: () => true,
    onCommand: (input) => {
      out.push(input);
      reader.resume();
    },
    onError: (error) => {
      throw new Error(`splitCommands: ${error.message}`);
    },
  });
  reader.push(data);
  return out;
}

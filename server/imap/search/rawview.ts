// What the last round of a search reads: the raw message, with what the keys ask of it
// computed once per message, and the helpers for reading message files a few at a time.

import type { BodyPart } from '../../mime/types.js';
import { headerSearchValues } from '../../mime/text.js';
import { foldForSearch } from './fold.js';
import type { TextNeedle } from './text-needle.js';
import { bodyContains, headerContains, textLayout, type TextLayout } from './textscan.js';

/** The raw message, with what the keys ask of it computed once per message. */
export class RawView {
  private readonly inBody = new Map<TextNeedle, boolean>();
  private readonly inHeader = new Map<TextNeedle, boolean>();
  private readonly headerValues = new Map<string, string[]>();

  private layout: TextLayout | undefined;

  constructor(
    private readonly raw: Buffer,
    private readonly structure: BodyPart,
  ) {}

  private text(): TextLayout {
    this.layout ??= textLayout(this.structure);
    return this.layout;
  }

  bodyContains(needle: TextNeedle): boolean {
    let found = this.inBody.get(needle);
    if (found === undefined) this.inBody.set(needle, (found = bodyContains(this.raw, this.text(), needle)));
    return found;
  }

  /** In any header (TEXT matches field names too, as in Courier and Dovecot). */
  headerContains(needle: TextNeedle): boolean {
    let found = this.inHeader.get(needle);
    if (found === undefined) this.inHeader.set(needle, (found = headerContains(this.raw, this.text(), needle)));
    return found;
  }

  foldedHeaderValues(field: string): string[] {
    let values = this.headerValues.get(field);
    if (!values) {
      values = headerSearchValues(this.raw, this.structure, field).map(foldForSearch);
      this.headerValues.set(field, values);
    }
    return values;
  }
}

// ---------------------------------------------------------------------------
// Async helpers

/** Runs task(0..count-1) with at most `limit` running at a time. */
export async function forEachLimited(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(limit, count); i++) workers.push(worker());
  await Promise.all(workers);
}

/** A message whose file disappeared (expunged by another session) is simply not a match. */
export function vanished(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

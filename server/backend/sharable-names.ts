// The namespace of Courier's sharable Maildirs (Courier's SHARED, "shared."): its folders are
// "shared.NAME.FOLDER" (maildir/sharable.ts, maildir/sharable-store.ts). Outside the personal
// namespace, with or without IMAP_NAMESPACE_PREFIX, as in Courier, which reserves the name.

export const SHARABLE_ROOT = 'shared';

/** Whether a store name lies in the sharable namespace ("shared" itself included). */
export function isSharableName(name: string): boolean {
  return name === SHARABLE_ROOT || name.startsWith(`${SHARABLE_ROOT}.`);
}

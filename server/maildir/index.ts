// The Maildir engine: Courier-compatible Maildir++ storage behind the MailStore interface.

export { type EnvelopeFormat, MaildirStore, openMaildirStore, type MaildirStoreOptions, WIRE_ENVELOPE } from './maildir-store.js';
export { SUBSCRIPTIONS_FILE } from './maildir-subscriptions.js';
export { FolderHandle } from './folder-handle.js';
export type { ChangeBus } from './change-bus.js';
export { DEFAULT_SPECIAL_USE } from './names.js';
export { aclOrigin } from './acl.js';
export { dotLocksReleased } from './lock.js';
export { closeSharedFullTextIndex } from './fts/fts-index.js';

// The Maildir engine: Courier-compatible Maildir++ storage behind the MailStore interface.

export { MaildirStore, openMaildirStore, type MaildirStoreOptions, SUBSCRIPTIONS_FILE } from './store.js';
export { FolderHandle } from './folder-handle.js';
export { DEFAULT_SPECIAL_USE } from './names.js';
